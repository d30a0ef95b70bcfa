"""Opaque keyset cursors: round trip, bound to their operation, and any tampering is a 400 (no servers)."""

from __future__ import annotations

import base64
import json

import pytest

from hrms.errors import BadRequest
from hrms.pagination import Page, bigint, decode_cursor, decode_keyset, encode_cursor
from hrms.request_context import operation


@pytest.mark.parametrize("key", [["acme"], ["Smith", "John", "6f1c2a9e-0000-4000-8000-000000000000"], ["ü-ñ 😀"]])
def test_cursor_round_trips(key):
    cursor = encode_cursor(key)
    assert decode_cursor(cursor) == key


def test_cursor_is_url_safe_and_unpadded():
    cursor = encode_cursor(["a?b/c+d=e" * 5])
    assert "=" not in cursor
    assert "+" not in cursor
    assert "/" not in cursor


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_means_first_page(cursor):
    assert decode_cursor(cursor) is None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "not a cursor",
        "é",
        _b64(b"not json"),
        _b64(b"\xff\xfe\xfd"),
        _b64(json.dumps({"slug": "acme"}).encode()),
        _b64(json.dumps("acme").encode()),
        _b64(json.dumps(["acme"]).encode()),
        _b64(json.dumps({"op": "", "key": [1, 2]}).encode()),
        _b64(json.dumps({"op": "", "key": ["acme", None]}).encode()),
        _b64(json.dumps({"op": "", "key": [["nested"]]}).encode()),
        _b64(json.dumps({"op": "", "key": []}).encode()),
        _b64(json.dumps({"op": "", "key": ["a", "b", "c", "d", "e"]}).encode()),
        _b64(json.dumps({"op": "", "key": ["x" * 513]}).encode()),
        _b64(json.dumps({"op": "", "key": ["nul\u0000"]}).encode()),
        _b64(b'{"op": "", "key": ["\\ud800"]}'),
        _b64(b"[" * 100_000),
        "A" * 3000,
    ],
)
def test_tampered_cursor_is_bad_request(cursor):
    with pytest.raises(BadRequest):
        decode_cursor(cursor)


def test_cursor_with_flipped_character_is_bad_request_or_another_string_key():
    cursor = encode_cursor(["acme"])
    for index in range(len(cursor)):
        flipped = cursor[:index] + ("A" if cursor[index] != "A" else "B") + cursor[index + 1 :]
        try:
            key = decode_cursor(flipped)
        except BadRequest:
            continue
        assert isinstance(key, list)
        assert all(isinstance(part, str) for part in key)


def test_page_serialises_next_cursor_in_camel_case():
    page = Page[str](items=["a"], next_cursor="abc")
    assert page.model_dump(by_alias=True) == {"items": ["a"], "nextCursor": "abc"}


def test_keyset_cursor_parses_each_part_and_refuses_a_wrong_shape():
    import datetime as dt
    from uuid import UUID, uuid4

    from hrms.errors import BadRequest
    from hrms.pagination import decode_keyset, encode_cursor

    row_id = uuid4()
    cursor = encode_cursor(["2024-02-05", str(row_id)])
    assert decode_keyset(cursor, dt.date.fromisoformat, UUID) == (dt.date(2024, 2, 5), row_id)
    assert decode_keyset(None, dt.date.fromisoformat, UUID) is None
    for bad in (encode_cursor(["2024-02-05"]), encode_cursor(["not-a-date", str(row_id)])):
        with pytest.raises(BadRequest):
            decode_keyset(bad, dt.date.fromisoformat, UUID)


def test_a_cursor_belongs_to_the_operation_that_made_it():
    token = operation.set("GET /users")
    try:
        cursor = encode_cursor(["ann@example.com"])
        assert decode_cursor(cursor) == ["ann@example.com"]
    finally:
        operation.reset(token)
    token = operation.set("GET /tenants")
    try:
        with pytest.raises(BadRequest):
            decode_cursor(cursor)
    finally:
        operation.reset(token)


@pytest.mark.parametrize("part", ["-1", "9223372036854775808", "1e3", "²", " 1", "", "0x10"])
def test_bigint_parts_stay_in_range(part):
    with pytest.raises(BadRequest):
        decode_keyset(encode_cursor([part]), bigint)


def test_bigint_parts_round_trip():
    assert decode_keyset(encode_cursor(["9223372036854775807"]), bigint) == (2**63 - 1,)
    assert decode_keyset(encode_cursor(["0"]), bigint) == (0,)
