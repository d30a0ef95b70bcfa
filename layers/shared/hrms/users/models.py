"""Tenant user and role models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from hrms.auth.models import NewPassword
from hrms.models import NULLABLE, ApiModel, Email, InputModel, PatchModel

Role = Literal["admin", "hr_manager", "manager", "employee"]
Permission = Annotated[
    str, StringConstraints(pattern=r"^(\*|[a-z_-]+:[a-z_-]+(:(team|self))?)$", max_length=64)
]  # what each one means, and which may be scoped: hrms.auth.policy


class NewUser(InputModel):
    email: Email
    role: Role
    employee_id: UUID | None = None
    password: NewPassword | None = Field(
        default=None,
        description="Admins only: omit to get a temporary password back. For anyone else it must be omitted:"
        " the account's owner is mailed a link to choose it.",
    )


class UserPatch(PatchModel):
    """Only the keys present change; `employeeId: null` unlinks the user from their employee record."""

    role: Role | None = None
    status: Literal["active", "disabled"] | None = None
    employee_id: Annotated[UUID | None, NULLABLE] = None


class User(ApiModel):
    user_id: UUID
    email: str
    role: str
    employee_id: UUID | None
    status: str
    must_change_password: bool
    last_login_at: datetime | None
    created_at: datetime


class CreatedUser(User):
    temporary_password: str | None = None


class TemporaryPassword(ApiModel):
    user_id: UUID
    temporary_password: str | None


class RolePermissions(ApiModel):
    role: str
    permissions: list[str]


class RolePermissionsIn(InputModel):
    permissions: list[Permission] = Field(max_length=200)
