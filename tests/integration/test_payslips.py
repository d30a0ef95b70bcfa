"""Payslips against the embedded stack: the snapshot taken when a run is processed, the worker (S3 in moto),
idempotence and hand-over, immutability, and the reads with their scope rules.

March 2026 (31 days). The standard structure on a CTC of 12,00,000 pays 70,000 gross, 5,000 deductions,
65,000 net for a full month (tests/integration/test_payroll.py).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from psycopg import sql
from pypdf import PdfReader

from hrms import aws
from hrms.config import settings
from hrms.employees import service as employees
from hrms.employees.models import EmployeePatch
from hrms.errors import Conflict, NotFound
from hrms.outbox.envelope import Envelope
from hrms.payroll import runs
from hrms.payslips import service, worker
from tests.integration.leave_world import World
from tests.integration.test_payroll import Payroll

MONTH = "2026-03"


class Slips:
    """A processed March 2026 with two employees: `asha` (PAN on file, half a day of unpaid leave) and `ravi`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.payroll = Payroll(world)
        self.asha = self.payroll.hire()
        self.ravi = self.payroll.hire()
        world.query(
            sql.SQL("UPDATE {} SET pan_masked = 'XXXXX1234X', first_name = 'Asha' WHERE id = %s").format(
                world.t("employees")
            ),
            (self.asha,),
        )
        unpaid = world.type_id("unpaid")
        world.query(
            sql.SQL(
                "INSERT INTO {} (employee_id, leave_type_id, start_date, end_date, half_day, days, balance_year,"
                " status) VALUES (%s, %s, '2026-03-03', '2026-03-03', 'first', 0.5, 2026, 'approved')"
            ).format(world.t("leaves")),
            (self.asha, unpaid),
        )
        self.run = self.payroll.run(MONTH)
        self.run_id = self.run.payroll_run_id

    def process(self) -> None:
        runs.approve(self.world.tenant, self.world.admin, self.run_id, None)
        runs.mark_processed(self.world.tenant, self.world.admin, self.run_id)

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return self.world.query(
            sql.SQL(
                "SELECT event_id, event_type, payload, created_at FROM {} WHERE event_type = %s ORDER BY id"
            ).format(self.world.t("outbox")),
            (event_type,),
        )

    def envelope(self) -> Envelope:
        row = self.events("payroll.processed")[-1]
        tenant_id = self.world.tenant.tenant_id
        return Envelope(row["event_id"], row["event_type"], tenant_id, row["created_at"], row["payload"])

    def files(self) -> list[dict[str, Any]]:
        return self.world.query(
            sql.SQL("SELECT employee_id, object_key, size_bytes, sha256 FROM {} ORDER BY employee_id").format(
                self.world.t("payslips")
            )
        )


@pytest.fixture
def slips(world: World) -> Slips:
    return Slips(world)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _stored(key: str) -> dict[str, Any]:
    found: dict[str, Any] = aws.client("s3").get_object(Bucket=settings().documents_bucket, Key=key)
    return found


def test_processing_snapshots_the_payslips_and_emits_payroll_processed_in_its_transaction(slips: Slips) -> None:
    assert slips.events("payroll.processed") == []
    slips.process()

    [event] = slips.events("payroll.processed")
    assert event["payload"] == {"payrollRunId": str(slips.run_id), "month": MONTH}
    lines = slips.world.query(
        sql.SQL(
            "SELECT employee_id, employee_name, department, designation, pan_masked, paid_days, unpaid_days,"
            " days_in_month, gross, deductions, net FROM {} WHERE payroll_run_id = %s"
        ).format(slips.world.t("payslip_lines")),
        (slips.run_id,),
    )
    asha = next(line for line in lines if line["employee_id"] == slips.asha)
    assert len(lines) == 2
    assert (asha["employee_name"], asha["department"], asha["designation"], asha["pan_masked"]) == (
        "Asha Rao",
        "Engineering",
        "Engineer",
        "XXXXX1234X",
    )
    assert (asha["paid_days"], asha["unpaid_days"], asha["days_in_month"]) == (Decimal("30.5"), Decimal("0.5"), 31)
    [header] = slips.world.query(
        sql.SQL("SELECT company_name, currency, employee_count FROM {}").format(slips.world.t("payslip_runs"))
    )
    assert header["currency"] == "INR" and header["employee_count"] == 2 and header["company_name"]


def test_a_run_that_fails_to_process_leaves_no_snapshot_and_no_event(slips: Slips) -> None:
    with pytest.raises(Conflict):  # a draft cannot be processed
        runs.mark_processed(slips.world.tenant, slips.world.admin, slips.run_id)
    assert slips.events("payroll.processed") == []
    assert slips.world.query(sql.SQL("SELECT count(*) AS n FROM {}").format(slips.world.t("payslip_lines"))) == [
        {"n": 0}
    ]


def test_the_worker_stores_one_encrypted_pdf_per_employee_and_emits_payslip_ready_once(slips: Slips) -> None:
    slips.process()
    worker.handle(slips.world.tenant, slips.envelope())

    files = slips.files()
    assert sorted(f["employee_id"] for f in files) == sorted([slips.asha, slips.ravi])
    asha = next(f for f in files if f["employee_id"] == slips.asha)
    assert asha["object_key"] == f"tenants/{slips.world.tenant.tenant_id}/payslips/{MONTH}/{slips.asha}.pdf"
    stored = _stored(asha["object_key"])
    body = stored["Body"].read()
    assert stored["ServerSideEncryption"] == "aws:kms" and stored["ContentType"] == "application/pdf"
    assert (len(body), stored["Metadata"]["sha256"]) == (asha["size_bytes"], asha["sha256"])
    text = _text(body)
    net = slips.payroll.records(slips.run_id)[slips.asha].net  # 30.5 of 31 days paid
    assert net == Decimal("63951.62") and "Net pay (INR) 63,951.62" in text
    assert "XXXXX1234X" in text and "Unpaid leave days 0.5" in text and "Paid days 30.5" in text
    ready = [e["payload"] for e in slips.events("payslip.ready")]
    assert sorted(r["employeeId"] for r in ready) == sorted([str(slips.asha), str(slips.ravi)])
    assert {r["month"] for r in ready} == {MONTH}

    # a redelivered event renders nothing twice and tells nobody twice
    worker.handle(slips.world.tenant, slips.envelope())
    assert slips.files() == files and len(slips.events("payslip.ready")) == 2


def test_a_worker_out_of_time_hands_the_rest_on_with_the_same_event(slips: Slips) -> None:
    slips.process()
    worker.handle(slips.world.tenant, slips.envelope(), budget_s=0)
    assert slips.files() == []
    handed_on = slips.events("payroll.processed")
    assert len(handed_on) == 2 and handed_on[1]["payload"] == handed_on[0]["payload"]
    worker.handle(slips.world.tenant, slips.envelope())
    assert len(slips.files()) == 2


def test_a_processed_runs_payslips_do_not_change_when_the_employee_does(slips: Slips) -> None:
    slips.process()
    worker.handle(slips.world.tenant, slips.envelope())
    key = next(f["object_key"] for f in slips.files() if f["employee_id"] == slips.asha)
    before = _stored(key)["Body"].read()

    world = slips.world
    [moved] = world.query(
        sql.SQL("INSERT INTO {} (name, code) VALUES ('Finance', 'FIN') RETURNING id").format(world.t("departments"))
    )
    patch = EmployeePatch.model_validate({"firstName": "Renamed", "departmentId": str(moved["id"]), "pan": None})
    employees.update_employee(world.tenant, world.admin, "all", slips.asha, patch)
    world.query(sql.SQL("UPDATE public.tenants SET name = 'Renamed Co' WHERE id = %s"), (world.tenant.tenant_id,))

    regenerated = worker.regenerate(world.tenant, slips.run_id, slips.asha)
    assert regenerated is not None
    assert regenerated == (key, before)  # same key, same bytes
    text = _text(regenerated[1])
    assert "Asha Rao" in text and "Engineering" in text and "XXXXX1234X" in text
    assert "Renamed" not in text and "Finance" not in text
    with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
        world.query(sql.SQL("UPDATE {} SET employee_name = 'x'").format(world.t("payslip_lines")))


def test_an_employee_lists_their_own_payslips_of_processed_runs_only(slips: Slips) -> None:
    world = slips.world
    me = world.user(slips.asha, "employee")
    assert service.list_payslips(world.tenant, me, "self", slips.asha, None) == []  # a draft has none
    slips.process()
    [preparing] = service.list_payslips(world.tenant, me, "self", slips.asha, None)
    assert preparing.download_url is None and preparing.month == MONTH and preparing.payroll_run_id == slips.run_id
    with pytest.raises(Conflict) as early:
        service.get_payslip(world.tenant, me, "self", slips.run_id, slips.asha)
    assert early.value.extra == {"payslipStatus": "preparing"}

    worker.handle(world.tenant, slips.envelope())
    [ready] = service.list_payslips(world.tenant, me, "self", slips.asha, 2026)
    assert (ready.gross, ready.deductions) == (preparing.gross, preparing.deductions) and ready.download_url
    assert service.list_payslips(world.tenant, me, "self", slips.asha, 2025) == []
    url = service.get_payslip(world.tenant, me, "self", slips.run_id, slips.asha).download_url
    download = httpx.get(url)
    assert download.status_code == 200 and "XXXXX1234X" in _text(download.content)

    with pytest.raises(NotFound):  # another employee's, even with the run id
        service.get_payslip(world.tenant, me, "self", slips.run_id, slips.ravi)
    with pytest.raises(NotFound):
        service.list_payslips(world.tenant, me, "self", slips.ravi, None)
    hr = world.user(None, "hr_manager")
    assert len(service.list_payslips(world.tenant, hr, "all", slips.ravi, None)) == 1


def test_a_run_that_is_not_processed_has_no_payslip(slips: Slips) -> None:
    world = slips.world
    with pytest.raises(Conflict) as draft:
        service.get_payslip(world.tenant, world.admin, "all", slips.run_id, slips.asha)
    assert draft.value.extra == {"runStatus": "draft"}
    runs.approve(world.tenant, world.admin, slips.run_id, None)
    with pytest.raises(Conflict) as approved:
        service.get_payslip(world.tenant, world.admin, "all", slips.run_id, slips.asha)
    assert approved.value.extra == {"runStatus": "approved"}
    with pytest.raises(NotFound):
        service.get_payslip(world.tenant, world.admin, "all", UUID(int=5), slips.asha)
    someone = slips.payroll.hire(joined="2026-04-01")  # no line in March
    runs.mark_processed(world.tenant, world.admin, slips.run_id)
    with pytest.raises(NotFound):
        service.get_payslip(world.tenant, world.admin, "all", slips.run_id, someone)


def test_the_dashboard_lists_processed_payslips_only(slips: Slips) -> None:
    from hrms.dashboards import service as dashboards

    world = slips.world
    runs.approve(world.tenant, world.admin, slips.run_id, None)
    assert dashboards.employee_dashboard(world.tenant, world.admin, "all", slips.asha).payslips == []
    runs.mark_processed(world.tenant, world.admin, slips.run_id)
    [shown] = dashboards.employee_dashboard(world.tenant, world.admin, "all", slips.asha).payslips or []
    assert (shown.month, shown.status) == (MONTH, "processed")
