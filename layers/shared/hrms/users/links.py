"""Checks on the employee an account is linked to, shared by account creation and change."""

from __future__ import annotations

from uuid import UUID

from hrms.db.postgres import TenantTx
from hrms.errors import Conflict, Invalid
from hrms.users import repo


def employee_email(tx: TenantTx, employee_id: UUID) -> str:
    """The email of the employee an account is to be linked to (row locked); 422 when there is none."""
    email = repo.lock_employee_email(tx, employee_id)
    if email is None:
        raise Invalid(
            "No such employee.",
            errors=[{"field": "body.employeeId", "type": "not_found", "message": "no such employee"}],
        )
    return email


def one_account_per_employee(tx: TenantTx, employee_id: UUID | None, user_id: UUID | None) -> None:
    """409 `employee-has-user`: an employee record speaks through one active account. A second one would
    act as that employee (their own salary and payslips, the leave of their reports to decide) unnoticed."""
    if employee_id is not None and repo.other_active_user_of(tx, employee_id, user_id) is not None:
        raise Conflict(
            "This employee already has an active user account; disable it first.",
            rule="employee-has-user",
            errors=[{"field": "body.employeeId", "type": "linked", "message": "already linked to an active user"}],
        )
