"""The account-owner rules of `hrms.auth.accounts` on their own (through the gateway:
tests/e2e/test_review_authz_accounts.py): an account speaks for one person, and only that person learns
its password, unless an admin hands it over."""

from __future__ import annotations

from typing import Any

import pytest

from hrms.auth import accounts
from hrms.errors import Forbidden
from hrms.tenancy import Actor

ADMIN = Actor("a", "admin", None)
HR = Actor("h", "hr_manager", None)
OWNER = "asha.rao@example.com"


def _refusal(call: Any, *args: Any, **kwargs: Any) -> tuple[str, list[str]] | None:
    try:
        call(*args, **kwargs)
    except Forbidden as exc:
        return exc.extra["rule"], sorted(e["field"] for e in exc.errors)
    return None


# (case, email, the linked employee's email, password given, expected (rule, fields) or None)
CREATES: list[tuple[str, str, str | None, bool, tuple[str, list[str]] | None]] = [
    ("the owner's account", OWNER, OWNER, False, None),
    ("the owner's email in another case", OWNER.upper(), OWNER, False, None),
    ("unlinked", OWNER, None, False, ("account-owner", ["body.employeeId"])),
    ("another email", "me@example.com", OWNER, False, ("account-owner", ["body.email"])),
    ("a password", OWNER, OWNER, True, ("account-owner", ["body.password"])),
    ("unlinked with a password", OWNER, None, True, ("account-owner", ["body.employeeId", "body.password"])),
]


@pytest.mark.parametrize(("case", "email", "owner", "password", "expected"), CREATES, ids=[c[0] for c in CREATES])
def test_a_non_admin_creates_only_the_owners_account(
    case: str, email: str, owner: str | None, password: bool, expected: tuple[str, list[str]] | None
) -> None:
    assert _refusal(accounts.check_new_account_owner, HR, email, owner, password=password) == expected
    assert _refusal(accounts.check_new_account_owner, ADMIN, email, owner, password=password) is None


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        (OWNER, None),
        (OWNER.upper(), None),
        (None, ("account-owner", ["body.employeeId"])),
        ("someone.else@example.com", ("account-owner", ["body.employeeId"])),
    ],
)
def test_a_non_admin_links_an_account_only_to_its_owner(owner: str | None, expected: Any) -> None:
    assert _refusal(accounts.check_link_owner, HR, OWNER, owner) == expected
    assert _refusal(accounts.check_link_owner, ADMIN, OWNER, owner) is None


def test_only_admins_reset_passwords() -> None:
    assert _refusal(accounts.check_may_reset_password, HR) == ("admins-only", [])
    assert _refusal(accounts.check_may_reset_password, Actor("m", "manager", None)) == ("admins-only", [])
    assert _refusal(accounts.check_may_reset_password, ADMIN) is None
