"""Opaque keyset cursors and the `{items, nextCursor}` page shape shared by every list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from hrms.errors import BadRequest
from hrms.models import ApiModel, text_problem
from hrms.request_context import operation

T = TypeVar("T")
R = TypeVar("R")  # a row, typed or not

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_CHARS = 2_048
MAX_KEY_PARTS = 4
MAX_PART_CHARS = 512
BIGINT_MAX = 2**63 - 1


class Page(ApiModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    """An opaque cursor for the keyset position `key`, bound to the operation that lists (a cursor
    of `GET /users` is no cursor of `GET /tenants`)."""
    document = {"op": operation.get() or "", "key": [str(part) for part in key]}
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[str] | None:
    """The keyset position a cursor encodes, as text fit for any query parameter; anything not made
    by `encode_cursor` for this operation (tampered, truncated, another route's) is a 400, never a 500.
    Parts that are numbers, dates or ids are parsed by `decode_keyset`."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadRequest("The cursor is not valid.")
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: a deeply nested crafted cursor
        raise BadRequest("The cursor is not valid.") from exc
    if not isinstance(document, dict) or document.get("op") != (operation.get() or ""):
        raise BadRequest("The cursor is not valid.")
    key = document.get("key")
    if not isinstance(key, list) or not 0 < len(key) <= MAX_KEY_PARTS or not all(map(_storable, key)):
        raise BadRequest("The cursor is not valid.")
    return key


def _storable(part: object) -> bool:
    return isinstance(part, str) and len(part) <= MAX_PART_CHARS and text_problem(part) is None


def bigint(part: str) -> int:
    """A cursor part that must fit PostgreSQL's bigint (and BSON's int64)."""
    value = int(part) if part.isascii() and part.isdigit() else -1
    if not 0 <= value <= BIGINT_MAX:
        raise ValueError("not a bigint")
    return value


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


def page_of(rows: Sequence[R], limit: int, position: Callable[[R], list[Any]], item: Callable[[R], T]) -> Page[T]:
    """A page from `rows` fetched with `limit + 1`: the first `limit` as items, and a cursor holding the
    last one's keyset `position` only if the extra row shows that more follow."""
    page = rows[:limit]
    next_cursor = encode_cursor(position(page[-1])) if len(rows) > limit and page else None
    return Page(items=[item(row) for row in page], next_cursor=next_cursor)
