"""Session request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from hrms.auth import password_policy
from hrms.models import ApiModel, InputModel

Password = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=False)]
NewPassword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=password_policy.MAX_LENGTH, strip_whitespace=False),
    AfterValidator(password_policy.strong),
]


class LoginIn(InputModel):
    tenant_slug: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Password


class SessionUser(ApiModel):
    user_id: UUID
    email: str
    role: str
    employee_id: UUID | None


class AccessToken(ApiModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name
    expires_in: int


class LoginOut(ApiModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name
    expires_in: int
    must_change_password: bool
    user: SessionUser


class PasswordChangeIn(InputModel):
    current_password: Password
    new_password: NewPassword = Field(
        description="12-128 characters, hard to guess (zxcvbn score >= 3), different from the current one."
    )


class TenantRef(ApiModel):
    tenant_id: UUID
    slug: str
    name: str


class Me(SessionUser):
    status: str
    must_change_password: bool
    last_login_at: datetime | None
    tenant: TenantRef
    permissions: list[str]


class ForgotPasswordIn(InputModel):
    tenant_slug: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]


class ResetRequested(ApiModel):
    """The one answer of POST /auth/forgot-password, whatever the account."""

    status: str = "accepted"
    detail: str = "If an active account matches, a reset link valid for 30 minutes has been sent to its email address."


class ResetPasswordIn(InputModel):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The token of the reset link, exactly as mailed."
    )
    new_password: NewPassword = Field(
        description="12-128 characters, hard to guess (zxcvbn score >= 3), not built on the email address."
    )
