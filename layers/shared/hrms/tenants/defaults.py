"""What every new tenant starts with: roles, leave types, approval workflows, settings."""

from __future__ import annotations

from typing import Any

# What each grant means is `hrms.auth.policy`: `area:action` reaches every record; `:team` the
# caller's reporting line; `:self` the caller only. Organisation-level permissions take no scope.
PERMISSIONS: dict[str, list[str]] = {
    "admin": ["*"],
    "hr_manager": [
        "employees:read",
        "employees:write",
        "org:read",
        "org:write",
        "leave:read",
        "leave:request",
        "leave:approve",
        "leave-types:read",
        "leave-types:write",
        "payroll:read",
        "payroll:write",
        "payroll:approve",
        "salaries:read",
        "payslips:read",
        "appraisals:read",
        "appraisals:write",
        "appraisal-forms:read",
        "appraisal-forms:write",
        "documents:read",
        "documents:write",
        "audit:read",
        "roles:read",
        "settings:read",
        "flags:read",
        "dashboards:read",
        "executive-dashboard:read",
        "leave-balances:adjust",
        "imports:write",
        "exports:write",
    ],
    "manager": [
        "employees:read:team",
        "org:read",
        "leave:read:team",
        "leave:approve:team",
        "leave:request:self",
        "leave-types:read",
        "appraisals:read:team",
        "appraisals:write:team",
        "appraisal-forms:read",
        "documents:read:self",
        "flags:read",
        "dashboards:read:team",
    ],
    "employee": [
        "employees:read:self",
        "org:read",
        "leave:read:self",
        "leave:request:self",
        "leave-types:read",
        "appraisals:read:self",
        "appraisal-forms:read",
        "documents:read:self",
        "documents:write:self",
        "flags:read",
        "dashboards:read:self",
    ],
}

# code, name, annual quota, carry-forward cap, half day allowed, paid
LEAVE_TYPES: list[tuple[str, str, int, int, bool, bool]] = [
    ("annual", "Annual leave", 18, 5, True, True),
    ("sick", "Sick leave", 12, 0, True, True),
    ("casual", "Casual leave", 6, 0, True, True),
    ("unpaid", "Leave without pay", 0, 0, True, False),
]

WORKFLOWS: dict[str, list[dict[str, Any]]] = {
    "leave": [{"approverType": "reporting_manager"}],
    "payroll": [{"approverType": "role", "role": "hr_manager"}],
}


def organization_settings(country: str, currency: str, timezone: str) -> dict[str, Any]:
    return {
        "country": country,
        "currency": currency,
        "timezone": timezone,
        "weekendDays": [6, 7],  # ISO weekdays: Saturday, Sunday
        "leaveYearStartMonth": 1,
    }
