"""Log scrubbing: what a log line may never carry, and what it keeps to stay useful."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from hrms.redaction import REDACTED, ScrubbingFormatter, scrub

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$K5sWm0j8m2f6d1bqJ0tq1Q"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            'null value in column "status" of relation "users" violates not-null constraint\n'
            f"DETAIL:  Failing row contains (6c1f, ann@example.com, {HASH}, admin, null, t).",
            "ann@example.com",
        ),
        ("DETAIL:  Key (email)=(ann@example.com) already exists.", "ann@example.com"),
        (f"hash was {HASH} here", "$argon2id"),
        (f"Authorization: Bearer {JWT}", JWT),
        (f"token {JWT} expired", "eyJzdWIiOiJhYmMifQ"),
        ('{"email": "a@b.c", "password": "Tr0ub4dor&3"}', "Tr0ub4dor&3"),
        ("newPassword=Tr0ub4dor&3 given", "Tr0ub4dor&3"),
        ("pan ABCPE1234F on file", "ABCPE1234F"),
        ("aadhaar 2345 6789 0123 given", "2345 6789 0123"),
        ("aadhaar 234567890123", "234567890123"),
    ],
)
def test_secrets_and_row_contents_are_removed(text: str, secret: str) -> None:
    scrubbed = scrub(text)
    assert secret not in scrubbed
    assert REDACTED in scrubbed


def test_the_shape_of_the_error_stays_readable() -> None:
    assert scrub("DETAIL:  Key (email)=(ann@example.com) already exists.") == (
        f"DETAIL:  Key (email)=({REDACTED[1:-1]}) already exists.".replace(f"({REDACTED[1:-1]})", REDACTED)
    )
    plain = "GET /employees/6c1f0000-0000-4000-8000-000000000000 answered 404 in 12 ms"
    assert scrub(plain) == plain


def test_the_formatter_scrubs_messages_extra_keys_and_exceptions() -> None:
    try:
        raise RuntimeError(f"Failing row contains (x, {HASH}).")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("hrms", logging.ERROR, __file__, 1, "login with %s", (JWT,), exc_info)
    record.user = {"password": "Tr0ub4dor&3"}
    line = ScrubbingFormatter().format(record)
    assert JWT not in line
    assert "$argon2id" not in line
    assert "Tr0ub4dor&3" not in line
    document = json.loads(line)
    assert document["message"] == f"login with {REDACTED}"
    assert "RuntimeError" in document["exception"]


def test_the_filter_scrubs_plain_loggers_messages_and_tracebacks() -> None:
    from hrms.redaction import ScrubbingFilter

    try:
        raise ValueError(f"Key (email)=(ann@example.com) already exists; hash {HASH}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("local-runtime", logging.ERROR, __file__, 1, "%s raised", (JWT,), exc_info)
    assert ScrubbingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "ValueError" in text
    for secret in (JWT, "ann@example.com", "$argon2id"):
        assert secret not in text
