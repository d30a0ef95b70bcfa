"""The one parser of request bodies, run before any handler code (step 2 of `hrms.http.api`).

A body is JSON when its media type is `application/json` or `application/*+json` (or none is
given); any other media type with a body is a 415. The JSON must be storable everywhere we keep
it (PostgreSQL jsonb and text, BSON in MongoDB), so besides malformed JSON (400) this refuses,
naming the field (422): nesting deeper than `MAX_DEPTH`, numbers longer than `MAX_NUMBER_CHARS`
or not finite (`NaN`, `Infinity`, `1e999`), text with U+0000 or a lone surrogate, and a key given
twice in one object (which of the two would win differs between parsers). The parsed document is
handed on re-serialised, so the validation after this step never meets anything else.

Text bodies arrive decoded as API Gateway decodes them: invalid UTF-8 bytes become U+FFFD.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from hrms.errors import BadRequest, Invalid, PayloadTooLarge, UnsupportedMediaType
from hrms.models import text_problem

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 32
JSON_SUFFIX = "+json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class _Refused:
    """A value the decoder met that no store can hold; reported with its path by `_check`."""

    kind: str
    message: str


_NOT_FINITE = _Refused("number_not_finite", "must be a finite number (NaN and Infinity are not JSON)")
_TOO_LONG = _Refused("number_too_long", f"must be a number of at most {MAX_NUMBER_CHARS} characters")


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def normalised(event: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """The event with its body checked and re-serialised as plain JSON (or unchanged without a body).

    A POST, PUT or PATCH without a body is read as `{}`, so an operation whose fields are all
    optional needs none, and one with required fields names them (422)."""
    text = _text(event, max_bytes)
    method = str(event.get("httpMethod") or "").upper()
    if not text.strip():
        if method not in BODY_METHODS:
            return event
        text = "{}"
    else:
        _require_json(event)
    document = parse(text)
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "content-type"}
    return {
        **event,
        "body": json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        "isBase64Encoded": False,
        "headers": {**headers, "content-type": "application/json"},
        "multiValueHeaders": {**multi, "content-type": ["application/json"]},
    }


def parse(text: str) -> Any:
    """The JSON document in `text`, within the limits above: 400 if it is not JSON, 422 naming the
    fields that hold something unstorable."""
    try:
        document = json.loads(
            text,
            parse_int=_int,
            parse_float=_float,
            parse_constant=lambda _: _NOT_FINITE,
            object_pairs_hook=_object,
        )
    except _DuplicateKey as exc:
        raise BadRequest(f"The request body names the key {exc.key!r} twice in one object.") from None
    except RecursionError:
        raise BadRequest(f"The request body is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON ({exc}).") from None
    errors: list[dict[str, str]] = []
    _check(document, "body", 0, errors)
    if errors:
        raise Invalid("The request body holds values that cannot be stored.", errors=errors[:20])
    return document


def _text(event: dict[str, Any], max_bytes: int) -> str:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise PayloadTooLarge(f"The request body exceeds {max_bytes} bytes.")
        return str(body)
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("The request body is not valid base64.") from None
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The request body exceeds {max_bytes} bytes.")
    return raw.decode("utf-8", "replace")


def _require_json(event: dict[str, Any]) -> None:
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    header = str(headers.get("content-type") or "").strip()
    media_type, _, parameters = header.partition(";")
    media_type = media_type.strip().lower()
    is_json = not media_type or media_type == "application/json"
    is_json = is_json or (media_type.startswith("application/") and media_type.endswith(JSON_SUFFIX))
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _, value in (p.partition("=") for p in parameters.split(";"))
            if name.strip().lower() == "charset"
        ),
        "utf-8",
    )
    if not is_json or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"Send the request body as application/json in UTF-8 (got {header or 'no type'!r}).",
            accepted=["application/json", "application/*+json"],
        )


def _int(literal: str) -> int | _Refused:
    return _TOO_LONG if len(literal) > MAX_NUMBER_CHARS else int(literal)


def _float(literal: str) -> float | _Refused:
    if len(literal) > MAX_NUMBER_CHARS:
        return _TOO_LONG
    value = float(literal)
    return value if value - value == 0 else _NOT_FINITE  # inf - inf is nan


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def _check(value: Any, path: str, depth: int, errors: list[dict[str, str]]) -> None:
    """Depth, numbers and text of the whole document, iteratively enough for `MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        raise BadRequest(f"The request body is nested deeper than {MAX_DEPTH} levels.")
    if isinstance(value, _Refused):
        errors.append({"field": path, "type": value.kind, "message": value.message})
    elif isinstance(value, str):
        _check_text(value, path, errors)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"{path}.{key}", errors)
            _check(item, f"{path}.{key}", depth + 1, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}.{index}", depth + 1, errors)


def _check_text(text: str, path: str, errors: list[dict[str, str]]) -> None:
    problem = text_problem(text)
    if problem is not None:
        errors.append({"field": path, "type": problem[0], "message": problem[1]})
