"""Export jobs: requesting one, and reading it back with its download.

Rules:
- Who: every route needs `exports:write` (admitted by the route). A file holds that kind's data of
  every employee, so the caller must also hold the kind's read permission unscoped (`READ_PERMISSION`:
  employees -> `employees:read`, payroll-register -> `payroll:read`, leave -> `leave:read`); a caller
  without it gets a 403 naming it, on `POST /exports` and again on `GET /exports/{id}` (the download),
  so an export is never handed to someone who could not have made it.
- What: `month` (YYYY-MM) belongs to the payroll register and is required there; `year` to leave and
  defaults to the tenant's current leave year; either on another kind is a 422 naming the field. The
  payroll register is the month's run that is not rejected (draft, approved or processed: at most one
  per month), pinned when the export is requested (`payrollRunId`); a month without one is a 422 on
  `month`. Every check happens before any write.
- The job row (`queued`) and its `export.requested` event are written in one transaction: the worker
  hears of every job that exists and of no other (`hrms.outbox`).
- A job still `running` `RUN_DEADLINE` after it started has died with its worker: it reads as failed
  (and the worker records it so on a redelivery of its message).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID, uuid4

from hrms.auth.permissions import held
from hrms.auth.policy import scope_of
from hrms.db import tenant_clock
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.documents.storage import download_url
from hrms.errors import Forbidden, Invalid, NotFound
from hrms.exports import repo
from hrms.exports.models import Export, ExportAccepted, NewExport
from hrms.exports.repo import ExportRow
from hrms.payroll.months import parse_month
from hrms.tenancy import Actor, Tenant

READ_PERMISSION = {"employees": "employees:read", "payroll-register": "payroll:read", "leave": "leave:read"}
PERIOD_FIELD = {"payroll-register": "month", "leave": "year"}  # the one period field a kind takes
RUN_DEADLINE = dt.timedelta(minutes=15)  # Lambda's longest timeout: no worker can still be at it
OVERDUE = "The export did not finish in time; request it again."


def create_export(tenant: Tenant, actor: Actor, new: NewExport) -> ExportAccepted:
    from hrms.outbox import EXPORT_REQUESTED, emit  # CreateExport's handler imports it at init; GetExport never

    _period_fields_fit(new)
    with tenant_tx(tenant, actor) as tx:
        _may_export(tx, actor, new.kind)
        period, run_id = _period(tx, new)
        job = repo.insert(
            tx,
            {
                "id": uuid4(),
                "kind": new.kind,
                "format": new.format,
                "period": period,
                "payroll_run_id": run_id,
                "requested_by": actor.user_uuid,
            },
        )
        emit(tx, EXPORT_REQUESTED, {"exportId": job.id})
    return ExportAccepted(export_id=job.id, status="queued")


def get_export(tenant: Tenant, actor: Actor, export_id: UUID) -> Export:
    with tenant_tx(tenant, actor) as tx:
        job = repo.get(tx, export_id)
        if job is None:
            raise NotFound("No such export.")
        _may_export(tx, actor, job.kind)
    return _export(job, dt.datetime.now(dt.UTC))


def _may_export(tx: TenantTx, actor: Actor, kind: str) -> None:
    """403 unless the caller reads this kind's data of everyone."""
    permission = READ_PERMISSION[kind]
    if scope_of(held(tx, actor), permission) != "all":
        raise Forbidden(
            f"Exporting {kind} needs the permission '{permission}' for every employee.", permission=permission
        )


def overdue(job: ExportRow, now: dt.datetime) -> bool:
    return job.status == "running" and job.started_at is not None and now - job.started_at > RUN_DEADLINE


def _export(job: ExportRow, now: dt.datetime) -> Export:
    late = overdue(job, now)
    name = job.object_key.rsplit("/", 1)[-1] if job.object_key else None
    url = download_url(job.object_key, name) if job.status == "succeeded" and job.object_key and name else None
    return Export(
        export_id=job.id,
        kind=job.kind,  # type: ignore[arg-type]
        format=job.format,  # type: ignore[arg-type]
        period=job.period,
        payroll_run_id=job.payroll_run_id,
        status="failed" if late else job.status,  # type: ignore[arg-type]
        row_count=job.row_count,
        file_name=name,
        download_url=url,
        failure=OVERDUE if late else job.failure,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _period_fields_fit(new: NewExport) -> None:
    """422 naming `month` / `year` when given to a kind that takes no such field, or missing where required."""
    errors: list[dict[str, Any]] = []
    for field in ("month", "year"):
        if getattr(new, field) is not None and PERIOD_FIELD.get(new.kind) != field:
            errors.append({"field": f"body.{field}", "type": "extra", "message": f"not used by a {new.kind} export"})
    if new.kind == "payroll-register" and new.month is None:
        errors.append({"field": "body.month", "type": "missing", "message": "required for a payroll-register export"})
    if errors:
        raise Invalid("The export's period does not fit its kind.", errors=errors)


def _period(tx: TenantTx, new: NewExport) -> tuple[str, UUID | None]:
    """The period the file covers (its name says it) and, for the payroll register, the run it shows."""
    if new.kind == "payroll-register":
        from hrms.payroll import repo as payroll  # lazy: one kind of export of three needs the payroll tables

        assert new.month is not None
        run = payroll.live_run(tx, parse_month(new.month))
        if run is None:
            raise Invalid(
                f"{new.month} has no payroll run to export (a rejected run does not count).",
                errors=[{"field": "body.month", "type": "no_run", "message": "the month has no payroll run"}],
            )
        return new.month, run.id
    if new.kind == "leave":
        return str(new.year if new.year is not None else _current_leave_year(tx)), None
    return tenant_clock.today(tx).isoformat(), None


def _current_leave_year(tx: TenantTx) -> int:
    from hrms.leave.balances import current_year  # lazy: the leave calendar reads settings from MongoDB

    return current_year(tx).year
