"""The outbox in the local runtime: a request through the local gateway publishes its events to moto's
SQS after its commit, and the relay is one of the template's schedules (`hrms dev` runs it every minute,
`hrms trigger` runs it now)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

import hrms.observability  # noqa: F401 - bind the Powertools logger to the real stdout, not CliRunner's
from hrms.db.postgres import transaction
from hrms.tenancy import Tenant
from hrms_tools.cli.main import app as cli
from hrms_tools.local.template import Template
from tests.conftest import ROOT
from tests.e2e.http_world import Org
from tests.integration.outbox_queue import fresh_queue

TEMPLATE = ROOT / "template.yaml"


def test_the_relay_is_scheduled_every_minute_in_the_local_runtime() -> None:
    schedules = {s.id: (s.function_id, s.expression) for s in Template.load(TEMPLATE).schedules}
    assert schedules["OutboxRelayFunctionEveryMinute"] == ("OutboxRelayFunction", "rate(1 minute)")


def test_a_request_through_the_gateway_publishes_to_the_local_queue_and_the_relay_releases_it(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = Tenant(org.tenant.tenant_id, org.tenant.schema_name)
    with fresh_queue(monkeypatch) as queue:
        response = org.request()
        assert response.status_code == 201, response.text
        leave = response.json()
        [message] = queue.receive(tenant)
        body: dict[str, Any] = message["body"]
        assert (body["type"], body["tenantId"]) == ("approval.requested", str(tenant.tenant_id))
        assert body["payload"]["approvalId"] == leave["approvalId"]
        assert body["payload"]["entityId"] == leave["leaveId"]
        assert _pending(tenant)

        fired = CliRunner().invoke(cli, ["trigger", "OutboxRelayFunctionEveryMinute", "--template", str(TEMPLATE)])
        assert fired.exit_code == 0, f"{fired.output}\n{fired.exception!r}"
        summary = json.loads(fired.stdout)
        assert summary["tenants"] >= 1 and summary["errors"] == 0 and summary["interrupted"] is False
        assert not _pending(tenant)
        assert queue.receive(tenant) == []  # published once, after the commit


def _pending(tenant: Tenant) -> bool:
    with transaction() as conn:
        found = conn.execute("SELECT 1 FROM public.outbox_pending WHERE tenant_id = %s", (tenant.tenant_id,))
        return found.fetchone() is not None
