"""Leave requests, cancellation, leave types and the year-end rollover at the service level."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from psycopg import sql

from hrms.approvals.models import DecisionIn
from hrms.db.postgres import tenant_tx
from hrms.errors import Conflict, Invalid, NotFound
from hrms.leave import repo, rollover, service
from hrms.leave.models import LeaveTypePatch, NewLeaveType
from tests.integration.leave_world import World, d

APPROVE = DecisionIn(decision="approve")


NEW_YEAR_2025 = dt.datetime(2025, 1, 1, 0, 30, tzinfo=dt.UTC)  # 06:00 in the default zone (Asia/Kolkata)


def _approve(world: World, team: dict[str, Any], leave_id: Any) -> None:
    service.decide_leave(world.tenant, team["manager_user"], "team", leave_id, APPROVE)


# ---------------------------------------------------------------- requests


def test_a_request_reserves_its_days_as_pending_and_opens_the_managers_task(world, team):
    epoch = world.epoch()
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09", reason="Personal time off")

    assert (leave.status, leave.days, leave.leave_type_code) == ("pending", 5, "annual")
    assert leave.employee_id == team["employee"]  # defaulted to the caller's own record
    assert world.balance(team["employee"]) == {
        "allocated": 18,
        "carried_forward": 0,
        "used": 0,
        "pending": 5,
    }
    task = world.query(sql.SQL("SELECT * FROM {} WHERE id = %s").format(world.t("approvals")), (leave.approval_id,))[0]
    assert (task["entity_type"], task["entity_id"], task["step"]) == ("leave", leave.leave_id, 1)
    assert (task["approver_type"], task["assignee_employee_id"]) == ("reporting_manager", team["manager"])
    assert task["subject_employee_id"] == team["employee"]
    assert world.audit_actions(leave.leave_id) == ["leave.created"]
    assert world.audit_actions(leave.approval_id) == ["approval.created"]
    assert "leave_balance.reserved" in world.audit_actions(team["employee"])
    assert world.epoch() > epoch  # the dashboards were invalidated


def test_weekends_and_tenant_holidays_are_not_counted(world, team):
    world.holiday("2024-02-07")
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-11")
    assert leave.days == 4


def test_the_tenants_weekend_setting_is_used(world, team):
    world.query(
        sql.SQL("UPDATE {} SET value = '[5, 6]' WHERE key = 'weekendDays'").format(world.t("organization_settings"))
    )
    with pytest.raises(Invalid) as refused:
        world.request(team["employee_user"], "2024-02-09", "2024-02-10")  # Friday and Saturday
    assert refused.value.errors[0]["type"] == "no_working_days"
    assert world.request(team["employee_user"], "2024-02-11", "2024-02-11").days == 1  # a Sunday


def test_half_days_count_half_on_single_days_of_types_that_allow_them(world, team):
    me = team["employee_user"]
    assert world.request(me, "2024-02-06", "2024-02-06", halfDay="first").days == 0.5
    assert world.request(me, "2024-02-06", "2024-02-06", halfDay="second").days == 0.5  # the other half is free
    with pytest.raises(Conflict):
        world.request(me, "2024-02-06", "2024-02-06", halfDay="second")
    with pytest.raises(Invalid) as multi:
        world.request(me, "2024-02-07", "2024-02-08", halfDay="first")
    assert multi.value.errors[0]["field"] == "body.halfDay"
    service.update_leave_type(world.tenant, world.admin, world.type_id("sick"), LeaveTypePatch(allow_half_day=False))
    with pytest.raises(Invalid) as disallowed:
        world.request(me, "2024-02-07", "2024-02-07", code="sick", halfDay="first")
    assert disallowed.value.errors[0]["type"] == "not_allowed"
    assert world.balance(team["employee"])["pending"] == 1


def test_overlapping_pending_or_approved_leave_is_a_conflict(world, team):
    me = team["employee_user"]
    first = world.request(me, "2024-02-05", "2024-02-09")
    with pytest.raises(Conflict) as clash:
        world.request(me, "2024-02-09", "2024-02-13", code="sick")
    assert clash.value.extra["overlapping"] == [str(first.leave_id)]
    _approve(world, team, first.leave_id)
    with pytest.raises(Conflict):
        world.request(me, "2024-02-01", "2024-02-05")
    service.cancel_leave(world.tenant, team["hr"], "all", first.leave_id)
    assert world.request(me, "2024-02-01", "2024-02-05").status == "pending"  # free again


def test_insufficient_balance_is_a_422_with_the_numbers(world, team):
    with pytest.raises(Invalid) as refused:
        world.request(team["employee_user"], "2024-02-05", "2024-02-13", code="casual")  # 7 days, 6 allocated
    assert refused.value.extra["requested"] == 7
    assert refused.value.extra["available"] == 6
    assert refused.value.extra["leaveTypeCode"] == "casual"
    assert world.balance(team["employee"], "casual")["pending"] == 0


def test_pending_days_count_against_the_balance(world, team):
    me = team["employee_user"]
    world.request(me, "2024-02-05", "2024-02-08", code="casual")  # 4 of 6
    with pytest.raises(Invalid) as refused:
        world.request(me, "2024-03-04", "2024-03-06", code="casual")
    assert (refused.value.extra["requested"], refused.value.extra["available"]) == (3, 2)


def test_unpaid_leave_is_not_limited_by_a_balance(world, team):
    leave = world.request(team["employee_user"], "2024-03-04", "2024-03-15", code="unpaid")
    assert (leave.status, leave.days) == ("pending", 10)
    assert world.balance(team["employee"], "unpaid")["pending"] == 10
    future = world.request(team["employee_user"], "2027-03-01", "2027-03-01", code="unpaid")  # no 2027 row yet
    assert world.balance(team["employee"], "unpaid", 2027)["pending"] == 1
    assert future.days == 1


def test_a_request_spanning_two_leave_years_is_refused_with_where_to_split(world, team):
    with pytest.raises(Invalid) as refused:
        world.request(team["employee_user"], "2024-12-30", "2025-01-03")
    error = refused.value.errors[0]
    assert (error["field"], error["type"]) == ("body.endDate", "spans_leave_years")
    assert "2024-12-31" in error["message"]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [("2024-02-09", "2024-02-05", "body.endDate"), ("2023-12-27", "2023-12-29", "body.startDate")],
)
def test_dates_are_checked(world, team, start, end, field):
    with pytest.raises(Invalid) as refused:
        world.request(team["employee_user"], start, end)
    assert refused.value.errors[0]["field"] == field


def test_requests_for_someone_else_need_a_wider_scope(world, team):
    other = world.hire()
    with pytest.raises(NotFound):
        world.request(team["employee_user"], "2024-02-05", "2024-02-09", employeeId=str(other))
    with pytest.raises(Invalid) as no_record:
        world.request(world.admin, "2024-02-05", "2024-02-09", scope="all")
    assert no_record.value.errors[0]["field"] == "body.employeeId"
    by_hr = world.request(team["hr"], "2024-02-05", "2024-02-09", scope="all", employeeId=str(other))
    assert by_hr.employee_id == other


# ---------------------------------------------------------------- reads


def test_leaves_are_listed_within_the_callers_scope(world, team):
    outsider = world.hire()
    mine = [world.request(team["employee_user"], f"2024-0{m}-05", f"2024-0{m}-06") for m in (2, 3, 4)]
    theirs = world.request(world.user(outsider, "employee"), "2024-02-05", "2024-02-06")

    def ids(actor: Any, scope: str, limit: int = 50, **filters: Any) -> list[Any]:
        page = service.list_leaves(world.tenant, actor, scope, repo.Filters(**filters), limit, None)
        return [leave.leave_id for leave in page.items]

    assert ids(team["employee_user"], "self") == [m.leave_id for m in reversed(mine)]
    assert ids(team["manager_user"], "team") == [m.leave_id for m in reversed(mine)]
    assert set(ids(team["hr"], "all")) == {*(m.leave_id for m in mine), theirs.leave_id}
    assert ids(team["hr"], "all", start=d("2024-03-01"), end=d("2024-03-31")) == [mine[1].leave_id]
    assert ids(team["hr"], "all", employee_id=outsider) == [theirs.leave_id]
    with pytest.raises(NotFound):
        service.get_leave(world.tenant, team["manager_user"], "team", theirs.leave_id)

    first = service.list_leaves(world.tenant, team["hr"], "all", repo.Filters(), 2, None)
    rest = service.list_leaves(world.tenant, team["hr"], "all", repo.Filters(), 2, first.next_cursor)
    assert rest.next_cursor is None
    assert len({leave.leave_id for leave in first.items + rest.items}) == 4


# ---------------------------------------------------------------- cancellation


def test_cancelling_a_pending_leave_releases_its_days_and_its_task(world, team):
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    cancelled = service.cancel_leave(world.tenant, team["employee_user"], "self", leave.leave_id)
    assert cancelled.status == "cancelled"
    assert world.balance(team["employee"])["pending"] == 0
    task = world.query(
        sql.SQL("SELECT status FROM {} WHERE id = %s").format(world.t("approvals")), (leave.approval_id,)
    )
    assert task[0]["status"] == "cancelled"
    with pytest.raises(Conflict):
        _approve(world, team, leave.leave_id)
    with pytest.raises(Conflict):
        service.cancel_leave(world.tenant, team["employee_user"], "self", leave.leave_id)


def test_hr_cancelling_an_approved_leave_gives_the_used_days_back(world, team):
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    _approve(world, team, leave.leave_id)
    assert world.balance(team["employee"])["used"] == 5
    with pytest.raises(Conflict, match="already started"):  # 2024 is past: only HR may now
        service.cancel_leave(world.tenant, team["employee_user"], "self", leave.leave_id)
    service.cancel_leave(world.tenant, team["hr"], "all", leave.leave_id)
    assert world.balance(team["employee"]) == {"allocated": 18, "carried_forward": 0, "used": 0, "pending": 0}
    assert "leave_balance.restored" in world.audit_actions(team["employee"])


def test_someone_elses_leave_cannot_be_cancelled(world, team):
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    with pytest.raises(NotFound):
        service.cancel_leave(world.tenant, team["manager_user"], "self", leave.leave_id)


# ---------------------------------------------------------------- leave types


def test_leave_types_are_created_allocated_and_changed(world, team):
    created = service.create_leave_type(
        world.tenant, world.admin, NewLeaveType.model_validate({"code": "study", "name": "Study", "annualQuota": 4})
    )
    with tenant_tx(world.tenant, world.admin) as tx:
        year = repo.calendar(tx).today().year
    assert world.balance(team["employee"], "study", year)["allocated"] == 4
    with pytest.raises(Conflict):
        service.create_leave_type(
            world.tenant, world.admin, NewLeaveType.model_validate({"code": "STUDY", "name": "x", "annualQuota": 1})
        )
    changed = service.update_leave_type(
        world.tenant, world.admin, created.leave_type_id, LeaveTypePatch(is_active=False, carry_forward_max=2)
    )
    assert (changed.is_active, changed.carry_forward_max, changed.annual_quota) == (False, 2, 4)
    with pytest.raises(Invalid):  # inactive types take no requests
        world.request(team["employee_user"], f"{year}-01-01", f"{year}-01-01", code="study")
    with pytest.raises(NotFound):
        service.update_leave_type(world.tenant, world.admin, team["employee"], LeaveTypePatch(name="x"))
    codes = [t.code for t in service.list_leave_types(world.tenant, world.admin, 50, None).items]
    assert codes == ["annual", "casual", "sick", "study", "unpaid"]


# ---------------------------------------------------------------- rollover


def test_rollover_carries_unused_days_capped_per_type_and_is_idempotent(world, team):
    emp, manager = team["employee"], team["manager"]
    leaver = world.hire()
    world.query(
        sql.SQL("UPDATE {} SET status = 'terminated', date_of_leaving = '2024-06-30' WHERE id = %s").format(
            world.t("employees")
        ),
        (leaver,),
    )
    service.update_leave_type(world.tenant, world.admin, world.type_id("casual"), LeaveTypePatch(carry_forward_max=10))
    approved = world.request(team["employee_user"], "2024-02-05", "2024-02-09")  # annual: 5 used
    _approve(world, team, approved.leave_id)
    world.request(team["employee_user"], "2024-03-04", "2024-03-07", code="casual")  # casual: 4 pending
    world.request(team["employee_user"], "2024-04-01", "2024-04-01", code="unpaid")

    summary = rollover.open_due(NEW_YEAR_2025, slug=_slug(world))
    assert [(t.years, t.allocated) for t in summary.tenants] == [([2025], 8)]  # 2 employees x 4 types
    assert world.balance(emp, "annual", 2025) == {"allocated": 18, "carried_forward": 5, "used": 0, "pending": 0}
    assert world.balance(emp, "casual", 2025)["carried_forward"] == 2  # 6 - 4 pending, under the cap of 10
    assert world.balance(emp, "sick", 2025)["carried_forward"] == 0  # cap 0
    assert world.balance(emp, "unpaid", 2025)["carried_forward"] == 0
    assert world.balance(manager, "annual", 2025)["carried_forward"] == 5  # 18 unused, capped at 5
    assert world.balance(leaver, "annual", 2025) == {}

    audit_before = world.query(sql.SQL("SELECT count(*) AS n FROM {}").format(world.t("audit_logs")))[0]["n"]
    balances_before = world.query(
        sql.SQL("SELECT b.*::text AS r FROM {} b ORDER BY 1").format(world.t("employee_leave_balance"))
    )
    assert rollover.open_due(NEW_YEAR_2025, slug=_slug(world)).tenants == []  # not due before 2026
    world.query(
        sql.SQL("UPDATE public.tenants SET leave_year_turns_at = NULL WHERE id = %s"), (world.tenant.tenant_id,)
    )
    again = rollover.open_due(NEW_YEAR_2025, slug=_slug(world))  # visited again: 2025 is open already
    assert [(t.years, t.allocated) for t in again.tenants] == [([], 0)]
    assert (
        world.query(sql.SQL("SELECT b.*::text AS r FROM {} b ORDER BY 1").format(world.t("employee_leave_balance")))
        == balances_before
    )
    assert world.query(sql.SQL("SELECT count(*) AS n FROM {}").format(world.t("audit_logs")))[0]["n"] == audit_before


def test_rollover_of_an_unknown_tenant_is_not_found(stack):
    with pytest.raises(NotFound):
        rollover.open_due(NEW_YEAR_2025, slug="no-such-tenant-here")


def test_the_scheduled_instant_comes_from_the_event():
    assert rollover.scheduled_time({"time": "2025-01-01T00:05:00Z"}) == NEW_YEAR_2025.replace(minute=5)
    manual = {"time": "2025-01-01T00:05:00Z", "detail": {"at": "2027-04-01T00:30:00+05:30"}}
    assert rollover.scheduled_time(manual) == dt.datetime(2027, 3, 31, 19, 0, tzinfo=dt.UTC)
    assert rollover.scheduled_time({}).year >= 2026


def _slug(world: World) -> str:
    from hrms.db.postgres import transaction

    with transaction() as conn:
        row = conn.execute("SELECT slug FROM public.tenants WHERE id = %s", (world.tenant.tenant_id,)).fetchone()
    return str(row["slug"])


def test_balance_numbers_are_exact_decimals(world, team):
    world.request(team["employee_user"], "2024-02-06", "2024-02-06", halfDay="first")
    assert world.balance(team["employee"])["pending"] == Decimal("0.5")


def test_the_cli_rolls_one_tenant_over(world, team):
    import json

    from typer.testing import CliRunner

    from hrms_tools.cli.main import app

    args = ["leave", "rollover", "--at", "2025-01-01T00:30:00+00:00", "--tenant", _slug(world), "--json"]
    first = CliRunner().invoke(app, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert (report["allocated"], report["failed"]) == (8, {})
    assert report["tenants"] == [{"slug": _slug(world), "years": [2025], "allocated": 8, "carriedForward": "10.0"}]
    again = json.loads(CliRunner().invoke(app, args, catch_exceptions=False).output)
    assert again["allocated"] == 0
    unknown = CliRunner().invoke(app, ["leave", "rollover", "--tenant", "nobody-here"])
    assert unknown.exit_code != 0


def test_the_versioned_settings_in_mongodb_override_the_weekend(world, team):
    from hrms.settings import service as settings_service
    from hrms.settings.models import SettingsUpdate

    settings_service.update_settings(
        world.tenant, world.admin, SettingsUpdate(settings={"weekendDays": [5, 6]}, expected_version=0)
    )
    assert world.request(team["employee_user"], "2024-02-11", "2024-02-11").days == 1  # Sunday is now a workday


def test_the_joining_date_cannot_move_past_a_booked_leave(world: World, team: dict[str, Any]) -> None:
    from hrms.employees import service as employees
    from hrms.employees.models import EmployeePatch

    world.request(team["employee_user"], "2024-02-05", "2024-02-06")
    patch = EmployeePatch.model_validate({"dateOfJoining": "2024-03-01"})
    with pytest.raises(Invalid) as refused:
        employees.update_employee(world.tenant, world.admin, "all", team["employee"], patch)
    assert "1 leave(s) start before 2024-03-01" in [e["message"] for e in refused.value.errors]
