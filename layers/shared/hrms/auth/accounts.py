"""Rules on user accounts that every route must respect, whichever domain it belongs to.

- Role ceiling: nobody hands out a role or a permission they do not hold (403 `grant-ceiling`);
  only admins create, promote, change or reset admins (403 `admins-only`).
- Passwords are handed over by admins only: POST /users/{id}/password-reset, which returns a
  temporary password to the caller, is for admins (403 `admins-only`); an account's owner can always
  ask for a reset link themself (POST /auth/forgot-password).
- An account speaks for one person, and only that person learns its password, unless an admin hands
  it over (403 `account-owner`, for every caller who is not an admin): a new account is linked to an
  employee (`employeeId` required) and has that employee's email (case-insensitive), its password is
  not given (the owner is mailed a link to choose one); a link changes only to the employee whose
  email the account has (never unlinked). Otherwise a user administrator could sign in as someone
  else, or as a second self, and step around every duty keyed to the caller's employee record
  (`hrms.auth.duties`).
- The tenant always keeps at least one active admin: an admin who is neither disabled nor linked
  to an employee who has left or will leave (409 `last-admin`), whichever route would remove the
  last one (user update, employee termination or leaving date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from hrms.auth import duties, policy, repo
from hrms.auth.permissions import held, role_permissions
from hrms.db.postgres import TenantTx
from hrms.errors import Conflict
from hrms.tenancy import Actor

ADMIN = "admin"
OWNER = "account-owner"


def check_may_grant_role(tx: TenantTx, actor: Actor, role: str) -> None:
    """The caller may give `role` to a user: admins only for admin, else the role's set within theirs."""
    if role == ADMIN and actor.role != ADMIN:
        raise duties.refuse("admins-only", "Only an admin may make someone an admin.")
    check_may_grant(tx, actor, role_permissions(tx, role))


def check_may_grant(tx: TenantTx, actor: Actor, grants: Iterable[str]) -> None:
    missing = policy.not_covered(held(tx, actor), grants)
    if missing:
        raise duties.refuse(
            "grant-ceiling", f"You cannot grant what you do not hold: {', '.join(missing)}.", missing=missing
        )


def check_may_reset_password(actor: Actor) -> None:
    """A reset hands the new password to the caller: admins only (the owner asks for a link instead)."""
    if actor.role != ADMIN:
        raise duties.refuse(
            "admins-only",
            "Only an admin may reset someone's password; its owner can ask for a reset link"
            " (POST /auth/forgot-password).",
        )


def check_new_account_owner(actor: Actor, email: str, owner_email: str | None, *, password: bool) -> None:
    """403 `account-owner` unless the caller is an admin or the new account speaks for its owner only: it
    is linked to an employee (`owner_email`, None when no `employeeId` is given), under that employee's
    email, and no password is given (the owner chooses one through a mailed link)."""
    if actor.role == ADMIN:
        return
    errors = []
    if password:
        errors.append(_owner_error("body.password", "must not be given: the account's owner chooses it"))
    if owner_email is None:
        errors.append(_owner_error("body.employeeId", "required: the employee the account speaks for"))
    elif owner_email.lower() != email.lower():
        errors.append(_owner_error("body.email", "must be the email of the employee the account speaks for"))
    if errors:
        raise duties.refuse(
            OWNER,
            "Only an admin may create an account that is not linked to its owner's employee record and email,"
            " or choose its password; the owner is mailed a link to choose it.",
            errors=errors,
        )


def check_link_owner(actor: Actor, email: str, owner_email: str | None) -> None:
    """403 `account-owner` unless the caller is an admin or the account's new employee link (`owner_email`:
    the employee's email, None for unlinking) is the employee whose email the account has."""
    if actor.role == ADMIN or (owner_email is not None and owner_email.lower() == email.lower()):
        return
    raise duties.refuse(
        OWNER,
        "Only an admin may unlink an account or link it to an employee whose email is not the account's.",
        errors=[_owner_error("body.employeeId", "must be the employee whose email the account has")],
    )


def _owner_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "type": OWNER, "message": message}


def check_may_manage(actor: Actor, target: dict[str, Any]) -> None:
    """Changing or resetting an admin's account is for admins."""
    if target["role"] == ADMIN and actor.role != ADMIN:
        raise duties.refuse("admins-only", "Only an admin may change an admin's account.")


def keep_an_admin(tx: TenantTx) -> None:
    """409 when the tenant (as the caller's transaction now sees it) has no admin left who can sign in
    today and will still be able to tomorrow and after: run after the change, before commit."""
    if repo.active_admins(tx) == 0:
        raise Conflict("A tenant keeps at least one active admin.", rule="last-admin")


def check_employee_leaving(tx: TenantTx, actor: Actor, employee_id: UUID, leaving: dt.date | None) -> None:
    """A leaving date on an employee record ends their user's access: for an admin's record, only an
    admin may set it, and never for the last admin."""
    if leaving is None:
        return
    if ADMIN in repo.active_roles_of_employee(tx, employee_id):
        if actor.role != ADMIN:
            raise duties.refuse("admins-only", "Only an admin may end an admin's employment.")
        keep_an_admin(tx)
