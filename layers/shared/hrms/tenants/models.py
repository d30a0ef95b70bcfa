"""Tenant registry request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import Field, StringConstraints, field_validator

from hrms.models import NULLABLE, ApiModel, Email, InputModel, PatchModel
from hrms.tenancy import SLUG_PATTERN

FeatureName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_.-]{1,64}$")]


class InitialSettings(InputModel):
    """The settings a new tenant starts with (then `PUT /settings`)."""

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "IN"
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "INR"
    timezone: str = "Asia/Kolkata"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError("unknown IANA time zone")
        return value


class NewTenant(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    slug: Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=3, max_length=40)]
    admin_email: Email
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    settings: InitialSettings = Field(default_factory=InitialSettings)


class TenantPatch(PatchModel):
    """Only the keys present change; `description: null` clears it."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    description: Annotated[Annotated[str, StringConstraints(max_length=1000)] | None, NULLABLE] = None
    status: Literal["active", "suspended"] | None = None


class CreatedTenant(ApiModel):
    tenant_id: UUID
    schema_name: str
    slug: str
    status: str
    admin_email: str
    admin_temporary_password: str


class TenantSummary(ApiModel):
    tenant_id: UUID
    name: str
    slug: str
    status: str
    schema_name: str
    created_at: datetime
    employee_count: int
    last_activity_at: datetime | None


class TenantDetail(TenantSummary):
    description: str | None
    admin_email: str
    settings: dict[str, Any]
    schema_version: int
    updated_at: datetime


class TenantFeatures(ApiModel):
    features: dict[FeatureName, bool]


class TenantFeaturesIn(InputModel):
    features: dict[FeatureName, bool] = Field(max_length=200)
