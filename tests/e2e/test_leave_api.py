"""Leave and approvals through the local gateway: the guide's scenario, errors, who decides, concurrency."""

from __future__ import annotations

import threading
from typing import Any
from uuid import uuid4

import httpx

from hrms.auth import tokens
from hrms.auth.users import find_user_by_email
from tests.conftest import bearer
from tests.e2e.http_world import usable


def _numbers(balance: dict[str, Any]) -> tuple[float, float, float]:
    return balance["used"], balance["pending"], balance["available"]


def test_the_guides_scenario_employee_requests_manager_approves(org):
    requested = org.request()
    assert requested.status_code == 201, requested.text
    leave = requested.json()
    assert (leave["status"], leave["days"], leave["employeeId"]) == ("pending", 5, org.employee)
    assert _numbers(org.balance()) == (0, 5, 13)

    waiting = org.call("GET", "/approvals", org.manager_token, params={"mine": "true"}).json()["items"]
    assert [a["approvalId"] for a in waiting] == [leave["approvalId"]]

    decided = org.call(
        "POST", f"/approvals/{leave['approvalId']}/decision", org.manager_token, json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json() == {
        "approvalId": leave["approvalId"],
        "status": "approved",
        "entityType": "leave",
        "entityId": leave["leaveId"],
        "entityStatus": "approved",
        "nextApprovalId": None,
    }
    assert _numbers(org.balance()) == (5, 0, 13)
    own = org.call("GET", f"/leaves/{leave['leaveId']}", org.employee_token).json()
    assert own["status"] == "approved"
    assert org.call("GET", "/approvals", org.manager_token, params={"mine": "true"}).json()["items"] == []


def test_twenty_concurrent_approvals_through_the_gateway_succeed_once(org):
    leave = org.request().json()
    paths = [f"/approvals/{leave['approvalId']}/decision", f"/leaves/{leave['leaveId']}/decision"]
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def approve(n: int) -> None:
        with httpx.Client(base_url=str(org.client.base_url), timeout=30) as own:
            barrier.wait()
            response = own.post(paths[n % 2], headers=bearer(org.manager_token), json={"decision": "approve"})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [409] * 19
    assert _numbers(org.balance()) == (5, 0, 13)


def test_rules_answer_with_problem_documents(org):
    org.call("POST", "/holidays", json={"date": "2024-03-06", "name": "Founders day"})
    week = org.request(startDate="2024-03-04", endDate="2024-03-10")
    assert week.status_code == 201 and week.json()["days"] == 4  # weekend and holiday excluded
    half = org.request(startDate="2024-03-11", endDate="2024-03-11", halfDay="second")
    assert half.status_code == 201 and half.json()["days"] == 0.5

    overlap = org.request(startDate="2024-03-08", endDate="2024-03-08", code="sick")
    assert overlap.status_code == 409
    assert overlap.headers["content-type"] == "application/problem+json"
    assert overlap.json()["overlapping"] == [week.json()["leaveId"]]

    short = org.request(startDate="2024-04-01", endDate="2024-04-09", code="casual")
    assert short.status_code == 422
    assert (short.json()["requested"], short.json()["available"]) == (7, 6)

    spanning = org.request(startDate="2024-12-30", endDate="2025-01-02")
    assert spanning.status_code == 422
    assert spanning.json()["errors"][0]["type"] == "spans_leave_years"
    assert org.request(halfDay="morning").status_code == 422


def test_rejection_releases_and_hr_cancelling_an_approved_leave_restores(org):
    rejected = org.request().json()
    response = org.call(
        "POST", f"/leaves/{rejected['leaveId']}/decision", org.manager_token, json={"decision": "reject"}
    )
    assert response.json()["entityStatus"] == "rejected"
    assert _numbers(org.balance()) == (0, 0, 18)

    approved = org.request().json()
    org.call("POST", f"/leaves/{approved['leaveId']}/decision", org.manager_token, json={"decision": "approve"})
    assert _numbers(org.balance()) == (5, 0, 13)
    too_late = org.call("POST", f"/leaves/{approved['leaveId']}/cancel", org.employee_token)
    assert too_late.status_code == 409  # 2024 has started: the employee asks HR
    cancelled = org.call("POST", f"/leaves/{approved['leaveId']}/cancel", org.hr_token)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert _numbers(org.balance()) == (0, 0, 18)


def test_two_step_workflow_manager_then_hr(org):
    steps = [{"approverType": "reporting_manager"}, {"approverType": "role", "role": "hr_manager"}]
    assert org.call("PUT", "/approval-workflows/leave", json={"steps": steps}).status_code == 200
    stored = org.call("GET", "/approval-workflows/leave", org.hr_token).json()["steps"]
    assert stored == [{"approverType": "reporting_manager", "role": None}, steps[1]]

    leave = org.request().json()
    first = org.call("POST", f"/leaves/{leave['leaveId']}/decision", org.manager_token, json={"decision": "approve"})
    assert first.json()["entityStatus"] == "pending"
    second_id = first.json()["nextApprovalId"]
    assert [a["approvalId"] for a in org.call("GET", "/approvals?mine=true", org.hr_token).json()["items"]] == [
        second_id
    ]
    assert _numbers(org.balance()) == (0, 5, 13)
    final = org.call("POST", f"/approvals/{second_id}/decision", org.hr_token, json={"decision": "approve"})
    assert final.json()["entityStatus"] == "approved"
    assert _numbers(org.balance()) == (5, 0, 13)


def test_the_wrong_approver_gets_403(org):
    leave = org.request().json()
    stranger = org.token(org.hire(), "manager")
    decision = {"decision": "approve"}
    assert org.call("POST", f"/approvals/{leave['approvalId']}/decision", stranger, json=decision).status_code == 403
    assert (
        org.call("POST", f"/approvals/{leave['approvalId']}/decision", org.hr_token, json=decision).status_code == 403
    )
    assert (
        org.call("POST", f"/leaves/{leave['leaveId']}/decision", org.employee_token, json=decision).status_code == 403
    )
    assert _numbers(org.balance()) == (0, 5, 13)


def test_another_tenants_leave_is_404(org, client, gateway, platform_actor):
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    leave = org.request().json()
    slug = f"other-{uuid4().hex[:6]}"
    other = service.create_tenant(NewTenant(name="Other", slug=slug, admin_email=f"a@{slug}.io"), platform_actor)
    usable(other, gateway)
    user = find_user_by_email(slug, other.admin_email)
    outsider = tokens.issue(str(user.user_id), "admin", tid=str(other.tenant_id))
    decision = {"decision": "approve"}
    for method, path, body in (
        ("GET", f"/leaves/{leave['leaveId']}", None),
        ("POST", f"/leaves/{leave['leaveId']}/cancel", None),
        ("POST", f"/leaves/{leave['leaveId']}/decision", decision),
        ("POST", f"/approvals/{leave['approvalId']}/decision", decision),
    ):
        response = org.call(method, path, outsider, json=body)
        assert response.status_code == 404, f"{method} {path}: {response.text}"
    assert org.call("GET", "/leaves", outsider, params={"employeeId": org.employee}).json()["items"] == []
    assert _numbers(org.balance()) == (0, 5, 13)


def test_leave_types_are_managed_by_hr_and_read_by_everyone(org):
    created = org.call("POST", "/leave-types", org.hr_token, json={"code": "study", "name": "Study", "annualQuota": 3})
    assert created.status_code == 201, created.text
    assert created.json()["allowHalfDay"] is True and created.json()["paid"] is True
    patched = org.call("PATCH", f"/leave-types/{created.json()['leaveTypeId']}", json={"annualQuota": 4.5})
    assert patched.status_code == 200 and patched.json()["annualQuota"] == 4.5
    assert (
        org.call(
            "POST", "/leave-types", org.hr_token, json={"code": "STUDY", "name": "x", "annualQuota": 1}
        ).status_code
        == 409
    )
    assert org.call("POST", "/leave-types", json={"code": "x", "name": "x", "annualQuota": 0.3}).status_code == 422
    assert (
        org.call(
            "POST", "/leave-types", org.employee_token, json={"code": "y", "name": "y", "annualQuota": 1}
        ).status_code
        == 403
    )
    codes = [t["code"] for t in org.call("GET", "/leave-types", org.employee_token).json()["items"]]
    assert codes == ["annual", "casual", "sick", "study", "unpaid"]
