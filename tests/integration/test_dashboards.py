"""The executive and employee dashboards at the service level: figures, caching, invalidation, scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg import sql

from hrms.approvals.models import DecisionIn
from hrms.cache import store
from hrms.dashboards import repo, service
from hrms.db.postgres import tenant_tx
from hrms.employees import service as employees
from hrms.employees.models import EmployeePatch
from hrms.errors import NotFound
from hrms.leave import repo as leave_repo
from hrms.leave import service as leave
from hrms.org import service as org
from hrms.org.models import DepartmentPatch
from hrms_tools.local.demo import DEMO_EMPLOYEE_ID
from tests.integration.leave_world import World


def _today(world: World) -> dt.date:
    with tenant_tx(world.tenant) as tx:
        return leave_repo.calendar(tx).today()


def _month(today: dt.date, back: int) -> dt.date:
    """The first day of the month `back` months before today's."""
    year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
    return dt.date(year, month + 1, 1)


def _department(world: World, name: str) -> UUID:
    row = world.query(
        sql.SQL("INSERT INTO {} (name, code) VALUES (%s, %s) RETURNING id").format(world.t("departments")),
        (name, uuid4().hex[:6]),
    )
    return row[0]["id"]


def _leave(world: World, employee_id: UUID, start: dt.date, end: dt.date, status: str) -> None:
    world.query(
        sql.SQL(
            "INSERT INTO {} (employee_id, leave_type_id, start_date, end_date, days, balance_year, status)"
            " VALUES (%s, %s, %s, %s, 1, %s, %s)"
        ).format(world.t("leaves")),
        (employee_id, world.type_id("annual"), start, end, start.year, status),
    )


def _run(world: World, month: dt.date, status: str, count: int = 0, gross: str = "0", net: str = "0") -> UUID:
    row = world.query(
        sql.SQL(
            "INSERT INTO {} (month, status, employee_count, total_gross, total_deductions, total_net)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
        ).format(world.t("payroll_runs")),
        (month, status, count, Decimal(gross), Decimal(gross) - Decimal(net), Decimal(net)),
    )
    return row[0]["id"]


def _payslip(world: World, run_id: UUID, employee_id: UUID, month: dt.date, gross: str, net: str) -> None:
    world.query(
        sql.SQL(
            "INSERT INTO {} (payroll_run_id, employee_id, month, paid_days, gross, deductions, net)"
            " VALUES (%s, %s, %s, 30, %s, %s, %s)"
        ).format(world.t("payroll")),
        (run_id, employee_id, month, Decimal(gross), Decimal(gross) - Decimal(net), Decimal(net)),
    )


def _first_monday_of_february(year: int) -> dt.date:
    day = dt.date(year, 2, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _executive(world: World) -> Any:
    return service.executive_dashboard(world.tenant, world.admin)


def _executive_key(world: World) -> str:
    return f"dashboard:{{{world.tenant.tenant_id}}}:executive"


@pytest.fixture
def staff(world: World) -> dict[str, Any]:
    """A manager and two reports hired on 1 January of this year (so this leave year's balances exist)."""
    joined = dt.date(_today(world).year, 1, 1).isoformat()
    manager = world.hire(joined=joined)
    employee = world.hire(manager_id=manager, joined=joined)
    peer = world.hire(manager_id=manager, joined=joined)
    return {
        "manager": manager,
        "employee": employee,
        "peer": peer,
        "outsider": world.hire(joined=joined),
        "manager_user": world.user(manager, "manager"),
        "employee_user": world.user(employee, "employee"),
    }


# ---------------------------------------------------------------- figures


def test_executive_dashboard_counts_the_tenant_as_of_today(world: World) -> None:
    today = _today(world)
    this_month = today.replace(day=1)
    sales, archive = _department(world, "Sales"), _department(world, "Archive")
    veteran = world.hire(joined="2024-01-01")
    seller = world.hire(joined="2024-01-01")
    employees.update_employee(world.tenant, world.admin, "all", seller, EmployeePatch(department_id=sales))
    world.hire(joined=this_month.isoformat())
    world.hire(joined=this_month.isoformat())
    unassigned = world.hire(joined="2024-01-01")
    world.query(sql.SQL("UPDATE {} SET department_id = NULL WHERE id = %s").format(world.t("employees")), (unassigned,))
    leaver = world.hire(joined="2024-01-01")
    employees.terminate_employee(world.tenant, world.admin, "all", leaver, today)
    left_long_ago = world.hire(joined="2024-01-01")
    employees.terminate_employee(world.tenant, world.admin, "all", left_long_ago, dt.date(2025, 6, 30))

    _leave(world, veteran, today - dt.timedelta(days=1), today + dt.timedelta(days=1), "approved")
    _leave(world, seller, today, today, "approved")
    _leave(world, unassigned, today, today, "pending")  # not on leave until approved
    _leave(world, leaver, today - dt.timedelta(days=3), today - dt.timedelta(days=1), "approved")  # over
    world.request(world.user(veteran, "employee"), "2024-02-05", "2024-02-06")  # one pending approval task

    _run(world, _month(today, 6), "processed", 9, "900.00", "800.00")  # older than 6 months
    _run(world, _month(today, 5), "processed", 4, "4000.50", "3500.25")
    _run(world, _month(today, 2), "rejected", 5, "1.00", "1.00")
    _run(world, _month(today, 2), "approved", 5, "5000.00", "4400.10")
    _run(world, this_month, "draft", 6, "6000.00", "5300.00")

    dashboard = _executive(world)

    assert dashboard.as_of == today
    assert dashboard.headcount == 5  # the terminated two are not counted
    assert [(d.department_id, d.name, d.headcount) for d in dashboard.by_department] == [
        (archive, "Archive", 0),
        (world.department_id, "Engineering", 3),
        (sales, "Sales", 1),
        (None, None, 1),
    ]
    assert (dashboard.joiners_this_month, dashboard.leavers_this_month) == (2, 1)
    assert dashboard.on_leave_today == 2
    assert dashboard.pending_approvals == 1
    assert [(p.month, p.employee_count, p.gross, p.net, p.status) for p in dashboard.payroll_trend] == [
        (_month(today, 5).strftime("%Y-%m"), 4, Decimal("4000.50"), Decimal("3500.25"), "processed"),
        (_month(today, 2).strftime("%Y-%m"), 5, Decimal("5000.00"), Decimal("4400.10"), "approved"),
        (this_month.strftime("%Y-%m"), 6, Decimal("6000.00"), Decimal("5300.00"), "draft"),
    ]
    assert dashboard.model_dump(mode="json", by_alias=True)["payrollTrend"][0]["gross"] == "4000.50"


def test_employee_dashboard_shows_balances_pending_requests_and_the_last_payslips(
    world: World, staff: dict[str, Any]
) -> None:
    today = _today(world)
    monday = _first_monday_of_february(today.year)
    request = world.request(staff["employee_user"], monday.isoformat(), (monday + dt.timedelta(days=4)).isoformat())
    for back in range(8):
        month = _month(today, back)
        status = "draft" if back == 0 else "processed" if back > 2 else "approved"
        _payslip(world, _run(world, month, status), staff["employee"], month, f"{1000 + back}.00", f"{900 + back}.50")

    mine = service.employee_dashboard(world.tenant, staff["employee_user"], "self", staff["employee"])
    managers = service.employee_dashboard(world.tenant, staff["manager_user"], "team", staff["manager"])

    assert mine.leave_year == today.year
    annual = next(b for b in mine.balances if b.code == "annual")
    assert (annual.allocated, annual.pending, annual.available) == (18, 5, 13)
    assert [(leave.leave_id, leave.days) for leave in mine.pending_leaves] == [(request.leave_id, 5)]
    assert mine.approvals_waiting == 0
    assert [(p.month, p.gross, p.net, p.status) for p in mine.payslips] == [
        (_month(today, back).strftime("%Y-%m"), Decimal(f"{1000 + back}.00"), Decimal(f"{900 + back}.50"), status)
        for back, status in [(n, "processed") for n in range(3, 8)]  # processed runs only: no draft or approved
    ]
    assert managers.approvals_waiting == 1
    assert (managers.pending_leaves, managers.payslips) == ([], [])


# ---------------------------------------------------------------- cache


def test_second_call_comes_from_redis_until_a_write_invalidates_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[int] = []
    real = repo.figures
    monkeypatch.setattr(repo, "figures", lambda tx, today: computed.append(1) or real(tx, today))
    world.hire()
    first = _executive(world)
    assert store.get_json(_executive_key(world)) == {"epoch": world.epoch(), "value": first.model_dump(mode="json")}

    # A row added behind the services' back invalidates nothing: the cached value is served.
    world.query(
        sql.SQL(
            "INSERT INTO {} (employee_code, email, first_name, last_name, department_id, date_of_joining)"
            " VALUES ('RAW-1', 'raw@example.com', 'Raw', 'Row', %s, '2024-01-01')"
        ).format(world.t("employees")),
        (world.department_id,),
    )
    assert _executive(world) == first
    assert len(computed) == 1

    world.hire()  # a write through the service: the next call is fresh
    assert _executive(world).headcount == first.headcount + 2
    assert len(computed) == 2


def test_employee_and_department_writes_refresh_the_executive_dashboard(world: World) -> None:
    veteran = world.hire(joined="2024-01-01")
    before = _executive(world)

    employees.terminate_employee(world.tenant, world.admin, "all", veteran, _today(world))
    after_leaving = _executive(world)
    assert (after_leaving.headcount, after_leaving.leavers_this_month) == (before.headcount - 1, 1)

    org.update_department(world.tenant, world.admin, world.department_id, DepartmentPatch(name="R&D"))
    assert [d.name for d in _executive(world).by_department] == ["R&D"]


def test_a_leave_decision_refreshes_both_employee_dashboards(world: World, staff: dict[str, Any]) -> None:
    monday = _first_monday_of_february(_today(world).year)
    request = world.request(staff["employee_user"], monday.isoformat(), monday.isoformat())
    assert service.employee_dashboard(world.tenant, world.admin, "all", staff["employee"]).pending_leaves
    assert service.employee_dashboard(world.tenant, world.admin, "all", staff["manager"]).approvals_waiting == 1
    assert _executive(world).pending_approvals == 1

    leave.decide_leave(world.tenant, staff["manager_user"], "team", request.leave_id, DecisionIn(decision="approve"))

    mine = service.employee_dashboard(world.tenant, world.admin, "all", staff["employee"])
    assert mine.pending_leaves == []
    assert next(b for b in mine.balances if b.code == "annual").used == 1
    assert service.employee_dashboard(world.tenant, world.admin, "all", staff["manager"]).approvals_waiting == 0
    assert _executive(world).pending_approvals == 0


def test_without_redis_the_dashboards_stay_correct_and_no_stale_value_survives_it(
    world: World, staff: dict[str, Any], stack: Any
) -> None:
    before = _executive(world)  # cached before the outage
    stack.stop_service("redis")
    store.reset_breaker()
    try:
        assert _executive(world) == before
        world.hire()  # its invalidation cannot reach Redis
        assert _executive(world).headcount == before.headcount + 1
        mine = service.employee_dashboard(world.tenant, staff["employee_user"], "self", staff["employee"])
        assert mine.employee_id == staff["employee"]
    finally:
        stack.start_service("redis")
        store.reset_breaker()

    # Redis is back with the value cached before the outage: its epoch is old, so it is not served.
    assert _executive(world).headcount == before.headcount + 1


# ---------------------------------------------------------------- scope


def test_employees_see_their_own_dashboard_and_managers_their_team(world: World, staff: dict[str, Any]) -> None:
    me, boss = staff["employee_user"], staff["manager_user"]
    assert service.employee_dashboard(world.tenant, me, "self", staff["employee"]).employee_id == staff["employee"]
    assert service.employee_dashboard(world.tenant, boss, "team", staff["peer"]).employee_id == staff["peer"]

    def key(employee_id: UUID) -> str:
        return f"dashboard:{{{world.tenant.tenant_id}}}:employee:{employee_id}"

    assert store.get_json(key(staff["peer"])) is not None
    with pytest.raises(NotFound):  # cached for the manager, still not for a colleague
        service.employee_dashboard(world.tenant, me, "self", staff["peer"])
    for actor, scope, other in [(me, "self", staff["manager"]), (boss, "team", staff["outsider"])]:
        with pytest.raises(NotFound):
            service.employee_dashboard(world.tenant, actor, scope, other)
        assert store.get_json(key(other)) is None  # nothing computed or cached for a caller who may not see it


def test_another_tenants_employee_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        service.employee_dashboard(world.tenant, world.admin, "all", DEMO_EMPLOYEE_ID)
