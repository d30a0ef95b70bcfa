"""The PayslipWorker's work for one `payroll.processed` event: render and store every payslip of the run.

    from hrms.outbox.consumer import consume
    from hrms.payslips.worker import handle

    def handler(event, context):
        return consume(event, context, lambda tenant, envelope: handle(tenant, envelope, budget_of(context)))

- From the snapshot only (`payslip_runs`, `payslip_lines`, written when the run was processed), never
  from live employee or settings data: a processed run's payslips are immutable.
- In batches of `BATCH` lines without a stored file, by employee code: each batch is rendered and
  uploaded by `UPLOADERS` threads (S3 latency, not rendering, is the cost), then recorded
  (`payslips` rows) with one `payslip.ready` event per employee in one transaction. Memory holds one
  batch, whatever the run's size.
- Idempotent: a line with a file record is done; a record is written once (`ON CONFLICT DO NOTHING`) and
  only the delivery whose record was written emits that employee's `payslip.ready`. A redelivered or
  duplicated event renders what is still missing and nothing twice (the PDF is deterministic: two
  concurrent deliveries upload the same bytes to the same key).
- Resumable: the work stops when the invocation's time budget (its remaining time less a margin) runs
  short, and emits the same `payroll.processed` event again for the rest; the next delivery carries on
  where this one stopped. A 10,000-employee run takes about a minute (benchmarks/payslips.py), far
  inside Lambda's 15 minutes; beyond that, it simply takes several invocations.
- An event of a run that was never snapshotted (not processed) is logged and dropped.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from uuid import UUID

from hrms.db.postgres import tenant_tx
from hrms.observability import logger
from hrms.outbox import PAYROLL_PROCESSED, PAYSLIP_READY, emit
from hrms.outbox.envelope import Envelope
from hrms.payslips import repo, storage
from hrms.payslips.render import Line, Payslip, render
from hrms.payslips.repo import NewFile, SlipLineRow, SlipRunRow
from hrms.tenancy import Actor, Tenant

WORKER = "payslip-worker"
SYSTEM_ROLE = "system"
BATCH = 200
UPLOADERS = 8
MARGIN_S = 30.0  # left of an invocation's time when it stops and hands the rest on


def handle(tenant: Tenant, envelope: Envelope, budget_s: float | None = None) -> None:
    run_id = UUID(str(envelope.payload["payrollRunId"]))
    actor = Actor(WORKER, SYSTEM_ROLE, tenant)
    stop_at = None if budget_s is None else time.monotonic() + budget_s
    with tenant_tx(tenant, actor) as tx:
        header = repo.run_header(tx, run_id)
    if header is None:
        logger.warning("payroll.processed of a run without a payslip snapshot; dropped", extra={"runId": str(run_id)})
        return
    rendered, after = 0, None
    with ThreadPoolExecutor(max_workers=UPLOADERS, thread_name_prefix="payslip") as pool:
        while True:
            if stop_at is not None and time.monotonic() > stop_at:
                _continue_later(tenant, actor, header)
                break
            with tenant_tx(tenant, actor) as tx:
                batch = repo.unrendered(tx, run_id, after, BATCH)
            if not batch:
                break
            files = list(pool.map(lambda line: _store(tenant, header, line), batch))
            with tenant_tx(tenant, actor) as tx:
                for employee_id in repo.record_files(tx, run_id, files):
                    ready = {"payrollRunId": run_id, "employeeId": employee_id, "month": _month(header)}
                    emit(tx, PAYSLIP_READY, ready)
            rendered += len(files)
            after = (batch[-1].employee_code, batch[-1].employee_id)
    logger.info("Payslips stored", extra={"runId": str(run_id), "rendered": rendered})


def payslip(header: SlipRunRow, line: SlipLineRow) -> Payslip:
    """What the PDF of `line` prints: the snapshot, nothing else."""
    return Payslip(
        payroll_run_id=str(header.payroll_run_id),
        employee_id=str(line.employee_id),
        month=header.month,
        company_name=header.company_name,
        currency=header.currency,
        processed_at=header.processed_at,
        employee_name=line.employee_name,
        employee_code=line.employee_code,
        department=line.department,
        designation=line.designation,
        pan_masked=line.pan_masked,
        paid_days=line.paid_days,
        unpaid_days=line.unpaid_days,
        days_in_month=line.days_in_month,
        gross=line.gross,
        deductions=line.deductions,
        net=line.net,
        lines=tuple(Line(str(c["name"]), str(c["kind"]), Decimal(str(c["amount"]))) for c in line.components),
    )


def regenerate(tenant: Tenant, run_id: UUID, employee_id: UUID) -> tuple[str, bytes] | None:
    """The key and bytes of one payslip rendered again from its snapshot (None without a snapshot)."""
    with tenant_tx(tenant) as tx:
        header = repo.run_header(tx, run_id)
        line = repo.line(tx, run_id, employee_id) if header else None
    if header is None or line is None:
        return None
    return storage.object_key(tenant.tenant_id, header.month, employee_id), render(payslip(header, line))


def budget_of(context: Any) -> float | None:
    """The seconds an invocation may spend before handing the rest on (None: no limit known)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return None if remaining is None else max(1.0, remaining() / 1000 - MARGIN_S)


def _store(tenant: Tenant, header: SlipRunRow, line: SlipLineRow) -> NewFile:
    body = render(payslip(header, line))
    digest = hashlib.sha256(body).hexdigest()
    key = storage.object_key(tenant.tenant_id, header.month, line.employee_id)
    storage.put(key, body, digest)
    return NewFile(line.employee_id, key, len(body), digest)


def _continue_later(tenant: Tenant, actor: Actor, header: SlipRunRow) -> None:
    with tenant_tx(tenant, actor) as tx:
        emit(tx, PAYROLL_PROCESSED, {"payrollRunId": header.payroll_run_id, "month": _month(header)})
    logger.info("Payslip run handed on to a next invocation", extra={"runId": str(header.payroll_run_id)})


def _month(header: SlipRunRow) -> str:
    return f"{header.month:%Y-%m}"
