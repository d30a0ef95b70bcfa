"""Scrubbing of log records: no row contents, hashes, tokens, passwords or national ids in the logs.

Applied to every record the shared logger writes (`ScrubbingFormatter`), messages, extra keys and
exception text alike: a database error quoting a row ("Failing row contains (...)"), a key's value
("Key (email)=(...)"), an Argon2 hash, a JWT or bearer token, a password field, a PAN or an
Aadhaar number. The shape of the text stays, so a log still tells what failed where.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDACTED = "(redacted)"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(Failing row contains )\(.*?\)(?=\.?\s*$|\.?\n)", re.MULTILINE), rf"\1{REDACTED}"),
    (
        re.compile(r"(Key \([^)]*\)=)\(.*?\)(?= already exists| is not present| is still referenced| conflicts)"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\$argon2(?:id|i|d)\$[^\s\"',)]+"), REDACTED),
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]+"), REDACTED),
    (re.compile(r"(?i)(bearer\s+)[\w.~+/=-]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)(\\?[\"']?\w*password\w*\\?[\"']?\s*[:=]\s*\\?[\"']?)[^\s\"'\\,}]+"), rf"\1{REDACTED}"),
    (re.compile(r"\b[A-Z]{5}[0-9]{4}[A-Z]\b"), REDACTED),  # PAN
    (re.compile(r"(?<![\w-])[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}(?![\w-])"), REDACTED),  # Aadhaar
)


# Structured values under such keys are dropped whole (a hash or token has no useful shape).
_SECRET_KEY = re.compile(r"(?i)password|secret|token|hash|authorization|aadhaar|\bpan\b")


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: REDACTED if _SECRET_KEY.search(str(key)) else scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))  # e.g. the exception object of a serialised stack trace


class ScrubbingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log format, every string value scrubbed before it is written."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(scrub_value(log))


class ScrubbingFilter(logging.Filter):
    """The same for plain `logging` loggers (the local runtime's): message and traceback scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
