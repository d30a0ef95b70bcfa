"""The approval engine with leave as its entity: steps, who decides, exactly-once under concurrency."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from pydantic import ValidationError

from hrms.approvals import engine, service
from hrms.approvals.models import DecisionIn, WorkflowIn
from hrms.config import settings
from hrms.db.postgres import TenantTx
from hrms.errors import Conflict, Forbidden, NotFound
from hrms.leave import service as leave_service
from tests.integration.leave_world import World

APPROVE, REJECT = DecisionIn(decision="approve"), DecisionIn(decision="reject", comment="Team offsite")
TWO_STEPS = WorkflowIn.model_validate(
    {"steps": [{"approverType": "reporting_manager"}, {"approverType": "role", "role": "hr_manager"}]}
)


def _decide(world: World, actor: Any, approval_id: Any, decision: DecisionIn = APPROVE) -> Any:
    return service.decide_approval(world.tenant, actor, approval_id, decision)


def _task(world: World, approval_id: Any) -> dict[str, Any]:
    return world.query(sql.SQL("SELECT * FROM {} WHERE id = %s").format(world.t("approvals")), (approval_id,))[0]


def test_the_managers_approval_moves_pending_days_to_used_once(world, team):
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    decision = _decide(world, team["manager_user"], leave.approval_id)

    assert (decision.status, decision.entity_type, decision.entity_status) == ("approved", "leave", "approved")
    assert decision.entity_id == leave.leave_id and decision.next_approval_id is None
    assert world.balance(team["employee"]) == {"allocated": 18, "carried_forward": 0, "used": 5, "pending": 0}
    task = _task(world, leave.approval_id)
    assert str(task["decided_by"]) == team["manager_user"].user_id and task["decided_at"] is not None
    assert world.audit_actions(leave.approval_id) == ["approval.created", "approval.updated"]
    assert world.audit_actions(leave.leave_id) == ["leave.created", "leave.updated"]

    with pytest.raises(Conflict):
        _decide(world, team["manager_user"], leave.approval_id, REJECT)
    assert world.balance(team["employee"])["used"] == 5


def test_rejection_releases_the_pending_days(world, team):
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    decision = _decide(world, team["manager_user"], leave.approval_id, REJECT)
    assert (decision.status, decision.entity_status) == ("rejected", "rejected")
    assert world.balance(team["employee"]) == {"allocated": 18, "carried_forward": 0, "used": 0, "pending": 0}
    assert _task(world, leave.approval_id)["comment"] == "Team offsite"


def test_two_steps_manager_then_hr(world, team):
    service.set_workflow(world.tenant, world.admin, "leave", TWO_STEPS)
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")

    first = _decide(world, team["manager_user"], leave.approval_id)
    assert (first.status, first.entity_status) == ("approved", "pending")
    second = _task(world, first.next_approval_id)
    assert (second["step"], second["approver_type"], second["approver_role"]) == (2, "role", "hr_manager")
    assert world.balance(team["employee"])["pending"] == 5
    assert leave_service.get_leave(world.tenant, world.admin, "all", leave.leave_id).approval_id == second["id"]
    with pytest.raises(Forbidden):  # a role step is not the manager's
        _decide(world, team["manager_user"], second["id"])

    final = _decide(world, team["hr"], second["id"])
    assert final.entity_status == "approved"
    assert world.balance(team["employee"]) == {"allocated": 18, "carried_forward": 0, "used": 5, "pending": 0}


def test_a_rejection_at_the_first_of_two_steps_is_final(world, team):
    service.set_workflow(world.tenant, world.admin, "leave", TWO_STEPS)
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    decision = _decide(world, team["manager_user"], leave.approval_id, REJECT)
    assert (decision.entity_status, decision.next_approval_id) == ("rejected", None)
    tasks = world.query(
        sql.SQL("SELECT step FROM {} WHERE entity_id = %s").format(world.t("approvals")), (leave.leave_id,)
    )
    assert [t["step"] for t in tasks] == [1]


def test_only_the_assignee_or_an_admin_decides(world, team):
    other_manager = world.user(world.hire(), "manager")
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    for wrong in (other_manager, team["hr"], team["employee_user"]):
        with pytest.raises(Forbidden):
            _decide(world, wrong, leave.approval_id)
    with pytest.raises(NotFound):  # the shortcut only sees the caller's reporting line
        leave_service.decide_leave(world.tenant, other_manager, "team", leave.leave_id, APPROVE)
    assert _decide(world, world.admin, leave.approval_id).entity_status == "approved"


def test_nobody_decides_their_own_request(world, team):
    admin_employee = world.hire()
    admin = world.user(admin_employee, "admin")
    leave = world.request(admin, "2024-02-05", "2024-02-09")  # no manager: an hr_manager role task
    with pytest.raises(Forbidden, match="about themselves"):
        _decide(world, admin, leave.approval_id)
    assert _decide(world, team["hr"], leave.approval_id).entity_status == "approved"


def test_without_a_manager_the_step_falls_back_to_hr(world, team):
    loner = world.hire()
    leave = world.request(world.user(loner, "employee"), "2024-02-05", "2024-02-09")
    task = _task(world, leave.approval_id)
    assert (task["approver_type"], task["approver_role"], task["assignee_employee_id"]) == ("role", "hr_manager", None)
    mine = service.list_approvals(
        world.tenant, team["hr"], mine=True, status="pending", entity_type=None, limit=50, cursor=None
    )
    assert [a.approval_id for a in mine.items] == [leave.approval_id]


def test_twenty_concurrent_approvals_succeed_exactly_once(world, team):
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def decide() -> None:
        with psycopg.connect(settings().database_url, row_factory=dict_row) as conn:
            barrier.wait()
            try:
                with conn.transaction():
                    engine.decide(TenantTx(conn, world.tenant, team["manager_user"]), leave.approval_id, APPROVE)
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=decide) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 19 + ["ok"]
    assert world.balance(team["employee"]) == {"allocated": 18, "carried_forward": 0, "used": 5, "pending": 0}
    assert world.audit_actions(leave.leave_id) == ["leave.created", "leave.updated"]


def test_listing_shows_what_waits_for_the_caller_and_what_they_may_see(world, team):
    outsider = world.hire()
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    other = world.request(world.user(outsider, "employee"), "2024-02-05", "2024-02-09")  # hr_manager task

    def ids(actor: Any, mine: bool, status: Any = "pending") -> set[Any]:
        page = service.list_approvals(
            world.tenant, actor, mine=mine, status=status, entity_type=None, limit=50, cursor=None
        )
        return {a.approval_id for a in page.items}

    assert ids(team["manager_user"], mine=True) == {leave.approval_id}
    assert ids(team["employee_user"], mine=True) == set()
    assert ids(team["employee_user"], mine=False) == {leave.approval_id}  # their own request
    assert ids(team["hr"], mine=True) == {other.approval_id}
    assert ids(team["hr"], mine=False) == {leave.approval_id, other.approval_id}
    assert ids(world.admin, mine=False) == {leave.approval_id, other.approval_id}
    _decide(world, team["manager_user"], leave.approval_id)
    assert ids(team["manager_user"], mine=True) == set()
    assert ids(team["manager_user"], mine=True, status="approved") == {leave.approval_id}

    first = service.list_approvals(
        world.tenant, world.admin, mine=False, status="pending", entity_type="leave", limit=1, cursor=None
    )
    assert [a.approval_id for a in first.items] == [other.approval_id] and first.next_cursor is None


def test_workflows_are_read_replaced_and_audited(world):
    assert [s.approver_type for s in service.get_workflow(world.tenant, world.admin, "leave").steps] == [
        "reporting_manager"
    ]
    changed = service.set_workflow(world.tenant, world.admin, "leave", TWO_STEPS)
    assert [s.role for s in changed.steps] == [None, "hr_manager"]
    assert world.audit_actions("leave") == ["approval_workflow.updated"]
    with pytest.raises(NotFound):
        service.get_workflow(world.tenant, world.admin, "timesheet")
    with pytest.raises(NotFound):
        service.set_workflow(world.tenant, world.admin, "timesheet", TWO_STEPS)
    for bad in (
        {"steps": []},
        {"steps": [{"approverType": "role"}]},
        {"steps": [{"approverType": "reporting_manager", "role": "admin"}]},
    ):
        with pytest.raises(ValidationError):
            WorkflowIn.model_validate(bad)


def test_unknown_approvals_are_not_found(world, team):
    with pytest.raises(NotFound):
        _decide(world, world.admin, team["employee"])
