"""Employee request and response models. PAN and Aadhaar come in plain and only ever go out masked."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from hrms.employees.identifiers import normalise_aadhaar, normalise_pan
from hrms.models import NULLABLE, ApiModel, Email, InputModel, PatchModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
EmployeeEmail = Email
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ()-]{5,19}$")]
Pan = Annotated[str, StringConstraints(max_length=20), AfterValidator(normalise_pan)]
Aadhaar = Annotated[str, StringConstraints(max_length=20), AfterValidator(normalise_aadhaar)]
# A date PostgreSQL and every client can hold, far from date.min/max arithmetic.
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2999, 12, 31))]
EmploymentType = Literal["full_time", "part_time", "contract", "intern"]
EmployeeStatus = Literal["active", "on_leave", "terminated"]


class NewEmployee(InputModel):
    email: EmployeeEmail
    first_name: Name
    last_name: Name
    department_id: UUID
    designation_id: UUID
    date_of_joining: Day
    phone: Phone | None = None
    pan: Pan | None = Field(default=None, description="Stored encrypted; responses show it masked (XXXXX1234X).")
    aadhaar: Aadhaar | None = Field(
        default=None, description="12 digits, spaces/dashes allowed; stored encrypted, shown as XXXX-XXXX-9012."
    )
    manager_id: UUID | None = None
    employment_type: EmploymentType = "full_time"


class EmployeePatch(PatchModel):
    """Only the keys present change. `phone`, `pan`, `aadhaar`, `managerId`, `dateOfLeaving` may be null."""

    email: EmployeeEmail | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    department_id: UUID | None = None
    designation_id: UUID | None = None
    date_of_joining: Day | None = None
    phone: Annotated[Phone | None, NULLABLE] = None
    pan: Annotated[Pan | None, NULLABLE] = None
    aadhaar: Annotated[Aadhaar | None, NULLABLE] = None
    manager_id: Annotated[UUID | None, NULLABLE] = None
    employment_type: EmploymentType | None = None
    status: EmployeeStatus | None = None
    date_of_leaving: Annotated[Day | None, NULLABLE] = None


class Termination(InputModel):
    """The optional body of DELETE /employees/{id}."""

    date_of_leaving: Day | None = Field(default=None, description="Defaults to today.")


class Employee(ApiModel):
    employee_id: UUID
    employee_code: str
    email: str
    first_name: str
    last_name: str
    phone: str | None
    department_id: UUID | None
    designation_id: UUID | None
    manager_id: UUID | None
    employment_type: str
    status: str
    date_of_joining: dt.date
    date_of_leaving: dt.date | None
    pan_masked: str | None = Field(description="The PAN masked, e.g. XXXXX1234X; never the number itself.")
    aadhaar_masked: str | None = Field(description="The Aadhaar number masked, e.g. XXXX-XXXX-9012.")
    created_at: dt.datetime
    updated_at: dt.datetime
