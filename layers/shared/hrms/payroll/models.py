"""Salary structures, employee salaries and payroll runs on the wire.

Money is `numeric` in PostgreSQL and a decimal string in JSON ("1234.50"), never a float.

Component codes are case-insensitive on input (`BASIC` is `basic`) and stored in lower case.
A structure is refused when its deductions exceed its earnings for every possible CTC (see
`_net_negative_at_every_ctc`); one that is short only for some CTCs (fixed deductions on a small
salary) is accepted, and a run in which anyone's net pay would be negative is refused instead.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field, StringConstraints, WithJsonSchema, field_validator, model_validator

from hrms.models import ApiModel, Comment, Day, InputModel, PatchModel
from hrms.payroll.months import MONTH_PATTERN as MONTH_PATTERN  # re-exported: the months live in their own module
from hrms.payroll.months import Month as Month
from hrms.payroll.months import parse_month as parse_month

ComponentKind = Literal["earning", "deduction"]
Calculation = Literal["fixed", "percent_of_basic", "percent_of_ctc"]
RunStatus = Literal["draft", "approved", "rejected", "processed"]
BASIC = "basic"


def _lower_ascii(value: Any) -> Any:
    """`BASIC` -> `basic` before the pattern is checked; non-ASCII text is left for the pattern to refuse
    (`str.lower` maps e.g. the Kelvin sign to `k`)."""
    return value.lower() if isinstance(value, str) and value.isascii() else value


ComponentCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$"),
    BeforeValidator(_lower_ascii),
    WithJsonSchema({"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_]{0,31}$"}),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# Monthly amounts and annual CTC within what numeric(14,2) holds, in paise.
MAX_MONEY = Decimal("999999999999.99")
Money = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=4)]


class Component(InputModel):
    """One line of a structure. `fixed` is a monthly amount; percentages are of the monthly basic or CTC."""

    code: ComponentCode = Field(
        description=f"Unique in the structure, in any case (stored in lower case); `{BASIC}` is the basic pay."
    )
    name: Name
    kind: ComponentKind
    calc: Calculation
    value: Decimal = Field(ge=0, le=MAX_MONEY, decimal_places=4)

    @model_validator(mode="after")
    def _percent_in_range(self) -> Component:
        if self.calc != "fixed" and self.value > 100:
            raise ValueError("a percentage is at most 100")
        return self


Components = Annotated[list[Component], Field(min_length=1, max_length=50)]


def _check_components(components: list[Component]) -> list[Component]:
    codes = [c.code for c in components]
    if len(set(codes)) != len(codes):
        raise ValueError("component codes must be unique")
    basic = [c for c in components if c.code == BASIC]
    if len(basic) != 1:
        raise ValueError(f"exactly one component must have the code {BASIC!r}")
    if basic[0].kind != "earning" or basic[0].calc == "percent_of_basic":
        raise ValueError(f"{BASIC!r} is an earning, fixed or a percent of CTC")
    if _net_negative_at_every_ctc(components):
        raise ValueError("the deductions exceed the earnings whatever the CTC: net pay would always be negative")
    return components


# The CTCs a salary may have, in paise. Zero is left out: every percentage is nil there, so a
# structure of percentages only (deductions past earnings or not) would never count as short.
LOWEST_CTC, HIGHEST_CTC = Decimal("0.01"), MAX_MONEY


def _net_negative_at_every_ctc(components: list[Component]) -> bool:
    """Whether the monthly net (earnings - deductions) is below zero for every CTC a salary may have.

    Each amount is a constant (`fixed`, or a percent of a fixed basic) or proportional to the CTC
    (a percent of CTC, or of a basic that is one), so the net is an affine function of the CTC:
    negative on the whole range exactly when it is negative at both ends. Judged on the exact
    amounts (a full month, before rounding to paise): the structure's rule, not one payslip.
    Paid days scale every amount alike, so they never change the sign.
    """
    return all(_monthly_net(components, ctc) < 0 for ctc in (LOWEST_CTC, HIGHEST_CTC))


def _monthly_net(components: list[Component], annual_ctc: Decimal) -> Fraction:
    """Earnings - deductions of a full month, exactly, as `hrms.payroll.calculation` computes them."""
    monthly_ctc = Fraction(annual_ctc) / 12

    def amount(c: Component, basic_pay: Fraction) -> Fraction:
        if c.calc == "fixed":
            return Fraction(c.value)
        return (monthly_ctc if c.calc == "percent_of_ctc" else basic_pay) * Fraction(c.value) / 100

    basic_pay = amount(next(c for c in components if c.code == BASIC), Fraction(0))  # basic is never % of basic
    return sum((amount(c, basic_pay) * (1 if c.kind == "earning" else -1) for c in components), start=Fraction(0))


class NewSalaryStructure(InputModel):
    name: Name = Field(description="Unique per tenant, case-insensitively.")
    components: Components

    _valid_components = field_validator("components")(_check_components)


class SalaryStructurePatch(PatchModel):
    """Only the keys present change. Salaries already assigned keep the components they were given."""

    name: Name | None = None
    components: Components | None = None
    is_active: bool | None = Field(default=None, description="Inactive structures take no new assignments.")

    @field_validator("components")
    @classmethod
    def _valid_components(cls, value: list[Component] | None) -> list[Component] | None:
        return None if value is None else _check_components(value)


class ComponentOut(ApiModel):
    code: str
    name: str
    kind: ComponentKind
    calc: Calculation
    value: Decimal


class SalaryStructure(ApiModel):
    salary_structure_id: UUID
    name: str
    components: list[ComponentOut]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class NewEmployeeSalary(InputModel):
    salary_structure_id: UUID
    annual_ctc: Money = Field(description="Cost to company per year.")
    effective_from: Day = Field(description="A revision from a mid-month date is paid pro rata in that month.")


class EmployeeSalary(ApiModel):
    employee_salary_id: UUID
    employee_id: UUID
    salary_structure_id: UUID | None
    annual_ctc: Decimal
    components: list[ComponentOut] = Field(description="The structure's components when the salary was assigned.")
    effective_from: dt.date
    created_at: dt.datetime


class NewPayrollRun(InputModel):
    month: Month


class Totals(ApiModel):
    gross: Decimal
    deductions: Decimal
    net: Decimal


class PayrollRun(ApiModel):
    payroll_run_id: UUID
    month: str
    status: RunStatus
    employee_count: int
    totals: Totals
    approval_id: UUID | None
    created_at: dt.datetime
    approved_at: dt.datetime | None
    processed_at: dt.datetime | None


class LineComponent(ApiModel):
    code: str
    name: str
    kind: ComponentKind
    amount: Decimal


class PayrollRecord(ApiModel):
    payroll_record_id: UUID
    payroll_run_id: UUID
    employee_id: UUID
    employee_code: str
    employee_name: str
    department_id: UUID | None
    month: str
    paid_days: Decimal = Field(description="Calendar days employed in the month less unpaid leave days.")
    gross: Decimal
    deductions: Decimal
    net: Decimal
    components: list[LineComponent]


class ApproveIn(InputModel):
    comment: Comment | None = None


class DepartmentStats(ApiModel):
    department_id: UUID | None
    department_name: str | None
    headcount: int
    gross: Decimal
    net: Decimal


class PayrollStats(ApiModel):
    month: str
    payroll_run_id: UUID
    status: RunStatus
    headcount: int
    gross: Decimal
    deductions: Decimal
    net: Decimal
    by_department: list[DepartmentStats]
