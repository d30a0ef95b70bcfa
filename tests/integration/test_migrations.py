"""The migration runner against its own, isolated database on the embedded server."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from hrms.errors import Conflict
from hrms.migrations import runner
from hrms.migrations.files import Migration, latest_version, migrations
from hrms.tenancy import schema_name_for
from hrms.tenants import repo
from tests.integration.fresh_database import fresh_database

SHIPPED_TENANT = latest_version("tenant")
ADD_NICKNAME = Migration(
    "tenant",
    SHIPPED_TENANT + 1,
    "add_nickname",
    "ALTER TABLE @schema.employees ADD COLUMN nickname text;\nALTER TABLE @schema.users ADD COLUMN badge text",
)
WITH_NICKNAME = runner.MigrationSet(public=migrations("public"), tenant=(*migrations("tenant"), ADD_NICKNAME))


@pytest.fixture
def database(stack: Any) -> Iterator[str]:
    """A fresh, empty database on the stack's server; its conninfo."""
    with fresh_database("hrms_mig") as conninfo:
        yield conninfo


@pytest.fixture
def migrated(database: str) -> str:
    runner.up(database)
    return database


def _connect(conninfo: str) -> psycopg.Connection[Any]:
    return psycopg.connect(conninfo, row_factory=dict_row)


def _add_tenants(conninfo: str, count: int) -> list[str]:
    """Tenants at the shipped version, laid out by the same repo code the service uses."""
    schemas = []
    with _connect(conninfo) as conn:
        for _ in range(count):
            slug = f"m-{secrets.token_hex(4)}"
            schema = schema_name_for(slug)
            tenant_id = repo.insert_tenant(
                conn,
                name=slug,
                slug=slug,
                schema_name=schema,
                admin_email=f"a@{slug}.io",
                description=None,
                settings={},
            )
            assert tenant_id is not None
            repo.create_schema(conn, schema)
            schemas.append(schema)
    return schemas


def _versions(conninfo: str) -> dict[str, int]:
    with _connect(conninfo) as conn:
        rows = conn.execute("SELECT schema_name, schema_version FROM public.tenants").fetchall()
    return {row["schema_name"]: row["schema_version"] for row in rows}


def _has_column(conninfo: str, schema: str, table: str, column: str) -> bool:
    with _connect(conninfo) as conn:
        return (
            conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
                " AND column_name = %s",
                (schema, table, column),
            ).fetchone()
            is not None
        )


def _execute(conninfo: str, query: sql.Composable) -> None:
    with _connect(conninfo) as conn:
        conn.execute(query)


# Fresh database and no-op runs


def test_first_run_applies_public_migrations_and_registers_tenant_ones(database):
    result = runner.up(database)
    assert result.public_applied == list(range(1, latest_version("public") + 1))
    assert result.failures == {}
    with _connect(database) as conn:
        recorded = conn.execute("SELECT scope, version, checksum FROM public.schema_migrations").fetchall()
    expected = {(m.scope, m.version, m.checksum) for scope in ("public", "tenant") for m in migrations(scope)}
    assert {(r["scope"], r["version"], r["checksum"]) for r in recorded} == expected
    state = runner.status(database)
    assert state.up_to_date
    assert state.public_version == state.public_latest == latest_version("public")
    assert (state.tenants_total, state.tenants_behind) == (0, 0)


def test_status_of_an_empty_database_says_migrations_are_pending(database):
    state = runner.status(database)
    assert state.public_version == 0
    assert not state.up_to_date


def test_second_run_changes_nothing(migrated):
    _add_tenants(migrated, 2)
    result = runner.up(migrated)
    assert (result.public_applied, result.tenants_migrated, result.failures) == ([], 0, {})
    assert runner.status(migrated).up_to_date


def test_no_op_run_over_many_tenants_is_a_single_query(migrated, monkeypatch):
    with _connect(migrated) as conn:
        conn.execute(
            "INSERT INTO public.tenants (name, slug, schema_name, admin_email, schema_version)"
            " SELECT 'bulk ' || i, 'bulk-' || i, 'tenant_bulk' || i || '_' || lpad(to_hex(i), 8, '0'),"
            " 'a@bulk.io', %s FROM generate_series(1, 2000) AS i",
            (SHIPPED_TENANT,),
        )
    executed: list[str] = []
    original = psycopg.Connection.execute

    def counting(self: psycopg.Connection[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        executed.append(query if isinstance(query, str) else query.as_string(self))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counting)
    started = time.perf_counter()
    result = runner.up(migrated)
    elapsed = time.perf_counter() - started
    monkeypatch.undo()

    work = [q for q in executed if "advisory" not in q]
    assert len(work) == 1, work
    assert "public.tenants" in work[0]
    assert (result.public_applied, result.tenants_migrated, result.failures) == ([], 0, {})
    assert elapsed < 5  # generous: the single query above is the real guarantee
    state = runner.status(migrated)
    assert state.up_to_date
    assert state.tenants_total == 2000


def test_rendered_tenant_statement_quotes_the_schema_on_a_real_connection(migrated):
    schema = schema_name_for("quote-me")
    with _connect(migrated) as conn:
        rendered = ADD_NICKNAME.statement(schema).as_string(conn)
    assert rendered.startswith(f'ALTER TABLE "{schema}".employees ADD COLUMN nickname text')
    assert "@schema" not in rendered


# A new tenant migration


def test_new_tenant_migration_is_applied_to_every_schema(migrated):
    schemas = _add_tenants(migrated, 5)
    assert runner.status(migrated, WITH_NICKNAME).tenants_behind == 5
    progress: list[tuple[int, int]] = []

    result = runner.up(
        migrated, mset=WITH_NICKNAME, workers=3, progress=lambda done, total: progress.append((done, total))
    )

    assert result.failures == {}
    assert result.tenants_migrated == 5
    assert result.public_applied == []
    assert progress[-1] == (5, 5)
    assert [done for done, _ in progress] == [1, 2, 3, 4, 5]
    assert _versions(migrated) == dict.fromkeys(schemas, SHIPPED_TENANT + 1)
    assert all(_has_column(migrated, schema, "employees", "nickname") for schema in schemas)
    assert all(_has_column(migrated, schema, "users", "badge") for schema in schemas)
    with _connect(migrated) as conn:
        row = conn.execute(
            "SELECT name, checksum FROM public.schema_migrations WHERE scope = 'tenant' AND version = %s",
            (ADD_NICKNAME.version,),
        ).fetchone()
    assert row == {"name": "add_nickname", "checksum": ADD_NICKNAME.checksum}
    assert runner.status(migrated, WITH_NICKNAME).up_to_date
    again = runner.up(migrated, mset=WITH_NICKNAME)
    assert (again.tenants_migrated, again.failures) == (0, {})


def test_deleted_tenants_are_not_migrated(migrated):
    live, gone = _add_tenants(migrated, 2)
    with _connect(migrated) as conn:
        conn.execute("UPDATE public.tenants SET status = 'deleted' WHERE schema_name = %s", (gone,))
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(gone)))
    result = runner.up(migrated, mset=WITH_NICKNAME)
    assert (result.tenants_migrated, result.failures) == (1, {})
    assert _versions(migrated) == {live: SHIPPED_TENANT + 1, gone: SHIPPED_TENANT}
    assert runner.status(migrated, WITH_NICKNAME).tenants_total == 1


def test_failing_schema_is_reported_others_migrate_and_rerun_resumes(migrated):
    schemas = _add_tenants(migrated, 4)
    broken = schemas[1]
    _execute(migrated, sql.SQL("ALTER TABLE {} ADD COLUMN badge text").format(sql.Identifier(broken, "users")))

    first = runner.up(migrated, mset=WITH_NICKNAME, workers=2)

    assert list(first.failures) == [broken]
    assert "badge" in first.failures[broken]
    assert first.tenants_migrated == 3
    versions = _versions(migrated)
    assert versions[broken] == SHIPPED_TENANT
    assert all(versions[s] == SHIPPED_TENANT + 1 for s in schemas if s != broken)
    # the broken schema's transaction rolled back as a whole: its first statement did not stick
    assert not _has_column(migrated, broken, "employees", "nickname")
    state = runner.status(migrated, WITH_NICKNAME)
    assert (state.tenants_behind, state.up_to_date) == (1, False)

    _execute(migrated, sql.SQL("ALTER TABLE {} DROP COLUMN badge").format(sql.Identifier(broken, "users")))
    second = runner.up(migrated, mset=WITH_NICKNAME, workers=2)

    assert second.failures == {}
    assert second.tenants_migrated == 1  # only the one left behind; the others were not touched again
    assert _versions(migrated) == dict.fromkeys(schemas, SHIPPED_TENANT + 1)
    assert _has_column(migrated, broken, "employees", "nickname")
    assert runner.status(migrated, WITH_NICKNAME).up_to_date


# One runner at a time


def test_run_is_rejected_while_another_holds_the_lock(migrated):
    _add_tenants(migrated, 1)
    with psycopg.connect(migrated, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (runner._LOCK_KEY,))
        with pytest.raises(Conflict):
            runner.up(migrated, mset=WITH_NICKNAME)
        assert _versions(migrated) == dict.fromkeys(_versions(migrated), SHIPPED_TENANT)
        holder.execute("SELECT pg_advisory_unlock(%s)", (runner._LOCK_KEY,))
    result = runner.up(migrated, mset=WITH_NICKNAME)
    assert (result.tenants_migrated, result.failures) == (1, {})


def test_concurrent_run_is_rejected_while_one_is_running(migrated):
    slow = Migration("public", latest_version("public") + 1, "slow", "SELECT pg_sleep(1)")
    mset = runner.MigrationSet(public=(*migrations("public"), slow), tenant=migrations("tenant"))
    outcome: dict[str, Any] = {}

    def run() -> None:
        outcome["result"] = runner.up(migrated, mset=mset)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        with _connect(migrated) as conn:
            while time.monotonic() < deadline:
                held = conn.execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
                    (runner._LOCK_KEY,),
                ).fetchone()
                conn.rollback()
                if held:
                    break
                time.sleep(0.02)
        with pytest.raises(Conflict):
            runner.up(migrated, mset=mset)
    finally:
        thread.join()
    assert outcome["result"].public_applied == [slow.version]
    assert runner.up(migrated, mset=mset).public_applied == []  # lock released afterwards
