"""What every new tenant starts with: roles, leave types, approval workflows, settings."""

from __future__ import annotations

from typing import Any

# `area:action` reaches every record; `:team` the caller's reporting line; `:self` the caller only.
PERMISSIONS: dict[str, list[str]] = {
    "admin": ["*"],
    "hr_manager": [
        "employees:read",
        "employees:write",
        "org:read",
        "org:write",
        "leave:read",
        "leave:write",
        "leave:request",
        "leave:approve",
        "payroll:read",
        "payroll:write",
        "payroll:approve",
        "appraisals:read",
        "appraisals:write",
        "documents:read",
        "documents:write",
        "audit:read",
        "roles:read",
        "settings:read",
        "flags:read",
        "dashboards:read",
    ],
    "manager": [
        "employees:read:team",
        "org:read",
        "leave:read:team",
        "leave:approve:team",
        "leave:request:self",
        "appraisals:read:team",
        "appraisals:write:team",
        "documents:read:self",
        "flags:read",
        "dashboards:read:team",
    ],
    "employee": [
        "employees:read:self",
        "org:read",
        "leave:read:self",
        "leave:request:self",
        "appraisals:read:self",
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
