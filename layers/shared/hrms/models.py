"""Base pydantic models: camelCase on the wire, snake_case accepted on input."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Output model: serialised with camelCase keys."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)


class InputModel(ApiModel):
    """Request body: camelCase or snake_case keys; unknown keys are a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        """PostgreSQL text cannot hold U+0000: refuse it here (422) instead of failing in the database (500)."""
        if _contains_nul(value):
            raise ValueError("must not contain NUL (U+0000) characters")
        return value


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_contains_nul(item) for item in value)
    return False
