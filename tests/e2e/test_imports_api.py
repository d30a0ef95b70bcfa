"""Bulk import end to end: HTTP through the local gateway, the upload to S3 by its presigned URL, the
import.started event through the outbox and the local ImportQueue to the ImportWorker, then GET."""

from __future__ import annotations

import csv
import io
import secrets
import time
from typing import Any

import httpx
from psycopg import sql

from hrms.auth import tokens
from hrms.auth.users import find_user_by_email
from hrms.db.postgres import transaction
from hrms.imports.models import CSV, XLSX
from hrms.tenants import service as tenants
from hrms.tenants.models import NewTenant
from tests.e2e.http_world import STRUCTURE, Org
from tests.integration.import_files import EMPLOYEE_HEADER, csv_bytes, people, xlsx_bytes


def upload(org: Org, kind: str, content: bytes, content_type: str = CSV, token: str | None = None) -> str:
    body = {"kind": kind, "fileName": "file", "contentType": content_type, "sizeBytes": len(content)}
    created = org.call("POST", "/imports", token, json=body)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert set(answer) >= {"importId", "uploadUrl", "uploadHeaders", "expiresIn"}
    put = httpx.put(answer["uploadUrl"], content=content, headers=answer["uploadHeaders"])
    assert put.status_code == 200, put.text
    return str(answer["importId"])


def finished(org: Org, import_id: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = org.call("GET", f"/imports/{import_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"import {import_id} not finished after {timeout_s} s")


def imported(org: Org, kind: str, content: bytes, content_type: str = CSV) -> dict[str, Any]:
    import_id = upload(org, kind, content, content_type)
    started = org.call("POST", f"/imports/{import_id}/start", json={})
    assert started.status_code == 202 and started.json() == {"importId": import_id, "status": "queued"}
    return finished(org, import_id)


def employees(org: Org) -> int:
    return len(org.sql("SELECT id FROM {}", "employees"))


def test_200_employees_from_csv_and_from_xlsx(org: Org) -> None:
    before = employees(org)
    for content, content_type in (
        (csv_bytes(EMPLOYEE_HEADER, people(200, "csv.example.com")), CSV),
        (xlsx_bytes(EMPLOYEE_HEADER, people(200, "xlsx.example.com")), XLSX),
    ):
        job = imported(org, "employees", content, content_type)
        assert (job["status"], job["total"], job["succeeded"], job["failed"], job["errors"]) == (
            "succeeded",
            200,
            200,
            0,
            [],
        ), job
    assert employees(org) == before + 400
    found = org.call("GET", "/employees", params={"q": "p199@xlsx.example.com"}).json()["items"]
    assert [e["email"] for e in found] == ["p199@xlsx.example.com"]
    listed = org.call("GET", "/imports", params={"limit": 1}).json()
    assert len(listed["items"]) == 1 and listed["nextCursor"]


def test_one_bad_row_writes_nothing_and_names_that_row(org: Org) -> None:
    before = employees(org)
    rows = people(100)
    rows[41][5] = "2024-02-30"  # line 43: no such date
    job = imported(org, "employees", csv_bytes(EMPLOYEE_HEADER, rows))
    assert job["status"] == "failed" and job["failed"] == 1
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(43, "dateOfJoining")]
    assert employees(org) == before
    report = httpx.get(job["errorReportUrl"])
    assert [line[:2] for line in csv.reader(io.StringIO(report.text))] == [["row", "column"], ["43", "dateOfJoining"]]


def test_salaries_and_opening_balances_import(org: Org) -> None:
    assert org.call("POST", "/salary-structures", json=STRUCTURE).status_code == 201
    emails = [row["email"] for row in org.sql("SELECT email FROM {} ORDER BY email", "employees")]
    salaries = csv_bytes(
        ["employeeEmail", "salaryStructureName", "annualCtc", "effectiveFrom"],
        [[email, "Standard", "1200000", "2024-04-01"] for email in emails],
    )
    job = imported(org, "salaries", salaries)
    assert (job["status"], job["succeeded"]) == ("succeeded", len(emails)), job
    history = org.call("GET", f"/employees/{org.employee}/salaries").json()["items"]
    assert [(s["annualCtc"], s["effectiveFrom"]) for s in history] == [("1200000.00", "2024-04-01")]

    current = org.call("GET", f"/employees/{org.employee}/leave-balances").json()
    year = current[0]["year"]
    balances = csv_bytes(
        ["employeeEmail", "leaveTypeCode", "year", "days"], [[email, "annual", year, "9.5"] for email in emails]
    )
    job = imported(org, "leave-balances", balances)
    assert (job["status"], job["succeeded"]) == ("succeeded", len(emails)), job
    annual = next(
        b for b in org.call("GET", f"/employees/{org.employee}/leave-balances").json() if b["code"] == "annual"
    )
    assert annual["available"] == 9.5


def test_started_twice_runs_once_and_answers_with_its_result(org: Org) -> None:
    import_id = upload(org, "employees", csv_bytes(EMPLOYEE_HEADER, people(3)))
    assert org.call("POST", f"/imports/{import_id}/start", json={}).status_code == 202
    job = finished(org, import_id)
    again = org.call("POST", f"/imports/{import_id}/start", json={})
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    assert problem["importId"] == import_id and problem["importStatus"] == "succeeded"
    assert problem["result"]["succeeded"] == job["succeeded"] == 3


def test_start_without_upload_and_refused_files_get_deliberate_answers(org: Org) -> None:
    body = {"kind": "employees", "fileName": "x.csv", "contentType": CSV, "sizeBytes": 10}
    import_id = org.call("POST", "/imports", json=body).json()["importId"]
    refused = org.call("POST", f"/imports/{import_id}/start", json={})
    assert refused.status_code == 409 and refused.json()["rule"] == "not-uploaded"
    assert org.call("GET", f"/imports/{import_id}").json()["status"] == "created"
    too_big = org.call("POST", "/imports", json={**body, "sizeBytes": 50 * 1024 * 1024})
    assert too_big.status_code == 422
    wrong_kind = org.call("POST", "/imports", json={**body, "kind": "payroll"})
    assert wrong_kind.status_code == 422
    job = imported(org, "employees", b"\x00\x01binary\xff", CSV)
    assert job["status"] == "failed" and "not CSV text" in job["reason"]


def test_another_tenants_import_is_not_found(org: Org, stack: Any, platform_actor: Any) -> None:
    import_id = upload(org, "employees", csv_bytes(EMPLOYEE_HEADER, people(1)))
    slug = f"o-{secrets.token_hex(4)}"
    other = tenants.create_tenant(
        NewTenant(name="Other", slug=slug, admin_email=f"a@{slug}.example.com"), platform_actor
    )
    admin = find_user_by_email(slug, other.admin_email)
    with transaction() as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET must_change_password = false").format(sql.Identifier(other.schema_name, "users"))
        )
    token = tokens.issue(str(admin.user_id), "admin", tid=str(other.tenant_id))
    assert org.call("GET", f"/imports/{import_id}", token).status_code == 404
    assert org.call("POST", f"/imports/{import_id}/start", token, json={}).status_code == 404


def test_imports_need_the_imports_permission(org: Org) -> None:
    for method, path in (
        ("GET", "/imports"),
        ("POST", "/imports"),
        ("GET", "/imports/00000000-0000-0000-0000-000000000001"),
    ):
        body = {"kind": "employees", "fileName": "x.csv", "contentType": CSV, "sizeBytes": 10}
        answer = org.call(method, path, org.employee_token, json=body if method == "POST" else None)
        assert answer.status_code == 403 and answer.json()["permission"] == "imports:write"
