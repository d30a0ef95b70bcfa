"""How far a caller sees into the employee records: everyone, their reporting line, or themself.

`visible(tx, scope, actor)` is a SQL condition on `e.id` (the employees table aliased `e`).
Records outside it are reported as not found, never as forbidden: no existence oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql

from hrms.auth import repo
from hrms.db.postgres import TenantTx
from hrms.tenancy import Actor


@dataclass(frozen=True)
class Visibility:
    condition: sql.Composable
    params: dict[str, Any]


def caller_employee_id(tx: TenantTx, actor: Actor) -> UUID | None:
    """The employee record linked to the caller's user account, if any."""
    if actor.user_uuid is None:
        return None
    return repo.employee_of_user(tx, actor.user_uuid)


def visible(tx: TenantTx, scope: str, actor: Actor) -> Visibility:
    """The condition selecting the employees `scope` lets `actor` see."""
    if scope == "all":
        return Visibility(sql.SQL("TRUE"), {})
    me = caller_employee_id(tx, actor)
    if me is None:
        return Visibility(sql.SQL("FALSE"), {})
    if scope == "self":
        return Visibility(sql.SQL("e.id = %(scope_me)s"), {"scope_me": me})
    if scope == "team":
        # The caller and everyone whose manager chain reaches the caller. UNION (not UNION ALL)
        # stops even on a cycle, which the service never lets into the data anyway.
        line = sql.SQL(
            "e.id IN (WITH RECURSIVE line(id) AS ("
            " SELECT %(scope_me)s::uuid"
            " UNION SELECT r.id FROM {employees} r JOIN line ON r.manager_id = line.id"
            ") SELECT id FROM line)"
        ).format(employees=tx.t("employees"))
        return Visibility(line, {"scope_me": me})
    raise ValueError(f"unknown scope {scope!r}")


def visible_ids(tx: TenantTx, scope: str, actor: Actor) -> set[str]:
    """The ids (as text) of the employees `scope` lets `actor` see: for filtering MongoDB documents."""
    seen = visible(tx, scope, actor)
    return {str(employee_id) for employee_id in repo.employee_ids(tx, seen.condition, seen.params)}
