"""Pooled connections are retired by age and by the number of tenant schemas they touched, so the catalog cache
of their PostgreSQL backends (never freed by PostgreSQL itself) stays bounded whatever the tenant count."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from psycopg import sql

from hrms.db.postgres import tenant_tx, transaction
from hrms.tenants import service
from hrms.tenants.models import NewTenant


def _backend_pid() -> int:
    with transaction() as conn:
        return conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]  # type: ignore[index]


def _touch(tenant: Any) -> int:
    """Read one of the tenant's tables through the pool, the way a request does; the backend's pid."""
    with tenant_tx(tenant) as tx:
        tx.execute(sql.SQL("SELECT count(*) FROM {}").format(tx.t("users")))
        return tx.execute(sql.SQL("SELECT pg_backend_pid() AS pid")).fetchone()["pid"]  # type: ignore[index]


@pytest.fixture
def tenants(stack: Any, platform_actor: Any) -> list[Any]:
    def new(i: int) -> Any:
        slug = f"pool-{i}-{secrets.token_hex(4)}"
        new_tenant = NewTenant(name=slug, slug=slug, admin_email=f"a@{slug}.example.com")
        return service.create_tenant(new_tenant, platform_actor)

    return [new(i) for i in range(4)]


@pytest.fixture
def limit_3(tenants: list[Any], reset_clients: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh pool of one connection (as in Lambda, one request at a time) serving at most 3 tenant schemas."""
    monkeypatch.setenv("PG_POOL_MAX_SIZE", "1")
    monkeypatch.setenv("PG_POOL_MAX_TENANT_SCHEMAS", "3")


def test_connection_is_replaced_after_touching_the_limit_of_tenant_schemas(tenants: list[Any], limit_3: None) -> None:
    a, b, c, d = tenants
    first = _touch(a)
    assert [_touch(t) for t in (a, b, a, b, b)] == [first] * 5  # two distinct schemas, however often
    assert _touch(c) == first  # the third is served, and the connection is retired when it comes back
    second = _touch(d)
    assert second != first
    assert [_touch(t) for t in (d, a)] == [second, second]  # a fresh count: d and a are two of three
    assert _touch(b) == second
    assert _touch(c) not in (first, second)


def test_schemas_named_outside_tenant_tx_count_too(tenants: list[Any], limit_3: None) -> None:
    """The authorizer and the auth services name tenant tables on a plain `transaction()` connection."""
    first = _backend_pid()
    for tenant in tenants[:3]:
        with transaction() as conn:
            conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(tenant.schema_name, "users")))
    assert _backend_pid() != first


def test_public_tables_and_plain_statements_do_not_count(tenants: list[Any], limit_3: None) -> None:
    first = _touch(tenants[0])
    for _ in range(20):
        with transaction() as conn:
            conn.execute("SELECT count(*) FROM public.tenants")
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", "tenants")))
    assert _touch(tenants[1]) == first


def test_connection_is_replaced_once_older_than_its_lifetime(
    stack: Any, reset_clients: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PG_POOL_MAX_SIZE", "1")
    monkeypatch.setenv("PG_POOL_MAX_LIFETIME_S", "1")
    first = _backend_pid()
    assert _backend_pid() == first
    time.sleep(1.1)
    _backend_pid()  # psycopg_pool checks the age when a connection comes back: this one is its last use
    assert _backend_pid() != first
