"""Appraisal form and appraisal bodies and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, model_validator

from hrms.models import ApiModel, InputModel

FieldType = Literal["text", "number", "rating", "select", "date"]


class FormField(InputModel):
    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    label: str = Field(min_length=1, max_length=200)
    type: FieldType
    required: bool = False
    options: list[str] | None = Field(default=None, min_length=1, max_length=100)
    min: float | None = Field(default=None, ge=-(2**53), le=2**53)
    max: float | None = Field(default=None, ge=-(2**53), le=2**53)

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        if self.type == "select" and not self.options:
            raise ValueError("a select field needs options")
        if self.type != "select" and self.options is not None:
            raise ValueError("only a select field has options")
        if self.type not in ("number", "rating") and (self.min is not None or self.max is not None):
            raise ValueError("only number and rating fields have min/max")
        if self.type == "rating":
            low, high = self.min if self.min is not None else 1, self.max if self.max is not None else 5
            if low != int(low) or high != int(high) or high - low > 100:
                raise ValueError("a rating scale is whole numbers, at most 100 steps")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class NewAppraisalForm(InputModel):
    name: str = Field(min_length=1, max_length=200)
    cycle: str = Field(min_length=1, max_length=64)
    fields: list[FormField] = Field(min_length=1, max_length=100)
    allow_self_assessment: bool = Field(
        default=False, description="Employees may start and submit their own appraisal (never review it)."
    )

    @model_validator(mode="after")
    def _unique_keys(self) -> NewAppraisalForm:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError("field keys must be unique")
        return self


class AppraisalForm(ApiModel):
    form_id: str
    version: int
    name: str
    cycle: str
    fields: list[dict[str, Any]]
    allow_self_assessment: bool = False
    created_at: datetime
    created_by: str


class NewAppraisal(InputModel):
    form_id: UUID
    employee_id: UUID
    reviewer_id: UUID | None = Field(default=None, description="Defaults to the employee's reporting manager.")
    responses: dict[str, Any] = Field(default_factory=dict, max_length=100)


class Appraisal(ApiModel):
    appraisal_id: str
    form_id: str
    form_version: int
    employee_id: str
    reviewer_id: str | None
    responses: dict[str, Any]
    status: Literal["draft", "submitted", "reviewed"]
    created_at: datetime
    created_by: str
    submitted_at: datetime | None = None
    reviewed_at: datetime | None = None
