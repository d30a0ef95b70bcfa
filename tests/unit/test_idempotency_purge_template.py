"""IdempotencyPurgeFunction in template.yaml: hourly, alone, its failures kept, its metrics on the dashboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))["Resources"]


def test_the_purge_runs_hourly_alone_without_retries_and_keeps_its_failures(resources):
    props = resources["IdempotencyPurgeFunction"]["Properties"]
    dlq = {"Fn::GetAtt": ["ScheduledFunctionsDlq", "Arn"]}
    hourly = props["Events"]["Hourly"]
    assert (hourly["Type"], hourly["Properties"]["Schedule"]) == ("Schedule", "rate(1 hour)")
    assert hourly["Properties"]["DeadLetterConfig"] == {"Arn": dlq}
    assert props["EventInvokeConfig"]["MaximumRetryAttempts"] == 0  # the next run resumes
    assert props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] == dlq
    assert props["ReservedConcurrentExecutions"] == {"Fn::If": ["ReserveConcurrency", 1, {"Ref": "AWS::NoValue"}]}
    assert props["Timeout"] == 300 and props["CodeUri"] == "functions/idempotency_purge/"


def test_the_dashboard_shows_what_the_purge_publishes(resources):
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert '["HRMS", "IdempotencyKeysPurged", "service", "hrms"' in body
    assert '[".", "IdempotencyPurgeFailures", ".", "."' in body
