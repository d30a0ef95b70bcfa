"""`hrms invoke` with every sample event under events/ (the Docker-less `sam local invoke`).

The events are found by glob, so a sample added later is invoked without editing this file.
`events/<dir>/*.json` belongs to the template function whose CodeUri is `functions/<dir>/`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import hrms.observability  # noqa: F401 - bind the Powertools logger to the real stdout, not CliRunner's
from hrms.db.postgres import transaction
from hrms_tools.cli.main import app
from hrms_tools.local.template import FunctionSpec, Template
from tests.conftest import ROOT

TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
EVENT_FILES = sorted(EVENTS.rglob("*.json"))


def _function_for(event_file: Path, template: Template) -> FunctionSpec:
    code_dir = (ROOT / "functions" / event_file.relative_to(EVENTS).parts[0]).resolve()
    matches = [fn for fn in template.functions.values() if fn.code_dir.resolve() == code_dir]
    assert len(matches) == 1, (
        f"{event_file}: no single function in template.yaml has CodeUri functions/{code_dir.name}/"
    )
    return matches[0]


def _invoke(function_id: str, event: str, stdin: str | None = None) -> Any:
    runner = CliRunner()
    return runner.invoke(app, ["invoke", function_id, "--event", event, "--template", str(TEMPLATE)], input=stdin)


def _output(result: Any) -> Any:
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    return json.loads(result.stdout)


def _headers(response: dict[str, Any]) -> dict[str, list[str]]:
    """A proxy response's headers, lower-cased: `headers` and/or `multiValueHeaders` (both are valid)."""
    merged: dict[str, list[str]] = {}
    for key, value in (response.get("headers") or {}).items():
        merged.setdefault(key.lower(), []).append(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        merged[key.lower()] = list(values)
    return merged


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(TEMPLATE)


def test_every_template_function_has_a_sample_event(template: Template) -> None:
    covered = {_function_for(path, template).logical_id for path in EVENT_FILES}
    assert set(template.functions) - covered == set()


@contextmanager
def only_the_demo_tenant_active() -> Iterator[None]:
    """The scheduled backup dumps every active tenant schema, one pg_dump each, and pg_dump reads the
    whole catalog whatever it dumps: with the hundreds of tenants the suite has made by now, its local
    time budget (the function's 900 s on 2 cores) would run out. The other tenants are suspended for the
    one invocation (the job skips them) and reactivated after."""
    with transaction() as conn:
        paused = [
            row["id"]
            for row in conn.execute(
                "UPDATE public.tenants SET status = 'suspended' WHERE status = 'active' AND slug <> 'demo' RETURNING id"
            ).fetchall()
        ]
    try:
        yield
    finally:
        with transaction() as conn:
            conn.execute("UPDATE public.tenants SET status = 'active' WHERE id = ANY(%s)", (paused,))


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=lambda p: str(p.relative_to(EVENTS)))
def test_sample_event_invokes_its_function(stack: object, template: Template, event_file: Path) -> None:
    spec = _function_for(event_file, template)
    event = json.loads(event_file.read_text())
    scope = only_the_demo_tenant_active() if spec.logical_id == "BackupFunction" else nullcontext()
    with scope:
        result = _invoke(spec.logical_id, str(event_file))

    if event.get("type") == "TOKEN":
        # A static sample token can never verify: the authorizer raises (API Gateway answers 401), and
        # `hrms invoke` prints Lambda's error document and exits 1.
        assert result.exit_code == 1, result.output
        error = json.loads(result.stdout)
        assert (error["errorType"], error["errorMessage"]) == ("Exception", "Unauthorized")
        assert error["stackTrace"][-1].endswith('raise Exception("Unauthorized") from exc\n')
        return

    output = _output(result)
    if "httpMethod" in event:
        # A REST proxy event: it must address a route of this very function, and get a proxy response.
        routes = {(r.method, r.path) for r in template.routes if r.function_id == spec.logical_id}
        assert (event["httpMethod"], event["resource"]) in routes
        assert isinstance(output["statusCode"], int)
        assert output["statusCode"] < 500, output
        assert output["body"] is None or isinstance(output["body"], str)
        if output["statusCode"] >= 400:
            assert _headers(output)["content-type"] == ["application/problem+json"], output
            assert {"type", "title", "status", "detail", "errors"} <= set(json.loads(output["body"]))
    else:
        assert isinstance(output, dict)


def test_event_from_stdin(stack: object) -> None:
    event = (EVENTS / "health" / "get.json").read_text()
    output = _output(_invoke("HealthFunction", "-", stdin=event))
    assert output["statusCode"] == 200
    assert set(json.loads(output["body"])["checks"]) == {"postgres", "mongo", "redis", "s3"}


def test_unknown_function_is_a_usage_error(stack: object) -> None:
    result = _invoke("NoSuchFunction", str(EVENTS / "health" / "get.json"))
    assert result.exit_code == 2
    assert "HealthFunction" in result.output
