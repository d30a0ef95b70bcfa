"""The CloudWatch EMF metrics the functions print: bounded dimensions, one flush per invocation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest

from hrms.auth import credentials
from hrms.backup import scheduled
from hrms.backup.models import DailyReport
from hrms.config import settings
from hrms.http import api, ok
from hrms.observability import container_metrics
from hrms.tenancy import Actor, Tenant

TENANT_ID = str(uuid4())


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused")
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture(autouse=True)
def _admitted_as_in_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """No database here: the caller is whoever the authorizer context names (a unit-test stub)."""

    def admit(context: dict[str, Any], *, writing: bool = False) -> Actor:
        return Actor(context["userId"], context["role"], Tenant(UUID(context["tenantId"]), context["schemaName"]))

    monkeypatch.setattr(credentials, "admit", admit)


def _context() -> Any:
    return SimpleNamespace(
        function_name="ListThingsFunction",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:ListThingsFunction",
        aws_request_id="req-1",
    )


def _event(role: str) -> dict[str, Any]:
    authorizer = {"userId": "u1", "role": role, "tenantId": TENANT_ID, "schemaName": "tenant_acme_0123abcd"}
    return {
        "resource": "/things",
        "path": "/things",
        "httpMethod": "GET",
        "headers": {},
        "requestContext": {"requestId": "req-1", "authorizer": authorizer},
    }


def _emf(out: str) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, out.splitlines()) if "_aws" in line]


def test_each_request_prints_one_requests_metric_without_the_tenant(capsys: pytest.CaptureFixture[str]) -> None:
    app = api(roles={"admin"})

    @app.get("/things")
    def things() -> Any:
        return ok({"things": []})

    assert app.handler(_event("admin"), _context())["statusCode"] == 200
    assert app.handler(_event("employee"), _context())["statusCode"] == 403

    first, second = _emf(capsys.readouterr().out)
    assert first["Requests"] == [1.0] and first["outcome"] == "success"
    assert second["outcome"] == "client_error"
    assert first["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["outcome", "service"],
        ["service", "operation", "outcome"],
    ]
    assert first["operation"] == "GET /things" and first["service"] == "hrms"
    assert TENANT_ID not in json.dumps(first)


def test_a_backup_run_publishes_its_counts(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = container_metrics()
    report = DailyReport(full_key=None, schema_backups=7, failures={"full": "pg_dump failed", "tenant_x": "boom"})

    scheduled.publish_metrics(report, metrics)
    metrics.flush_metrics()

    (line,) = _emf(capsys.readouterr().out)
    assert (line["FullBackups"], line["SchemaBackups"], line["BackupFailures"]) == ([0.0], [7.0], [2.0])
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
