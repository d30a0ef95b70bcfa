"""Leave types and leave requests on the wire."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from hrms.leave.working_days import HalfDay
from hrms.models import ApiModel, InputModel, PatchModel
from hrms.models import Day as Day

LeaveStatus = Literal["pending", "approved", "rejected", "cancelled"]
AdjustmentKind = Literal["correction", "opening"]  # opening: set at go-live (API or import)


Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(max_length=1000)]
# Whole or half days, within what numeric(5,1) holds and a year can use.
Days = Annotated[Decimal, Field(ge=0, le=366, multiple_of=Decimal("0.5"))]


class NewLeaveType(InputModel):
    code: Code = Field(description="Unique per tenant, case-insensitively.")
    name: Name
    annual_quota: Days = Field(description="Days allocated per leave year.")
    carry_forward_max: Days = Field(default=Decimal(0), description="Unused days carried into the next year, at most.")
    allow_half_day: bool = True
    paid: bool = Field(default=True, description="Unpaid types are not limited by a balance.")


class LeaveTypePatch(PatchModel):
    """Only the keys present change. A new quota applies from the next allocation (rollover, hire)."""

    code: Code | None = None
    name: Name | None = None
    annual_quota: Days | None = None
    carry_forward_max: Days | None = None
    allow_half_day: bool | None = None
    paid: bool | None = None
    is_active: bool | None = Field(default=None, description="Inactive types take no new requests.")


class LeaveType(ApiModel):
    leave_type_id: UUID
    code: str
    name: str
    annual_quota: float
    carry_forward_max: float
    allow_half_day: bool
    paid: bool
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class LeaveRequest(InputModel):
    employee_id: UUID | None = Field(default=None, description="Defaults to the caller's own employee record.")
    leave_type_id: UUID
    start_date: Day
    end_date: Day = Field(description="Included; within the same leave year as startDate.")
    half_day: HalfDay | None = Field(default=None, description="Only on a single-day request: 0.5 day.")
    reason: Reason | None = None


class Leave(ApiModel):
    leave_id: UUID
    employee_id: UUID
    leave_type_id: UUID
    leave_type_code: str
    start_date: dt.date
    end_date: dt.date
    half_day: HalfDay | None
    days: float = Field(description="Working days: weekends and tenant holidays excluded, 0.5 for a half day.")
    status: LeaveStatus
    reason: str | None
    approval_id: UUID | None = Field(description="The current (or last) approval task.")
    created_at: dt.datetime
    updated_at: dt.datetime
    decided_at: dt.datetime | None


class BalanceAdjustment(ApiModel):
    adjustment_id: UUID
    days: float = Field(description="Added to the entitlement (negative: taken off).")
    kind: AdjustmentKind = Field(description="opening: set at go-live (API or import).")
    reason: str
    created_by: UUID | None = Field(description="The user who made it.")
    created_at: dt.datetime


class LeaveBalance(ApiModel):
    leave_type_id: UUID
    code: str
    year: int = Field(description="The leave year, named after the calendar year of its first day.")
    allocated: float
    carried_forward: float
    adjusted: float = Field(description="The sum of the adjustments below.")
    used: float
    pending: float
    available: float = Field(description="allocated + carriedForward + adjusted - used - pending")
    adjustments: list[BalanceAdjustment] = Field(description="Opening balances and corrections, oldest first.")


class NewAdjustment(InputModel):
    leave_type_id: UUID
    year: int | None = Field(default=None, ge=1900, le=2999, description="Defaults to the current leave year.")
    days: Annotated[Decimal, Field(ge=-366, le=366, multiple_of=Decimal("0.5"))] = Field(
        description="Half-day steps; negative takes days off, but never below what is used or pending."
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
