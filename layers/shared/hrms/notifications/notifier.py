"""The Notifier's work for one outbox event (NotifierFunction, OutboxQueue):

    from hrms.notifications.notifier import handle
    from hrms.outbox.consumer import consume

    def handler(event, context):
        return consume(event, context, handle)

Who gets what (read from the current state when the event is handled):
- `approval.requested` -> its approver(s): a reporting-manager step, the users of the assignee
  employee; a role step, every user of that role (except the requester's own users);
- `approval.decided` -> the requester: the users of the subject employee (none for payroll runs);
- `payslip.ready` -> the users of the employee;
- `password.reset_requested` -> the user; the Notifier makes the single-use token here
  (`hrms.auth.reset.issue_token`, stored hashed, valid 30 minutes) and mails the link
  `RESET_LINK_BASE_URL?token=...`.
Only users who may sign in now (active, not left, `hrms.auth.credentials`) are mailed, and only for
events they did not turn off (`service.wants`: security mail always goes). Other event types on the
queue are not notifications: logged and left.

Delivery, per (eventId, recipient), recorded in the tenant's `notifications` table (`repo.claim`):
sent or skipped pairs are never mailed again, so a redelivered event (at least once) mails only whom
it has not reached; a pair another delivery is mailing right now (claimed less than `CLAIM_STALE`
ago) fails the record, to be looked at again after the visibility timeout. A mail SES refuses (or
cannot take) is recorded `failed` with SES's code, the other recipients are still mailed, and the
record then fails (`NotificationsFailed`): SQS delivers it again after the queue's visibility timeout
and moves it to OutboxDlq after maxReceiveCount receives. The request that emitted the event
committed long before: it never sees any of this.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from hrms.auth import credentials, reset
from hrms.auth import repo as auth_repo
from hrms.config import settings
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.notifications import mailer, repo, service, templates
from hrms.notifications.repo import Candidate
from hrms.observability import logger
from hrms.outbox import APPROVAL_DECIDED, APPROVAL_REQUESTED, PASSWORD_RESET_REQUESTED, PAYSLIP_READY
from hrms.outbox.envelope import Envelope
from hrms.outbox.events import Scalar
from hrms.tenancy import Tenant

CLAIM_STALE = dt.timedelta(seconds=60)  # twice NotifierFunction's Timeout: a claim this old was abandoned
KEEP_RECORDS = dt.timedelta(days=30)  # longer than the outbox keeps events and SQS keeps messages
PURGE_BATCH = 100
ENTITY_NAMES = {"leave": "leave request", "payroll": "payroll run"}

Payload = dict[str, Scalar]


class NotificationsFailed(Exception):
    """Some recipients of the event were not mailed: the record fails and SQS delivers it again."""


@dataclass(frozen=True)
class Recipient:
    user_id: UUID
    email: str
    name: str
    muted: list[str]
    epoch: int


def handle(tenant: Tenant, envelope: Envelope) -> None:
    find = RECIPIENTS.get(envelope.type)
    if find is None:
        logger.info("Not a notification event; nothing to mail")
        return
    with tenant_tx(tenant) as tx:
        recipients = find(tx, envelope.payload)
        values = {**_values(tx, envelope.type, envelope.payload), "tenant": _tenant_name(tx)}
        repo.purge(tx, KEEP_RECORDS, PURGE_BATCH)
    failed: list[str] = []
    for recipient in recipients:
        outcome = _notify(tenant, envelope, recipient, values)
        if outcome not in ("sent", "skipped", "done"):
            failed.append(outcome)
    logger.info("Notification event handled", extra={"recipients": len(recipients), "failed": len(failed)})
    if failed:
        raise NotificationsFailed(f"{len(failed)} of {len(recipients)} recipient(s) not mailed: {', '.join(failed)}")


def _notify(tenant: Tenant, envelope: Envelope, recipient: Recipient, values: dict[str, str]) -> str:
    """Mail one recipient once: "sent", "skipped" (turned off), "done" (by an earlier delivery), or why not."""
    with tenant_tx(tenant) as tx:
        claim = repo.claim(tx, envelope.event_id, envelope.type, recipient.user_id, CLAIM_STALE)
        if claim != "claimed":
            return "done" if claim == "done" else "busy"
        if not service.wants(envelope.type, recipient.muted):
            repo.finish(tx, envelope.event_id, recipient.user_id, "skipped")
            return "skipped"
        extra: dict[str, str] = {}
        if envelope.type == PASSWORD_RESET_REQUESTED:
            token = reset.issue_token(tx, recipient.user_id, envelope.event_id, recipient.epoch)
            if token is None:  # its token was used already: the mail did its job
                repo.finish(tx, envelope.event_id, recipient.user_id, "skipped")
                return "skipped"
            extra = {"link": _reset_link(token), "minutes": str(int(reset.TOKEN_VALIDITY.total_seconds() // 60))}
    mail = templates.render(envelope.type, {**values, **extra, "name": recipient.name})
    try:
        message_id = mailer.send(recipient.email, mail, display_name=values["tenant"], event_id=str(envelope.event_id))
    except mailer.MailNotSent as exc:
        logger.warning(
            "Mail not sent; the event is retried", extra={"userId": str(recipient.user_id), "sesError": exc.code}
        )
        with tenant_tx(tenant) as tx:
            repo.finish(tx, envelope.event_id, recipient.user_id, "failed", failure=str(exc)[:500])
        return exc.code
    with tenant_tx(tenant) as tx:
        repo.finish(tx, envelope.event_id, recipient.user_id, "sent", message_id=message_id)
    return "sent"


def _reset_link(token: str) -> str:
    base = settings().reset_link_base_url
    return f"{base}{'&' if '?' in base else '?'}token={token}"


# ---------------------------------------------------------------- recipients


def _able(tx: TenantTx, candidates: list[Candidate]) -> list[Recipient]:
    """The candidates who may sign in now (active, not left), with their credentials epoch."""
    found: list[Recipient] = []
    for candidate in candidates:
        loaded = credentials.load(tx.conn, tx.tenant.schema_name, candidate.user_id)
        if loaded is not None and loaded[0].active:
            name = candidate.first_name or candidate.email.split("@")[0]
            found.append(Recipient(candidate.user_id, candidate.email, name, list(candidate.muted), loaded[0].epoch))
    return found


def _uuid(payload: Payload, key: str) -> UUID | None:
    value = payload.get(key)
    return UUID(str(value)) if value else None


def _approvers(tx: TenantTx, payload: Payload) -> list[Recipient]:
    subject = _uuid(payload, "subjectEmployeeId")
    if payload.get("approverType") == "role" and payload.get("approverRole"):
        return _able(tx, repo.users_of_role(tx, str(payload["approverRole"]), subject))
    assignee = _uuid(payload, "assigneeEmployeeId")
    return _able(tx, repo.users_of_employee(tx, assignee)) if assignee else []


def _requester(tx: TenantTx, payload: Payload) -> list[Recipient]:
    subject = _uuid(payload, "subjectEmployeeId")
    return _able(tx, repo.users_of_employee(tx, subject)) if subject else []


def _employee(tx: TenantTx, payload: Payload) -> list[Recipient]:
    employee = _uuid(payload, "employeeId")
    return _able(tx, repo.users_of_employee(tx, employee)) if employee else []


def _user(tx: TenantTx, payload: Payload) -> list[Recipient]:
    user = _uuid(payload, "userId")
    return _able(tx, repo.user(tx, user)) if user else []


RECIPIENTS: dict[str, Callable[[TenantTx, Payload], list[Recipient]]] = {
    APPROVAL_REQUESTED: _approvers,
    APPROVAL_DECIDED: _requester,
    PAYSLIP_READY: _employee,
    PASSWORD_RESET_REQUESTED: _user,
}


# ---------------------------------------------------------------- what the mail says


def _tenant_name(tx: TenantTx) -> str:
    found = auth_repo.tenant_ref(tx.conn, tx.tenant.tenant_id)
    return found.name if found else "Your company"


def _values(tx: TenantTx, event_type: str, payload: Payload) -> dict[str, str]:
    what = ENTITY_NAMES.get(str(payload.get("entityType")), str(payload.get("entityType") or "request"))
    if event_type == APPROVAL_REQUESTED:
        subject = _uuid(payload, "subjectEmployeeId")
        requester = (repo.employee_name(tx, subject) if subject else None) or "Payroll"
        return {"what": what, "requester": requester, "step": str(payload.get("step") or 1)}
    if event_type == APPROVAL_DECIDED:
        outcome = str(payload.get("outcome") or "decided")
        then = "It now waits for the next approver." if payload.get("entityStatus") == "pending" else ""
        return {"what": what, "outcome": outcome, "step": str(payload.get("step") or 1), "next": then}
    if event_type == PAYSLIP_READY:
        return {"month": _month(str(payload.get("month") or ""))}
    return {}


def _month(value: str) -> str:
    """A month code such as 2025-01 (or 2025-01-01) as "January 2025"; anything else as given."""
    try:
        year, month = int(value[:4]), int(value[5:7])
        return f"{calendar.month_name[month]} {year}"
    except (ValueError, IndexError):
        return value
