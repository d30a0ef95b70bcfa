"""Migrations fan out over cells: fresh databases on three real PostgreSQL servers (control + cells b, c),
a new tenant migration applied to every cell at once, one cell failing while the others move on."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from hrms.migrations import runner
from hrms.migrations.files import Migration, latest_version, migrations
from hrms.tenancy import schema_name_for
from hrms.tenants import repo
from tests.conftest import _reset_clients

SHIPPED = latest_version("tenant")
ADD_NICKNAME = Migration(
    "tenant", SHIPPED + 1, "add_nickname", "ALTER TABLE @schema.employees ADD COLUMN nickname text"
)
WITH_NICKNAME = runner.MigrationSet(public=migrations("public"), tenant=(*migrations("tenant"), ADD_NICKNAME))


@contextmanager
def _fresh(server_url: str) -> Iterator[str]:
    name = f"hrms_cells_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def databases(stack: Any, cell_servers: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Cell name -> a fresh database on that cell's server; DATABASE_URL and CELLS point at them."""
    with ExitStack() as stack_of:
        urls = {
            "default": stack_of.enter_context(_fresh(stack.env["DATABASE_URL"])),
            **{name: stack_of.enter_context(_fresh(url)) for name, url in cell_servers.urls.items()},
        }
        monkeypatch.setenv("DATABASE_URL", urls["default"])
        monkeypatch.setenv("CELLS", json.dumps({k: v for k, v in urls.items() if k != "default"}))
        _reset_clients()
        try:
            yield urls
        finally:
            _reset_clients()


def _tenant_on(urls: dict[str, str], cell: str) -> str:
    """A tenant placed on `cell`: its registry row in the control database, its own row and schema in the cell."""
    slug = f"m-{secrets.token_hex(4)}"
    schema = schema_name_for(slug)
    row = {"name": slug, "slug": slug, "schema_name": schema, "admin_email": f"a@{slug}.io", "description": None}
    with psycopg.connect(urls["default"], row_factory=dict_row) as conn:
        conn.execute("INSERT INTO public.cells (name) VALUES (%s) ON CONFLICT DO NOTHING", (cell,))
        tenant_id = repo.insert_tenant(conn, settings={}, cell=cell, **row)
    with psycopg.connect(urls[cell], row_factory=dict_row) as conn:
        conn.execute("INSERT INTO public.cells (name) VALUES (%s) ON CONFLICT DO NOTHING", (cell,))
        if cell != "default":
            repo.insert_tenant(conn, tenant_id=tenant_id, settings={}, cell=cell, **row)
        repo.create_schema(conn, schema)
    return schema


def _has_nickname(url: str, schema: str) -> bool:
    with psycopg.connect(url) as conn:
        return (
            conn.execute(
                "SELECT 1 FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = 'employees' AND column_name = 'nickname'",
                (schema,),
            ).fetchone()
            is not None
        )


def test_a_migration_fans_out_over_cells_and_a_failing_cell_is_named_and_resumes(databases: dict[str, str]) -> None:
    first = runner.up_cells()
    assert first.failures == {} and set(first.cells) == {"default", "b", "c"}
    schemas = {cell: [_tenant_on(databases, cell) for _ in range(2)] for cell in ("default", "b", "c")}

    # GIVEN cell c busy with another run (its migration lock held): it cannot run now
    with psycopg.connect(databases["c"], autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (0x4852_4D53,))
        partial = runner.up_cells(mset=WITH_NICKNAME)

    assert set(partial.failures) == {"c"}
    assert partial.cells["default"].tenants_migrated == 2  # its own tenants only, not b's or c's registry rows
    assert partial.cells["b"].tenants_migrated == 2
    for cell in ("default", "b"):
        assert all(_has_nickname(databases[cell], schema) for schema in schemas[cell])
    assert not any(_has_nickname(databases["c"], schema) for schema in schemas["c"])
    behind = runner.status_cells(mset=WITH_NICKNAME)
    assert {cell: s.tenants_behind for cell, s in behind.items() if not isinstance(s, str)} == {
        "default": 0,
        "b": 0,
        "c": 2,
    }

    resumed = runner.up_cells(mset=WITH_NICKNAME)

    assert resumed.failures == {}
    assert {cell: r.tenants_migrated for cell, r in resumed.cells.items()} == {"default": 0, "b": 0, "c": 2}
    assert all(_has_nickname(databases["c"], schema) for schema in schemas["c"])
