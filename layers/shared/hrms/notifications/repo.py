"""SQL of notifications: preferences, the candidate recipients of an event, and the per-recipient
delivery record (`notifications`, migration 0010) that dedupes at-least-once delivery."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from psycopg import sql

from hrms.db import rows
from hrms.db.postgres import TenantTx

NOTIFICATIONS = "notifications"
PREFERENCES = "notification_preferences"
Claim = Literal["claimed", "done", "busy"]


@dataclass(frozen=True)
class Candidate:
    """A user an event may be mailed to (whether they may still sign in is checked by the caller)."""

    user_id: UUID
    email: str
    first_name: str | None
    muted: list[str]


_CANDIDATES = sql.SQL(
    "SELECT u.id AS user_id, u.email, e.first_name, coalesce(p.muted, '{{}}') AS muted"
    " FROM {users} u LEFT JOIN {employees} e ON e.id = u.employee_id"
    " LEFT JOIN {preferences} p ON p.user_id = u.id"
    " WHERE u.status = 'active' AND {condition} ORDER BY u.id"
)


def _candidates(tx: TenantTx, condition: sql.Composable, params: tuple[object, ...]) -> list[Candidate]:
    query = _CANDIDATES.format(
        users=tx.t("users"), employees=tx.t("employees"), preferences=tx.t(PREFERENCES), condition=condition
    )
    return rows.many(tx, Candidate, query, params)


def user(tx: TenantTx, user_id: UUID) -> list[Candidate]:
    return _candidates(tx, sql.SQL("u.id = %s"), (user_id,))


def users_of_employee(tx: TenantTx, employee_id: UUID) -> list[Candidate]:
    """The active users linked to the employee record."""
    return _candidates(tx, sql.SQL("u.employee_id = %s"), (employee_id,))


def users_of_role(tx: TenantTx, role: str, except_employee: UUID | None) -> list[Candidate]:
    """The active users of `role`, but not those of the employee `except_employee` (nobody is asked to
    decide their own request)."""
    if except_employee is None:
        return _candidates(tx, sql.SQL("u.role = %s"), (role,))
    return _candidates(tx, sql.SQL("u.role = %s AND u.employee_id IS DISTINCT FROM %s"), (role, except_employee))


def employee_name(tx: TenantTx, employee_id: UUID) -> str | None:
    query = sql.SQL("SELECT first_name || ' ' || last_name FROM {} WHERE id = %s").format(tx.t("employees"))
    return rows.scalar(tx, query, (employee_id,))


# ---------------------------------------------------------------- preferences


def muted(tx: TenantTx, user_id: UUID) -> list[str]:
    query = sql.SQL("SELECT muted FROM {} WHERE user_id = %s").format(tx.t(PREFERENCES))
    return list(rows.scalar(tx, query, (user_id,)) or [])


def set_muted(tx: TenantTx, user_id: UUID, events: list[str]) -> None:
    tx.execute(
        sql.SQL(
            "INSERT INTO {} (user_id, muted) VALUES (%s, %s)"
            " ON CONFLICT (user_id) DO UPDATE SET muted = EXCLUDED.muted, updated_at = now()"
        ).format(tx.t(PREFERENCES)),
        (user_id, events),
    )


# ---------------------------------------------------------------- delivery records


def claim(tx: TenantTx, event_id: UUID, event_type: str, user_id: UUID, stale_after: dt.timedelta) -> Claim:
    """Take the (event, recipient) pair for mailing: `claimed` when new, failed before, or claimed by a
    delivery that has been gone longer than `stale_after`; `done` when sent or skipped already; `busy`
    when another delivery is mailing it now."""
    query = sql.SQL(
        "INSERT INTO {t} (event_id, event_type, user_id, status, attempts) VALUES (%s, %s, %s, 'sending', 1)"
        " ON CONFLICT (event_id, user_id) DO UPDATE SET status = 'sending', attempts = {t}.attempts + 1,"
        " updated_at = now()"
        " WHERE {t}.status = 'failed' OR ({t}.status = 'sending' AND {t}.updated_at < now() - %s)"
        " RETURNING attempts"
    ).format(t=tx.t(NOTIFICATIONS))
    if rows.scalar(tx, query, (event_id, event_type, user_id, stale_after)) is not None:
        return "claimed"
    status = rows.scalar(
        tx,
        sql.SQL("SELECT status FROM {} WHERE event_id = %s AND user_id = %s").format(tx.t(NOTIFICATIONS)),
        (event_id, user_id),
    )
    return "busy" if status == "sending" else "done"


def finish(
    tx: TenantTx,
    event_id: UUID,
    user_id: UUID,
    status: Literal["sent", "failed", "skipped"],
    *,
    message_id: str | None = None,
    failure: str | None = None,
) -> None:
    tx.execute(
        sql.SQL(
            "UPDATE {} SET status = %s, message_id = %s, failure = %s, updated_at = now()"
            " WHERE event_id = %s AND user_id = %s"
        ).format(tx.t(NOTIFICATIONS)),
        (status, message_id, failure, event_id, user_id),
    )


def purge(tx: TenantTx, older_than: dt.timedelta, limit: int) -> int:
    """Forget at most `limit` delivery records older than `older_than` (past any redelivery)."""
    query = sql.SQL(
        "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE created_at < now() - %s ORDER BY created_at LIMIT %s)"
    ).format(t=tx.t(NOTIFICATIONS))
    return tx.execute(query, (older_than, limit)).rowcount
