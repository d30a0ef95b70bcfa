"""Settings bodies and responses."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, field_validator

from hrms.models import ApiModel, InputModel

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_VERSION = 2**31 - 1
MAX_INT = 2**53
# A setting's name exactly as sent: InputModel strips text, which would turn " a " into "a" and let it
# silently overwrite another key (free-form names are data, not input to tidy).
SettingName = Annotated[str, StringConstraints(strip_whitespace=False)]


_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# "sat", "saturday", "6" -> 6: English names, full or three letters, and the numbers as text.
_WEEKDAYS = {
    alias: number for number, name in enumerate(_WEEKDAY_NAMES, start=1) for alias in (name, name[:3], str(number))
}
_WEEKEND_RULE = "weekendDays must be a list of ISO weekdays 1-7 (Monday = 1) or weekday names such as SAT or Sunday"


def _weekend(days: Any) -> list[int]:
    """Weekend days as sent (`[6, 7]`, `["SAT", "SUN"]`, `["Saturday", "sunday"]`) -> sorted ISO numbers."""
    if not isinstance(days, list) or len(days) > 7:
        raise ValueError(_WEEKEND_RULE)
    numbers = [_weekday(day) for day in days]
    if len(set(numbers)) != len(numbers):
        raise ValueError("weekendDays must not repeat a day")
    return sorted(numbers)


def _weekday(day: Any) -> int:
    if isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= 7:
        return day
    if isinstance(day, str) and day.strip().lower() in _WEEKDAYS:
        return _WEEKDAYS[day.strip().lower()]
    raise ValueError(_WEEKEND_RULE)


def _check_known(settings: dict[str, Any]) -> dict[str, Any]:
    """The keys other services read (weekend days, currency, timezone) must be well formed; weekend
    days are stored as sorted ISO weekday numbers whatever form they were sent in."""
    if "weekendDays" in settings:
        settings = {**settings, "weekendDays": _weekend(settings["weekendDays"])}
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
    settings: dict[SettingName, Any] = Field(max_length=200)
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
