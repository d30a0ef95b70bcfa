"""Payroll against the embedded stack: the arithmetic, one run per month, approve -> process, stats cache.

March 2026 has 31 days; the 1st is a Sunday. The standard structure on a CTC of 12,00,000 (monthly
1,00,000) pays basic 40,000 + HRA 20,000 + special 10,000 = 70,000 and deducts PF 4,800 + PT 200.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from hrms.approvals import service as approvals
from hrms.approvals.models import DecisionIn
from hrms.cache import store
from hrms.dashboards import service as dashboards
from hrms.employees import service as employees
from hrms.employees.models import EmployeePatch
from hrms.errors import Conflict, Forbidden, Invalid, NotFound
from hrms.payroll import runs, salaries, stats
from hrms.payroll.models import NewEmployeeSalary, NewSalaryStructure, SalaryStructurePatch
from tests.integration.leave_world import World

MONTH = "2026-03"
DAYS = 31
STANDARD = [
    {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": "40"},
    {"code": "hra", "name": "House rent allowance", "kind": "earning", "calc": "percent_of_basic", "value": "50"},
    {"code": "special", "name": "Special allowance", "kind": "earning", "calc": "fixed", "value": "10000"},
    {"code": "pf", "name": "Provident fund", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
    {"code": "pt", "name": "Professional tax", "kind": "deduction", "calc": "fixed", "value": "200"},
]
# Monthly amounts of the standard structure on a CTC of 12,00,000.
MONTHLY = {"basic": 40000, "hra": 20000, "special": 10000, "pf": 4800, "pt": 200}
EARNINGS = ("basic", "hra", "special")
FIXED = ("special", "pt")  # monthly amounts that do not follow the CTC


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected(parts: list[tuple[int, Decimal | int]]) -> dict[str, Decimal]:
    """Component amounts for segments of (CTC as a multiple of 12,00,000, paid days): exact, then rounded."""
    return {
        code: money(
            sum(Decimal(monthly * (1 if code in FIXED else scale)) * Decimal(days) / DAYS for scale, days in parts)
        )
        for code, monthly in MONTHLY.items()
    }


class Payroll:
    """A tenant with a structure; employees hired with a salary; runs and records read back."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.clerk = world.user(None, "hr_manager")  # runs the months: the creator never approves them
        new = NewSalaryStructure.model_validate({"name": "Standard", "components": STANDARD})
        self.structure = salaries.create_structure(world.tenant, world.admin, new).salary_structure_id

    def hire(self, joined: str = "2024-01-01", ctc: str = "1200000", manager_id: UUID | None = None) -> UUID:
        employee = self.world.hire(manager_id=manager_id, joined=joined)
        self.pay(employee, ctc, joined)
        return employee

    def pay(self, employee: UUID, ctc: str, effective_from: str) -> None:
        body = {"salaryStructureId": str(self.structure), "annualCtc": ctc, "effectiveFrom": effective_from}
        salaries.assign_salary(self.world.tenant, self.world.admin, employee, NewEmployeeSalary.model_validate(body))

    def run(self, month: str = MONTH, actor: Any = None) -> Any:
        return runs.process_payroll(self.world.tenant, actor or self.clerk, month)

    def records(self, run_id: UUID) -> dict[UUID, Any]:
        page = runs.list_records(self.world.tenant, self.world.admin, run_id, None, 200, None)
        return {record.employee_id: record for record in page.items}

    def amounts(self, record: Any) -> dict[str, Decimal]:
        return {c.code: c.amount for c in record.components}


@pytest.fixture
def payroll(world: World) -> Payroll:
    return Payroll(world)


def test_full_month_pays_the_structure(payroll: Payroll) -> None:
    employee = payroll.hire()
    run = payroll.run()
    record = payroll.records(run.payroll_run_id)[employee]

    assert payroll.amounts(record) == {code: money(v) for code, v in MONTHLY.items()}
    assert [c.code for c in record.components] == ["basic", "hra", "special", "pf", "pt"]
    assert (record.paid_days, record.gross, record.deductions, record.net) == (31, 70000, 5000, 65000)
    assert run.status == "draft" and run.employee_count == 1 and run.approval_id is not None
    assert (run.totals.gross, run.totals.deductions, run.totals.net) == (70000, 5000, 65000)


def test_joiner_and_leaver_are_paid_pro_rata_by_calendar_days(payroll: Payroll, world: World) -> None:
    joiner = payroll.hire(joined="2026-03-10")
    leaver = payroll.hire()
    employees.terminate_employee(world.tenant, world.admin, "all", leaver, dt.date(2026, 3, 20))
    run = payroll.run()
    records = payroll.records(run.payroll_run_id)

    assert records[joiner].paid_days == 22
    assert payroll.amounts(records[joiner]) == expected([(1, 22)])
    assert payroll.amounts(records[joiner])["basic"] == Decimal("28387.10")  # 40,000 x 22 / 31 = 28,387.0967...
    assert records[leaver].paid_days == 20
    assert payroll.amounts(records[leaver]) == expected([(1, 20)])


def test_people_not_employed_in_the_month_or_without_salary_get_no_record(payroll: Payroll, world: World) -> None:
    paid = payroll.hire()
    payroll.hire(joined="2026-04-01")  # joins after the month
    gone = payroll.hire()
    employees.terminate_employee(world.tenant, world.admin, "all", gone, dt.date(2026, 2, 28))
    world.hire()  # employed, but no salary yet
    run = payroll.run()
    assert set(payroll.records(run.payroll_run_id)) == {paid}
    assert run.employee_count == 1


def test_mid_month_revision_pays_each_salary_for_its_days(payroll: Payroll) -> None:
    employee = payroll.hire()
    payroll.pay(employee, "2400000", "2026-03-16")  # doubled from the 16th: 15 days old, 16 days new
    payroll.pay(employee, "3600000", "2026-04-01")  # a later revision does not touch March
    record = payroll.records(payroll.run().payroll_run_id)[employee]

    assert record.paid_days == 31
    assert payroll.amounts(record) == expected([(1, 15), (2, 16)])
    assert payroll.amounts(record)["basic"] == Decimal("60645.16")  # (40,000 x 15 + 80,000 x 16) / 31


def test_unpaid_leave_days_are_deducted_on_working_days_only(payroll: Payroll, world: World) -> None:
    manager = payroll.hire(joined="2026-01-01")
    employee = payroll.hire(joined="2026-01-01", manager_id=manager)  # 2026 balances, for the casual leave
    approver = world.user(manager, "manager")
    requester = world.user(employee, "employee")

    def approved(start: str, end: str, code: str = "unpaid", **fields: Any) -> None:
        leave = world.request(requester, start, end, code=code, **fields)
        approvals.decide_approval(world.tenant, approver, leave.approval_id, DecisionIn(decision="approve"))

    approved("2026-02-26", "2026-03-03")  # Thu-Tue across months: only Mon 2 and Tue 3 are March working days
    approved("2026-03-13", "2026-03-16")  # Fri-Mon: the weekend between is not unpaid leave
    approved("2026-03-18", "2026-03-18", halfDay="first")
    approved("2026-03-20", "2026-03-20", code="casual")  # paid leave: no deduction
    world.request(requester, "2026-03-25", "2026-03-25", code="unpaid")  # still pending: no deduction

    record = payroll.records(payroll.run().payroll_run_id)[employee]
    unpaid = Decimal("4.5")
    assert record.paid_days == DAYS - unpaid
    assert payroll.amounts(record) == expected([(1, DAYS - unpaid)])


def test_a_holiday_inside_unpaid_leave_is_not_deducted(payroll: Payroll, world: World) -> None:
    employee = payroll.hire()
    world.holiday("2026-03-11")
    leave = world.request(world.user(employee, "employee"), "2026-03-10", "2026-03-12", code="unpaid")
    hr = world.user(None, "hr_manager")  # the employee has no manager: an hr_manager decides
    approvals.decide_approval(world.tenant, hr, leave.approval_id, DecisionIn(decision="approve"))
    assert payroll.records(payroll.run().payroll_run_id)[employee].paid_days == DAYS - 2


def test_totals_equal_the_sum_of_rounded_lines(payroll: Payroll, world: World) -> None:
    odd = [payroll.hire(joined=f"2026-03-{day:02d}", ctc=ctc) for day, ctc in ((3, "987654.33"), (17, "1234567"))]
    odd.append(payroll.hire(ctc="555555.55"))
    run = payroll.run()
    records = payroll.records(run.payroll_run_id)
    assert set(records) == set(odd)
    for record in records.values():
        amounts = payroll.amounts(record)
        assert all(amount == amount.quantize(Decimal("0.01")) for amount in amounts.values())
        assert record.gross == sum(amounts[c] for c in EARNINGS)
        assert record.deductions == amounts["pf"] + amounts["pt"]
        assert record.net == record.gross - record.deductions
    assert run.totals.gross == sum(r.gross for r in records.values())
    assert run.totals.deductions == sum(r.deductions for r in records.values())
    assert run.totals.net == sum(r.net for r in records.values())


def test_same_month_twice_is_a_conflict_naming_the_existing_run(payroll: Payroll) -> None:
    payroll.hire()
    first = payroll.run()
    with pytest.raises(Conflict) as refused:
        payroll.run()
    assert refused.value.extra["payrollRunId"] == str(first.payroll_run_id)


def test_concurrent_runs_of_one_month_make_one_run(payroll: Payroll, world: World) -> None:
    for _ in range(20):
        payroll.hire()
    outcomes: list[Any] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait()
        try:
            outcomes.append(payroll.run())
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    made = [o for o in outcomes if not isinstance(o, Conflict)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(made) == 1 and len(refused) == 3
    assert {c.extra["payrollRunId"] for c in refused} == {str(made[0].payroll_run_id)}
    rows = world.query(sql.SQL("SELECT count(*) AS n FROM {}").format(world.t("payroll")))
    assert rows[0]["n"] == 20


def test_future_month_is_refused(payroll: Payroll) -> None:
    with pytest.raises(Invalid):
        payroll.run("2999-01")


def test_approve_then_process_in_that_order_only(payroll: Payroll, world: World) -> None:
    payroll.hire()
    run_id = payroll.run().payroll_run_id
    hr = world.user(None, "hr_manager")

    with pytest.raises(Conflict):
        runs.mark_processed(world.tenant, hr, run_id)  # a draft cannot be processed
    approved = runs.approve(world.tenant, hr, run_id, "looks right")
    assert approved.status == "approved" and approved.approved_at is not None
    with pytest.raises(Conflict):
        runs.approve(world.tenant, hr, run_id, None)  # approving twice
    processed = runs.mark_processed(world.tenant, hr, run_id)
    assert processed.status == "processed" and processed.processed_at is not None
    with pytest.raises(Conflict):
        runs.mark_processed(world.tenant, hr, run_id)
    assert world.audit_actions(run_id) == ["payroll_run.created", "payroll_run.updated", "payroll_run.updated"]


def test_a_processed_run_and_its_records_cannot_change(payroll: Payroll, world: World) -> None:
    employee = payroll.hire()
    run_id = payroll.run().payroll_run_id
    runs.approve(world.tenant, world.admin, run_id, None)
    runs.mark_processed(world.tenant, world.admin, run_id)

    for statement in (
        sql.SQL("UPDATE {} SET net = 0 WHERE payroll_run_id = %s").format(world.t("payroll")),
        sql.SQL("DELETE FROM {} WHERE payroll_run_id = %s").format(world.t("payroll")),
        sql.SQL("UPDATE {} SET status = 'draft' WHERE id = %s").format(world.t("payroll_runs")),
    ):
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
            world.query(statement, (run_id,))
    with pytest.raises(Conflict) as refused:  # a backdated revision would change the settled month
        payroll.pay(employee, "2400000", "2026-03-15")
    assert refused.value.extra["settledMonth"] == MONTH
    assert payroll.records(run_id)[employee].net == 65000


def test_manager_cannot_approve_payroll_even_with_the_permission(payroll: Payroll, world: World) -> None:
    """Who approves comes from the workflow (role hr_manager), not only from the permission."""
    manager = payroll.hire()
    run_id = payroll.run().payroll_run_id
    with pytest.raises(Forbidden):
        runs.approve(world.tenant, world.user(manager, "manager"), run_id, None)
    assert runs.get_run(world.tenant, world.admin, run_id).status == "draft"


def test_a_rejected_run_frees_its_month(payroll: Payroll, world: World) -> None:
    payroll.hire()
    rejected = payroll.run()
    hr = world.user(None, "hr_manager")
    decision = approvals.decide_approval(world.tenant, hr, rejected.approval_id, DecisionIn(decision="reject"))
    assert decision.entity_status == "rejected"
    with pytest.raises(Conflict):
        runs.approve(world.tenant, hr, rejected.payroll_run_id, None)

    again = payroll.run()
    assert again.payroll_run_id != rejected.payroll_run_id and again.status == "draft"
    listed = runs.list_runs(world.tenant, world.admin, MONTH, None, 10, None).items
    assert [(r.payroll_run_id, r.status) for r in listed] == sorted(
        [(again.payroll_run_id, "draft"), (rejected.payroll_run_id, "rejected")], reverse=True
    )


def test_stats_are_served_from_cache_and_fresh_after_a_change(payroll: Payroll, world: World) -> None:
    payroll.hire()
    payroll.hire(joined="2026-03-16")
    run = payroll.run()
    key = stats.cache_key(world.tenant.tenant_id, dt.date(2026, 3, 1))
    assert store.get_json(key)["value"]["status"] == "draft"  # warmed by the run itself

    first = stats.payroll_stats(world.tenant, world.admin, MONTH)
    assert (first.headcount, first.gross, first.net) == (2, run.totals.gross, run.totals.net)
    assert [(d.department_id, d.headcount) for d in first.by_department] == [(world.department_id, 2)]
    # Change the run behind the service's back: the cached figures are still served...
    world.query(
        sql.SQL("UPDATE {} SET total_net = 1 WHERE id = %s").format(world.t("payroll_runs")), (run.payroll_run_id,)
    )
    assert stats.payroll_stats(world.tenant, world.admin, MONTH).net == run.totals.net
    # ...until a write through the service invalidates them.
    runs.approve(world.tenant, world.admin, run.payroll_run_id, None)
    fresh = stats.payroll_stats(world.tenant, world.admin, MONTH)
    assert (fresh.status, fresh.net) == ("approved", 1)


def test_stats_of_a_month_without_run_are_not_found(payroll: Payroll, world: World) -> None:
    with pytest.raises(NotFound):
        stats.payroll_stats(world.tenant, world.admin, "2026-01")


def test_payroll_is_correct_with_redis_down(payroll: Payroll, world: World, stack: Any) -> None:
    employee = payroll.hire()
    stack.stop_service("redis")
    store.reset_breaker()
    try:
        run = payroll.run()
        assert payroll.records(run.payroll_run_id)[employee].net == 65000
        runs.approve(world.tenant, world.admin, run.payroll_run_id, None)
        assert stats.payroll_stats(world.tenant, world.admin, MONTH).status == "approved"
    finally:
        stack.start_service("redis")
        store.reset_breaker()
    # Whatever Redis held before the outage is stale: the epoch makes sure it is not served.
    assert stats.payroll_stats(world.tenant, world.admin, MONTH).status == "approved"


def test_records_filter_by_department_and_paginate(payroll: Payroll, world: World) -> None:
    other = world.query(
        sql.SQL("INSERT INTO {} (name, code) VALUES ('Sales', 'SAL') RETURNING id").format(world.t("departments"))
    )[0]["id"]
    engineers = {payroll.hire() for _ in range(3)}
    sellers = {payroll.hire() for _ in range(2)}
    world.query(
        sql.SQL("UPDATE {} SET department_id = %s WHERE id = ANY(%s)").format(world.t("employees")),
        (other, list(sellers)),
    )
    run_id = payroll.run().payroll_run_id

    page = runs.list_records(world.tenant, world.admin, run_id, other, 10, None)
    assert {r.employee_id for r in page.items} == sellers
    seen, cursor = [], None
    while True:
        page = runs.list_records(world.tenant, world.admin, run_id, None, 2, cursor)
        seen += [r.employee_code for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(seen) and len(seen) == len(engineers | sellers)


def test_structures_validate_and_salaries_copy_components(payroll: Payroll, world: World) -> None:
    with pytest.raises(ValueError, match="basic"):
        NewSalaryStructure.model_validate({"name": "No basic", "components": STANDARD[1:]})
    with pytest.raises(ValueError, match="unique"):
        NewSalaryStructure.model_validate({"name": "Twice", "components": STANDARD + STANDARD[-1:]})
    with pytest.raises(Conflict):
        salaries.create_structure(
            world.tenant, world.admin, NewSalaryStructure.model_validate({"name": "STANDARD", "components": STANDARD})
        )

    employee = payroll.hire()
    patch = SalaryStructurePatch.model_validate({"components": STANDARD[:1]})
    salaries.update_structure(world.tenant, world.admin, payroll.structure, patch)
    history = salaries.salary_history(world.tenant, world.admin, "all", employee, 10, None).items
    assert [c.code for c in history[0].components] == [c["code"] for c in STANDARD]  # assigned before the edit

    salaries.update_structure(
        world.tenant, world.admin, payroll.structure, SalaryStructurePatch.model_validate({"isActive": False})
    )
    with pytest.raises(Invalid):
        payroll.pay(employee, "100", "2026-05-01")
    with pytest.raises(NotFound):
        payroll.pay(UUID(int=7), "100", "2026-05-01")


def test_dashboards_follow_the_run_and_its_approval(payroll: Payroll, world: World) -> None:
    """The payroll trend shows the draft at once; the payslip appears when the run is processed."""
    employee = payroll.hire()
    this_month = dt.date.today().replace(day=1)
    before = dashboards.employee_dashboard(world.tenant, world.admin, "all", employee)  # cached now
    dashboards.executive_dashboard(world.tenant, world.admin)
    assert before.payslips == []

    run = payroll.run(f"{this_month:%Y-%m}")
    trend = dashboards.executive_dashboard(world.tenant, world.admin).payroll_trend
    assert [(m.month, m.status, m.net) for m in trend] == [(f"{this_month:%Y-%m}", "draft", run.totals.net)]
    assert dashboards.employee_dashboard(world.tenant, world.admin, "all", employee).payslips == []

    runs.approve(world.tenant, world.admin, run.payroll_run_id, None)
    assert dashboards.employee_dashboard(world.tenant, world.admin, "all", employee).payslips == []
    runs.mark_processed(world.tenant, world.admin, run.payroll_run_id)
    payslips = dashboards.employee_dashboard(world.tenant, world.admin, "all", employee).payslips
    assert [(p.month, p.status, p.net) for p in payslips] == [(f"{this_month:%Y-%m}", "processed", run.totals.net)]


def test_the_joining_date_of_someone_already_paid_cannot_move(payroll: Payroll, world: World) -> None:
    employee = payroll.hire(joined="2026-03-10")
    payroll.run()
    patch = EmployeePatch.model_validate({"dateOfJoining": "2026-03-02"})
    with pytest.raises(Invalid) as refused:
        employees.update_employee(world.tenant, world.admin, "all", employee, patch)
    assert refused.value.errors[0]["message"] == f"payroll has been run for {MONTH}"


def test_payslips_on_a_dashboard_are_for_the_employee_and_payroll_readers_only(payroll: Payroll, world: World) -> None:
    manager = payroll.hire()
    employee = payroll.hire(manager_id=manager)
    run = payroll.run()
    runs.approve(world.tenant, world.admin, run.payroll_run_id, None)
    runs.mark_processed(world.tenant, world.admin, run.payroll_run_id)
    viewers = {
        "self": (world.user(employee, "employee"), "self"),
        "hr": (world.user(None, "hr_manager"), "all"),
        "manager": (world.user(manager, "manager"), "team"),
    }
    seen = {
        name: dashboards.employee_dashboard(world.tenant, actor, scope, employee).payslips
        for name, (actor, scope) in viewers.items()
    }
    assert [p.month for p in seen["self"] or []] == [MONTH]
    assert seen["hr"] == seen["self"]
    assert seen["manager"] is None  # the manager sees the report's leave, not their pay


def test_a_draft_whose_inputs_changed_cannot_be_approved(payroll: Payroll, world: World) -> None:
    """What is approved is what the records say: a revision after the draft makes it stale."""
    employee = payroll.hire()
    run = payroll.run()
    payroll.pay(employee, "2400000", "2026-03-16")  # allowed: the month is only a draft
    with pytest.raises(Conflict) as refused:
        runs.approve(world.tenant, world.admin, run.payroll_run_id, None)
    assert refused.value.extra["runStatus"] == "stale"
    assert runs.get_run(world.tenant, world.admin, run.payroll_run_id).status == "draft"
    assert world.query(
        sql.SQL("SELECT count(*) AS n FROM {} WHERE status = 'rejected'").format(world.t("payroll_runs"))
    ) == [{"n": 0}]  # the recomputation left nothing behind

    hr = world.user(None, "hr_manager")
    approvals.decide_approval(world.tenant, hr, run.approval_id, DecisionIn(decision="reject"))
    again = payroll.run()
    assert runs.approve(world.tenant, world.admin, again.payroll_run_id, None).status == "approved"
    assert payroll.records(again.payroll_run_id)[employee].net > run.totals.net


def test_a_run_stands_even_if_warming_its_stats_fails(
    payroll: Payroll, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll.hire()

    def broken(*_: Any) -> None:
        raise RuntimeError("stats store unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(stats, "_cached", broken)
        run = payroll.run()
    assert runs.get_run(world.tenant, world.admin, run.payroll_run_id).employee_count == 1
    assert stats.payroll_stats(world.tenant, world.admin, MONTH).net == run.totals.net
