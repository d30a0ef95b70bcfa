"""The database's guard of a tenant's write freeze (hrms.db.write_guard), on the embedded PostgreSQL.

A transaction that began before a freeze and writes after it is refused (503 + Retry-After); the drain waits
exactly for the transactions that have written; the freezing operation writes through its own freeze; every
tenant table carries the guard.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from hrms.backup import pgtools
from hrms.db import write_guard
from hrms.db.postgres import tenant_tx
from hrms.errors import WritesFrozen
from hrms.http.responses import problem_from
from hrms.tenancy import Tenant

HOLD_S = 0.4


def _tenant(created: Any) -> Tenant:
    return Tenant(created.tenant_id, created.schema_name)


@contextmanager
def frozen(created: Any, operation: str = "op-test", retry_after_s: int = 7) -> Iterator[None]:
    with pgtools.live().connect() as conn:
        conn.execute(
            "INSERT INTO public.tenant_write_freezes (tenant_id, operation_id, reason, retry_after_s)"
            " VALUES (%s, %s, 'test', %s)",
            (created.tenant_id, operation, retry_after_s),
        )
    try:
        yield
    finally:
        with pgtools.live().connect() as conn:
            conn.execute("DELETE FROM public.tenant_write_freezes WHERE operation_id = %s", (operation,))


def _add_holiday(tx: Any, name: str) -> None:
    tx.execute(
        sql.SQL("INSERT INTO {} (name, date) VALUES (%s, DATE '2031-01-01' + %s)").format(tx.t("holidays")),
        (name, len(name)),
    )


def _holidays(created: Any) -> set[str]:
    with tenant_tx(_tenant(created)) as tx:
        return {row["name"] for row in tx.execute(sql.SQL("SELECT name FROM {}").format(tx.t("holidays")))}


def test_every_tenant_table_runs_the_guard(tenant):
    with pgtools.live().connect() as conn:
        unguarded = conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = to_regnamespace(%s) AND c.relkind IN ('r', 'p')"
            " AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'hrms_write_guard')",
            (tenant.schema_name,),
        ).fetchall()
        tables = conn.execute(
            "SELECT count(*) AS n FROM pg_class WHERE relnamespace = to_regnamespace(%s) AND relkind = 'r'",
            (tenant.schema_name,),
        ).fetchone()
    assert unguarded == [] and tables is not None and tables["n"] >= 30


def test_a_transaction_begun_before_the_freeze_cannot_write_after_it(tenant):
    with pytest.raises(WritesFrozen) as refused, tenant_tx(_tenant(tenant)) as tx:
        tx.execute(sql.SQL("SELECT count(*) FROM {}").format(tx.t("holidays")))  # admitted, reading
        with frozen(tenant, retry_after_s=7):
            _add_holiday(tx, "too late")
    response = problem_from(refused.value)
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert "too late" not in _holidays(tenant)


def test_reads_go_on_and_writes_resume_after_the_freeze(tenant):
    with frozen(tenant):
        assert _holidays(tenant) == set()
        with pytest.raises(WritesFrozen), tenant_tx(_tenant(tenant)) as tx:
            _add_holiday(tx, "frozen")
    with tenant_tx(_tenant(tenant)) as tx:
        _add_holiday(tx, "thawed")
    assert _holidays(tenant) == {"thawed"}


def test_the_drain_waits_for_a_transaction_that_wrote_before_the_freeze(tenant):
    wrote = threading.Event()

    def writer() -> None:
        with tenant_tx(_tenant(tenant)) as tx:
            _add_holiday(tx, "in flight")
            wrote.set()
            time.sleep(HOLD_S)

    thread = threading.Thread(target=writer)
    thread.start()
    assert wrote.wait(10)
    with frozen(tenant), pgtools.live().connect() as conn:
        started = time.monotonic()
        write_guard.drain(conn, tenant.schema_name)
        waited = time.monotonic() - started
        # it returned only once the writer had committed: its row is visible to a new transaction
        assert waited > HOLD_S / 2 and _holidays(tenant) == {"in flight"}
        with pytest.raises(WritesFrozen), tenant_tx(_tenant(tenant)) as tx:
            _add_holiday(tx, "after the drain")
    thread.join()
    assert _holidays(tenant) == {"in flight"}


def test_the_drain_returns_at_once_without_writers_and_times_out_on_a_stuck_one(tenant):
    with frozen(tenant), pgtools.live().connect() as conn:
        started = time.monotonic()
        write_guard.drain(conn, tenant.schema_name)
        assert time.monotonic() - started < 1.0
    with pgtools.live().connect(autocommit=False) as stuck:
        stuck.execute(sql.SQL("DELETE FROM {} WHERE false").format(sql.Identifier(tenant.schema_name, "holidays")))
        with frozen(tenant), pgtools.live().connect() as conn, pytest.raises(write_guard.DrainTimeout):
            write_guard.drain(conn, tenant.schema_name, timeout_s=0.3)
        stuck.rollback()


def test_the_freezing_operation_writes_through_its_own_freeze_only(tenant):
    with frozen(tenant, operation="op-mine"):
        with tenant_tx(_tenant(tenant)) as tx:
            tx.execute(write_guard.bypass("op-mine"))
            _add_holiday(tx, "mine")
        with pytest.raises(WritesFrozen), tenant_tx(_tenant(tenant)) as tx:
            tx.execute(write_guard.bypass("op-someone-else"))
            _add_holiday(tx, "theirs")
    assert _holidays(tenant) == {"mine"}


def test_a_tenant_moved_away_refuses_writes_to_its_old_copy(tenant):
    with pgtools.live().connect() as conn:
        conn.execute("UPDATE public.tenants SET status = 'moved' WHERE id = %s", (tenant.tenant_id,))
    try:
        with pytest.raises(WritesFrozen) as refused, tenant_tx(_tenant(tenant)) as tx:
            _add_holiday(tx, "stale")
        assert refused.value.retry_after_s == 1
    finally:
        with pgtools.live().connect() as conn:
            conn.execute("UPDATE public.tenants SET status = 'active' WHERE id = %s", (tenant.tenant_id,))


def test_other_database_errors_are_not_taken_for_a_freeze(tenant):
    with pytest.raises(psycopg.errors.UniqueViolation), tenant_tx(_tenant(tenant)) as tx:
        _add_holiday(tx, "twice")
        _add_holiday(tx, "twice")
