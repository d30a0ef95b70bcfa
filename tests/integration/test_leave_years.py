"""Leave years that follow the tenant (#16): allocation on hire, the per-tenant rollover driven with a
fixed clock, a start-month change after go-live, catching up, and balance adjustments.

Expectations are written out by hand: default leave types annual 18 (carry cap 5), casual 6, sick 12,
unpaid 0; the default time zone is Asia/Kolkata (UTC+05:30).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from psycopg import sql

from hrms.db.postgres import tenant_tx
from hrms.errors import Forbidden, Invalid, NotFound
from hrms.leave import balances, rollover
from hrms.leave.balances import Opening
from hrms.leave.models import NewAdjustment
from hrms.leave.years import LeaveYears
from hrms.settings import service as settings_service
from hrms.settings.models import SettingsUpdate
from tests.integration.leave_world import World

KOLKATA = ZoneInfo("Asia/Kolkata")
TODAY = dt.datetime.now(KOLKATA).date()
THIS = TODAY.year  # the current leave year of a January tenant
B = THIS + 2  # a base year for fixed-clock rollovers, after any year a hire (real clock) allocates


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def allocated(world: World, employee_id: Any, year: int | None) -> dict[str, float]:
    found = balances.leave_balances(world.tenant, world.admin, "all", employee_id, year)
    return {b.code: b.allocated for b in found}


def years_in_table(world: World) -> list[tuple[int, str, str]]:
    rows = world.query(sql.SQL("SELECT year, first_day, last_day FROM {} ORDER BY year").format(world.t("leave_years")))
    return [(r["year"], r["first_day"].isoformat(), r["last_day"].isoformat()) for r in rows]


def start_month(world: World, month: int, version: int = 0) -> None:
    settings_service.update_settings(
        world.tenant,
        world.admin,
        SettingsUpdate(settings={"leaveYearStartMonth": month}, expected_version=version),
    )


def slug(world: World) -> str:
    return str(
        world.query(sql.SQL("SELECT slug FROM public.tenants WHERE id = %s"), (world.tenant.tenant_id,))[0]["slug"]
    )


# ---------------------------------------------------------------- allocation on hire


def test_a_hire_of_this_year_is_pro_rata_and_balances_default_to_the_current_year(world):
    employee = world.hire(joined=f"{THIS}-09-20", history=False)  # September..December: 4 months
    assert allocated(world, employee, None) == {"annual": 6.0, "casual": 2.0, "sick": 4.0, "unpaid": 0.0}
    assert [b.year for b in balances.leave_balances(world.tenant, world.admin, "all", employee, None)] == [THIS] * 4


def test_an_earlier_joiner_gets_a_full_current_year_and_nothing_retroactive(world):
    employee = world.hire(joined=f"{THIS - 2}-05-01", history=False)
    assert allocated(world, employee, THIS) == {"annual": 18.0, "casual": 6.0, "sick": 12.0, "unpaid": 0.0}
    assert allocated(world, employee, THIS - 2) == {}
    assert allocated(world, employee, THIS - 1) == {}


def test_a_future_joiner_gets_the_leave_year_of_the_joining_date(world):
    employee = world.hire(joined=f"{THIS + 1}-03-01", history=False)  # March..December: 10 months
    assert allocated(world, employee, THIS + 1) == {"annual": 15.0, "casual": 5.0, "sick": 10.0, "unpaid": 0.0}
    assert allocated(world, employee, THIS) == {}


def test_an_april_tenant_allocates_its_own_leave_year(world):
    start_month(world, 4)
    current = LeaveYears.of([], 4).containing(TODAY)
    joined = dt.date(current.first.year, 6, 1)  # June..March: 10 months
    employee = world.hire(joined=joined.isoformat(), history=False)
    assert allocated(world, employee, None) == {"annual": 15.0, "casual": 5.0, "sick": 10.0, "unpaid": 0.0}
    found = balances.leave_balances(world.tenant, world.admin, "all", employee, None)
    assert {b.year for b in found} == {current.year}


def test_a_corrected_joining_date_reprorates_or_moves_the_allocated_year(world):
    employee = world.hire(joined=f"{THIS}-09-20", history=False)  # 4 months: annual 6
    world_update = {"dateOfJoining": f"{THIS}-03-01"}  # 10 months: annual 15
    _rejoin(world, employee, world_update)
    assert allocated(world, employee, THIS) == {"annual": 15.0, "casual": 5.0, "sick": 10.0, "unpaid": 0.0}
    _rejoin(world, employee, {"dateOfJoining": f"{THIS + 1}-01-05"})  # next year: the balances move
    assert allocated(world, employee, THIS) == {}
    assert allocated(world, employee, THIS + 1) == {"annual": 18.0, "casual": 6.0, "sick": 12.0, "unpaid": 0.0}


def test_a_joining_date_correction_that_would_break_bookings_is_refused(world):
    employee = world.hire(joined=f"{THIS}-01-01", history=False)
    world.query(
        sql.SQL(
            "UPDATE {b} SET used = 10 FROM {t} lt"
            " WHERE lt.id = {b}.leave_type_id AND lt.code = 'annual' AND employee_id = %s RETURNING 1"
        ).format(b=world.t("employee_leave_balance"), t=world.t("leave_types")),
        (employee,),
    )
    for day in (f"{THIS}-09-01", f"{THIS + 1}-02-01"):  # annual would be 6 < 10 used; another year
        with pytest.raises(Invalid) as refused:
            _rejoin(world, employee, {"dateOfJoining": day})
        assert refused.value.errors[0]["field"] == "body.dateOfJoining"
    _rejoin(world, employee, {"dateOfJoining": f"{THIS}-02-01"})  # 11 months: annual 16.5 still covers 10
    assert allocated(world, employee, THIS)["annual"] == 16.5


def _rejoin(world: World, employee_id: Any, fields: dict[str, str]) -> None:
    from hrms.employees import service
    from hrms.employees.models import EmployeePatch

    service.update_employee(world.tenant, world.admin, "all", employee_id, EmployeePatch.model_validate(fields))


# ---------------------------------------------------------------- the rollover, per tenant


def test_an_april_tenant_rolls_over_on_1_april_in_its_zone_not_on_1_january(world):
    start_month(world, 4)
    employee = world.hire(joined="2024-01-01", history=False)
    first = rollover.open_due(utc("2024-12-31T20:00:00"), slug=slug(world))  # 01:30 on 1 January in Kolkata
    assert [t.years for t in first.tenants] == [[2024]]  # its first check opens the year it is in
    assert years_in_table(world) == [(2024, "2024-04-01", "2025-03-31")]
    assert world.balance(employee, "annual", 2024)["allocated"] == 18

    for moment in ("2025-01-01T00:30:00", "2025-03-31T18:00:00"):  # 1 January; 23:30 on 31 March in Kolkata
        assert rollover.open_due(utc(moment), slug=slug(world)).tenants == []
    assert world.balance(employee, "annual", 2025) == {}

    turned = rollover.open_due(utc("2025-03-31T19:00:00"), slug=slug(world))  # 00:30 on 1 April in Kolkata
    assert [t.years for t in turned.tenants] == [[2025]]
    assert world.balance(employee, "annual", 2025) == {"allocated": 18, "carried_forward": 5, "used": 0, "pending": 0}

    with pytest.raises(Invalid) as spanning:  # a request stays within one leave year
        world.request(world.user(employee, "employee"), "2025-03-31", "2025-04-01")
    assert "2025-03-31" in spanning.value.errors[0]["message"]


def test_a_start_month_change_takes_effect_at_the_next_turn_and_keeps_past_balances(world):
    employee = world.hire(joined="2024-01-01", history=False)  # allocated THIS; the clock below is later
    rollover.open_due(utc(f"{B}-01-01T00:30:00"), slug=slug(world))
    before = world.balance(employee, "annual", B)
    start_month(world, 4)
    assert rollover.open_due(utc(f"{B}-06-01T00:00:00"), slug=slug(world)).tenants == []  # not due
    assert years_in_table(world) == [(B, f"{B}-01-01", f"{B}-12-31")]

    rollover.open_due(utc(f"{B}-12-31T19:00:00"), slug=slug(world))  # 00:30 on 1 January in Kolkata
    assert years_in_table(world) == [(B, f"{B}-01-01", f"{B}-12-31"), (B + 1, f"{B + 1}-01-01", f"{B + 2}-03-31")]
    assert world.balance(employee, "annual", B) == before
    assert world.balance(employee, "annual", B + 1)["allocated"] == Decimal("22.5")  # 18 for 15 months

    rollover.open_due(utc(f"{B + 2}-03-31T19:00:00"), slug=slug(world))  # 1 April
    assert years_in_table(world)[-1] == (B + 2, f"{B + 2}-04-01", f"{B + 3}-03-31")
    assert world.balance(employee, "annual", B + 2)["allocated"] == 18


def test_missed_years_are_caught_up_in_order_and_a_rerun_changes_nothing(world):
    employee = world.hire(joined="2024-01-01", history=False)
    rollover.open_due(utc(f"{B}-01-01T00:30:00"), slug=slug(world))
    caught_up = rollover.open_due(utc(f"{B + 2}-02-01T00:00:00"), slug=slug(world))
    assert [t.years for t in caught_up.tenants] == [[B + 1, B + 2]]
    assert world.balance(employee, "annual", B + 1)["carried_forward"] == 5  # 18 unused, capped
    assert world.balance(employee, "annual", B + 2)["carried_forward"] == 5
    audit = world.query(sql.SQL("SELECT count(*) AS n FROM {}").format(world.t("audit_logs")))[0]["n"]
    again = rollover.open_due(utc(f"{B + 2}-02-01T00:00:00"), slug=slug(world))
    assert again.tenants == []  # its next turn (1 January) is recorded
    assert world.query(sql.SQL("SELECT count(*) AS n FROM {}").format(world.t("audit_logs")))[0]["n"] == audit


def test_the_registry_records_when_each_tenant_turns(world):
    start_month(world, 4)
    rollover.open_due(utc("2025-05-01T00:00:00"), slug=slug(world))
    row = world.query(
        sql.SQL("SELECT leave_year_turns_at FROM public.tenants WHERE id = %s"), (world.tenant.tenant_id,)
    )
    assert row[0]["leave_year_turns_at"] == dt.datetime(2026, 4, 1, tzinfo=KOLKATA)


# ---------------------------------------------------------------- adjustments


def adjust(world: World, actor: Any, employee: Any, **body: Any) -> Any:
    model = NewAdjustment.model_validate({"leaveTypeId": str(world.type_id(body.pop("code", "annual"))), **body})
    return balances.adjust(world.tenant, actor, "all", employee, model)


def test_an_adjustment_changes_the_entitlement_and_is_listed_and_audited(world, team):
    employee = team["employee"]
    after = adjust(world, team["hr"], employee, days="2.5", reason="Carried from the old tool", year=2024)
    assert (after.year, after.allocated, after.adjusted, after.available) == (2024, 18, 2.5, 20.5)
    assert [(a.days, a.kind, a.reason) for a in after.adjustments] == [(2.5, "correction", "Carried from the old tool")]
    taken = adjust(world, team["hr"], employee, days="-1", reason="Double counted", year=2024)
    assert (taken.adjusted, taken.available) == (1.5, 19.5)
    assert [a.days for a in taken.adjustments] == [2.5, -1.0]
    actions = world.audit_actions(employee)
    assert actions.count("leave_balance.adjusted") == 2


def test_an_adjustment_never_goes_below_what_is_used_or_pending(world, team):
    employee = team["employee"]
    world.request(team["employee_user"], "2024-02-05", "2024-02-09")  # 5 pending of 18
    with pytest.raises(Invalid) as refused:
        adjust(world, team["hr"], employee, days="-13.5", reason="Too much", year=2024)
    assert refused.value.errors[0]["type"] == "below_booked"
    assert (
        adjust(world, team["hr"], employee, days="-13", reason="Exactly down to the booked", year=2024).available == 0
    )


def test_nobody_adjusts_their_own_balance(world, team):
    with pytest.raises(Forbidden) as refused:
        adjust(world, team["manager_user"], team["manager"], days="1", reason="For me", year=2024)
    assert refused.value.extra["rule"] == "own-balance"


def test_an_adjustment_outside_the_employment_or_of_a_zero_is_refused(world, team):
    for year in (2023, THIS + 2):  # joined 2024-01-01; beyond next year
        with pytest.raises(Invalid) as refused:
            adjust(world, team["hr"], team["employee"], days="1", reason="x", year=year)
        assert refused.value.errors[0]["field"] == "body.year"
    with pytest.raises(Invalid):
        adjust(world, team["hr"], team["employee"], days="0", reason="x", year=2024)
    with pytest.raises(NotFound):
        adjust(world, team["hr"], uuid4(), days="1", reason="x", year=2024)


def test_opening_balances_set_the_entitlement_absolutely(world, team):
    employee, manager = team["employee"], team["manager"]
    world.request(team["employee_user"], "2024-02-05", "2024-02-09")  # 5 pending
    annual = world.type_id("annual")
    openings = [
        Opening(employee, annual, 2024, Decimal("12.5")),
        Opening(manager, annual, 2024, Decimal(30)),
        Opening(employee, world.type_id("sick"), 2024, Decimal(3)),
    ]
    with tenant_tx(world.tenant, team["hr"]) as tx:
        assert balances.opening_problems(tx, openings) == {}
        assert balances.set_opening_balances(tx, openings, "Go-live") == 3
    assert world.balance(employee, "annual", 2024)["pending"] == 5
    listed = {b.code: b for b in balances.leave_balances(world.tenant, world.admin, "all", employee, 2024)}
    assert (listed["annual"].adjusted, listed["annual"].available) == (-5.5, 7.5)  # 18 -> 12.5, 5 pending
    assert [(a.kind, a.reason) for a in listed["annual"].adjustments] == [("opening", "Go-live")]
    assert listed["sick"].allocated + listed["sick"].adjusted == 3


def test_opening_problems_name_each_bad_opening_and_write_nothing(world, team):
    employee = team["employee"]
    world.request(team["employee_user"], "2024-02-05", "2024-02-09")  # 5 pending
    hr_self = world.hire(joined="2024-01-01")
    hr = world.user(hr_self, "hr_manager")
    annual = world.type_id("annual")
    openings = [
        Opening(employee, annual, 2024, Decimal(4)),  # below the 5 pending
        Opening(hr_self, annual, 2024, Decimal(10)),  # the importer's own balance
        Opening(employee, annual, 2023, Decimal(10)),  # before joining
        Opening(uuid4(), annual, 2024, Decimal(10)),
        Opening(employee, annual, 2024, Decimal("1.25")),
        Opening(employee, world.type_id("sick"), 2024, Decimal(10)),  # fine
    ]
    with tenant_tx(world.tenant, hr) as tx:
        problems = balances.opening_problems(tx, openings)
    assert sorted(problems) == [0, 1, 2, 3, 4]
    assert "5" in problems[0] and "own-balance" in problems[1] and "2023" in problems[2]
    assert (
        world.query(sql.SQL("SELECT count(*) AS n FROM {}").format(world.t("leave_balance_adjustments")))[0]["n"] == 0
    )
