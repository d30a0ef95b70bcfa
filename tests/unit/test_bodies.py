"""The request body parser: what is JSON, and the limits every stored value must respect."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from hrms.errors import BadRequest, Invalid, PayloadTooLarge, UnsupportedMediaType
from hrms.http.bodies import MAX_DEPTH, MAX_NUMBER_CHARS, normalised, parse


def event(body: str | None, content_type: str | None = "application/json", method: str = "POST") -> dict[str, Any]:
    headers = {"Content-Type": content_type} if content_type else {}
    return {"httpMethod": method, "body": body, "headers": headers, "isBase64Encoded": False}


def fields(error: Invalid) -> list[tuple[str, str]]:
    return [(e["field"], e["type"]) for e in error.errors]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        'Application/JSON;charset="UTF-8"',
        "application/vnd.api+json",
        "application/merge-patch+json",
        None,
    ],
)
def test_json_media_types_are_parsed(content_type: str | None) -> None:
    result = normalised(event('{"a": 1}', content_type), 1024)
    assert json.loads(result["body"]) == {"a": 1}
    assert result["headers"]["content-type"] == "application/json"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "text/html",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
    ],
)
def test_other_media_types_with_a_body_are_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        normalised(event('{"a": 1}', content_type), 1024)


def test_an_absent_body_is_an_empty_object_on_writes_and_left_alone_on_reads() -> None:
    assert json.loads(normalised(event(None, "text/plain"), 1024)["body"]) == {}
    assert json.loads(normalised(event("  ", None, method="PATCH"), 1024)["body"]) == {}
    read = event(None, None, method="GET")
    assert normalised(read, 1024) is read


def test_size_counts_bytes_of_text_and_of_base64() -> None:
    with pytest.raises(PayloadTooLarge):
        normalised(event('"' + "é" * 600 + '"'), 1024)  # 1,202 bytes in 602 characters
    encoded = {**event(base64.b64encode(b'{"a": "' + b"x" * 2000 + b'"}').decode()), "isBase64Encoded": True}
    with pytest.raises(PayloadTooLarge):
        normalised(encoded, 1024)


def test_invalid_utf8_in_base64_becomes_replacement_characters() -> None:
    encoded = {**event(base64.b64encode(b'{"name": "caf\xe9"}').decode()), "isBase64Encoded": True}
    assert json.loads(normalised(encoded, 1024)["body"]) == {"name": "caf\ufffd"}


@pytest.mark.parametrize("text", ["{", "{'a': 1}", "[1,]", "not json", '{"a": 1} x'])
def test_malformed_json_is_400(text: str) -> None:
    with pytest.raises(BadRequest):
        parse(text)


def test_depth_limit() -> None:
    assert parse("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(BadRequest, match="nested deeper"):
        parse("[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2))
    with pytest.raises(BadRequest, match="nested deeper"):
        parse('{"a":' * 100_000 + "1" + "}" * 100_000)


def test_long_and_non_finite_numbers_are_named() -> None:
    with pytest.raises(Invalid) as caught:
        parse('{"big": ' + "9" * 5000 + ', "list": [1, NaN, -Infinity], "huge": 1e999, "ok": 12.5}')
    assert fields(caught.value) == [
        ("body.big", "number_too_long"),
        ("body.list.1", "number_not_finite"),
        ("body.list.2", "number_not_finite"),
        ("body.huge", "number_not_finite"),
    ]
    assert parse("9" * MAX_NUMBER_CHARS) == int("9" * MAX_NUMBER_CHARS)


def test_unstorable_text_is_named_in_values_and_keys() -> None:
    with pytest.raises(Invalid) as caught:
        parse('{"a": "x\\u0000y", "b": ["\\ud800"], "\\u0000k": 1}')
    assert fields(caught.value) == [
        ("body.a", "string_nul"),
        ("body.b.0", "string_unicode"),
        ("body.\x00k", "string_nul"),
    ]


def test_a_key_twice_in_one_object_is_400() -> None:
    with pytest.raises(BadRequest, match="'role' twice"):
        parse('{"role": "employee", "role": "admin"}')
    assert parse('{"a": {"role": 1}, "b": {"role": 2}}') == {"a": {"role": 1}, "b": {"role": 2}}
