"""The snapshot of a run's payslips, taken in the transaction that marks the run processed.

Subscriber of `hrms.db.changes` (`payroll_processed`, declared by `hrms.payroll.runs.mark_processed`):
it writes `payslip_runs` (the tenant's name and the currency of its settings at that moment) and one
`payslip_lines` row per employee of the run (`repo.snapshot`). Whatever changes later (a name, a
department, the currency setting, the tenant's name), the payslips print what was true when the run
was processed, and regenerating one gives the same text.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hrms.db.changes import Change
from hrms.db.postgres import TenantTx
from hrms.payslips import repo

DEFAULT_CURRENCY = "INR"
DEFAULT_WEEKEND = (6, 7)


def on_change(tx: TenantTx, change: Change) -> None:
    run_id = UUID(str(change.payload["payrollRunId"]))
    settings = _settings(tx)
    repo.snapshot(tx, run_id, repo.tenant_name(tx), _currency(settings), _weekend(settings))


def _settings(tx: TenantTx) -> dict[str, Any]:
    from hrms.settings.service import effective_settings  # lazy: MongoDB only when a run is processed

    return effective_settings(tx.tenant, repo.organisation_settings(tx, ("currency", "weekendDays")))


def _currency(settings: dict[str, Any]) -> str:
    value = settings.get("currency")
    if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isupper():
        return value
    return DEFAULT_CURRENCY


def _weekend(settings: dict[str, Any]) -> tuple[int, ...]:
    value = settings.get("weekendDays")
    if isinstance(value, list) and all(isinstance(d, int) and 1 <= d <= 7 for d in value):
        return tuple(value)
    return DEFAULT_WEEKEND
