"""Segregation of duties (maker-checker): one rule set for every entity type, enforced in the domains.

Each refusal is a 403 whose problem document names the rule (`rule` member):
- `self-decision`: nobody approves, rejects, reviews or otherwise decides anything whose subject is
  themselves (leave, payroll lines, appraisals, any entity type of the approval engine);
- `own-salary`: nobody writes their own salary (API or import);
- `own-balance`: nobody adjusts or sets their own leave balance (API or import), nor cancels their own
  leave after it started (which gives the days taken back);
- `own-record`: nobody changes their own manager (who approves their leave) or joining date (which
  prorates their leave and pay) on their employee record;
- `run-creator`: the creator of a payroll run does not approve it; when nobody else could, the run
  waits and the answer is a 409 `no-other-approver` saying so (never a silent self-approval);
- `own-pay-changed`: nobody approves a payroll run in which their own pay changed (a line that is new,
  or differs from their line in the last processed run);
- `review-by-reviewer`: an appraisal's review step belongs to its assigned reviewer, HR or admin;
- `filed-by-others`: with a `self`/`team` grant one deletes only documents one uploaded;
- `grant-ceiling`, `admins-only`, `account-owner`, `last-admin`: see `hrms.auth.accounts`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hrms.auth.scope import caller_employee_id
from hrms.db.postgres import TenantTx
from hrms.errors import Conflict, Forbidden


def refuse(rule: str, detail: str, **extra: Any) -> Forbidden:
    """The 403 of a broken rule; `rule` names it in the problem document."""
    return Forbidden(detail, rule=rule, **extra)


def not_about_self(tx: TenantTx, subject_employee_id: UUID | str | None, action: str) -> None:
    """403 `self-decision` when the caller's own employee record is the subject."""
    if subject_employee_id is None or tx.actor is None:
        return
    me = caller_employee_id(tx, tx.actor)
    if me is not None and str(me) == str(subject_employee_id):
        raise refuse("self-decision", f"Nobody may {action} something about themselves.")


def not_own_salary(tx: TenantTx, employee_id: UUID) -> None:
    if tx.actor is None:
        return
    me = caller_employee_id(tx, tx.actor)
    if me is not None and me == employee_id:
        raise refuse("own-salary", "Nobody may set their own salary; another payroll user must do it.")


def not_own_terms(tx: TenantTx, employee_id: UUID, terms: list[str]) -> None:
    """403 `own-record` when `terms` of the caller's own employee record would change."""
    if not terms or tx.actor is None:
        return
    me = caller_employee_id(tx, tx.actor)
    if me is not None and me == employee_id:
        raise refuse(
            "own-record",
            f"Nobody may change their own {' or '.join(terms)}; another HR user or an admin must do it.",
            fields=terms,
        )


def not_own_balance(tx: TenantTx, employee_id: UUID) -> None:
    if tx.actor is None:
        return
    me = caller_employee_id(tx, tx.actor)
    if me is not None and me == employee_id:
        raise refuse("own-balance", "Nobody may adjust their own leave balance; another HR user must do it.")


def waits_for_another(detail: str) -> Conflict:
    return Conflict(detail, rule="no-other-approver")
