"""PostgreSQL access: one small pool per container and schema-qualified tenant transactions.

No `SET search_path` anywhere (not even `SET LOCAL`): behind RDS Proxy any SET pins the
session. Tenant tables are always named through `TenantTx.t("employees")`, which returns a
quoted `schema.table` identifier.

Work that must follow a commit and never precede it (publishing outbox events) is registered with
`TenantTx.call_after_commit`: `tenant_tx` runs it once the transaction has committed and its
connection is back in the pool, never after a rollback, and a failing callback is logged, never
turned into an error of the request that committed.

Backend memory stays bounded whatever the tenant count: a PostgreSQL backend caches the catalog entries of
every relation it has touched and never gives them back (~54 KiB per tenant schema of which it read one
table, ~0.56 MiB once it read all of them: benchmarks/tenancy.py), so a pooled connection is retired once it
is `pg_pool_max_lifetime_s` old (psycopg_pool's `max_lifetime`) or once its statements have named
`pg_pool_max_tenant_schemas` distinct tenant schemas (`PooledConn`): the pool closes it when it comes back
and opens a fresh one. Behind RDS Proxy the proxy owns the database connections; README "Scaling to many
tenants" derives the tenants per cell that bound them instead.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Self

import psycopg
from psycopg import sql
from psycopg.abc import Params, Query
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from hrms import snapstart
from hrms.config import settings
from hrms.db import cells, write_guard
from hrms.errors import Conflict, DependencyDown
from hrms.observability import logger, trace_library
from hrms.tenancy import Actor, Tenant

Conn = psycopg.Connection[DictRow]
AfterCommit = Callable[[], None]
_NAMED_TENANT_SCHEMA = re.compile(r'"(tenant_[a-z0-9_]{1,40}_[0-9a-f]{8})"\.')  # "schema". in rendered SQL


def tenant_schemas_named(query: Query, context: psycopg.Connection[Any] | None = None) -> set[str]:
    """The tenant schemas whose objects a statement names. Only composed SQL can name one: identifiers
    are never spliced into text (DESIGN.md section 1), so plain strings are not even looked at."""
    if not isinstance(query, sql.Composable):
        return set()
    return set(_NAMED_TENANT_SCHEMA.findall(query.as_string(context)))


class PooledConn(psycopg.Connection[DictRow]):
    """A pool connection that counts the distinct tenant schemas its statements name and, at
    `pg_pool_max_tenant_schemas` of them, marks itself expired the way psycopg_pool's `max_lifetime`
    does: the pool closes it when it comes back and opens a fresh one in its place."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_factory = _NotingCursor
        self.tenant_schemas: set[str] = set()

    def note(self, query: Query) -> None:
        self.tenant_schemas |= tenant_schemas_named(query, self)
        if len(self.tenant_schemas) >= settings().pg_pool_max_tenant_schemas:
            self._expire_at = 0.0  # what psycopg_pool compares with the clock on return (tests/integration)


class _NotingCursor(psycopg.Cursor[Any]):
    """Every cursor of a `PooledConn` (`conn.execute` and `conn.cursor()` included) reports its statements."""

    connection: PooledConn

    def execute(self, query: Query, *args: Any, **kwargs: Any) -> Self:
        self.connection.note(query)
        return super().execute(query, *args, **kwargs)

    def executemany(self, query: Query, params_seq: Iterable[Params], **kwargs: Any) -> None:
        self.connection.note(query)
        super().executemany(query, params_seq, **kwargs)


@cache
def pool() -> ConnectionPool[PooledConn]:
    """The container's pool of the control database (cell `default`), opened on first use (never at import).
    Other cells' pools: `cell_pool`."""
    return _open(cells.DEFAULT)


def cell_pool(cell: str) -> ConnectionPool[PooledConn]:
    """The container's pool of a cell, opened on first use; `transaction` replaces it when the cell does not
    answer, so that once the cell is back the next request connects at once instead of waiting out the old
    pool's reconnection backoff (which grows to minutes while a cell is down)."""
    if cell == cells.DEFAULT:
        return pool()
    with _opening:
        found = _opened.get(cell)
        if found is None or found.closed:
            found = _opened[cell] = _open(cell)
        return found


def _renew(cell: str) -> None:
    with _opening:
        stale = _opened.pop(cell, None)
    if stale is not None:
        stale.close(timeout=0)


def _open(cell: str) -> ConnectionPool[PooledConn]:
    trace_library("psycopg")
    cfg = settings()
    target = cells.cell(cell)
    opened = ConnectionPool(
        conninfo=target.url,
        connection_class=PooledConn,
        min_size=cfg.pg_pool_min_size,
        max_size=cfg.pg_pool_max_size,
        max_lifetime=cfg.pg_pool_max_lifetime_s,
        timeout=cfg.pg_connect_timeout_s,
        check=ConnectionPool.check_connection,
        kwargs={
            **credentials(cell),
            **cfg.pg_tls,
            "autocommit": False,
            "row_factory": dict_row,
            "connect_timeout": cfg.pg_connect_timeout_s,
            "options": f"-c statement_timeout={cfg.pg_statement_timeout_ms}",
            "application_name": "hrms",
        },
        open=True,
        name="hrms" if cell == cells.DEFAULT else f"hrms-{cell}",
    )
    return opened


_opened: dict[str, ConnectionPool[PooledConn]] = {}  # the other cells' open pools (`cell_pool`)
_opening = threading.Lock()


def credentials(cell: str = cells.DEFAULT) -> dict[str, str]:
    """User and password from the cell's RDS secret when configured (the URL then carries none)."""
    secret_id = cells.cell(cell).secret_id
    if not secret_id:
        return {}
    from hrms import aws

    secret = json.loads(aws.secret(secret_id))
    return {"user": secret["username"], "password": secret["password"]}


def connect(cell: str = cells.DEFAULT) -> Conn:
    """A dedicated autocommit connection to a cell (`default`: the control database), outside the pool and its
    statement timeout (VACUUM, long DDL)."""
    cfg = settings()
    conninfo = make_conninfo(
        cells.cell(cell).url,
        application_name="hrms-maintenance",
        connect_timeout=cfg.pg_connect_timeout_s,
        **credentials(cell),
        **cfg.pg_tls,
    )
    return psycopg.connect(conninfo, autocommit=True, row_factory=dict_row)


def close_pool() -> None:
    """Close and forget every cell's pool (tests, local server shutdown)."""
    with _opening:
        opened = list(_opened.values())
        _opened.clear()
    for each in opened:
        each.close()
    if pool.cache_info().currsize:
        pool().close()
        pool.cache_clear()


snapstart.on_restore(close_pool)  # a container restored from a snapshot opens its own pool


@contextmanager
def transaction(cell: str = cells.DEFAULT) -> Iterator[Conn]:
    """A connection to a cell (`default`: the control database) inside one transaction: committed on success,
    rolled back on error. A cell that does not answer (or that this container does not know) is a 503."""
    try:
        connections = pool() if cell == cells.DEFAULT else cell_pool(cell)
    except cells.UnknownCell as exc:
        raise DependencyDown("The tenant's database is unavailable; try again shortly.") from exc
    try:
        with connections.connection() as conn, conn.transaction():
            yield conn
    except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
        raise Conflict("A concurrent change got in the way; retry the request.") from exc
    except PoolTimeout as exc:
        if cell != cells.DEFAULT:
            _renew(cell)
        raise DependencyDown("The database is unavailable; try again shortly.") from exc
    except psycopg.OperationalError as exc:
        raise DependencyDown("The database is unavailable; try again shortly.") from exc
    except psycopg.DatabaseError as exc:
        refused = write_guard.refusal(exc)  # a write to a frozen tenant that admission could not see coming
        if refused is None:
            raise
        raise refused from exc


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
    the callbacks registered with `TenantTx.call_after_commit`. The transaction runs in the tenant's cell."""
    with transaction(cells.cell_of(tenant.tenant_id)) as conn:
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
