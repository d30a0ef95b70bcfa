"""Settings bodies and responses."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from hrms.models import ApiModel, InputModel

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_VERSION = 2**31 - 1
MAX_INT = 2**53


def _check_known(settings: dict[str, Any]) -> dict[str, Any]:
    """The keys other services read (weekend days, currency, timezone) must be well formed."""
    if "weekendDays" in settings:
        days = settings["weekendDays"]
        if not isinstance(days, list) or len(days) > 7 or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
            raise ValueError("weekendDays must be a list of ISO weekdays 1-7")
        if len(set(days)) != len(days):
            raise ValueError("weekendDays must not repeat a day")
    if "currency" in settings and not (isinstance(settings["currency"], str) and _CURRENCY.match(settings["currency"])):
        raise ValueError("currency must be an ISO 4217 code such as INR")
    if "timezone" in settings:
        try:
            ZoneInfo(str(settings["timezone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("timezone must be an IANA zone such as Asia/Kolkata") from exc
    if not _keys_ok(settings):
        raise ValueError("setting names must not start with $ or contain dots; integers within 2^53; depth <= 10")
    return settings


def _keys_ok(value: Any, depth: int = 0) -> bool:
    if depth > 10:
        return False
    if isinstance(value, dict):
        return all(not k.startswith("$") and "." not in k and _keys_ok(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_keys_ok(v, depth + 1) for v in value)
    return not (isinstance(value, int) and abs(value) > MAX_INT)


class SettingsUpdate(InputModel):
    settings: dict[str, Any] = Field(max_length=200)
    expected_version: int = Field(ge=0, le=MAX_VERSION)

    @field_validator("settings")
    @classmethod
    def _known_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_known(value)


class SettingsRollback(InputModel):
    version: int = Field(ge=1, le=MAX_VERSION)
    expected_version: int | None = Field(default=None, ge=0, le=MAX_VERSION)


class TenantSettings(ApiModel):
    version: int
    settings: dict[str, Any]
    updated_at: datetime | None = None
    updated_by: str | None = None


class SettingsChange(ApiModel):
    version: int
    action: str
    settings: dict[str, Any]
    diff: list[dict[str, Any]]
    actor_id: str
    actor_role: str
    at: datetime
    rolled_back_to: int | None = None
