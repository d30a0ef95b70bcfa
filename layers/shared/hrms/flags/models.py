"""Feature flag bodies and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from hrms.models import ApiModel, InputModel

FLAG_NAME = r"^[a-z][a-z0-9_.-]{0,63}$"


class FlagRule(InputModel):
    """When the caller's `attribute` is one of `values`, the flag is `enabled` (first match wins)."""

    attribute: Literal["role", "userId"]
    values: list[str] = Field(min_length=1, max_length=500)
    enabled: bool


class FlagChange(InputModel):
    enabled: bool
    rollout_percent: int = Field(default=100, ge=0, le=100)
    rules: list[FlagRule] = Field(default_factory=list, max_length=50)
    description: str | None = Field(default=None, max_length=500)


class FeatureFlag(ApiModel):
    name: str
    enabled: bool
    rollout_percent: int
    rules: list[dict[str, object]]
    description: str | None = None
    platform_enabled: bool | None = None  # the platform switch in public.tenant_features, if any
    updated_at: datetime | None = None
    updated_by: str | None = None


class FlagEvaluation(ApiModel):
    name: str
    enabled: bool
    reason: str
