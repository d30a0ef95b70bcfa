"""Backups of a tenant on another cell: dumped from the cell that holds its schema (the metadata says which),
restored into that cell with its writes frozen there, and a died restore there settled by `recover`."""

from __future__ import annotations

import secrets
from typing import Any

from psycopg import sql

from hrms.backup import pgtools, repo, restore, service, storage
from hrms.db.postgres import tenant_tx
from hrms.tenancy import Tenant
from tests.cells_fixtures import control, create_on
from tests.integration.test_backup import checksums


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
