"""Payslips through the local gateway and the local queue: process a run over HTTP, the PayslipWorker picks
`payroll.processed` up from the template's PayslipQueue (the e2e runtime polls its SQS event sources),
then the employee lists and downloads their payslip and the PDF parses; someone else's is 404, and a run
that is not processed has no payslip (409)."""

from __future__ import annotations

import io
import time
from typing import Any

import httpx
from pypdf import PdfReader

from tests.e2e.http_world import STRUCTURE, Org

PROBLEM = "application/problem+json"
PAN = "ABCDE1234F"


def _payslips(org: Org, employee: str, token: str | None = None) -> httpx.Response:
    return org.call("GET", f"/employees/{employee}/payslips", token)


def _ready(org: Org, employee: str, token: str) -> list[dict[str, Any]]:
    """The employee's payslips once the worker has stored them (polled: the queue is asynchronous)."""
    deadline = time.monotonic() + 60
    while True:
        response = _payslips(org, employee, token)
        assert response.status_code == 200, response.text
        found = response.json()
        if (found and all(p["downloadUrl"] for p in found)) or time.monotonic() > deadline:
            assert response.headers["cache-control"] == "no-store"  # it carries presigned URLs
            return list(found)
        time.sleep(0.25)


def _pdf_text(url: str) -> str:
    download = httpx.get(url)
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(download.content)).pages)


def test_a_processed_run_gives_each_employee_a_payslip_to_list_and_download(org: Org) -> None:
    assert org.call("PATCH", f"/employees/{org.employee}", json={"pan": PAN}).status_code == 200
    structure = org.call("POST", "/salary-structures", json=STRUCTURE).json()["salaryStructureId"]
    for employee in (org.manager, org.employee):
        body = {"salaryStructureId": structure, "annualCtc": "600000.00", "effectiveFrom": "2024-01-01"}
        assert org.call("POST", f"/employees/{employee}/salaries", json=body).status_code == 201
    created = org.call("POST", "/payroll/runs", org.hr_token, json={"month": "2026-02"})
    assert created.status_code == 201, created.text
    run = created.json()["payrollRunId"]
    mine = f"/payroll/runs/{run}/payslips/{org.employee}"

    # not processed: no payslip (409 naming the run's status), and none listed
    for step in ("draft", "approved"):
        refused = org.call("GET", mine, org.employee_token)
        assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
        assert refused.json()["runStatus"] == step
        assert _payslips(org, org.employee, org.employee_token).json() == []
        if step == "draft":
            assert org.call("POST", f"/payroll/runs/{run}/approve", json={}).status_code == 200
    assert org.call("POST", f"/payroll/runs/{run}/process").status_code == 200

    [slip] = _ready(org, org.employee, org.employee_token)
    # Monthly CTC 50,000: basic 25,000 + HRA 10,000 = 35,000 gross, PF 3,000, net 32,000.
    assert {k: slip[k] for k in ("payrollRunId", "month", "gross", "deductions", "net")} == {
        "payrollRunId": run,
        "month": "2026-02",
        "gross": "35000.00",
        "deductions": "3000.00",
        "net": "32000.00",
    }
    text = _pdf_text(slip["downloadUrl"])
    assert "Net pay (INR) 32,000.00" in text and "XXXXX1234X" in text and PAN not in text

    one = org.call("GET", mine, org.employee_token)
    assert one.status_code == 200 and one.headers["cache-control"] == "no-store"
    assert "32,000.00" in _pdf_text(one.json()["downloadUrl"])
    assert org.call("GET", mine, org.hr_token).status_code == 200  # payroll readers read everyone's

    # someone else's payslip is not found: the employee's own manager's, and the manager's report's
    theirs = f"/payroll/runs/{run}/payslips/{org.manager}"
    for path, token in (
        (theirs, org.employee_token),
        (f"/employees/{org.manager}/payslips", org.employee_token),
        (mine, org.manager_token),  # a manager reads a report's leave, not their pay
        (f"/employees/{org.employee}/payslips", org.manager_token),
    ):
        response = org.call("GET", path, token)
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM, (path, response.text)
    assert len(_ready(org, org.manager, org.manager_token)) == 1  # the manager's own


def test_a_payslip_of_an_unknown_run_or_a_malformed_id_is_not_found(org: Org) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for path in (
        f"/payroll/runs/{unknown}/payslips/{org.employee}",
        f"/payroll/runs/not-a-uuid/payslips/{org.employee}",
        "/employees/not-a-uuid/payslips",
    ):
        response = org.call("GET", path)
        assert response.status_code == 404, (path, response.text)
    bad_year = _payslips(org, org.employee, None).request.url.copy_add_param("year", "99999")
    assert org.client.get(bad_year, headers={"Authorization": f"Bearer {org.admin}"}).status_code == 422
