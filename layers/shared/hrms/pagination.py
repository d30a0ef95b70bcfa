"""Opaque keyset cursors and the `{items, nextCursor}` page shape shared by every list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from hrms.errors import BadRequest
from hrms.models import ApiModel

T = TypeVar("T")
Row = dict[str, Any]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(ApiModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The keyset position a cursor encodes; a tampered cursor is a 400, never a 500."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: a deeply nested crafted cursor
        raise BadRequest("The cursor is not valid.") from exc
    if not isinstance(key, list) or not all(isinstance(part, str) for part in key):
        raise BadRequest("The cursor is not valid.")
    return key


def decode_keyset(cursor: str | None, *parsers: Callable[[str], Any]) -> tuple[Any, ...] | None:
    """The typed keyset position of a cursor, one parser per part; any mismatch is a 400."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != len(parsers):
        raise BadRequest("The cursor is not valid.")
    try:
        return tuple(parse(part) for parse, part in zip(parsers, key, strict=True))
    except ValueError as exc:
        raise BadRequest("The cursor is not valid.") from exc


def page_of(rows: list[Row], limit: int, position: Callable[[Row], list[Any]], item: Callable[[Row], T]) -> Page[T]:
    """A page from `rows` fetched with `limit + 1`: the first `limit` as items, and a cursor holding the
    last one's keyset `position` only if the extra row shows that more follow."""
    page = rows[:limit]
    next_cursor = encode_cursor(position(page[-1])) if len(rows) > limit and page else None
    return Page(items=[item(row) for row in page], next_cursor=next_cursor)
