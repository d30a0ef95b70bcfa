"""The purge of expired Idempotency-Key rows (IdempotencyPurgeFunction, `hrms db purge-idempotency-keys`).

Most tests run on a fresh database of their own, so that every count is exact: the session database
holds the tenants of every other test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg import sql

from hrms.errors import NotFound
from hrms.http import idempotency
from hrms.http.idempotency import PurgeSummary, purge_expired
from hrms.migrations import runner
from hrms_tools.local.invoker import Containers
from hrms_tools.local.template import Template
from tests.conftest import ROOT, _reset_clients
from tests.integration.fresh_database import add_tenants, connect, fresh_database

H = timedelta(hours=1)


@pytest.fixture
def db(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database that the pool (and so the purge) uses for this test."""
    with fresh_database("hrms_purge") as conninfo:
        runner.up(conninfo)
        monkeypatch.setenv("DATABASE_URL", conninfo)
        _reset_clients()
        try:
            yield conninfo
        finally:
            _reset_clients()


@pytest.fixture
def deletes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(schema, rows deleted) of every DELETE the purge runs, in order."""
    seen: list[tuple[str, int]] = []
    original = psycopg.Connection.execute

    def spy(self: psycopg.Connection[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        cursor = original(self, query, *args, **kwargs)
        text = query if isinstance(query, str) else query.as_string(self)
        if text.startswith("DELETE FROM"):
            seen.append((text.split('"')[1], cursor.rowcount))
        return cursor

    monkeypatch.setattr(psycopg.Connection, "execute", spy)
    return seen


def _plant(conninfo: str, schema: str, **expires_in: timedelta) -> None:
    """Completed keys expiring `expires_in` from now (negative: already expired)."""
    table = sql.Identifier(schema, "idempotency_keys")
    with connect(conninfo) as conn:
        for key, delta in expires_in.items():
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (key, operation, request_hash, status_code, response, expires_at)"
                    " VALUES (%s, 'POST /departments', 'h', 201, '{{}}', now() + %s)"
                ).format(table),
                (key, delta),
            )


def _keys(conninfo: str, schema: str) -> set[str]:
    with connect(conninfo) as conn:
        rows = conn.execute(sql.SQL("SELECT key FROM {}").format(sql.Identifier(schema, "idempotency_keys")))
        return {row["key"] for row in rows}


def test_only_expired_keys_go_in_every_live_tenant_and_in_public(db):
    s = add_tenants(db, "acme", "globex", "initech", "gone")
    _plant(db, s["acme"], old=-48 * H, recent=-timedelta(minutes=1), live=H)
    _plant(db, s["globex"], live=23 * H)
    _plant(db, "public", old=-3 * H, live=H)
    _plant(db, s["gone"], old=-48 * H)
    with connect(db) as conn:
        conn.execute("UPDATE public.tenants SET status = 'deleted' WHERE slug = 'gone'")

    summary = purge_expired()

    assert summary == PurgeSummary(schemas=4, expired=2, purged=3, failed=0, interrupted=False)
    assert _keys(db, s["acme"]) == {"live"}
    assert _keys(db, s["globex"]) == {"live"}
    assert _keys(db, s["initech"]) == set()
    assert _keys(db, "public") == {"live"}
    assert _keys(db, s["gone"]) == {"old"}  # a deleted tenant's schema is not visited
    assert purge_expired() == PurgeSummary(schemas=4, expired=0, purged=0)


def test_batches_are_bounded_oldest_expiry_first_and_each_schema_is_capped_per_run(db, deletes):
    s = add_tenants(db, "acme", "globex")
    _plant(db, s["acme"], a0=-10 * H, a1=-9 * H, a2=-8 * H, a3=-7 * H, a4=-6 * H)
    _plant(db, s["globex"], g0=-20 * H, g1=-19 * H, g2=-18 * H)  # older: purged first

    first = purge_expired(batch=2, max_rows_per_schema=4)

    assert first == PurgeSummary(schemas=3, expired=2, purged=7)
    assert deletes == [(s["globex"], 2), (s["globex"], 1), (s["acme"], 2), (s["acme"], 2)]
    assert _keys(db, s["acme"]) == {"a4"}  # the newest one, left by the cap
    assert _keys(db, s["globex"]) == set()

    deletes.clear()
    second = purge_expired(batch=2, max_rows_per_schema=4)

    assert second == PurgeSummary(schemas=3, expired=1, purged=1)
    assert deletes == [(s["acme"], 1)]
    assert _keys(db, s["acme"]) == set()


def test_a_run_stopped_by_its_deadline_is_resumed_by_the_next_one(db, deletes, monkeypatch):
    s = add_tenants(db, "acme", "globex")
    _plant(db, s["acme"], a0=-5 * H, a1=-4 * H)
    _plant(db, s["globex"], g0=-20 * H, g1=-19 * H, g2=-18 * H)
    # The clock passes the deadline as soon as the first batch has been deleted.
    clock = {"past": False}
    monkeypatch.setattr(
        idempotency, "time", SimpleNamespace(monotonic=lambda: 1_000.0 if clock["past"] or deletes else 0.0)
    )

    first = purge_expired(deadline=500.0, batch=2)

    assert first == PurgeSummary(schemas=3, expired=2, purged=2, interrupted=True)
    assert _keys(db, s["globex"]) == {"g2"}
    assert _keys(db, s["acme"]) == {"a0", "a1"}

    clock["past"], deletes[:] = True, []
    second = purge_expired(deadline=500.0, batch=2)  # past it from the start: not even a probe

    assert second == PurgeSummary(schemas=3, expired=0, purged=0, interrupted=True)
    assert deletes == []

    monkeypatch.undo()
    third = purge_expired(batch=2)

    assert third == PurgeSummary(schemas=3, expired=2, purged=3)
    assert _keys(db, s["globex"]) == _keys(db, s["acme"]) == set()


def test_a_failing_schema_is_counted_and_the_others_are_still_purged(db):
    s = add_tenants(db, "acme", "globex", "initech")
    for schema in s.values():
        _plant(db, schema, old=-2 * H, live=H)
    with connect(db) as conn:  # globex's table no longer has the column the probe reads
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME COLUMN expires_at TO expiry").format(
                sql.Identifier(s["globex"], "idempotency_keys")
            )
        )

    summary = purge_expired()

    assert summary == PurgeSummary(schemas=4, expired=2, purged=2, failed=1)
    assert _keys(db, s["acme"]) == _keys(db, s["initech"]) == {"live"}
    assert _keys(db, s["globex"]) == {"old", "live"}


def test_one_tenant_only_leaves_the_others_and_public_alone(db):
    s = add_tenants(db, "acme", "globex")
    for schema in (s["acme"], s["globex"], "public"):
        _plant(db, schema, old=-2 * H)

    assert purge_expired(tenant="acme") == PurgeSummary(schemas=1, expired=1, purged=1)
    assert _keys(db, s["acme"]) == set()
    assert _keys(db, s["globex"]) == _keys(db, "public") == {"old"}
    with pytest.raises(NotFound):
        purge_expired(tenant="nobody")


# The function and the command, on the session database


def _plant_in_session(schema: str, **expires_in: timedelta) -> None:
    import os

    _plant(os.environ["DATABASE_URL"], schema, **expires_in)


def _session_keys(schema: str) -> set[str]:
    import os

    return _keys(os.environ["DATABASE_URL"], schema)


def test_the_scheduled_function_purges_every_tenant_and_publishes_its_counts(tenant, capsys):
    _plant_in_session(tenant.schema_name, old=-2 * H, older=-30 * H, live=H)
    template = Template.load(ROOT / "template.yaml")
    assert {s.id: s.expression for s in template.schedules}["IdempotencyPurgeFunctionHourly"] == "rate(1 hour)"
    capsys.readouterr()

    result = (
        Containers(template.functions)
        .get("IdempotencyPurgeFunction")
        .invoke(json.loads((ROOT / "events/idempotency_purge/scheduled.json").read_text()))
    )

    assert result["purged"] >= 2 and result["failed"] == 0 and result["interrupted"] is False
    assert _session_keys(tenant.schema_name) == {"live"}
    [emf] = [line for line in map(json.loads, capsys.readouterr().out.splitlines()) if "_aws" in line]
    assert emf["IdempotencyKeysPurged"] == [float(result["purged"])]
    assert emf["IdempotencyPurgeFailures"] == [0.0]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]


def test_the_command_purges_one_tenant_to_the_last_row(cli, tenant, other_tenant):
    _plant_in_session(tenant.schema_name, **{f"k{i}": -(i + 1) * H for i in range(3)}, live=H)
    _plant_in_session(other_tenant.schema_name, old=-H)

    result = cli("db", "purge-idempotency-keys", "--tenant", tenant.slug, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"schemas": 1, "expired": 1, "purged": 3, "failed": 0, "interrupted": False}
    assert _session_keys(tenant.schema_name) == {"live"}
    assert _session_keys(other_tenant.schema_name) == {"old"}

    _plant_in_session(tenant.schema_name, again=-H)
    text = cli("db", "purge-idempotency-keys", "--tenant", tenant.slug)
    assert text.exit_code == 0, text.output
    assert "purged 1 expired key(s) from 1 of 1 schema(s)" in " ".join(text.output.split())
    assert cli("db", "purge-idempotency-keys").exit_code == 2  # --tenant or --all
