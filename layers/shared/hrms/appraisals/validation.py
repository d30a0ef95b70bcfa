"""Answers checked against the form version they belong to: one error per bad field (422)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hrms.errors import Invalid

TEXT_MAX = 5_000


def check_responses(fields: list[dict[str, Any]], responses: dict[str, Any], *, complete: bool) -> None:
    """Raise `Invalid` listing every unknown key, wrong value and (if `complete`) missing required answer."""
    by_key = {f["key"]: f for f in fields}
    errors = [
        {"field": f"responses.{key}", "type": "unknown_field", "message": "not a field of this form"}
        for key in responses
        if key not in by_key
    ]
    for key, spec in by_key.items():
        value = responses.get(key)
        if value is None:
            if complete and spec.get("required"):
                errors.append({"field": f"responses.{key}", "type": "missing", "message": "this answer is required"})
            continue
        problem = _problem(spec, value)
        if problem:
            errors.append({"field": f"responses.{key}", "type": f"invalid_{spec['type']}", "message": problem})
    if errors:
        raise Invalid("Some answers do not match the appraisal form.", errors=errors)


def _problem(spec: dict[str, Any], value: Any) -> str | None:
    kind = spec["type"]
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            return "must be non-empty text"
        return f"must be at most {TEXT_MAX} characters" if len(value) > TEXT_MAX else None
    if kind in ("number", "rating"):
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 2**53:
            return "must be a number (magnitude at most 2^53)"
        low, high = spec.get("min"), spec.get("max")
        if kind == "rating":
            low, high = (1 if low is None else low), (5 if high is None else high)
            if value != int(value):
                return f"must be a whole rating from {int(low)} to {int(high)}"
        if low is not None and value < low:
            return f"must be at least {low:g}"
        if high is not None and value > high:
            return f"must be at most {high:g}"
        return None
    if kind == "select":
        return None if value in spec["options"] else f"must be one of {', '.join(spec['options'])}"
    if kind == "date":
        try:
            dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return "must be a date YYYY-MM-DD"
        return None if len(value) == 10 else "must be a date YYYY-MM-DD"
    return "unsupported field type"
