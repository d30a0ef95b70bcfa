"""Salary structures, employee salaries and payroll runs on the wire.

Money is `numeric` in PostgreSQL and a decimal string in JSON ("1234.50"), never a float.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, field_validator, model_validator

from hrms.approvals.models import Comment
from hrms.leave.models import Day
from hrms.models import ApiModel, InputModel

ComponentKind = Literal["earning", "deduction"]
Calculation = Literal["fixed", "percent_of_basic", "percent_of_ctc"]
RunStatus = Literal["draft", "approved", "rejected", "processed"]
BASIC = "basic"

ComponentCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# Monthly amounts and annual CTC within what numeric(14,2) holds, in paise.
Money = Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=4)]
MONTH_PATTERN = r"^((?:19|2\d)\d{2})-(0[1-9]|1[0-2])$"  # 1900-01 .. 2999-12
_MONTH = re.compile(MONTH_PATTERN)


class Component(InputModel):
    """One line of a structure. `fixed` is a monthly amount; percentages are of the monthly basic or CTC."""

    code: ComponentCode = Field(description=f"Unique in the structure; `{BASIC}` is the basic pay.")
    name: Name
    kind: ComponentKind
    calc: Calculation
    value: Decimal = Field(ge=0, le=Decimal("999999999999.99"), decimal_places=4)

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
    return components


class NewSalaryStructure(InputModel):
    name: Name = Field(description="Unique per tenant, case-insensitively.")
    components: Components

    _valid_components = field_validator("components")(_check_components)


class SalaryStructurePatch(InputModel):
    """Only the keys present change. Salaries already assigned keep the components they were given."""

    name: Name | None = None
    components: Components | None = None
    is_active: bool | None = Field(default=None, description="Inactive structures take no new assignments.")

    @field_validator("components")
    @classmethod
    def _valid_components(cls, value: list[Component] | None) -> list[Component] | None:
        return None if value is None else _check_components(value)

    @field_validator("name", "is_active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


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


def parse_month(value: str) -> dt.date:
    """`YYYY-MM` -> the first day of that month; ValueError otherwise."""
    match = _MONTH.match(value)
    if match is None:
        raise ValueError("must be a month as YYYY-MM")
    return dt.date(int(match[1]), int(match[2]), 1)


Month = Annotated[str, StringConstraints(pattern=MONTH_PATTERN), Field(examples=["2026-11"])]


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
