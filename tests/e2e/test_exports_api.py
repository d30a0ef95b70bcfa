"""Exports through the local gateway: POST /exports, the worker, GET /exports/{id}, and the presigned
download (moto) parsed back, for every kind in both formats; who may export; another tenant's id.

The worker is handed the `export.requested` event of the job's outbox row (`hrms.exports.worker.handle`,
what ExportWorkerFunction does with the queue's message) and the test then polls GET /exports/{id}, so
it holds whether or not the local runtime also runs the SQS poller: only one of them claims the job.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import openpyxl
import pytest

from hrms.auth import tokens
from hrms.auth.users import find_user_by_email
from hrms.exports import worker
from hrms.outbox.envelope import Envelope
from hrms.tenancy import PLATFORM_ADMIN, Actor, Tenant
from hrms.tenants import service
from hrms.tenants.models import NewTenant
from tests.conftest import bearer
from tests.e2e.http_world import STRUCTURE, Org, usable

PHONE = "+91 98765 43210"
HOSTILE = '=HYPERLINK("http://evil.example","click")'


def _start(org: Org, token: str | None = None, **body: Any) -> str:
    response = org.call("POST", "/exports", token, json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    return str(accepted["exportId"])


def _finished(org: Org, export_id: str) -> dict[str, Any]:
    rows = org.sql(
        "SELECT event_id, event_type, payload, created_at FROM {} WHERE payload->>'exportId' = %s",
        "outbox",
        (export_id,),
    )
    row = rows[0]
    tenant = Tenant(org.tenant.tenant_id, org.tenant.schema_name)
    worker.handle(
        tenant, Envelope(row["event_id"], row["event_type"], tenant.tenant_id, row["created_at"], row["payload"])
    )
    deadline = time.monotonic() + 30
    while True:
        response = org.call("GET", f"/exports/{export_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            assert response.headers["cache-control"] == "no-store"  # it carries a presigned URL
            return dict(job)
        time.sleep(0.2)


def _rows(job: dict[str, Any], sheet: str | None = None) -> list[dict[str, Any]]:
    assert job["status"] == "succeeded", job
    download = httpx.get(job["downloadUrl"])
    assert download.status_code == 200
    assert job["fileName"] in download.headers["content-disposition"]
    if job["format"] == "csv":
        found = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"), newline="")))
        return [r for r in found if sheet is None or r["section"] == sheet]
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    values = list(book[sheet or book.sheetnames[0]].iter_rows(values_only=True))
    header = [str(h) for h in values[0]]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def _text(job: dict[str, Any], value: Any) -> str:
    """A cell as text: CSV keeps decimals as written; an XLSX number is printed with two places."""
    return value if job["format"] == "csv" else f"{value:.2f}"


def _first_monday(year: int) -> dt.date:
    day = dt.date(year, 1, 5)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_each_kind_exports_downloads_and_parses_back(org: Org, file_format: str) -> None:
    org.hire(firstName=HOSTILE, phone=PHONE, pan="abcde1234f", aadhaar="2341 2341 2346")
    structure = org.call("POST", "/salary-structures", json=STRUCTURE).json()["salaryStructureId"]
    for employee in (org.manager, org.employee):
        body = {"salaryStructureId": structure, "annualCtc": "600000.00", "effectiveFrom": "2024-01-01"}
        assert org.call("POST", f"/employees/{employee}/salaries", json=body).status_code == 201
    assert org.call("POST", "/payroll/runs", json={"month": "2026-02"}).status_code == 201
    year = int(org.call("GET", f"/employees/{org.employee}/leave-balances").json()[0]["year"])
    start = _first_monday(year)
    leave = org.request(startDate=start.isoformat(), endDate=(start + dt.timedelta(days=1)).isoformat(), reason="@me")
    assert leave.status_code == 201, leave.text

    # employees: masked identifiers, formula-like text kept as text with its leading quote
    job = _finished(org, _start(org, kind="employees", format=file_format))
    people = {r["firstName"]: r for r in _rows(job)}
    assert job["rowCount"] == 3 and job["kind"] == "employees" and job["finishedAt"]
    row = people["'" + HOSTILE]
    assert (row["phone"], row["panMasked"], row["aadhaarMasked"]) == ("'" + PHONE, "XXXXX1234X", "XXXX-XXXX-2346")
    assert row["departmentCode"] == "ENG" and row["status"] == "active"

    # payroll register: one line per employee, a column per component, exact money
    job = _finished(org, _start(org, kind="payroll-register", month="2026-02", format=file_format))
    lines = _rows(job)
    assert job["rowCount"] == 2 and job["payrollRunId"] and job["fileName"] == f"payroll-register-2026-02.{file_format}"
    for line in lines:
        # Monthly CTC 50,000: basic 25,000 + HRA 10,000 = 35,000 gross, PF 3,000, net 32,000.
        assert [_text(job, line[k]) for k in ("basic (earning)", "hra (earning)", "pf (deduction)")] == [
            "25000.00",
            "10000.00",
            "3000.00",
        ]
        assert [_text(job, line[k]) for k in ("gross", "deductions", "net")] == ["35000.00", "3000.00", "32000.00"]

    # leave of the current leave year (the default): balances and requests
    job = _finished(org, _start(org, kind="leave", format=file_format))
    assert job["period"] == str(year)
    requests = _rows(job, "requests")
    assert [(r["status"], r["reason"], r["leaveType"]) for r in requests] == [("pending", "'@me", "annual")]
    balances = _rows(job, "balances")
    assert job["rowCount"] == len(balances) + 1
    code = org.call("GET", f"/employees/{org.employee}").json()["employeeCode"]
    annual = next(b for b in balances if (b["employeeCode"], b["leaveType"]) == (code, "annual"))
    assert [Decimal(str(annual[k])) for k in ("pending", "used")] == [2, 0]


def test_another_tenants_export_is_not_found(org: Org, client: httpx.Client, gateway: Any) -> None:
    export_id = _start(org, kind="employees", format="csv")
    slug = f"x-{uuid4().hex[:8]}"
    other = service.create_tenant(
        NewTenant(name="Other", slug=slug, admin_email=f"a@{slug}.example.com"), Actor("p", PLATFORM_ADMIN, None)
    )
    usable(other, gateway)
    admin = find_user_by_email(other.slug, other.admin_email)
    token = tokens.issue(str(admin.user_id), "admin", tid=str(other.tenant_id))
    response = client.get(f"/exports/{export_id}", headers=bearer(token))
    assert response.status_code == 404
    assert org.call("GET", f"/exports/{uuid4()}").status_code == 404
    assert org.call("GET", "/exports/not-a-uuid").status_code == 404


def test_who_may_export(org: Org) -> None:
    body = {"kind": "employees", "format": "xlsx"}
    for token in (org.employee_token, org.manager_token):
        refused = org.call("POST", "/exports", token, json=body)
        assert refused.status_code == 403 and refused.json()["permission"] == "exports:write"
    export_id = _start(org, org.hr_token, **body)  # HR holds exports:write by default
    assert org.call("GET", f"/exports/{export_id}", org.employee_token).status_code == 403

    # exports:write alone is not enough: a payroll register needs payroll:read for everyone
    org.sql(
        "UPDATE {} SET permissions = ARRAY['exports:write', 'employees:read'] WHERE role = 'manager'",
        "role_permissions",
    )
    refused = org.call(
        "POST", "/exports", org.manager_token, json={"kind": "payroll-register", "month": "2026-02", "format": "csv"}
    )
    assert refused.status_code == 403 and refused.json()["permission"] == "payroll:read"
    assert org.sql("SELECT count(*) AS n FROM {}", "exports")[0]["n"] == 1  # only HR's


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "salaries", "format": "csv"}, "body.kind"),
        ({"kind": "employees", "format": "pdf"}, "body.format"),
        ({"kind": "payroll-register", "format": "csv"}, "body.month"),
        ({"kind": "payroll-register", "format": "csv", "month": "2026-13"}, "body.month"),
        ({"kind": "payroll-register", "format": "csv", "month": "2020-01"}, "body.month"),  # no run that month
        ({"kind": "leave", "format": "csv", "year": "last"}, "body.year"),
        ({"kind": "leave", "format": "csv", "year": 20245}, "body.year"),
        ({"kind": "employees", "format": "csv", "year": 2024}, "body.year"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(org: Org, body: dict[str, Any], field: str) -> None:
    response = org.call("POST", "/exports", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert org.sql("SELECT count(*) AS n FROM {}", "exports")[0]["n"] == 0
    assert org.sql("SELECT count(*) AS n FROM {} WHERE event_type = 'export.requested'", "outbox")[0]["n"] == 0
