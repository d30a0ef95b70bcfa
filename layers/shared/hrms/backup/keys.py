"""Object keys of backups: the key alone says what a backup is and when it was taken.

- full:   `backups/YYYY/M/backup_full_<ts>.sql.gz`                 (month not zero-padded)
- schema: `backups/schemas/<schema>/backup_schema_<ts>.sql.gz`

Each backup has two parts under one id: the PostgreSQL dump at the key above, and the MongoDB part
(the same scope's documents) beside it, `<same key without .sql.gz>.mongo.gz` (`mongo_key`). The
PostgreSQL object is the backup: it is published last, and its metadata describes both parts; a
MongoDB part without its dump is an interrupted backup that cleanup removes.

`<ts>` is the UTC ISO 8601 time with `-` for `:` and milliseconds, e.g. `2025-01-15T10-30-00.123Z`,
so keys sort chronologically within a schema's folder and contain no characters that need escaping.
Uploads in progress live under `backups/incoming/` and never match these patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from hrms.errors import Invalid
from hrms.tenancy import checked_schema_name

Kind = Literal["full", "schema"]
PREFIX = "backups/"
SCHEMAS_PREFIX = "backups/schemas/"
INCOMING_PREFIX = "backups/incoming/"
SUFFIX = ".sql.gz"
MONGO_SUFFIX = ".mongo.gz"

_TS = r"(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z)"
_FULL = re.compile(rf"^backups/(?P<year>\d{{4}})/(?P<month>[1-9]|1[0-2])/backup_full_{_TS}\.sql\.gz$")
_SCHEMA = re.compile(
    rf"^backups/schemas/(?P<schema>tenant_[a-z0-9_]{{1,40}}_[0-9a-f]{{8}})/backup_schema_{_TS}\.sql\.gz$"
)


@dataclass(frozen=True)
class BackupKey:
    key: str
    kind: Kind
    schema_name: str | None
    created_at: datetime

    @property
    def group(self) -> tuple[str, str]:
        """What retention counts "the newest N" within: the kind and, for schema backups, the schema."""
        return (self.kind, self.schema_name or "")


def at_millis(moment: datetime) -> datetime:
    """`moment` in UTC at the millisecond precision of keys (so a key and its created_at agree)."""
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def stamp(moment: datetime) -> str:
    """`2025-01-15T10-30-00.123Z` for a moment (converted to UTC)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H-%M-%S.") + f"{utc.microsecond // 1000:03d}Z"


def full_key(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{PREFIX}{utc.year}/{utc.month}/backup_full_{stamp(utc)}{SUFFIX}"


def schema_key(schema_name: str, moment: datetime) -> str:
    return f"{SCHEMAS_PREFIX}{checked_schema_name(schema_name)}/backup_schema_{stamp(moment)}{SUFFIX}"


def mongo_key(key: str) -> str:
    """The key of the MongoDB part of the backup `key`."""
    return key.removesuffix(SUFFIX) + MONGO_SUFFIX


def of_mongo_key(key: str) -> str | None:
    """The backup key a MongoDB part belongs to (None if `key` is no MongoDB part)."""
    return key.removesuffix(MONGO_SUFFIX) + SUFFIX if key.endswith(MONGO_SUFFIX) else None


def schema_prefix(schema_name: str) -> str:
    return f"{SCHEMAS_PREFIX}{checked_schema_name(schema_name)}/"


def parse(key: str) -> BackupKey | None:
    """What a key names, or None if it is not a backup key (incoming uploads, foreign objects)."""
    found = _FULL.fullmatch(key)
    kind: Kind = "full"
    if found is None:
        found = _SCHEMA.fullmatch(key)
        kind = "schema"
    if found is None:
        return None
    try:
        created = datetime.strptime(found["ts"], "%Y-%m-%dT%H-%M-%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    if kind == "full" and (int(found["year"]), int(found["month"])) != (created.year, created.month):
        return None
    return BackupKey(key, kind, found["schema"] if kind == "schema" else None, created)


def parse_or_invalid(key: str) -> BackupKey:
    """The parsed key of a request; 422 if it does not name a backup."""
    parsed = parse(key)
    if parsed is None:
        raise Invalid(
            "Not a backup key.",
            errors=[{"field": "key", "type": "backup_key", "message": "expected a key listed by GET /admin/backups"}],
        )
    return parsed


def parse_counts(text: str | None) -> dict[str, int] | None:
    """The `mongo-counts` metadata value ("Coll=n,Coll=n") as a dict; None if absent or malformed."""
    if not text:
        return None
    counts: dict[str, int] = {}
    for item in text.split(","):
        name, _, number = item.partition("=")
        if not number.isdigit():
            return None
        counts[name] = int(number)
    return counts


def format_counts(counts: dict[str, int]) -> str:
    return ",".join(f"{name}={n}" for name, n in sorted(counts.items()))
