"""In AWS, API Gateway only answers the CORS preflight: the functions themselves must add the header."""

from __future__ import annotations

import json

from tests.conftest import ROOT


def test_a_function_response_carries_the_cors_header_for_a_browser_request(stack):
    from hrms_tools.local.invoker import Containers
    from hrms_tools.local.template import Template

    template = Template.load(ROOT / "template.yaml")
    event = json.loads((ROOT / "events" / "health" / "get.json").read_text())
    event["headers"] = {**(event.get("headers") or {}), "Origin": "https://app.example.com"}
    event["multiValueHeaders"] = {**(event.get("multiValueHeaders") or {}), "Origin": ["https://app.example.com"]}

    result = Containers(template.functions).get("HealthFunction").invoke(event)

    headers = {k.lower(): v for k, v in (result.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): [v] for k, v in (result.get("headers") or {}).items()})
    assert headers["access-control-allow-origin"] == ["*"]
