"""Dashboards on the wire. Money is a decimal string ("12345.67"), months are `YYYY-MM`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from hrms.leave.models import Leave, LeaveBalance
from hrms.models import ApiModel


class DepartmentHeadcount(ApiModel):
    department_id: UUID | None = Field(description="Null for employees without a department.")
    name: str | None
    headcount: int


class PayrollMonth(ApiModel):
    month: str = Field(description="YYYY-MM")
    employee_count: int
    gross: Decimal
    net: Decimal
    status: str


class ExecutiveDashboard(ApiModel):
    as_of: dt.date = Field(description="Today in the tenant's time zone, when the figures were computed.")
    headcount: int = Field(description="Employees not terminated (active or on leave).")
    by_department: list[DepartmentHeadcount]
    joiners_this_month: int
    leavers_this_month: int
    on_leave_today: int = Field(description="Employees with an approved leave covering today.")
    pending_approvals: int
    payroll_trend: list[PayrollMonth] = Field(description="Runs (not rejected) of the last 6 months, oldest first.")


class Payslip(ApiModel):
    month: str = Field(description="YYYY-MM")
    gross: Decimal
    deductions: Decimal
    net: Decimal
    status: str = Field(description="The payroll run's status: always processed (only processed runs have payslips).")


class EmployeeDashboard(ApiModel):
    employee_id: UUID
    leave_year: int
    balances: list[LeaveBalance]
    pending_leaves: list[Leave] = Field(description="The employee's leave requests awaiting a decision.")
    approvals_waiting: int = Field(description="Pending approval tasks assigned to the employee (as a manager).")
    payslips: list[Payslip] | None = Field(
        description="The last 6 payslips (processed runs), newest first; null unless the caller is the"
        " employee or reads their payslips (payslips:read; a manager sees a report's leave, not their pay)."
    )
