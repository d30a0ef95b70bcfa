"""The database's guard of a tenant's write freeze (public migration 0007, tenant migration 0011).

A restore or a move freezes a tenant's writes with a `public.tenant_write_freezes` row in the tenant's cell.
Admission refuses writes it sees frozen, but only the database can refuse the rest: a request admitted just
before the freeze, a queue worker, a scheduled job. Every write statement on a tenant table first runs
`public.hrms_tenant_write_guard()`, which holds a shared advisory lock on the schema for the rest of its
transaction and then refuses the write (SQLSTATE `UF503`) if the tenant is frozen or has moved.

- `drain`: once its freeze has committed, the operation takes the same lock exclusively, which waits until
  every transaction that has written to the tenant has ended; any later write sees the freeze and is refused.
  No sleep, and no write slips past the verification of a move or the replay of a restore.
- `bypass`: the operation that froze the tenant writes through its own freeze (in its transaction only).
- `refusal`: the error the request answers with (503 + Retry-After) when the guard refused a write.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from hrms.errors import WritesFrozen

LOCK_CLASS = 1213353299  # "HRMS": the advisory-lock space of the guard (its second key is hashtext(schema))
FROZEN_SQLSTATE = "UF503"
BYPASS_SETTING = "hrms.write_freeze_operation"
DRAIN_TIMEOUT_S = 30.0


class DrainTimeout(Exception):
    """Transactions that wrote to the tenant before its freeze were still open after the timeout."""


def drain(conn: psycopg.Connection[Any], schema: str, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
    """Wait until every transaction that has written to `schema` has ended. Call it after the freeze has
    committed, on a connection to the tenant's cell that holds no transaction open."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{int(timeout_s * 1000)}ms")))
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS, schema))
    except psycopg.errors.LockNotAvailable as exc:
        raise DrainTimeout(f"writes to {schema} did not end within {timeout_s:g} s") from exc


def bypass(operation_id: str) -> sql.Composed:
    """The statement (for the operation's own transaction) that lets it write through its freeze."""
    return sql.SQL("SELECT set_config({}, {}, true)").format(sql.Literal(BYPASS_SETTING), sql.Literal(operation_id))


def refusal(error: psycopg.Error) -> WritesFrozen | None:
    """The 503 for a write the guard refused; None for any other database error."""
    if error.sqlstate != FROZEN_SQLSTATE:
        return None
    detail = error.diag.message_detail or ""
    retry = int(detail) if detail.isdigit() else 5
    return WritesFrozen("This tenant's data is being restored or moved; try again shortly.", retry_after_s=retry)
