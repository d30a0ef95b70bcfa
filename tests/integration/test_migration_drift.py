"""An applied migration whose file changed: `up` refuses and applies nothing, `status` shows the drift.

Each test edits migrations in memory (a `MigrationSet`) or a recorded checksum, on a fresh database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from hrms.migrations import runner
from hrms.migrations.files import Migration, latest_version, migrations
from tests.conftest import _reset_clients
from tests.integration.fresh_database import add_tenants, connect, fresh_database

PUBLIC, TENANT = migrations("public"), migrations("tenant")
ADD_NICKNAME = Migration(
    "tenant", len(TENANT) + 1, "add_nickname", "ALTER TABLE @schema.employees ADD COLUMN nickname text"
)
ADD_NOTES = Migration("public", len(PUBLIC) + 1, "add_notes", "ALTER TABLE public.tenants ADD COLUMN notes text")
RECORDED = latest_version("public") + latest_version("tenant")


def _edited(migration: Migration) -> Migration:
    return replace(migration, text=migration.text + "\n-- edited after it was applied\n")


@pytest.fixture
def migrated(stack: Any) -> Iterator[str]:
    with fresh_database("hrms_drift") as conninfo:
        runner.up(conninfo)
        yield conninfo


def _state(conninfo: str) -> dict[str, Any]:
    with connect(conninfo) as conn:
        public = conn.execute("SELECT max(version) AS v FROM public.schema_migrations WHERE scope = 'public'")
        versions = conn.execute("SELECT slug, schema_version FROM public.tenants ORDER BY slug").fetchall()
        notes = conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'tenants' AND column_name = 'notes'"
        ).fetchone()
        nickname = conn.execute("SELECT count(*) AS n FROM information_schema.columns WHERE column_name = 'nickname'")
        return {
            "public": public.fetchone()["v"],
            "tenants": {row["slug"]: row["schema_version"] for row in versions},
            "notes": notes is not None,
            "nickname": nickname.fetchone()["n"],
        }


def test_an_edited_public_migration_is_refused_by_name_and_nothing_is_applied(migrated):
    add_tenants(migrated, "acme")
    edited = runner.MigrationSet(
        public=(PUBLIC[0], _edited(PUBLIC[1]), *PUBLIC[2:], ADD_NOTES), tenant=(*TENANT, ADD_NICKNAME)
    )
    before = _state(migrated)

    with pytest.raises(runner.ChecksumDrift) as refused:
        runner.up(migrated, mset=edited)

    [drift] = refused.value.drift
    assert (drift.file, drift.scope, drift.version, drift.schemas) == (
        "public/0002_platform_credentials.sql",
        "public",
        2,
        None,
    )
    assert (drift.recorded, drift.actual) == (PUBLIC[1].checksum, _edited(PUBLIC[1]).checksum)
    assert "public/0002_platform_credentials.sql (applied to the public schema)" in refused.value.detail
    assert "nothing was applied" in refused.value.detail
    assert _state(migrated) == before  # neither the new public migration nor the new tenant one ran
    assert before["notes"] is False and before["nickname"] == 0


def test_an_edited_tenant_migration_names_the_schemas_that_ran_it(migrated):
    schemas = add_tenants(migrated, "acme", "globex", "initech", "umbrella", "gone")
    with connect(migrated) as conn:
        conn.execute("UPDATE public.tenants SET status = 'deleted' WHERE slug = 'gone'")
        conn.execute("UPDATE public.tenants SET schema_version = 2 WHERE slug = 'umbrella'")  # never ran 0003
    edited = runner.MigrationSet(public=PUBLIC, tenant=(*TENANT[:2], _edited(TENANT[2]), *TENANT[3:]))

    with pytest.raises(runner.ChecksumDrift) as refused:
        runner.up(migrated, mset=edited)

    [drift] = refused.value.drift
    assert (drift.file, drift.scope, drift.schemas) == ("tenant/0003_authorization.sql", "tenant", 3)
    assert drift.examples == tuple(sorted([schemas["acme"], schemas["globex"], schemas["initech"]]))
    assert f"tenant/0003_authorization.sql (applied to 3 tenant schema(s) ({', '.join(drift.examples)}))" in (
        refused.value.detail
    )
    assert _state(migrated)["tenants"]["umbrella"] == 2  # behind, and still not migrated


def test_only_the_first_schemas_are_named_when_many_ran_it(migrated):
    add_tenants(migrated, *(f"team{i}" for i in range(7)))
    edited = runner.MigrationSet(public=PUBLIC, tenant=(_edited(TENANT[0]), *TENANT[1:]))

    [drift] = runner.status(migrated, edited).drift

    assert drift.schemas == 7 and len(drift.examples) == runner.DRIFT_EXAMPLES == 5
    assert drift.describe().startswith("tenant/0001_hr_core.sql (applied to 7 tenant schema(s) (tenant_team0_")
    assert ", ...)): recorded checksum " in drift.describe()


def test_status_lists_the_drift_of_each_file(migrated):
    add_tenants(migrated, "acme")
    edited = runner.MigrationSet(
        public=(_edited(PUBLIC[0]), *PUBLIC[1:]), tenant=(*TENANT[:-1], _edited(TENANT[-1]), ADD_NICKNAME)
    )

    state = runner.status(migrated, edited)

    assert [(d.file, d.schemas) for d in state.drift] == [
        ("public/0001_tenant_registry.sql", None),
        (TENANT[-1].file, 1),
    ]
    assert state.checked == RECORDED  # the new tenant migration is not recorded yet: nothing to compare
    assert state.tenants_behind == 1 and not state.up_to_date


def test_without_drift_status_is_clean_and_a_pending_migration_runs(migrated):
    add_tenants(migrated, "acme")
    with_nickname = runner.MigrationSet(public=PUBLIC, tenant=(*TENANT, ADD_NICKNAME))

    assert runner.status(migrated, with_nickname).drift == ()
    assert runner.up(migrated, mset=with_nickname).tenants_migrated == 1

    state = runner.status(migrated, with_nickname)
    assert (state.drift, state.checked, state.up_to_date) == ((), RECORDED + 1, True)


def test_restoring_the_file_lets_up_run_again(migrated):
    add_tenants(migrated, "acme")
    with pytest.raises(runner.ChecksumDrift):
        runner.up(migrated, mset=runner.MigrationSet(public=PUBLIC, tenant=(_edited(TENANT[1]), *TENANT[2:])))

    result = runner.up(migrated, mset=runner.MigrationSet(public=PUBLIC, tenant=(*TENANT, ADD_NICKNAME)))

    assert (result.tenants_migrated, result.failures) == (1, {})


# The commands


@pytest.fixture
def drifted(migrated: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fresh database as the CLI's, with the recorded checksum of tenant/0002 no longer its file's."""
    with connect(migrated) as conn:
        conn.execute(
            "UPDATE public.schema_migrations SET checksum = %s WHERE scope = 'tenant' AND version = 2", ("0" * 64,)
        )
    monkeypatch.setenv("DATABASE_URL", migrated)
    _reset_clients()
    try:
        yield migrated
    finally:
        _reset_clients()


def test_migrate_status_shows_the_drifted_file_and_exits_1(cli, drifted):
    text = cli("migrate", "status")
    assert text.exit_code == 1
    output = " ".join(text.output.split())
    assert f"✗ changed after it was applied: {TENANT[1].file} (applied to 0 tenant schema(s)): recorded checksum" in (
        output
    )
    assert "`hrms migrate up` refuses to run" in output

    state = cli("migrate", "status", "--json")
    assert state.exit_code == 1
    body = json.loads(state.stdout)
    assert body["upToDate"] is False and body["checked"] == RECORDED
    assert body["drift"] == [
        {
            "file": "tenant/0002_payroll_guards.sql",
            "scope": "tenant",
            "version": 2,
            "recorded": "0" * 64,
            "actual": TENANT[1].checksum,
            "schemas": 0,
            "examples": [],
        }
    ]


def test_migrate_up_refuses_with_the_file_named(cli, drifted):
    text = cli("migrate", "up")
    assert text.exit_code == 1
    assert "tenant/0002_payroll_guards.sql" in text.output and "nothing applied" in text.output

    refused = cli("migrate", "up", "--json")
    assert refused.exit_code == 1
    assert [d["file"] for d in json.loads(refused.stdout)["drift"]] == ["tenant/0002_payroll_guards.sql"]


def test_migrate_status_without_drift_says_the_checksums_match(cli, migrated, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", migrated)
    _reset_clients()
    try:
        text = cli("migrate", "status")
    finally:
        _reset_clients()
    assert text.exit_code == 0, text.output
    assert f"checksums: {RECORDED} applied migration(s) match their files" in text.output
    assert "up to date" in text.output
