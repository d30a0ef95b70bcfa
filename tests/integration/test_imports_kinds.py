"""Salaries and opening leave balances imported through the services and the worker: the same rules
as their single-record routes, every row audited, nothing written when a row is wrong."""

from __future__ import annotations

from decimal import Decimal

from psycopg import sql

from hrms.imports.models import XLSX
from hrms.payroll import salaries
from hrms.payroll.models import NewSalaryStructure
from hrms.tenancy import Actor
from tests.e2e.http_world import STRUCTURE
from tests.integration.import_files import count, csv_bytes, run, xlsx_bytes
from tests.integration.leave_world import World

SALARY_HEADER = ["employeeEmail", "salaryStructureName", "annualCtc", "effectiveFrom"]
BALANCE_HEADER = ["employeeEmail", "leaveTypeCode", "year", "days"]


def emails(world: World, *employee_ids: object) -> list[str]:
    found = world.query(sql.SQL("SELECT id, email FROM {} ").format(world.t("employees")))
    by_id = {row["id"]: row["email"] for row in found}
    return [by_id[i] for i in employee_ids]


def hr_with_record(world: World) -> Actor:
    """An HR manager who is also an employee (so a row about them is about themselves)."""
    return world.user(world.hire(), "hr_manager")


def test_salaries_are_imported_with_the_structures_components_and_audited(world: World) -> None:
    salaries.create_structure(world.tenant, world.admin, NewSalaryStructure.model_validate(STRUCTURE))
    people = emails(world, world.hire(), world.hire())
    rows = [
        [people[0], "standard", "1200000", "2024-04-01"],
        [people[1].upper(), "Standard", "900000.50", "2024-04-01"],
    ]
    job = run(world.tenant, world.admin, "salaries", xlsx_bytes(SALARY_HEADER, rows), XLSX)

    assert (job.status, job.succeeded) == ("succeeded", 2), job
    stored = world.query(
        sql.SQL("SELECT annual_ctc, components, effective_from::text AS day FROM {} ORDER BY annual_ctc").format(
            world.t("employee_salaries")
        )
    )
    assert [(s["annual_ctc"], s["day"]) for s in stored] == [
        (Decimal("900000.50"), "2024-04-01"),
        (Decimal("1200000.00"), "2024-04-01"),
    ]
    assert [c["code"] for c in stored[0]["components"]] == ["basic", "hra", "pf"]
    assert count(world.tenant, "audit_logs", "action = 'employee_salary.created'") == 2


def test_a_salary_row_breaking_a_rule_writes_no_salary(world: World) -> None:
    salaries.create_structure(world.tenant, world.admin, NewSalaryStructure.model_validate(STRUCTURE))
    hr = hr_with_record(world)
    me = world.query(
        sql.SQL("SELECT e.email FROM {} e JOIN {} u ON u.employee_id = e.id WHERE u.id = %s").format(
            world.t("employees"), world.t("users")
        ),
        (hr.user_id,),
    )[0]["email"]
    people = emails(world, world.hire())
    rows = [
        [people[0], "Standard", "1200000", "2024-04-01"],  # line 2: fine
        [people[0], "Standard", "1300000", "2024-04-01"],  # line 3: the same employee and date again
        ["nobody@example.com", "Standard", "1", "2024-04-01"],  # line 4: no such employee
        [people[0], "Gold", "1", "2024-05-01"],  # line 5: no such structure
        [people[0], "Standard", "-5", "2024-06-01"],  # line 6: negative CTC
        [me, "Standard", "5000000", "2024-04-01"],  # line 7: their own salary
    ]
    job = run(world.tenant, hr, "salaries", csv_bytes(SALARY_HEADER, rows))
    assert job.status == "failed"
    assert sorted((e.row, e.column) for e in job.errors) == [
        (3, "effectiveFrom"),
        (4, "employeeEmail"),
        (5, "salaryStructureName"),
        (6, "annualCtc"),
        (7, "employeeEmail"),
    ]
    assert count(world.tenant, "employee_salaries") == 0


def test_opening_balances_set_the_entitlement_and_are_recorded_as_adjustments(world: World) -> None:
    people = emails(world, world.hire(), world.hire())
    year = world.query(sql.SQL("SELECT max(year) AS y FROM {}").format(world.t("employee_leave_balance")))[0]["y"]
    rows = [[people[0], "ANNUAL", str(year), "7.5"], [people[1], "sick", str(year), "3"]]
    job = run(world.tenant, world.admin, "leave-balances", csv_bytes(BALANCE_HEADER, rows))

    assert (job.status, job.succeeded) == ("succeeded", 2), job
    found = world.query(
        sql.SQL(
            "SELECT e.email, lt.code, b.allocated + b.carried_forward + b.adjusted AS entitled FROM {} b"
            " JOIN {} lt ON lt.id = b.leave_type_id JOIN {} e ON e.id = b.employee_id WHERE b.year = %s"
            " AND lt.code IN ('annual', 'sick')"
        ).format(world.t("employee_leave_balance"), world.t("leave_types"), world.t("employees")),
        (year,),
    )
    entitled = {(row["email"], row["code"]): row["entitled"] for row in found}
    assert entitled[(people[0], "annual")] == Decimal("7.5")
    assert entitled[(people[1], "sick")] == Decimal("3")
    assert count(world.tenant, "leave_balance_adjustments", "kind = 'opening'") == 2
    assert count(world.tenant, "audit_logs", "action = 'leave_balance.opening_set'") == 2


def test_an_opening_balance_row_breaking_a_rule_writes_none(world: World) -> None:
    hr = hr_with_record(world)
    me = world.query(
        sql.SQL("SELECT e.email FROM {} e JOIN {} u ON u.employee_id = e.id WHERE u.id = %s").format(
            world.t("employees"), world.t("users")
        ),
        (hr.user_id,),
    )[0]["email"]
    people = emails(world, world.hire())
    year = world.query(sql.SQL("SELECT max(year) AS y FROM {}").format(world.t("employee_leave_balance")))[0]["y"]
    rows = [
        [people[0], "annual", str(year), "10"],  # line 2: fine
        [people[0], "annual", str(year), "11"],  # line 3: the same balance twice
        [people[0], "annual", str(year), "1.25"],  # line 4: not a half-day step
        [people[0], "nosuch", str(year), "1"],  # line 5: no such leave type
        [me, "annual", str(year), "30"],  # line 6: their own balance
        [people[0], "sick", "1990", "3"],  # line 7: a year they were not employed in
    ]
    job = run(world.tenant, hr, "leave-balances", csv_bytes(BALANCE_HEADER, rows))
    assert job.status == "failed"
    assert sorted((e.row, e.column) for e in job.errors) == [
        (3, "year"),
        (4, "days"),
        (5, "leaveTypeCode"),
        (6, "employeeEmail"),
        (7, "days"),
    ]
    assert count(world.tenant, "leave_balance_adjustments") == 0
