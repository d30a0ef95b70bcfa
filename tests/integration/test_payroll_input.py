"""Payroll input users send and input that would pay someone less than nothing (services, no HTTP).

March 2026 has 31 days. The "thin" structure below pays basic 40% of the CTC, deducts PF 12% of
basic and a fixed professional tax of 200 a month: on a small CTC the tax alone exceeds the pay.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from psycopg import sql
from pydantic import ValidationError

from hrms.approvals import service as approvals
from hrms.approvals.models import DecisionIn
from hrms.errors import Invalid
from hrms.payroll import runs, salaries
from hrms.payroll.models import NewEmployeeSalary, NewSalaryStructure, SalaryStructurePatch
from hrms.settings import service as settings
from hrms.settings.models import SettingsUpdate
from tests.integration.leave_world import World

MONTH = "2026-03"
THIN = [
    {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": "40"},
    {"code": "pf", "name": "Provident fund", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
    {"code": "pt", "name": "Professional tax", "kind": "deduction", "calc": "fixed", "value": "200"},
]
# Basic 40% of CTC plus HRA 10% of basic earn 44% of the monthly CTC; PF 100% and tax 50% of basic
# deduct 60% of it: short by 16% of the CTC whatever the CTC.
ALWAYS_SHORT = [
    {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": "40"},
    {"code": "hra", "name": "HRA", "kind": "earning", "calc": "percent_of_basic", "value": "10"},
    {"code": "pf", "name": "Provident fund", "kind": "deduction", "calc": "percent_of_basic", "value": "100"},
    {"code": "tax", "name": "Tax", "kind": "deduction", "calc": "percent_of_basic", "value": "50"},
]


class Payroll:
    def __init__(self, world: World, components: list[dict[str, Any]]) -> None:
        self.world = world
        self.clerk = world.user(None, "hr_manager")
        new = NewSalaryStructure.model_validate({"name": "Thin", "components": components})
        self.structure = salaries.create_structure(world.tenant, world.admin, new)

    def hire(self, ctc: str) -> UUID:
        employee = self.world.hire()
        self.pay(employee, ctc, "2024-01-01")
        return employee

    def pay(self, employee: UUID, ctc: str, effective_from: str) -> None:
        body = {
            "salaryStructureId": str(self.structure.salary_structure_id),
            "annualCtc": ctc,
            "effectiveFrom": effective_from,
        }
        salaries.assign_salary(self.world.tenant, self.world.admin, employee, NewEmployeeSalary.model_validate(body))

    def run(self) -> Any:
        return runs.process_payroll(self.world.tenant, self.clerk, MONTH)

    def nets(self, run_id: UUID) -> dict[UUID, Decimal]:
        page = runs.list_records(self.world.tenant, self.world.admin, run_id, None, 200, None)
        return {record.employee_id: record.net for record in page.items}


def tables(world: World) -> dict[str, str]:
    """A digest of every table of the tenant's schema: equal digests, nothing written."""
    names = world.query(
        sql.SQL("SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1"),
        (world.tenant.schema_name,),
    )
    return {
        row["table_name"]: world.query(
            sql.SQL("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS d FROM {} t").format(
                world.t(row["table_name"])
            )
        )[0]["d"]
        for row in names
    }


def test_a_run_with_a_negative_net_pay_is_refused_naming_the_employees(world: World) -> None:
    payroll = Payroll(world, THIN)
    short = payroll.hire("1200")  # monthly 100: basic 40.00 - PF 4.80 - tax 200 = -164.80
    fine = payroll.hire("12000")  # monthly 1,000: basic 400.00 - PF 48.00 - tax 200 = 152.00
    shorter = payroll.hire("2400")  # monthly 200: basic 80.00 - PF 9.60 - tax 200 = -129.60
    before = tables(world)

    with pytest.raises(Invalid) as refused:
        payroll.run()

    problem = refused.value
    assert problem.status == 422
    assert problem.extra == {"employeeIds": [str(short), str(shorter)], "employeeCount": 2}
    assert [(e["field"], e["employeeId"], e["employeeCode"], e["message"]) for e in problem.errors] == [
        ("employeeId", str(short), "EMP-000001",
         "EMP-000001 Asha Rao: net pay would be -164.80 (earnings 40.00, deductions 204.80)"),
        ("employeeId", str(shorter), "EMP-000003",
         "EMP-000003 Asha Rao: net pay would be -129.60 (earnings 80.00, deductions 209.60)"),
    ]  # fmt: skip
    assert "2026-03" in problem.detail and "2 employee(s)" in problem.detail
    # No run, record, approval task, audit row or cache epoch remains: the transaction rolled back.
    assert tables(world) == before
    assert runs.list_runs(world.tenant, world.admin, None, None, 10, None).items == []

    # Raised from the first of the month, both are paid: the month was never taken.
    payroll.pay(short, "24000", "2026-03-01")  # monthly 2,000: 800.00 - 96.00 - 200 = 504.00
    payroll.pay(shorter, "12000", "2026-03-01")
    run = payroll.run()
    assert payroll.nets(run.payroll_run_id) == {short: Decimal("504.00"), fine: Decimal("152.00"), shorter: 152}
    assert (run.status, run.employee_count, run.totals.net) == ("draft", 3, Decimal("808.00"))


def test_a_net_pay_of_exactly_zero_is_paid(world: World) -> None:
    even = [
        {"code": "basic", "name": "Basic", "kind": "earning", "calc": "fixed", "value": "1000"},
        {"code": "loan", "name": "Loan repayment", "kind": "deduction", "calc": "fixed", "value": "1000"},
    ]
    payroll = Payroll(world, even)
    employee = payroll.hire("500000")
    run = payroll.run()
    assert payroll.nets(run.payroll_run_id) == {employee: Decimal("0.00")}
    assert (run.totals.gross, run.totals.deductions, run.totals.net) == (1000, 1000, 0)


def test_the_rounded_amounts_decide_not_the_structure(world: World) -> None:
    """Exactly, 1,000.004 + 0.004 - 1,000.005 = 0.003 and the structure is accepted; rounded to
    paise, each on its own, it pays 1,000.00 + 0.00 - 1,000.01 = -0.01 and the run is refused."""
    slivers = [
        {"code": "basic", "name": "Basic", "kind": "earning", "calc": "fixed", "value": "1000.004"},
        {"code": "bonus", "name": "Bonus", "kind": "earning", "calc": "fixed", "value": "0.004"},
        {"code": "loan", "name": "Loan repayment", "kind": "deduction", "calc": "fixed", "value": "1000.005"},
    ]
    payroll = Payroll(world, slivers)
    payroll.hire("100000")
    with pytest.raises(Invalid) as refused:
        payroll.run()
    assert [e["message"] for e in refused.value.errors] == [
        "EMP-000001 Asha Rao: net pay would be -0.01 (earnings 1000.00, deductions 1000.01)"
    ]


def test_pay_beyond_what_a_record_holds_is_refused_and_writes_nothing(world: World) -> None:
    huge = [
        {"code": "basic", "name": "Basic", "kind": "earning", "calc": "fixed", "value": "999999999999.99"},
        {"code": "bonus", "name": "Bonus", "kind": "earning", "calc": "fixed", "value": "0.01"},
    ]
    payroll = Payroll(world, huge)
    payroll.hire("1200")
    before = tables(world)
    with pytest.raises(Invalid) as refused:
        payroll.run()
    assert refused.value.detail.startswith("The pay of 2026-03 exceeds what payroll records hold")
    assert tables(world) == before


def test_a_structure_short_at_every_ctc_is_refused_on_create_and_change(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        NewSalaryStructure.model_validate({"name": "Short", "components": ALWAYS_SHORT})
    [error] = refused.value.errors()
    assert error["loc"] == ("components",)
    assert "deductions exceed the earnings whatever the CTC" in error["msg"]

    payroll = Payroll(world, THIN)
    with pytest.raises(ValidationError) as refused:
        SalaryStructurePatch.model_validate({"components": ALWAYS_SHORT})
    assert refused.value.errors()[0]["loc"] == ("components",)
    stored = salaries.get_structure(world.tenant, world.admin, payroll.structure.salary_structure_id)
    assert [c.code for c in stored.components] == ["basic", "pf", "pt"]


def test_component_codes_in_any_case_are_stored_in_lower_case_and_paid(world: World) -> None:
    shouted = [
        {"code": "BASIC", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": "50"},
        {"code": "Hra", "name": "HRA", "kind": "earning", "calc": "percent_of_basic", "value": "40"},
        {"code": " PF ", "name": "Provident fund", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
    ]
    payroll = Payroll(world, shouted)
    assert [c.code for c in payroll.structure.components] == ["basic", "hra", "pf"]
    stored = salaries.get_structure(world.tenant, world.admin, payroll.structure.salary_structure_id)
    assert [c.code for c in stored.components] == ["basic", "hra", "pf"]

    employee = payroll.hire("600000")  # monthly 50,000: basic 25,000 + HRA 10,000 - PF 3,000
    run = payroll.run()
    page = runs.list_records(world.tenant, world.admin, run.payroll_run_id, None, 10, None)
    [record] = page.items
    assert record.employee_id == employee
    assert [(c.code, c.amount) for c in record.components] == [("basic", 25000), ("hra", 10000), ("pf", 3000)]
    assert record.net == Decimal("32000.00")

    with pytest.raises(ValidationError, match="unique"):  # `Basic` and `basic` are the same code
        NewSalaryStructure.model_validate({"name": "Twice", "components": [*shouted, {**shouted[0], "code": "Basic"}]})


def test_weekend_days_sent_as_names_are_stored_as_numbers_and_used_by_payroll(world: World) -> None:
    body = SettingsUpdate.model_validate({"settings": {"weekendDays": ["Sunday"]}, "expectedVersion": 0})
    assert settings.update_settings(world.tenant, world.admin, body).settings == {"weekendDays": [7]}
    assert settings.get_settings(world.tenant).settings == {"weekendDays": [7]}

    payroll = Payroll(world, THIN)
    employee = payroll.hire("1200000")
    leave = world.request(world.user(employee, "employee"), "2026-03-13", "2026-03-15", code="unpaid")
    assert leave.days == 2  # Friday and Saturday are working days now; Sunday is not
    hr = world.user(None, "hr_manager")
    approvals.decide_approval(world.tenant, hr, leave.approval_id, DecisionIn(decision="approve"))
    page = runs.list_records(world.tenant, world.admin, payroll.run().payroll_run_id, None, 10, None)
    assert [r.paid_days for r in page.items] == [29]
