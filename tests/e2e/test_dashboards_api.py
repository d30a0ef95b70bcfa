"""The dashboards through the local gateway: who may read which, the wire shape, fresh after a write."""

from __future__ import annotations

from uuid import uuid4

from tests.e2e.http_world import Org


def test_hr_reads_the_executive_dashboard_with_money_as_decimal_strings(org: Org) -> None:
    org.sql(
        "INSERT INTO {} (month, status, employee_count, total_gross, total_net)"
        " VALUES (date_trunc('month', now() AT TIME ZONE 'Asia/Kolkata'), 'draft', 2, 1234.5, 1000)",
        "payroll_runs",
    )
    response = org.call("GET", "/dashboards/executive", org.hr_token)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["headcount"], body["pendingApprovals"]) == (2, 0)
    assert body["byDepartment"] == [{"departmentId": org.refs["departmentId"], "name": "Eng", "headcount": 2}]
    assert [(p["employeeCount"], p["gross"], p["net"], p["status"]) for p in body["payrollTrend"]] == [
        (2, "1234.50", "1000.00", "draft")
    ]
    assert org.call("GET", "/dashboards/executive", org.manager_token).status_code == 403
    assert org.call("GET", "/dashboards/executive", org.employee_token).status_code == 403


def test_the_executive_dashboard_is_fresh_after_a_request_and_a_hire(org: Org) -> None:
    before = org.call("GET", "/dashboards/executive").json()
    assert org.request().status_code == 201
    org.hire()

    after = org.call("GET", "/dashboards/executive").json()
    assert (after["headcount"], after["pendingApprovals"]) == (before["headcount"] + 1, 1)


def test_an_employee_dashboard_is_read_by_the_employee_and_their_manager_only(org: Org) -> None:
    requested = org.request().json()
    own = org.call("GET", f"/dashboards/employees/{org.employee}", org.employee_token)
    assert own.status_code == 200, own.text
    assert own.json()["employeeId"] == org.employee
    assert [leave["leaveId"] for leave in own.json()["pendingLeaves"]] == [requested["leaveId"]]

    managers = org.call("GET", f"/dashboards/employees/{org.manager}", org.manager_token).json()
    assert managers["approvalsWaiting"] == 1
    assert org.call("GET", f"/dashboards/employees/{org.employee}", org.manager_token).status_code == 200
    assert org.call("GET", f"/dashboards/employees/{org.manager}", org.employee_token).status_code == 404
    assert org.call("GET", f"/dashboards/employees/{uuid4()}").status_code == 404
