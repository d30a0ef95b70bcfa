"""Organisation request and response models: departments, designations, holidays, the hierarchy."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints

from hrms.models import NULLABLE, ApiModel, InputModel, PatchModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=1000)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
Level = Annotated[int, Field(ge=0, le=100)]
# A date Postgres and every client can hold; also keeps year arithmetic away from date.max.
HolidayDate = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2999, 12, 31))]


# ---------------------------------------------------------------- departments


class NewDepartment(InputModel):
    name: Name
    code: Code = Field(description="Unique per tenant, case-insensitively.")
    parent_id: UUID | None = None
    head_employee_id: UUID | None = Field(default=None, description="An employee of the tenant.")
    description: Description | None = None


class DepartmentPatch(PatchModel):
    """Only the keys present change; `parentId`/`headEmployeeId`/`description` may be set to null."""

    name: Name | None = None
    code: Code | None = None
    parent_id: Annotated[UUID | None, NULLABLE] = None
    head_employee_id: Annotated[UUID | None, NULLABLE] = None
    description: Annotated[Description | None, NULLABLE] = None


class Department(ApiModel):
    department_id: UUID
    name: str
    code: str
    parent_id: UUID | None
    head_employee_id: UUID | None
    description: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


# ---------------------------------------------------------------- designations


class NewDesignation(InputModel):
    title: Name = Field(description="Unique per department (or among designations without one), case-insensitively.")
    level: Level | None = None
    department_id: UUID | None = None


class DesignationPatch(PatchModel):
    """Only the keys present change; `level`/`departmentId` may be set to null."""

    title: Name | None = None
    level: Annotated[Level | None, NULLABLE] = None
    department_id: Annotated[UUID | None, NULLABLE] = None


class Designation(ApiModel):
    designation_id: UUID
    title: str
    level: int | None
    department_id: UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime


# ---------------------------------------------------------------- holidays


class NewHoliday(InputModel):
    date: HolidayDate = Field(description="One holiday per date.")
    name: Name


class Holiday(ApiModel):
    holiday_id: UUID
    date: dt.date
    name: str
    created_at: dt.datetime


# ---------------------------------------------------------------- hierarchy


class DepartmentHead(ApiModel):
    employee_id: UUID
    name: str


class DepartmentNode(ApiModel):
    department_id: UUID
    name: str
    code: str
    employee_count: int = Field(description="Active and on-leave employees directly in this department.")
    total_employee_count: int = Field(description="employeeCount of this department and its whole sub-tree.")
    head: DepartmentHead | None
    children: list[DepartmentNode]


class OrgHierarchy(ApiModel):
    roots: list[DepartmentNode] = Field(description="Top-level departments, each with its sub-tree, by name.")
    total_employee_count: int = Field(description="Active and on-leave employees in any department.")
