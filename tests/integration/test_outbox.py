"""The transactional outbox against the embedded stack: PostgreSQL rows, the pending-tenant marker and
moto's SQS (a fresh queue per test, so every message a test sees is its own).

Rows written through a TenantTx built by hand over a connection are never published after the commit
(only `tenant_tx` runs after-commit callbacks): that is how these tests leave rows for the sweep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from hrms.approvals import service as approvals
from hrms.approvals.models import DecisionIn
from hrms.config import settings
from hrms.db.postgres import TenantTx, tenant_tx, transaction
from hrms.errors import Forbidden
from hrms.outbox import APPROVAL_DECIDED, APPROVAL_REQUESTED, EXPORT_REQUESTED, IMPORT_STARTED, emit, relay
from hrms.tenancy import Tenant
from tests.integration.leave_world import World
from tests.integration.outbox_queue import Queue, fresh_queue, queue_variable, use_queue

APPROVAL = UUID("0b7e5c1a-9d2f-4e3a-8c6b-1a2b3c4d5e6f")
LEAVE = UUID("c3d4e5f6-a7b8-4c9d-8e0f-112233445566")


def requested(approval_id: UUID = APPROVAL) -> dict[str, Any]:
    return {
        "approvalId": approval_id,
        "entityType": "leave",
        "entityId": LEAVE,
        "step": 1,
        "approverType": "role",
        "approverRole": "hr_manager",
        "assigneeEmployeeId": None,
        "subjectEmployeeId": None,
    }


@pytest.fixture(scope="module", autouse=True)
def _no_backlog(stack: Any) -> None:
    """Earlier tests leave pending tenants behind (their markers wait for a sweep): clear them once, so
    each sweep here only visits this module's tenants."""
    relay.sweep(min_age_s=0)


@pytest.fixture
def queue(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Queue]:
    with fresh_queue(monkeypatch) as fresh:
        yield fresh


@pytest.fixture
def t(tenant: Any) -> Tenant:
    return Tenant(tenant.tenant_id, tenant.schema_name)


def rows(tenant: Tenant) -> list[dict[str, Any]]:
    with transaction() as conn:
        return conn.execute(
            sql.SQL(
                "SELECT id, event_id, event_type, payload, attempts, published_at IS NOT NULL AS published"
                " FROM {} ORDER BY id"
            ).format(sql.Identifier(tenant.schema_name, "outbox"))
        ).fetchall()


def pending(tenant: Tenant) -> bool:
    with transaction() as conn:
        found = conn.execute("SELECT 1 FROM public.outbox_pending WHERE tenant_id = %s", (tenant.tenant_id,))
        return found.fetchone() is not None


def left_for_the_sweep(tenant: Tenant, count: int) -> list[int]:
    """`count` committed events that no after-commit publish will send."""
    with transaction() as conn:
        tx = TenantTx(conn, tenant)
        return [emit(tx, APPROVAL_REQUESTED, requested(uuid4())) for _ in range(count)]


def _summary(t: Tenant) -> dict[str, Any]:
    return {"rows": [(r["attempts"], r["published"]) for r in rows(t)], "pending": pending(t)}


# ------------------------------------------------------------------ after-commit callbacks


def test_after_commit_callbacks_run_in_order_once_committed_and_never_after_a_rollback(t):
    calls: list[str] = []

    def failing() -> None:
        calls.append("failing")
        raise RuntimeError("boom")

    with tenant_tx(t) as tx:
        tx.call_after_commit(lambda: calls.append("first"))
        tx.call_after_commit(failing)  # logged; neither the request nor the next callback suffers
        tx.call_after_commit(lambda: calls.append("third"))
        assert calls == []
    assert calls == ["first", "failing", "third"]

    with pytest.raises(ValueError), tenant_tx(t) as tx:
        tx.call_after_commit(lambda: calls.append("after rollback"))
        raise ValueError("refused")
    assert calls == ["first", "failing", "third"]


# ------------------------------------------------------------------ emit and the after-commit publish


def test_a_committed_event_is_on_the_queue_and_its_row_published(t, queue):
    with tenant_tx(t) as tx:
        outbox_id = emit(tx, APPROVAL_REQUESTED, requested())
        assert queue.receive() == []  # nothing leaves before the commit

    [row] = rows(t)
    assert (row["id"], row["event_type"], row["attempts"], row["published"]) == (
        outbox_id,
        "approval.requested",
        0,
        True,
    )
    [message] = queue.receive()
    body = message["body"]
    assert body.pop("occurredAt").endswith("Z")
    assert body == {
        "eventId": str(row["event_id"]),
        "type": "approval.requested",
        "tenantId": str(t.tenant_id),
        "payload": {
            "approvalId": "0b7e5c1a-9d2f-4e3a-8c6b-1a2b3c4d5e6f",
            "entityType": "leave",
            "entityId": "c3d4e5f6-a7b8-4c9d-8e0f-112233445566",
            "step": 1,
            "approverType": "role",
            "approverRole": "hr_manager",
            "assigneeEmployeeId": None,
            "subjectEmployeeId": None,
        },
    }
    assert message["attributes"] == {"eventType": "approval.requested", "tenantId": str(t.tenant_id)}
    assert pending(t)  # until a sweep finds the outbox drained


def test_several_events_of_one_transaction_go_out_together(t, queue):
    with tenant_tx(t) as tx:
        ids = [emit(tx, APPROVAL_REQUESTED, requested(uuid4())) for _ in range(12)]  # two SendMessageBatch calls
    assert _summary(t) == {"rows": [(0, True)] * 12, "pending": True}
    assert sorted(m["body"]["eventId"] for m in queue.receive()) == sorted(str(r["event_id"]) for r in rows(t))
    assert [r["id"] for r in rows(t)] == ids


def test_a_rolled_back_transaction_leaves_no_row_no_marker_and_no_message(t, queue):
    with pytest.raises(RuntimeError), tenant_tx(t) as tx:
        emit(tx, APPROVAL_REQUESTED, requested())
        raise RuntimeError("the request failed after emitting")
    assert _summary(t) == {"rows": [], "pending": False}
    assert queue.receive() == []


def test_an_invalid_event_is_refused_before_anything_is_written(t, queue):
    with pytest.raises(ValueError, match="approverRole must be an id or a code"), tenant_tx(t) as tx:
        emit(tx, APPROVAL_REQUESTED, {**requested(), "approverRole": "someone@example.com"})
    with pytest.raises(ValueError, match="unknown outbox event type"), tenant_tx(t) as tx:
        emit(tx, "approval.aproved", requested())
    assert _summary(t) == {"rows": [], "pending": False}


def test_a_failed_publish_leaves_the_row_and_the_sweep_delivers_it(t, queue, monkeypatch):
    use_queue(monkeypatch, queue.url + "-missing")  # SQS answers: no such queue
    with tenant_tx(t) as tx:
        emit(tx, APPROVAL_REQUESTED, requested())
    assert _summary(t) == {"rows": [(1, False)], "pending": True}

    use_queue(monkeypatch, queue.url)
    summary = relay.sweep(min_age_s=0)
    assert str(t.tenant_id) in summary.visited and summary.published >= 1
    assert _summary(t) == {"rows": [(1, True)], "pending": False}
    [message] = queue.receive(t)
    assert message["body"]["eventId"] == str(rows(t)[0]["event_id"])


def test_while_the_queue_is_unreachable_the_sweep_keeps_the_rows_and_counts_the_failure(t, queue, monkeypatch):
    relay.sweep(min_age_s=0)  # no other tenant's rows left to fail first (a failed call ends the run)
    left_for_the_sweep(t, 2)
    use_queue(monkeypatch, queue.url + "-missing")
    summary = relay.sweep(min_age_s=0)
    assert summary.interrupted and summary.failed >= 2 and summary.oldest_pending_s >= 0
    assert _summary(t) == {"rows": [(1, False), (1, False)], "pending": True}


# ------------------------------------------------------------------ the sweep


def test_the_sweep_visits_only_pending_tenants_and_releases_drained_ones(t, other_tenant, queue):
    with tenant_tx(t) as tx:  # published after the commit: drained, but still listed
        emit(tx, APPROVAL_REQUESTED, requested())
    other = Tenant(other_tenant.tenant_id, other_tenant.schema_name)
    assert (pending(t), pending(other)) == (True, False)
    queue.receive()

    summary = relay.sweep(min_age_s=0)
    assert str(t.tenant_id) in summary.visited and str(other.tenant_id) not in summary.visited
    assert (pending(t), pending(other)) == (False, False)
    assert queue.receive(t) == []  # nothing sent twice

    assert str(t.tenant_id) not in relay.sweep(min_age_s=0).visited


def test_the_sweep_keeps_the_marker_of_a_tenant_whose_emit_is_not_committed_yet(t, queue):
    with tenant_tx(t) as tx:  # published; the marker stays until a sweep
        emit(tx, APPROVAL_REQUESTED, requested())
    with psycopg.connect(settings().database_url, row_factory=dict_row) as request:
        emit(TenantTx(request, t), APPROVAL_REQUESTED, requested(uuid4()))  # holds the marker, uncommitted
        relay.sweep(min_age_s=0)  # sees a drained outbox, but cannot take the marker
        request.commit()
    assert _summary(t) == {"rows": [(0, True), (0, False)], "pending": True}
    relay.sweep(min_age_s=0)
    assert _summary(t) == {"rows": [(0, True), (0, True)], "pending": False}


def test_an_emit_racing_the_release_of_the_marker_lists_its_tenant_again(t, queue):
    with tenant_tx(t) as tx:
        emit(tx, APPROVAL_REQUESTED, requested())
    with psycopg.connect(settings().database_url) as sweeper:  # a sweep releasing the marker, not committed
        sweeper.execute("SELECT 1 FROM public.outbox_pending WHERE tenant_id = %s FOR UPDATE", (t.tenant_id,))
        sweeper.execute("DELETE FROM public.outbox_pending WHERE tenant_id = %s", (t.tenant_id,))
        request = threading.Thread(target=left_for_the_sweep, args=(t, 1))
        request.start()
        request.join(0.3)
        assert request.is_alive()  # waits on the marker
        sweeper.commit()
    request.join()
    assert _summary(t) == {"rows": [(0, True), (0, False)], "pending": True}


def test_the_sweep_leaves_young_rows_to_the_after_commit_publish(t, queue):
    left_for_the_sweep(t, 1)
    relay.sweep(min_age_s=60)
    assert _summary(t) == {"rows": [(0, False)], "pending": True}
    assert queue.receive(t) == []


def test_the_sweep_is_bounded_per_tenant_and_resumes_on_the_next_run(t, queue):
    left_for_the_sweep(t, 5)
    relay.sweep(min_age_s=0, max_rows_per_tenant=3, rows_per_tx=2)
    assert _summary(t) == {"rows": [(0, True)] * 3 + [(0, False)] * 2, "pending": True}
    relay.sweep(min_age_s=0)
    assert _summary(t) == {"rows": [(0, True)] * 5, "pending": False}
    assert len(queue.receive(t)) == 5


def test_the_sweep_skips_rows_another_publisher_holds(t, queue):
    ids = left_for_the_sweep(t, 4)
    with psycopg.connect(settings().database_url, row_factory=dict_row) as other:  # mid-send elsewhere
        other.execute(
            sql.SQL("SELECT id FROM {} WHERE id = ANY(%s) FOR UPDATE").format(sql.Identifier(t.schema_name, "outbox")),
            (ids[:2],),
        )
        relay.sweep(min_age_s=0)
        other.rollback()
    assert _summary(t) == {"rows": [(0, False), (0, False), (0, True), (0, True)], "pending": True}
    assert len(queue.receive(t)) == 2


def test_concurrent_sweeps_send_each_row_once(t, queue):
    left_for_the_sweep(t, 30)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            relay.sweep(min_age_s=0, rows_per_tx=3)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    event_ids = [m["body"]["eventId"] for m in queue.receive(t)]
    assert len(event_ids) == 30 and set(event_ids) == {str(r["event_id"]) for r in rows(t)}
    assert _summary(t)["rows"] == [(0, True)] * 30
    # A sweep that checked while another still held rows kept the marker; the next run releases it.
    relay.sweep(min_age_s=0)
    assert _summary(t)["pending"] is False and queue.receive(t) == []


def test_the_sweep_purges_rows_published_before_the_retention(t, queue):
    with tenant_tx(t) as tx:
        ids = [emit(tx, APPROVAL_REQUESTED, requested(uuid4())) for _ in range(3)]
    old_unpublished = left_for_the_sweep(t, 1)[0]
    table = sql.Identifier(t.schema_name, "outbox")
    with transaction() as conn:
        for outbox_id, days in zip(ids, (8, 6, 0), strict=True):
            conn.execute(
                sql.SQL("UPDATE {} SET published_at = now() - make_interval(days => %s) WHERE id = %s").format(table),
                (days, outbox_id),
            )
        conn.execute(
            sql.SQL("UPDATE {} SET created_at = now() - interval '30 days' WHERE id = %s").format(table),
            (old_unpublished,),
        )

    summary = relay.sweep(min_age_s=0)  # OUTBOX_RETENTION_DAYS: 7
    assert summary.purged == 1
    assert [(r["id"], r["published"]) for r in rows(t)] == [(ids[1], True), (ids[2], True), (old_unpublished, True)]


# ------------------------------------------------------------------ one queue per event type


def test_each_event_goes_to_the_queue_its_type_names(t, queue, monkeypatch):
    import_id = uuid4()
    with fresh_queue(monkeypatch, "IMPORT_QUEUE_URL") as imports:
        with tenant_tx(t) as tx:
            emit(tx, IMPORT_STARTED, {"importId": import_id, "dryRun": True})
            emit(tx, APPROVAL_REQUESTED, requested())
        [started] = imports.receive()
        assert (started["body"]["type"], started["attributes"]["eventType"]) == ("import.started", "import.started")
        assert started["body"]["payload"] == {"importId": str(import_id), "dryRun": True}
        assert [m["body"]["type"] for m in queue.receive()] == ["approval.requested"]  # not the import
    assert _summary(t) == {"rows": [(0, True), (0, True)], "pending": True}


def test_the_sweep_sends_rows_left_behind_to_their_own_queues(t, queue, monkeypatch):
    with fresh_queue(monkeypatch, "EXPORT_QUEUE_URL") as exports:
        with transaction() as conn:  # committed, never published after the commit
            tx = TenantTx(conn, t)
            emit(tx, EXPORT_REQUESTED, {"exportId": uuid4()})
            emit(tx, APPROVAL_REQUESTED, requested())
        summary = relay.sweep(min_age_s=0)
        assert summary.published >= 2 and not summary.interrupted
        assert [m["body"]["type"] for m in exports.receive(t)] == ["export.requested"]
        assert [m["body"]["type"] for m in queue.receive(t)] == ["approval.requested"]
    assert _summary(t) == {"rows": [(0, True), (0, True)], "pending": False}


def test_an_event_whose_queue_is_not_configured_waits_while_the_others_go(t, queue, monkeypatch):
    with queue_variable("EXPORT_QUEUE_URL", None):
        with tenant_tx(t) as tx:
            emit(tx, EXPORT_REQUESTED, {"exportId": uuid4()})
            emit(tx, APPROVAL_REQUESTED, requested())
        assert _summary(t) == {"rows": [(0, False), (0, True)], "pending": True}
        summary = relay.sweep(min_age_s=0)
        assert not summary.interrupted and summary.failed == 0 and summary.waiting >= 1
        assert _summary(t) == {"rows": [(0, False), (0, True)], "pending": True}  # waits, marker kept
    with fresh_queue(monkeypatch, "EXPORT_QUEUE_URL") as exports:  # configured: the next sweep sends it
        relay.sweep(min_age_s=0)
        assert [m["body"]["type"] for m in exports.receive(t)] == ["export.requested"]
    assert _summary(t) == {"rows": [(0, True), (0, True)], "pending": False}
    assert [m["body"]["type"] for m in queue.receive(t)] == ["approval.requested"]  # sent once


# ------------------------------------------------------------------ events of the approval engine


def test_a_leave_request_and_its_decision_emit_approval_events(world: World, team: dict[str, Any], queue: Queue):
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    [opened] = queue.receive(world.tenant)
    assert (opened["body"]["type"], opened["attributes"]["eventType"]) == ("approval.requested", "approval.requested")
    assert opened["body"]["payload"] == {
        "approvalId": str(leave.approval_id),
        "entityType": "leave",
        "entityId": str(leave.leave_id),
        "step": 1,
        "approverType": "reporting_manager",
        "approverRole": None,
        "assigneeEmployeeId": str(team["manager"]),
        "subjectEmployeeId": str(team["employee"]),
    }

    approvals.decide_approval(world.tenant, team["manager_user"], leave.approval_id, DecisionIn(decision="approve"))
    [decided] = queue.receive(world.tenant)
    assert decided["body"]["type"] == APPROVAL_DECIDED
    assert decided["body"]["payload"] == {
        "approvalId": str(leave.approval_id),
        "entityType": "leave",
        "entityId": str(leave.leave_id),
        "step": 1,
        "outcome": "approved",
        "entityStatus": "approved",
        "decidedBy": team["manager_user"].user_id,
        "subjectEmployeeId": str(team["employee"]),
    }
    assert [(r["event_type"], r["published"]) for r in rows(world.tenant)] == [
        ("approval.requested", True),
        ("approval.decided", True),
    ]


def test_a_refused_decision_emits_nothing(world: World, team: dict[str, Any], queue: Queue):
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    queue.receive()
    with pytest.raises(Forbidden):
        approvals.decide_approval(world.tenant, team["hr"], leave.approval_id, DecisionIn(decision="approve"))
    assert queue.receive(world.tenant) == []
    assert [r["event_type"] for r in rows(world.tenant)] == ["approval.requested"]
