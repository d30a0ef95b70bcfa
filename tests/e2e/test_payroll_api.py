"""Payroll through the local gateway: structure -> salary -> run -> approve -> process, and the errors."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import bearer
from tests.e2e.http_world import STRUCTURE, Org


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_a_month_from_structure_to_processed(org: Org) -> None:
    structure = org.call("POST", "/salary-structures", json=STRUCTURE)
    assert structure.status_code == 201, structure.text
    structure_id = structure.json()["salaryStructureId"]
    for employee in (org.manager, org.employee):
        body = {"salaryStructureId": structure_id, "annualCtc": "600000.00", "effectiveFrom": "2024-01-01"}
        assigned = org.call("POST", f"/employees/{employee}/salaries", json=body)
        assert assigned.status_code == 201, assigned.text

    created = org.call("POST", "/payroll/runs", json={"month": "2026-02"})
    assert created.status_code == 201, created.text
    run = created.json()
    # Monthly CTC 50,000: basic 25,000 + HRA 10,000 = 35,000 gross, PF 3,000, net 32,000 (each of two).
    assert run["status"] == "draft" and run["employeeCount"] == 2 and run["month"] == "2026-02"
    assert run["totals"] == {"gross": "70000.00", "deductions": "6000.00", "net": "64000.00"}
    assert run["approvalId"]
    again = _problem(org.call("POST", "/payroll/runs", json={"month": "2026-02"}), 409)
    assert again["payrollRunId"] == run["payrollRunId"]

    run_path = f"/payroll/runs/{run['payrollRunId']}"
    records = org.call("GET", f"{run_path}/records", params={"limit": 1}).json()
    assert len(records["items"]) == 1 and records["nextCursor"]
    line = records["items"][0]
    assert (line["gross"], line["net"], line["paidDays"]) == ("35000.00", "32000.00", "28.00")
    assert [c["amount"] for c in line["components"]] == ["25000.00", "10000.00", "3000.00"]

    assert org.call("POST", f"{run_path}/approve", org.manager_token, json={}).status_code == 403
    _problem(org.call("POST", f"{run_path}/process"), 409)  # not approved yet
    approved = org.call("POST", f"{run_path}/approve", org.hr_token, json={"comment": "ok"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    processed = org.call("POST", f"{run_path}/process", org.hr_token)
    assert processed.status_code == 200 and processed.json()["status"] == "processed"

    stats = org.call("GET", "/payroll/stats/2026-02", org.hr_token).json()
    assert (stats["status"], stats["headcount"], stats["net"]) == ("processed", 2, "64000.00")
    assert stats["byDepartment"][0]["headcount"] == 2
    listed = org.call("GET", "/payroll/runs", params={"month": "2026-02"}).json()["items"]
    assert [r["payrollRunId"] for r in listed] == [run["payrollRunId"]]


def test_bad_input_is_a_clear_problem(org: Org) -> None:
    no_basic = {**STRUCTURE, "components": STRUCTURE["components"][1:]}
    problem = _problem(org.call("POST", "/salary-structures", json=no_basic), 422)
    assert "basic" in str(problem["errors"])
    _problem(org.call("POST", "/payroll/runs", json={"month": "2026-13"}), 422)
    _problem(org.call("POST", "/payroll/runs", json={"month": "2999-01"}), 422)
    _problem(org.call("GET", "/payroll/stats/2026-1"), 404)
    _problem(org.call("GET", "/payroll/stats/2020-01"), 404)


def test_employees_and_managers_see_no_payroll_but_their_own_salary(org: Org) -> None:
    for token in (org.employee_token, org.manager_token):
        assert org.client.get("/payroll/runs", headers=bearer(token)).status_code == 403
    mine = org.client.get(f"/employees/{org.employee}/salaries", headers=bearer(org.employee_token))
    assert mine.status_code == 200  # one's own salary needs no grant
    report = org.client.get(f"/employees/{org.employee}/salaries", headers=bearer(org.manager_token))
    assert report.status_code == 404  # a manager sees a report's leave, not pay


def test_structures_are_listed_read_and_changed(org: Org) -> None:
    created = org.call("POST", "/salary-structures", json=STRUCTURE).json()
    path = f"/salary-structures/{created['salaryStructureId']}"
    assert [s["name"] for s in org.call("GET", "/salary-structures").json()["items"]] == ["Standard"]
    assert org.call("GET", path).json() == created

    renamed = org.call("PATCH", path, json={"name": "Standard 2027", "isActive": False})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["isActive"]) == ("Standard 2027", False)
    assert renamed.json()["components"] == created["components"]
    _problem(org.call("PATCH", path, json={"components": []}), 422)
    _problem(org.call("GET", "/salary-structures/00000000-0000-4000-8000-000000000000"), 404)


def test_a_run_is_read_back_by_id(org: Org) -> None:
    structure = org.call("POST", "/salary-structures", json=STRUCTURE).json()["salaryStructureId"]
    body = {"salaryStructureId": structure, "annualCtc": "600000.00", "effectiveFrom": "2024-01-01"}
    assert org.call("POST", f"/employees/{org.employee}/salaries", json=body).status_code == 201
    run = org.call("POST", "/payroll/runs", json={"month": "2026-01"}).json()
    got = org.call("GET", f"/payroll/runs/{run['payrollRunId']}")
    assert got.status_code == 200 and got.json() == run
    history = org.call("GET", f"/employees/{org.employee}/salaries").json()["items"]
    assert [(s["annualCtc"], s["effectiveFrom"]) for s in history] == [("600000.00", "2024-01-01")]
