"""Fixtures of the cell tests: two more embedded PostgreSQL servers (cells `b` and `c`), started once per
session and only by the tests that use them, and the CELLS setting pointing at them for one test."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def cell_servers(stack: Any) -> Iterator[Any]:
    from hrms_tools.local.cells import CellServers

    servers = CellServers(stack.data_dir, names=("b", "c"))
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture
def on_cells(cell_servers: Any) -> Iterator[Any]:
    """CELLS = {b, c} for this test (tenants created meanwhile may land on any cell). Afterwards the tenants
    left on `b` and `c` are marked deleted in the registry: the later tests of the session run without those
    cells configured, and whatever visits every live tenant (the rollover, the daily backups) must not meet
    tenants whose cell it cannot reach."""
    from hrms.db import cells
    from tests.conftest import _reset_clients

    os.environ["CELLS"] = json.dumps(cell_servers.urls)
    _reset_clients()
    cells.forget()
    yield cell_servers
    with control() as conn:
        conn.execute("UPDATE public.tenants SET status = 'deleted' WHERE cell <> 'default' AND status <> 'deleted'")
    os.environ.pop("CELLS", None)
    _reset_clients()
    cells.forget()


def control(conninfo: str | None = None) -> Any:
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(conninfo or os.environ["DATABASE_URL"], row_factory=dict_row, autocommit=True)


def create_on(cell: str, platform_actor: Any, slug: str | None = None) -> Any:
    """A tenant created while `cell` is the only accepting cell (placement rule, not a back door)."""
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    slug = slug or f"c{cell}-{secrets.token_hex(4)}"
    with control() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('tests.cells'))")  # other cell tests wait
        try:
            conn.execute("INSERT INTO public.cells (name) VALUES ('b'), ('c') ON CONFLICT DO NOTHING")
            conn.execute("UPDATE public.cells SET accepting = (name = %s)", (cell,))
            return service.create_tenant(
                NewTenant(name=slug, slug=slug, admin_email=f"a@{slug}.example.com"), platform_actor
            )
        finally:
            conn.execute("UPDATE public.cells SET accepting = true")
            conn.execute("SELECT pg_advisory_unlock(hashtext('tests.cells'))")


def admin_context(created: Any) -> dict[str, Any]:
    """The authorizer's context of the tenant's admin, read in the tenant's cell."""
    from psycopg import sql

    from hrms.db.postgres import tenant_tx
    from hrms.tenancy import Tenant

    with tenant_tx(Tenant(created.tenant_id, created.schema_name)) as tx:
        user = tx.execute(
            sql.SQL("SELECT id, credentials_epoch FROM {} WHERE role = 'admin'").format(tx.t("users"))
        ).fetchone()
    assert user is not None
    return {
        "userId": str(user["id"]),
        "role": "admin",
        "tenantId": str(created.tenant_id),
        "schemaName": created.schema_name,
        "credentialsEpoch": user["credentials_epoch"],
    }
