"""PostgreSQL access: one small pool per container and schema-qualified tenant transactions.

No `SET search_path` anywhere (not even `SET LOCAL`): behind RDS Proxy any SET pins the
session. Tenant tables are always named through `TenantTx.t("employees")`, which returns a
quoted `schema.table` identifier.

Work that must follow a commit and never precede it (publishing outbox events) is registered with
`TenantTx.call_after_commit`: `tenant_tx` runs it once the transaction has committed and its
connection is back in the pool, never after a rollback, and a failing callback is logged, never
turned into an error of the request that committed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from hrms.config import settings
from hrms.errors import Conflict, DependencyDown
from hrms.observability import logger, trace_library
from hrms.tenancy import Actor, Tenant

Conn = psycopg.Connection[DictRow]
AfterCommit = Callable[[], None]


@cache
def pool() -> ConnectionPool[Conn]:
    """The container's pool, opened on first use (never at import)."""
    trace_library("psycopg")
    cfg = settings()
    return ConnectionPool(
        conninfo=cfg.database_url,
        connection_class=Conn,
        min_size=cfg.pg_pool_min_size,
        max_size=cfg.pg_pool_max_size,
        max_lifetime=cfg.pg_pool_max_lifetime_s,
        timeout=cfg.pg_connect_timeout_s,
        check=ConnectionPool.check_connection,
        kwargs={
            **credentials(),
            **cfg.pg_tls,
            "autocommit": False,
            "row_factory": dict_row,
            "connect_timeout": cfg.pg_connect_timeout_s,
            "options": f"-c statement_timeout={cfg.pg_statement_timeout_ms}",
            "application_name": "hrms",
        },
        open=True,
        name="hrms",
    )


def credentials() -> dict[str, str]:
    """User and password from the RDS secret when configured (the URL then carries none)."""
    secret_id = settings().database_secret_id
    if not secret_id:
        return {}
    from hrms import aws

    secret = json.loads(aws.secret(secret_id))
    return {"user": secret["username"], "password": secret["password"]}


def connect() -> Conn:
    """A dedicated autocommit connection, outside the pool and its statement timeout (VACUUM, long DDL)."""
    cfg = settings()
    conninfo = make_conninfo(
        cfg.database_url,
        application_name="hrms-maintenance",
        connect_timeout=cfg.pg_connect_timeout_s,
        **credentials(),
        **cfg.pg_tls,
    )
    return psycopg.connect(conninfo, autocommit=True, row_factory=dict_row)


def close_pool() -> None:
    """Close and forget the pool (tests, local server shutdown)."""
    if pool.cache_info().currsize:
        pool().close()
        pool.cache_clear()


@contextmanager
def transaction() -> Iterator[Conn]:
    """A connection inside one transaction: committed on success, rolled back on error."""
    try:
        with pool().connection() as conn, conn.transaction():
            yield conn
    except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
        raise Conflict("A concurrent change got in the way; retry the request.") from exc
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise DependencyDown("The database is unavailable; try again shortly.") from exc


@dataclass(frozen=True)
class TenantTx:
    """A transaction bound to one tenant's schema, and to the actor whose changes it audits."""

    conn: Conn
    tenant: Tenant
    actor: Actor | None = None
    after_commit: list[AfterCommit] = field(default_factory=list, compare=False, repr=False)

    def call_after_commit(self, callback: AfterCommit) -> None:
        """Run `callback` once this transaction has committed (in registration order), never after a
        rollback. Only transactions opened by `tenant_tx` run them: a TenantTx built by hand over a
        connection drops them (an outbox event then waits for the scheduled sweep)."""
        self.after_commit.append(callback)

    def t(self, table: str) -> sql.Identifier:
        """The quoted, schema-qualified name of one of the tenant's tables."""
        return sql.Identifier(self.tenant.schema_name, table)

    def execute(self, query: sql.SQL | sql.Composed, params: Any = None) -> psycopg.Cursor[DictRow]:
        return self.conn.execute(query, params)


@contextmanager
def tenant_tx(tenant: Tenant, actor: Actor | None = None) -> Iterator[TenantTx]:
    """One transaction for a tenant's request; tables qualified through `TenantTx.t`; after a commit,
    the callbacks registered with `TenantTx.call_after_commit`."""
    with transaction() as conn:
        tx = TenantTx(conn, tenant, actor)
        yield tx
    _run_after_commit(tx.after_commit)


def _run_after_commit(callbacks: list[AfterCommit]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:  # the transaction has committed: the request has succeeded whatever fails now
            logger.warning(
                "An after-commit callback failed",
                extra={"callback": type(callback).__name__, "error": type(exc).__name__},
            )
