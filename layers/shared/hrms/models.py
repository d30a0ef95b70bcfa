"""Base pydantic models: camelCase on the wire, snake_case accepted on input."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Output model: serialised with camelCase keys."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)


class InputModel(ApiModel):
    """Request body: camelCase or snake_case keys; unknown keys are a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
