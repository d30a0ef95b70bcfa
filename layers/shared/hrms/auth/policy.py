"""The authorization policy: every permission, whether it can be scoped, and what its scopes mean.

A grant is `area:action` (every record) or, for a scopable permission only, `area:action:team` (the
caller's reporting line: the caller and everyone whose manager chain reaches them) or
`area:action:self` (the caller's own employee record, own requests, own uploads). `*` is every
permission. Each HTTP function names the one permission it needs in its `api(permission=...)` line;
this table says what the scopes of that permission mean. Organisation-level permissions (forms,
structures, workflows, settings, flags, users, roles, payroll runs) take no scope: a role editor
gets a 422 naming the grant, and a stored scoped grant of one admits nothing.

Beyond admission, the domains enforce the subject (is the record inside the scope?) and the duties:
nobody decides, reviews or pays themselves, the creator of a payroll run does not approve it, and
nobody grants a role or permission they do not hold (`covers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Scope = Literal["all", "team", "self"]
EVERYTHING = "*"
SCOPES: tuple[Scope, ...] = ("all", "team", "self")


@dataclass(frozen=True)
class Permission:
    name: str
    description: str
    self_means: str | None = None  # None: organisation-level, no scoped grants
    team_means: str | None = None

    @property
    def scopable(self) -> bool:
        return self.self_means is not None


_P = Permission
CATALOGUE: dict[str, Permission] = {
    p.name: p
    for p in (
        # -- scopable: the subject of each request is checked against the scope
        _P(
            "employees:read",
            "Read employee records (PAN/Aadhaar always masked).",
            "the caller's own record",
            "the caller's reporting line",
        ),
        _P(
            "leave:read",
            "Read leave requests and leave balances.",
            "the caller's own leave",
            "the reporting line's leave",
        ),
        _P(
            "leave:request",
            "Request and cancel leave on someone's behalf.",
            "only for the caller",
            "for the caller and their reporting line",
        ),
        _P(
            "leave:approve",
            "Decide leave requests (never one's own).",
            "nothing (one never decides one's own leave)",
            "the reporting line's requests, never the caller's own",
        ),
        _P(
            "appraisals:read",
            "Read appraisals.",
            "appraisals of the caller",
            "appraisals of the reporting line",
        ),
        _P(
            "appraisals:write",
            "Create appraisals and move them draft -> submitted -> reviewed.",
            "the caller's own self-assessment (create, submit; never review)",
            "appraisals of the caller's reports (never the caller's own review)",
        ),
        _P(
            "documents:read",
            "Read document metadata and download documents.",
            "documents about the caller",
            "documents about the reporting line",
        ),
        _P(
            "documents:write",
            "File documents about employees and delete them (soft).",
            "upload about oneself; delete only one's own uploads",
            "upload about the reporting line; delete only one's own uploads",
        ),
        _P(
            "salaries:read",
            "Read salary history (an employee always sees their own, without any grant).",
            "the caller's own salary",
            "the reporting line's salaries",
        ),
        _P(
            "dashboards:read",
            "Read employee dashboards (balances, pending approvals, recent payslips).",
            "the caller's own dashboard",
            "the reporting line's dashboards (payslips only with payslips:read)",
        ),
        # -- organisation-level: no scoped grants
        _P("employees:write", "Hire, change and terminate employees (not one's own pay)."),
        _P("org:read", "Read departments, designations, holidays and the organisation chart."),
        _P("org:write", "Change departments, designations and holidays."),
        _P("leave-types:read", "Read the tenant's leave types."),
        _P("leave-types:write", "Create and change leave types."),
        _P("appraisal-forms:read", "Read appraisal forms."),
        _P("appraisal-forms:write", "Create and version appraisal forms."),
        _P("payroll:read", "Read salary structures, payroll runs, their records and payroll stats."),
        _P("payroll:write", "Change salary structures, assign salaries (never one's own), run and process payroll."),
        _P("payroll:approve", "Approve payroll runs (never one's own run, nor one in which one's own pay changed)."),
        _P("executive-dashboard:read", "Read the executive dashboard (headcount, payroll trend)."),
        _P("users:read", "Read user accounts and account events in the audit log."),
        _P(
            "users:write",
            "Create and change user accounts (within one's own rights). Unless one is an admin: only accounts"
            " linked to the employee whose email they have, whose owner chooses the password through a mailed"
            " link; no password resets (admins only).",
        ),
        _P("roles:read", "Read the roles' permission sets."),
        _P("roles:write", "Change the roles' permission sets (within one's own rights)."),
        _P("settings:read", "Read tenant settings and approval workflows."),
        _P("settings:write", "Change tenant settings and approval workflows."),
        _P("flags:read", "Read and evaluate feature flags."),
        _P("flags:write", "Change feature flags."),
        _P("audit:read", "Read the audit log (account events need users:read too)."),
        # -- named now for the routes of the open go-live and payslip issues (#16, #19)
        _P("leave-balances:adjust", "Set opening balances and correct leave balances (never one's own)."),
        _P("imports:write", "Upload and start bulk imports of employees, salaries and leave balances."),
        _P("exports:write", "Start exports (employees, payroll register, leave) and download them."),
        _P(
            "payslips:read",
            "Download payslips (an employee always sees their own, without any grant).",
            "the caller's own payslips",
            "the reporting line's payslips",
        ),
    )
}


def parse(grant: str) -> tuple[str, Scope]:
    """`area:action[:scope]` -> (permission, scope); `*` -> ("*", "all")."""
    if grant == EVERYTHING:
        return EVERYTHING, "all"
    area, _, rest = grant.partition(":")
    action, _, scope = rest.partition(":")
    return f"{area}:{action}", scope or "all"  # type: ignore[return-value]


def problems(grants: Iterable[str]) -> list[str]:
    """Why each grant is not acceptable in a role's set: unknown, or a scope on an organisation-level one."""
    found = []
    for grant in grants:
        name, scope = parse(grant)
        if name == EVERYTHING:
            continue
        permission = CATALOGUE.get(name)
        if permission is None:
            found.append(f"{grant}: no such permission")
        elif scope not in SCOPES:
            found.append(f"{grant}: the scope must be team or self")
        elif scope != "all" and not permission.scopable:
            found.append(f"{grant}: {name} is organisation-level and cannot be scoped")
    return found


def scope_of(grants: Iterable[str], permission: str) -> Scope | None:
    """The widest scope `grants` give for `permission`, or None. A scoped grant of an
    organisation-level permission (stored before the policy refused them) admits nothing."""
    granted = set(grants)
    if EVERYTHING in granted or permission in granted:
        return "all"
    known = CATALOGUE.get(permission)
    if known is None or not known.scopable:
        return None
    if f"{permission}:team" in granted:
        return "team"
    if f"{permission}:self" in granted:
        return "self"
    return None


def covers(held: Iterable[str], grant: str) -> bool:
    """Whether a caller holding `held` holds `grant` (at least as wide): what they may hand out."""
    name, scope = parse(grant)
    held = list(held)
    if name == EVERYTHING:
        return EVERYTHING in held
    have = scope_of(held, name)
    return have is not None and scope in SCOPES and SCOPES.index(have) <= SCOPES.index(scope)


def not_covered(held: Iterable[str], grants: Iterable[str]) -> list[str]:
    held = list(held)
    return sorted(g for g in grants if not covers(held, g))
