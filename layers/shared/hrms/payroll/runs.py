"""Payroll runs: process a month (draft) -> approve (approval engine) -> mark processed.

- One run per month: the partial unique index on `payroll_runs(month) WHERE status <> 'rejected'`
  makes a second run of the same month, concurrent or not, a 409 carrying the existing run id;
  a rejected run frees its month for a new run.
- Processing writes the run, every record and the first approval task in one transaction;
  the records come from one set-based statement (`hrms.payroll.calculation`, run by the repo).
  A month in which anyone's net pay would be negative is refused (422 naming them: `employeeIds`,
  one error per employee, the first 100 by employee code) before commit, so nothing of the run
  remains.
- Approval goes through the engine (workflow "payroll", hr_manager by default), so who may
  approve is the workflow's business; a rejection there is final for the run. Duties
  (`check_approver`, on every route that decides): the run's creator does not approve it (403
  `run-creator`, or 409 `no-other-approver` while nobody else could, so the run waits); nobody
  approves a run in which their own pay changed (403 `own-pay-changed`: their line differs from
  their line in the last processed run, or is new since; the tenant's first run has nothing to
  compare with). The final approval
  recomputes the month and refuses (409) a draft whose inputs changed since it was computed, so
  what is approved is what the records say.
- Only an approved run may be processed; a processed run and its records never change (the
  service refuses with a 409, and triggers refuse any other write). Processing snapshots what the
  run's payslips print and emits `payroll.processed` in its transaction (`hrms.payslips`).
- Run and status changes invalidate the month's stats and the dashboards; the stats are warmed
  again after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import asdict
from uuid import UUID, uuid4

import psycopg

from hrms.cache import views
from hrms.db import audit_log
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.errors import Conflict, Invalid, NotFound
from hrms.pagination import Page, decode_keyset, page_of
from hrms.payroll import repo, stats
from hrms.payroll.models import LineComponent, PayrollRecord, PayrollRun, RunStatus, Totals, parse_month
from hrms.payroll.repo import RecordRow, RunRow
from hrms.tenancy import Actor, Tenant

# Imported where used: the approval engine, the leave calendar and the outbox serve the writes of a run
# (process, approve, mark processed: their handler modules import them at init), not its reads.

ENTITY = "payroll"
RUN = repo.RUN
NAMED_AT_MOST = 100  # employees named in a refusal; `employeeCount` says how many there are


def process_payroll(tenant: Tenant, actor: Actor, month_text: str) -> PayrollRun:
    """Compute the month's draft run and open its approval, in one transaction."""
    from hrms.approvals import engine
    from hrms.leave.repo import calendar

    month = parse_month(month_text)
    with tenant_tx(tenant, actor) as tx:
        cal = calendar(tx)
        if month > cal.today().replace(day=1):
            raise Invalid(
                "Payroll cannot be run for a future month.",
                errors=[{"field": "body.month", "type": "future_month", "message": "a month not after this one"}],
            )
        run_id = _claim_month(tx, actor, month)
        task = engine.start(tx, ENTITY, run_id, None)
        run = repo.compute_and_write(tx, run_id, month, cal.weekend, task.id)
        _refuse_negative_net(tx, run_id, month)  # raising rolls back the run, its records and its task
        audit_log.record(tx, f"{RUN}.created", RUN, run_id, None, asdict(run))
        _invalidate_stats(tx, month)  # the dashboards: engine.start dropped them
    stats.warm(tenant, actor, month)
    return _run(run)


def list_runs(
    tenant: Tenant, actor: Actor, month: str | None, status: RunStatus | None, limit: int, cursor: str | None
) -> Page[PayrollRun]:
    """Newest month first (a rejected run before the re-run of its month)."""
    after = decode_keyset(cursor, dt.date.fromisoformat, UUID)
    the_month = parse_month(month) if month else None
    with tenant_tx(tenant, actor) as tx:
        rows = repo.runs_page(tx, the_month, status, (after[0], after[1]) if after else None, limit + 1)
    return page_of(rows, limit, lambda last: [last.month.isoformat(), str(last.id)], _run)


def get_run(tenant: Tenant, actor: Actor, run_id: UUID) -> PayrollRun:
    with tenant_tx(tenant, actor) as tx:
        return _run(_run_or_404(tx, run_id))


def list_records(
    tenant: Tenant, actor: Actor, run_id: UUID, department_id: UUID | None, limit: int, cursor: str | None
) -> Page[PayrollRecord]:
    """The run's per-employee lines by employee code, optionally of one department."""
    after = decode_keyset(cursor, str)
    with tenant_tx(tenant, actor) as tx:
        _run_or_404(tx, run_id)
        rows = repo.records_page(tx, run_id, department_id, after[0] if after else None, limit + 1)
    return page_of(rows, limit, lambda last: [last.employee_code], _record)


def approve(tenant: Tenant, actor: Actor, run_id: UUID, comment: str | None) -> PayrollRun:
    """Approve the run's pending approval task; the last step's approval makes the run approved."""
    from hrms.approvals import engine
    from hrms.approvals.models import DecisionIn

    with tenant_tx(tenant, actor) as tx:
        run = _run_or_404(tx, run_id)
        task = engine.open_task(tx, ENTITY, run_id)
        if task is None:
            raise Conflict(f"This payroll run is {run.status}, not awaiting approval.", runStatus=run.status)
        engine.decide(tx, task.id, DecisionIn(decision="approve", comment=comment))
        run = _run_or_404(tx, run_id)
    return _run(run)


def mark_processed(tenant: Tenant, actor: Actor, run_id: UUID) -> PayrollRun:
    """approved -> processed (paid out): final, nothing about the run changes afterwards."""
    from hrms.outbox import PAYROLL_PROCESSED

    with tenant_tx(tenant, actor) as tx:
        run = _run_or_404(tx, run_id, for_update=True)
        if run.status != "approved":
            raise Conflict(
                f"Only an approved payroll run can be processed; this one is {run.status}.", runStatus=run.status
            )
        run = repo.update_run(tx, run_id, {"status": "processed", "processed_at": _now()})
        _invalidate_stats(tx, run.month)
        # Snapshots what the payslips print (hrms.payslips), emits payroll.processed for the PayslipWorker,
        # and drops the dashboards (the payroll trend shows the status, every employee's the payslip).
        payload = {"payrollRunId": run_id, "month": f"{run.month:%Y-%m}"}
        declare(tx, Change("payroll_processed", everyone=True, event=PAYROLL_PROCESSED, payload=payload))
    stats.warm(tenant, actor, run.month)
    return _run(run)


# ---------------------------------------------------------------- the approval engine's side


def check_approver(tx: TenantTx, run_id: UUID, approver_role: str | None) -> None:
    """The payroll duties of whoever decides the run's task (its step's `approver_role`; see the module docstring)."""
    from hrms.auth import duties
    from hrms.auth.scope import caller_employee_id

    actor = tx.actor
    if actor is None:
        return
    run = _run_or_404(tx, run_id)
    if run.created_by is not None and run.created_by == actor.user_uuid:
        if not repo.another_approver_exists(tx, run.created_by, approver_role):
            raise duties.waits_for_another(
                "Nobody but the creator of this payroll run could approve it: it waits until another"
                " user with the approving role and payroll:approve (or an admin) exists."
            )
        raise duties.refuse("run-creator", "The creator of a payroll run cannot approve it.")
    me = caller_employee_id(tx, actor)
    if me is not None and _own_pay_changed(tx, run, me):
        raise duties.refuse("own-pay-changed", "Your own pay changed in this run: another approver must decide.")


def _own_pay_changed(tx: TenantTx, run: RunRow, employee_id: UUID) -> bool:
    """The caller's line in `run` is new or differs from their line of the last processed run before it."""
    pay = repo.pay_comparison(tx, run, employee_id)
    if pay is None or not pay.comparable:
        return False
    return (pay.gross, pay.deductions, pay.net) != (pay.b_gross, pay.b_deductions, pay.b_net)


def finalise(tx: TenantTx, run_id: UUID, outcome: str) -> str:
    """The workflow's final decision: draft -> approved or rejected."""
    from hrms.leave.repo import calendar

    run = _run_or_404(tx, run_id, for_update=True)
    if run.status != "draft":
        raise Conflict(f"This payroll run is already {run.status}.", runStatus=run.status)
    if outcome == "approved" and not _is_current(tx, run, calendar(tx).weekend):
        raise Conflict(
            "Salaries, employment or leave of this month changed after the draft was computed:"
            " reject it and run the month again.",
            runStatus="stale",
        )
    changes: dict[str, object] = {"status": outcome}
    if outcome == "approved":
        changes["approved_at"] = _now()
    repo.update_run(tx, run_id, changes)
    _invalidate_stats(tx, run.month)  # the dashboards: engine.decide drops them after this
    return outcome


def _is_current(tx: TenantTx, run: RunRow, weekend: Collection[int]) -> bool:
    """Whether computing the month now gives exactly the run's records (same people, days and amounts).

    The month is computed again under a savepoint that is rolled back, so nothing of it remains.
    """
    stored = repo.fingerprint(tx, run.id)
    fresh = None
    with tx.conn.transaction():  # a savepoint: psycopg.Rollback below undoes it and is swallowed
        scratch = repo.insert_scratch_run(tx, run.month)
        repo.compute_and_write(tx, scratch, run.month, weekend, None)
        fresh = repo.fingerprint(tx, scratch)
        raise psycopg.Rollback
    return stored == fresh


# ---------------------------------------------------------------- helpers


def _claim_month(tx: TenantTx, actor: Actor, month: dt.date) -> UUID:
    """Insert the month's run row, or 409 with the run that holds the month (waits for a concurrent one)."""
    run_id = uuid4()
    if repo.claim_month(tx, run_id, month, actor.user_uuid):
        return run_id
    existing = repo.live_run(tx, month)
    raise Conflict(
        f"Payroll for {month:%Y-%m} has already been run.",
        payrollRunId=str(existing.id) if existing else None,
        runStatus=existing.status if existing else None,
    )


def _refuse_negative_net(tx: TenantTx, run_id: UUID, month: dt.date) -> None:
    short = repo.negative_lines(tx, run_id, NAMED_AT_MOST)
    if not short:
        return
    count = short[0].total
    raise Invalid(
        f"Net pay for {month:%Y-%m} would be negative for {count} employee(s): their deductions exceed"
        " their earnings. Correct their salary or salary structure, then run the month again.",
        errors=[
            {
                "field": "employeeId",
                "type": "negative_net_pay",
                "message": f"{line.employee_code} {line.employee_name}: net pay would be {line.net}"
                f" (earnings {line.gross}, deductions {line.deductions})",
                "employeeId": str(line.employee_id),
                "employeeCode": line.employee_code,
            }
            for line in short
        ],
        employeeIds=[str(line.employee_id) for line in short],
        employeeCount=count,
    )


def _invalidate_stats(tx: TenantTx, month: dt.date) -> None:
    views.invalidate(tx, stats.NAMESPACE, [stats.cache_key(tx.tenant.tenant_id, month)])


def _run_or_404(tx: TenantTx, run_id: UUID, *, for_update: bool = False) -> RunRow:
    run = repo.run(tx, run_id, for_update=for_update)
    if run is None:
        raise NotFound("No such payroll run.")
    return run


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _run(row: RunRow) -> PayrollRun:
    return PayrollRun(
        payroll_run_id=row.id,
        month=f"{row.month:%Y-%m}",
        status=row.status,
        employee_count=row.employee_count,
        totals=Totals(gross=row.total_gross, deductions=row.total_deductions, net=row.total_net),
        approval_id=row.approval_id,
        created_at=row.created_at,
        approved_at=row.approved_at,
        processed_at=row.processed_at,
    )


def _record(row: RecordRow) -> PayrollRecord:
    return PayrollRecord(
        payroll_record_id=row.id,
        payroll_run_id=row.payroll_run_id,
        employee_id=row.employee_id,
        employee_code=row.employee_code,
        employee_name=row.employee_name,
        department_id=row.department_id,
        month=f"{row.month:%Y-%m}",
        paid_days=row.paid_days,
        gross=row.gross,
        deductions=row.deductions,
        net=row.net,
        components=[LineComponent.model_validate(c) for c in row.components],
    )
