"""Backups of a tenant on another cell: dumped from the cell that holds its schema (the metadata says which),
restored into that cell with its writes frozen there, and a died restore there settled by `recover`. Full
backups per cell: each cell's database and its tenants' documents under a key naming the cell, listed,
validated, restored into that cell alone, kept per cell by cleanup, and taken for every cell by the daily run."""

from __future__ import annotations

import gzip
import json
import os
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from bson import decode_all
from psycopg import sql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from hrms.backup import cleanup, keys, pgtools, repo, restore, scheduled, service, storage
from hrms.backup.common import utc_now
from hrms.db import cells
from hrms.db.postgres import tenant_tx
from hrms.errors import Invalid
from hrms.flags import service as flags
from hrms.flags.models import FlagChange
from hrms.tenancy import Tenant
from hrms_tools.cli.main import app
from tests.cells_fixtures import control, create_on
from tests.integration import test_backup
from tests.integration.mongo_world import actor, as_tenant
from tests.integration.test_backup import checksums
from tests.integration.test_backup_mongo import raw_docs, staging_collections

own_database = test_backup.own_database  # a fixture: the control database (and MongoDB's) fresh for one test


def _departments(created: Any, statement: str) -> None:
    with tenant_tx(Tenant(created.tenant_id, created.schema_name)) as tx:  # in the tenant's cell
        tx.execute(sql.SQL(statement).format(tx.t("departments")))


def _freezes(db: pgtools.Database) -> int:
    with db.connect() as conn:
        return int(conn.execute("SELECT count(*) AS n FROM public.tenant_write_freezes").fetchone()["n"])


def test_a_tenant_on_another_cell_is_backed_up_from_and_restored_into_its_cell(on_cells: Any, platform_actor: Any):
    created = create_on("b", platform_actor)
    cell_b = pgtools.live("b")
    _departments(created, "INSERT INTO {} (name, code) VALUES ('Finance', 'FIN')")
    before = checksums(created.schema_name, db=cell_b)

    backup = service.create_backup("schema", created.slug)

    assert storage.head(backup.key).metadata["cell"] == "b"
    _departments(created, "UPDATE {} SET name = 'Renamed'")
    _departments(created, "INSERT INTO {} (name, code) VALUES ('Intruder', 'X1')")
    assert checksums(created.schema_name, db=cell_b) != before

    result = service.restore_backup(backup.key, created.tenant_id)

    assert checksums(created.schema_name, db=cell_b) == before
    assert result.safety_backup_key and storage.head(result.safety_backup_key).metadata["cell"] == "b"
    assert _freezes(cell_b) == 0
    with control() as conn:  # the control database never held the schema
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (created.schema_name,)).fetchone()
    assert found is None


def test_a_restore_that_died_on_another_cell_is_released_by_recover(on_cells: Any, platform_actor: Any):
    created = create_on("c", platform_actor)
    cell_c = pgtools.live("c")
    operation = secrets.token_hex(8)
    with cell_c.connect() as conn:  # a restore that froze the tenant in its cell, then died before staging
        assert repo.start_freeze(
            conn,
            created.tenant_id,
            operation,
            reason=restore.REASON,
            retry_after_s=5,
            backup_key="backups/schemas/x/backup_schema_2025-01-01T00-00-00.000Z.sql.gz",
            mongo_database="hrms",
        )

    done = restore.recover(older_than_s=0)

    assert {"operation": operation, "schema": created.schema_name, "action": "released"} in done
    assert _freezes(cell_c) == 0


# ----------------------------------------------------------------------------- full backups per cell


@pytest.fixture
def own_cell_b(on_cells: Any, own_database: str) -> Iterator[pgtools.Database]:
    """Cell b on a fresh database of its server, beside a fresh control database, for one test: a full restore
    of the cell replaces all of it, and its pg_dump reads only this test's tenant."""
    from hrms.migrations import runner
    from tests.conftest import _reset_clients

    name = f"hrms_b_{secrets.token_hex(4)}"
    with control(on_cells.urls["b"]) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(on_cells.urls["b"], dbname=name)
    runner.up(url)
    os.environ["CELLS"] = json.dumps({**on_cells.urls, "b": url})
    _reset_clients()
    cells.forget()
    try:
        yield pgtools.live("b")
    finally:
        os.environ["CELLS"] = json.dumps(on_cells.urls)
        _reset_clients()
        cells.forget()
        with control(on_cells.urls["b"]) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _flag(created: Any, enabled: bool) -> None:
    """A MongoDB write of the tenant (audited in its cell's PostgreSQL too)."""
    tenant = as_tenant(created)
    flags.set_flag(tenant, actor(tenant), "cells-flag", FlagChange(enabled=enabled, rollout_percent=50))


def _part_tenants(key: str) -> set[str]:
    """The tenants whose documents the backup's MongoDB part holds."""
    data = gzip.decompress(b"".join(storage.read(storage.head(keys.mongo_key(key)))))
    return {str(doc["tenantId"]) for doc in decode_all(data) if "tenantId" in doc}


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, ["backup", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_cell_s_full_backup_is_listed_validated_and_restored_into_that_cell_alone(own_cell_b, platform_actor):
    mine, home = create_on("b", platform_actor), create_on("default", platform_actor)
    for created in (mine, home):
        _departments(created, "INSERT INTO {} (name, code) VALUES ('Finance', 'FIN'), ('Legal', 'LEG')")
        _flag(created, enabled=False)
    before = checksums(mine.schema_name, db=own_cell_b), raw_docs(as_tenant(mine))

    backup = _cli("full", "--cell", "b")

    key, parsed = backup["key"], keys.parse(backup["key"])
    assert parsed is not None and (parsed.kind, parsed.cell) == ("full", "b") and backup["cell"] == "b"
    assert key == keys.full_key(parsed.created_at, "b") and key.startswith("backups/cells/b/")
    assert storage.head(key).metadata["cell"] == storage.head(keys.mongo_key(key)).metadata["cell"] == "b"
    assert _part_tenants(key) == {str(mine.tenant_id)}  # the documents of cell b's tenants only
    listed = _cli("list", "--cell", "b")
    assert key in [item["key"] for item in listed] and {item["cell"] for item in listed} == {"b"}
    assert key not in [item.key for item in service.list_backups("full", cell="default").items]
    validation = service.validate_backup(key, trial_restore=True)  # into a scratch database on cell b's server
    assert validation.valid and all(
        validation.checks[c] for c in ("sha256", "mongoSha256", "mongoCounts", "trialRestore")
    )

    for created in (mine, home):  # after the backup: a row changed, one deleted, a document changed
        _departments(created, "UPDATE {} SET name = 'Renamed' WHERE code = 'FIN'")
        _departments(created, "DELETE FROM {} WHERE code = 'LEG'")
        _flag(created, enabled=True)
    home_now = checksums(home.schema_name), raw_docs(as_tenant(home))
    assert (checksums(mine.schema_name, db=own_cell_b), raw_docs(as_tenant(mine))) != before

    result = service.restore_backup(key)

    assert (result.target, result.cell, result.restored_schemas) == ("live", "b", ["public", mine.schema_name])
    assert (checksums(mine.schema_name, db=own_cell_b), raw_docs(as_tenant(mine))) == before
    assert (checksums(home.schema_name), raw_docs(as_tenant(home))) == home_now  # the default cell untouched
    assert staging_collections() == []
    safety = keys.parse(result.safety_backup_key or "")
    assert safety is not None and safety.cell == "b" and safety.key.startswith("backups/cells/b/")
    assert storage.head(safety.key).metadata["reason"] == "pre-restore"

    # Retention counts each cell's full backups apart: a newer full backup of the default cell (a copy, as a
    # dump of the control database would take long) does not push cell b's newest out.
    newer = keys.full_key(safety.created_at + timedelta(seconds=1))
    s3 = storage.s3()
    s3.copy_object(Bucket=storage.bucket(), Key=newer, CopySource={"Bucket": storage.bucket(), "Key": key})
    try:
        later = utc_now() + timedelta(days=60)
        report = cleanup.cleanup(retention_days=30, keep_last=1, dry_run=True, clock=lambda: later)
    finally:
        storage.delete([newer])
    assert key in report.expired and safety.key not in report.expired and newer not in report.expired


def test_a_cell_s_full_backup_is_refused_for_a_cell_not_configured_and_restored_nowhere_else(
    own_cell_b, platform_actor
):
    with pytest.raises(Invalid, match="No cell 'nowhere' is configured"):
        service.create_backup("full", cell="nowhere")
    with pytest.raises(Invalid, match="not a cell name"):
        service.create_backup("full", cell="Not/A/Cell")
    with pytest.raises(Invalid, match="name no cell"):
        service.create_backup("schema", "any", cell="b")
    with pytest.raises(Invalid, match="selects full backups"):
        service.list_backups("schema", cell="b")
    gone = keys.full_key(utc_now() - timedelta(days=1), "gone")  # a cell no longer configured here
    with pytest.raises(Invalid, match="No cell 'gone' is configured"):
        service.restore_backup(gone)


def test_the_daily_run_backs_up_every_cell_and_reports_the_one_that_failed(own_cell_b, platform_actor):
    mine, home = create_on("b", platform_actor), create_on("default", platform_actor)
    for created in (mine, home):
        _flag(created, enabled=True)
    cells_now = json.loads(os.environ["CELLS"])
    os.environ["CELLS"] = json.dumps({**cells_now, "c": "postgresql://hrms@127.0.0.1:1/hrms"})  # does not answer
    from tests.conftest import _reset_clients

    _reset_clients()
    started = utc_now()

    report = scheduled.run_daily()

    assert sorted(report.full_keys) == ["b", "default"] and report.full_missing == ["c"]
    default = keys.parse(report.full_keys["default"])
    assert default is not None and default.cell == "default" and report.full_key == default.key
    assert report.full_keys["b"].startswith("backups/cells/b/") and not report.every_cell_backed_up
    assert "full:c" in report.failures and "full" not in report.failures and "full:b" not in report.failures
    assert report.schema_backups == 2  # every active tenant, wherever it lives
    assert _part_tenants(report.full_keys["b"]) == {str(mine.tenant_id)}
    assert str(home.tenant_id) in _part_tenants(report.full_keys["default"])
    assert str(mine.tenant_id) not in _part_tenants(report.full_keys["default"])
    for cell, key in report.full_keys.items():
        listed = service.list_backups("full", since=started, cell=cell).items
        assert [(b.key, b.cell, b.reason) for b in listed] == [(key, cell, "scheduled")]
