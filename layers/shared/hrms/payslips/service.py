"""Reading payslips: an employee's list, and one payslip's download.

Rules:
- Who: `payslips:read` (admitted by the route); an employee always reads their own without any grant
  (`free_for_self`). The employee must be inside the caller's scope (`all`, `team`: reporting line,
  `self`), otherwise 404 as for the employee record: no existence oracle.
- What: payslips exist for processed runs only (a draft or approved run may still change). The list
  holds the employee's payslips of processed runs, newest month first, optionally of one calendar
  year, each with a presigned download once its PDF is stored (null while it is being prepared).
- One payslip: 404 for a run that does not exist or in which the employee has no line; 409 for a run
  that is not processed (`runStatus`); 409 with `payslipStatus: preparing` while its PDF is not yet
  stored (the PayslipWorker renders a run's payslips within seconds to minutes of processing: ask again).
"""

from __future__ import annotations

from uuid import UUID

from hrms.auth.scope import visible
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.documents.storage import download_url
from hrms.employees import repo as employees
from hrms.errors import Conflict, NotFound
from hrms.payslips import repo
from hrms.payslips.models import PayslipDownload, PayslipSummary
from hrms.tenancy import Actor, Tenant


def list_payslips(
    tenant: Tenant, actor: Actor, scope: str, employee_id: UUID, year: int | None
) -> list[PayslipSummary]:
    with tenant_tx(tenant, actor) as tx:
        _employee_in_scope(tx, actor, scope, employee_id)
        found = repo.summaries(tx, employee_id, year)
    return [
        PayslipSummary(
            payroll_run_id=row.payroll_run_id,
            month=f"{row.month:%Y-%m}",
            gross=row.gross,
            deductions=row.deductions,
            net=row.net,
            download_url=_url(row.object_key) if row.object_key else None,
        )
        for row in found
    ]


def get_payslip(tenant: Tenant, actor: Actor, scope: str, run_id: UUID, employee_id: UUID) -> PayslipDownload:
    with tenant_tx(tenant, actor) as tx:
        _employee_in_scope(tx, actor, scope, employee_id)
        run = repo.run_state(tx, run_id)
        if run is None:
            raise NotFound("No such payroll run.")
        if run.status != "processed" or not run.snapshotted:
            raise Conflict(
                f"This payroll run is {run.status}: only a processed run has payslips.", runStatus=run.status
            )
        if repo.line(tx, run_id, employee_id) is None:
            raise NotFound("This employee has no payslip in this payroll run.")
        stored = repo.file_of(tx, run_id, employee_id)
    if stored is None:
        raise Conflict("This payslip is being prepared; ask again shortly.", payslipStatus="preparing")
    return PayslipDownload(download_url=_url(stored.object_key))


def _employee_in_scope(tx: TenantTx, actor: Actor, scope: str, employee_id: UUID) -> None:
    if employees.find(tx, employee_id, visible(tx, scope, actor)) is None:
        raise NotFound("No such employee.")


def _url(key: str) -> str:
    return download_url(key, f"payslip-{key.rsplit('/', 2)[-2]}.pdf")
