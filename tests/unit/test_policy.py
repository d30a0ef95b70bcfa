"""The authorization policy (`hrms.auth.policy`): grants, their scopes and what one may hand out.
Every expected value is written by hand from the rules, not computed."""

from __future__ import annotations

import pytest

from hrms.auth.policy import CATALOGUE, covers, not_covered, parse, problems, scope_of
from hrms.tenants.defaults import PERMISSIONS


@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        ("employees:read", ("employees:read", "all")),
        ("employees:read:team", ("employees:read", "team")),
        ("leave:approve:self", ("leave:approve", "self")),
        ("leave-types:write", ("leave-types:write", "all")),
        ("*", ("*", "all")),
    ],
)
def test_parse_splits_a_grant_into_permission_and_scope(grant: str, expected: tuple[str, str]) -> None:
    assert parse(grant) == expected


@pytest.mark.parametrize(
    ("grants", "permission", "expected"),
    [
        (["employees:read:self"], "employees:read", "self"),
        (["employees:read:team"], "employees:read", "team"),
        (["employees:read"], "employees:read", "all"),
        # the widest scope wins, whatever the order
        (["employees:read:self", "employees:read:team"], "employees:read", "team"),
        (["employees:read:team", "employees:read:self"], "employees:read", "team"),
        (["employees:read:self", "employees:read"], "employees:read", "all"),
        (["employees:read", "employees:read:team", "employees:read:self"], "employees:read", "all"),
        # "*" admits every permission, scopable or not
        (["*"], "employees:read", "all"),
        (["*"], "payroll:approve", "all"),
        (["*"], "users:write", "all"),
        # a scoped grant of an organisation-level permission admits nothing
        (["payroll:approve:team"], "payroll:approve", None),
        (["users:write:self"], "users:write", None),
        (["roles:write:team", "roles:write:self"], "roles:write", None),
        (["org:write:self"], "org:write", None),
        # another permission, or nothing, admits nothing
        ([], "employees:read", None),
        (["employees:read"], "employees:write", None),
        (["leave:read:team"], "leave:approve", None),
    ],
)
def test_scope_of(grants: list[str], permission: str, expected: str | None) -> None:
    assert scope_of(grants, permission) == expected


@pytest.mark.parametrize(
    ("held", "grant", "expected"),
    [
        # ":self" is covered by ":self", ":team" and the unscoped grant
        (["leave:request:self"], "leave:request:self", True),
        (["leave:request:team"], "leave:request:self", True),
        (["leave:request"], "leave:request:self", True),
        # ":team" by ":team" and the unscoped grant, not by ":self"
        (["leave:request:team"], "leave:request:team", True),
        (["leave:request"], "leave:request:team", True),
        (["leave:request:self"], "leave:request:team", False),
        # the unscoped grant only by itself (or "*")
        (["leave:request"], "leave:request", True),
        (["leave:request:team"], "leave:request", False),
        (["leave:request:self", "leave:request:team"], "leave:request", False),
        (["*"], "leave:request", True),
        (["*"], "leave:request:self", True),
        (["*"], "payroll:approve", True),
        # "*" only by "*": holding every single permission is not the same
        (["*"], "*", True),
        (sorted(CATALOGUE), "*", False),
        (["users:write", "roles:write"], "*", False),
        # organisation-level: a scoped grant held covers nothing
        (["payroll:approve:team"], "payroll:approve", False),
        (["payroll:approve"], "payroll:approve", True),
        # another permission covers nothing
        ([], "org:read", False),
        (["org:read"], "org:write", False),
        (["users:write"], "users:read", False),
    ],
)
def test_covers(held: list[str], grant: str, expected: bool) -> None:
    assert covers(held, grant) is expected


def test_problems_accepts_known_grants_and_everything() -> None:
    assert problems(["*", "employees:read", "employees:read:team", "leave:approve:self", "payroll:approve"]) == []
    assert problems([]) == []


def test_problems_names_each_unknown_permission() -> None:
    found = problems(["employees:read", "employees:fly", "nope:read:team"])
    assert len(found) == 2
    assert "employees:fly" in found[0]
    assert "nope:read:team" in found[1]


@pytest.mark.parametrize("grant", ["payroll:approve:team", "users:write:self", "org:read:team", "audit:read:self"])
def test_problems_refuses_a_scope_on_an_organisation_level_permission(grant: str) -> None:
    found = problems(["employees:read:team", grant])
    assert len(found) == 1
    assert grant in found[0]


@pytest.mark.parametrize("role", sorted(PERMISSIONS))
def test_every_default_role_set_is_acceptable(role: str) -> None:
    assert problems(PERMISSIONS[role]) == []


def test_not_covered_lists_what_the_holder_lacks_sorted() -> None:
    held = ["leave:request:team", "org:read", "employees:read"]
    wanted = ["org:read", "leave:request:self", "leave:request", "*", "users:read", "employees:read:team"]
    assert not_covered(held, wanted) == ["*", "leave:request", "users:read"]
    assert not_covered(["*"], wanted) == []
    assert not_covered(held, []) == []
    assert not_covered([], ["org:read", "employees:read:self"]) == ["employees:read:self", "org:read"]
