"""The event types the outbox carries, and what their payloads may hold.

Rules, checked by `payload_of` before anything is written:
- The type is registered here (`REGISTRY`): producers name it through the constants below, so a typo
  fails at import, and a string that is no registered type fails at emit. Names are
  `<domain>.<past-tense verb>` in lower case (`approval.requested`), checked when this module loads.
- The payload has exactly the type's fields, camelCase as on the wire, and is flat.
- Values are ids and codes only: None, bool, int, UUID, date, or a short code (letters, digits,
  `_ . : -`, at most 64 characters). No names, e-mail addresses, free text, amounts or secrets: a
  consumer reads whatever else it needs from the database, under the tenant's rules, when it acts.

Adding a type: one `EventType` line in `REGISTRY` (its fields documented there), a constant, and the
consumers that react to it (#19).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

_NAME = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
Scalar = str | int | bool | None


@dataclass(frozen=True)
class EventType:
    name: str
    fields: tuple[str, ...]  # the payload's keys, in the order they are documented
    meaning: str
    queue: str = "outbox_queue_url"  # the `hrms.config` setting naming the SQS queue its consumer reads

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"event type {self.name!r}: expected <domain>.<verb> in lower case")
        if len(set(self.fields)) != len(self.fields):
            raise ValueError(f"event type {self.name!r}: a field is listed twice")


APPROVAL_REQUESTED = "approval.requested"
APPROVAL_DECIDED = "approval.decided"
IMPORT_STARTED = "import.started"
EXPORT_REQUESTED = "export.requested"
PAYROLL_PROCESSED = "payroll.processed"
PAYSLIP_READY = "payslip.ready"
PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105 - an event name, not a password

REGISTRY: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType(
            APPROVAL_REQUESTED,
            (
                "approvalId",
                "entityType",  # leave, payroll, ...
                "entityId",
                "step",  # 1 for a new request, n for the next step of a multi-step workflow
                "approverType",  # reporting_manager: assigneeEmployeeId decides; role: any user of approverRole
                "approverRole",
                "assigneeEmployeeId",
                "subjectEmployeeId",  # whose request it is (null for payroll)
            ),
            "An approval task was opened and awaits its approver.",
        ),
        EventType(
            APPROVAL_DECIDED,
            (
                "approvalId",
                "entityType",
                "entityId",
                "step",
                "outcome",  # approved | rejected
                "entityStatus",  # the entity after the decision: pending (a next step opened), approved, rejected
                "decidedBy",  # the deciding user's id
                "subjectEmployeeId",  # the requester, to be told (null for payroll)
            ),
            "An approval task was decided.",
        ),
        EventType(
            IMPORT_STARTED,
            ("importId", "dryRun"),
            "An import was started (POST /imports/{id}/start): the ImportWorker validates and writes it.",
            queue="import_queue_url",
        ),
        EventType(
            EXPORT_REQUESTED,
            ("exportId",),
            "An export was requested (POST /exports): the ExportWorker writes its file.",
            queue="export_queue_url",
        ),
        EventType(
            PAYROLL_PROCESSED,
            ("payrollRunId", "month"),
            "A payroll run was marked processed: the PayslipWorker renders and stores its payslips.",
            queue="payslip_queue_url",
        ),
        EventType(
            PAYSLIP_READY,
            ("payrollRunId", "employeeId", "month"),
            "An employee's payslip of a processed run is stored: the Notifier tells the employee.",
        ),
        EventType(
            PASSWORD_RESET_REQUESTED,
            ("userId",),
            "A user asked to reset their password (POST /auth/forgot-password): the Notifier makes the single-use"
            " token (stored hashed) and emails the link; the token itself is never in an event.",
        ),
    )
}


def event_type(name: str) -> EventType:
    found = REGISTRY.get(name)
    if found is None:
        raise ValueError(f"unknown outbox event type {name!r}: register it in hrms.outbox.events")
    return found


def payload_of(name: str, values: Mapping[str, Any]) -> dict[str, Scalar]:
    """The JSON payload of an event of type `name`, or ValueError naming what breaks the rules above."""
    kind = event_type(name)
    missing = [f for f in kind.fields if f not in values]
    extra = sorted(set(values) - set(kind.fields))
    if missing or extra:
        raise ValueError(f"{name} payload: missing {missing}, unexpected {extra}")
    return {field: _scalar(name, field, values[field]) for field in kind.fields}


def _scalar(name: str, field: str, value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and _CODE.fullmatch(value):
        return value
    raise ValueError(f"{name} payload: {field} must be an id or a code, not {type(value).__name__}")
