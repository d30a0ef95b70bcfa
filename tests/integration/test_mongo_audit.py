"""Audited MongoDB writes: the document and its audit row both happen or neither does, even when
the request dies between the two stores (hrms.db.mongo_audit)."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg import sql

from hrms.db import audit_log, mongo_audit
from hrms.db.mongo import database
from hrms.db.postgres import transaction
from hrms.errors import Conflict, DependencyDown, Invalid
from hrms.settings import service
from hrms.settings.models import SettingsUpdate
from hrms.tenancy import Tenant
from tests.integration.mongo_world import actor, as_tenant


def _audit_rows(tenant: Tenant, entity_type: str) -> list[dict[str, Any]]:
    with transaction() as conn:
        return conn.execute(
            sql.SQL(
                "SELECT action, entity_id, actor_id, after, event_id FROM {} WHERE entity_type = %s ORDER BY id"
            ).format(sql.Identifier(tenant.schema_name, "audit_logs")),
            (entity_type,),
        ).fetchall()


def _hints(tenant: Tenant) -> list[dict[str, Any]]:
    return list(database()["PendingAudit"].find({"tenantId": str(tenant.tenant_id)}))


def _history(tenant: Tenant) -> list[dict[str, Any]]:
    return list(database()["SettingsAudit"].find({"tenantId": str(tenant.tenant_id)}))


def _put(tenant: Tenant, who: Any, settings: dict[str, Any], expected: int) -> Any:
    return service.update_settings(tenant, who, SettingsUpdate(settings=settings, expected_version=expected))


def test_a_write_leaves_its_audit_row_its_history_and_no_pending_entry(tenant):
    t = as_tenant(tenant)
    admin = actor(t)
    _put(t, admin, {"currency": "INR"}, 0)
    rows = _audit_rows(t, "settings")
    assert [(r["action"], r["entity_id"], r["actor_id"]) for r in rows] == [("settings.update", "1", admin.user_id)]
    assert rows[0]["after"] == {"settings": {"currency": "INR"}}
    assert rows[0]["event_id"] is not None
    assert _hints(t) == []
    stored = database()["TenantSettings"].find_one({"tenantId": str(t.tenant_id)})
    assert stored["_pendingAudit"] == {}
    assert [h["version"] for h in _history(t)] == [1]


def test_an_audit_that_could_not_be_delivered_is_finished_by_the_sweep_once(tenant, monkeypatch):
    t = as_tenant(tenant)
    admin = actor(t)

    def postgres_down(*_: Any) -> None:
        raise DependencyDown("The database is unavailable; try again shortly.")

    monkeypatch.setattr(audit_log, "record_event", postgres_down)
    assert _put(t, admin, {"currency": "EUR"}, 0).version == 1  # the write itself succeeded
    assert _audit_rows(t, "settings") == []
    assert len(_hints(t)) == 1
    monkeypatch.undo()

    assert mongo_audit.deliver_pending(older_than_s=3600) == 0  # still young: a request may be running
    assert mongo_audit.deliver_pending(older_than_s=0) >= 1
    assert mongo_audit.deliver_pending(older_than_s=0) == 0
    rows = _audit_rows(t, "settings")
    assert [(r["action"], r["entity_id"]) for r in rows] == [("settings.update", "1")]
    assert [h["version"] for h in _history(t)] == [1]  # the history copy once, too
    assert _hints(t) == []
    assert service.get_settings(t).settings == {"currency": "EUR"}


def test_delivering_the_same_entry_twice_writes_one_row(tenant):
    t = as_tenant(tenant)
    _put(t, actor(t), {"currency": "INR"}, 0)
    row = _audit_rows(t, "settings")[0]
    entry = {
        "eventId": str(row["event_id"]),
        "at": "2026-01-01T00:00:00+00:00",
        "actorId": "someone",
        "actorRole": "admin",
        "action": "settings.update",
        "entityType": "settings",
        "entityId": "1",
        "before": None,
        "after": None,
        "requestId": None,
    }
    from hrms.db.postgres import tenant_tx

    with tenant_tx(t) as tx:
        audit_log.record_event(tx, entry)
    assert len(_audit_rows(t, "settings")) == 1


def test_a_refused_write_leaves_no_document_no_hint_and_no_audit(tenant):
    t = as_tenant(tenant)
    admin = actor(t)
    _put(t, admin, {"currency": "INR"}, 0)
    with pytest.raises(Conflict):
        _put(t, admin, {"currency": "USD"}, 0)  # stale version
    beyond_bson = SettingsUpdate.model_construct(settings={"currency": "INR", "big": 2**70}, expected_version=1)
    with pytest.raises(Invalid):  # past the model's own checks, the store still refuses before writing
        service.update_settings(t, admin, beyond_bson)
    assert service.get_settings(t).settings == {"currency": "INR"}
    assert len(_audit_rows(t, "settings")) == 1
    assert _hints(t) == []
    assert [h["version"] for h in _history(t)] == [1]


def test_a_hint_whose_write_never_happened_is_dropped(tenant):
    t = as_tenant(tenant)
    database()["PendingAudit"].insert_one(
        {
            "_id": "00000000-0000-4000-8000-000000000000",
            "tenantId": str(t.tenant_id),
            "schema": t.schema_name,
            "collection": "TenantSettings",
            "at": __import__("datetime").datetime(2020, 1, 1),
        }
    )
    mongo_audit.deliver_pending(older_than_s=0)
    assert _hints(t) == []
    assert _audit_rows(t, "settings") == []


def test_the_outbox_relay_schedule_delivers_what_a_request_left_behind(tenant, monkeypatch):
    import datetime as dt
    import json

    from typer.testing import CliRunner

    import hrms.observability  # noqa: F401 - bind the Powertools logger to the real stdout, not CliRunner's
    from hrms_tools.cli.main import app as cli
    from tests.conftest import ROOT

    t = as_tenant(tenant)

    def postgres_down(*_: Any) -> None:
        raise DependencyDown("The database is unavailable; try again shortly.")

    monkeypatch.setattr(audit_log, "record_event", postgres_down)
    _put(t, actor(t), {"currency": "JPY"}, 0)
    monkeypatch.undo()
    two_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    database()["PendingAudit"].update_many({"tenantId": str(t.tenant_id)}, {"$set": {"at": two_minutes_ago}})

    template = str(ROOT / "template.yaml")
    fired = CliRunner().invoke(cli, ["trigger", "OutboxRelayFunctionEveryMinute", "--template", template])
    assert fired.exit_code == 0, f"{fired.output}\n{fired.exception!r}"
    assert json.loads(fired.stdout)["auditsDelivered"] >= 1
    assert [r["action"] for r in _audit_rows(t, "settings")] == ["settings.update"]
    assert _hints(t) == []
