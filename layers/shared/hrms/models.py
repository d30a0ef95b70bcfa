"""Base pydantic models: camelCase on the wire, snake_case accepted on input."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254, to_lower=True)]
# Field types of more than one domain, here so that no domain's models import another's (payroll's models name a
# leave `Day` and an approval `Comment`; hrms.leave.models and hrms.approvals.models re-export them).
# A date PostgreSQL and every client can hold, far from date.min/max arithmetic.
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2999, 12, 31))]
Comment = Annotated[str, StringConstraints(max_length=1000)]  # on an approval decision


class ApiModel(BaseModel):
    """Output model: serialised with camelCase keys.

    `defer_build`: a model's validator and serializer are built on its first use, not when its module is
    imported. A function imports a domain's whole models module but uses a few of its models, so the others
    are never built (cold start, benchmarks/cold_import.py); what is built is the same schema, so validation,
    serialisation, error messages and the OpenAPI document do not change. pydantic (pinned) builds a deferred
    model under a lock, so concurrent first uses (the local runtime's threads) are safe. SnapStart functions
    build every imported model before the snapshot (`hrms.snapstart`)."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, defer_build=True)


class InputModel(ApiModel):
    """Request body: camelCase or snake_case keys; unknown keys are a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """PostgreSQL text holds no U+0000 and only valid UTF-8 (a JSON `\\ud800` escape is a lone
        surrogate): refuse such text here (422) instead of failing in the database (500)."""
        _check_storable(value)
        return value


class Nullable:
    """Marker of a `PatchModel` field that `null` clears: `phone: Annotated[Phone | None, NULLABLE] = None`."""

    def __repr__(self) -> str:
        return "NULLABLE"


NULLABLE: Final = Nullable()


class PatchModel(InputModel):
    """A partial update: every field may be omitted and only the keys present change (read them with
    `model_fields_set` / `exclude_unset`). `null` is a value only for fields marked `NULLABLE`;
    for any other field it is a 422 naming that field, never a NOT NULL violation in the database."""

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_declared(cls, value: Any, info: ValidationInfo) -> Any:
        metadata = cls.model_fields[info.field_name].metadata if info.field_name else []
        if value is None and not any(isinstance(marker, Nullable) for marker in metadata):
            raise ValueError("may be omitted but not null")
        return value


def text_problem(text: str) -> tuple[str, str] | None:
    """Why PostgreSQL could not store `text`, as (error type, message): U+0000, or a lone surrogate
    (not UTF-8). None if it can."""
    if "\x00" in text:
        return "string_nul", "must not contain NUL (U+0000) characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "string_unicode", "must be valid Unicode text"
    return None


def _check_storable(value: Any) -> None:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise ValueError(problem[1])
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key)
            _check_storable(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_storable(item)
