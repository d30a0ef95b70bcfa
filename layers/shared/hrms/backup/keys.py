"""Object keys of backups: the key alone says what a backup is and when it was taken.

- full:   `backups/YYYY/M/backup_full_<ts>.sql.gz`                 (month not zero-padded; the cell `default`,
          the control database, as before there were cells)
          `backups/cells/<cell>/YYYY/M/backup_full_<ts>.sql.gz`    (any other cell; names as `hrms.db.cells`)
- schema: `backups/schemas/<schema>/backup_schema_<ts>.sql.gz`     (the cell it was dumped from is in its metadata)

Each backup has two parts under one id: the PostgreSQL dump at the key above, and the MongoDB part
(the same scope's documents) beside it, `<same key without .sql.gz>.mongo.gz` (`mongo_key`). The
PostgreSQL object is the backup: it is published last, and its metadata describes both parts; a
MongoDB part without its dump is an interrupted backup that cleanup removes.

`<ts>` is the UTC ISO 8601 time with `-` for `:` and milliseconds, e.g. `2025-01-15T10-30-00.123Z`,
so keys sort chronologically within a schema's folder and contain no characters that need escaping.
Uploads in progress live under `backups/incoming/` and never match these patterns; nor does
`backups/cells/default/...` (the default cell's keys are the first pattern's, so older backups stay valid).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from hrms.db.cells import DEFAULT, NAME_PATTERN
from hrms.errors import Invalid
from hrms.tenancy import checked_schema_name

Kind = Literal["full", "schema"]
PREFIX = "backups/"
SCHEMAS_PREFIX = "backups/schemas/"
CELLS_PREFIX = "backups/cells/"
INCOMING_PREFIX = "backups/incoming/"
SUFFIX = ".sql.gz"
MONGO_SUFFIX = ".mongo.gz"

_TS = r"(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z)"
_DATED = rf"(?P<year>\d{{4}})/(?P<month>[1-9]|1[0-2])/backup_full_{_TS}\.sql\.gz"
# re.ASCII: `\d` is 0-9 only (not every Unicode digit, which int() and strptime would accept too).
_FULL = re.compile(rf"^backups/{_DATED}$", re.ASCII)
_CELL_FULL = re.compile(rf"^backups/cells/(?P<cell>[^/]+)/{_DATED}$", re.ASCII)  # the name: as `hrms.db.cells`
_SCHEMA = re.compile(
    rf"^backups/schemas/(?P<schema>tenant_[a-z0-9_]{{1,40}}_[0-9a-f]{{8}})/backup_schema_{_TS}\.sql\.gz$", re.ASCII
)


@dataclass(frozen=True)
class BackupKey:
    key: str
    kind: Kind
    schema_name: str | None
    created_at: datetime
    cell: str | None = None  # a full backup's cell; None for a schema backup (its metadata says where from)

    @property
    def group(self) -> tuple[str, str]:
        """What retention counts "the newest N" within: the kind and the cell (full) or the schema (schema)."""
        return (self.kind, (self.cell or DEFAULT) if self.kind == "full" else self.schema_name or "")


def at_millis(moment: datetime) -> datetime:
    """`moment` in UTC at the millisecond precision of keys (so a key and its created_at agree)."""
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def stamp(moment: datetime) -> str:
    """`2025-01-15T10-30-00.123Z` for a moment (converted to UTC)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H-%M-%S.") + f"{utc.microsecond // 1000:03d}Z"


def full_key(moment: datetime, cell: str = DEFAULT) -> str:
    utc = moment.astimezone(UTC)
    return f"{full_prefix(cell)}{utc.year}/{utc.month}/backup_full_{stamp(utc)}{SUFFIX}"


def full_prefix(cell: str = DEFAULT) -> str:
    """Where a cell's full backups' years are: `backups/` for `default`, `backups/cells/<cell>/` for another."""
    return PREFIX if cell == DEFAULT else f"{CELLS_PREFIX}{checked_cell(cell)}/"


def is_cell_name(name: str) -> bool:
    """A cell's name as `hrms.db.cells` accepts it (`default`, or lower-case letters, digits and '-')."""
    return name == DEFAULT or NAME_PATTERN.fullmatch(name) is not None


def checked_cell(name: str, field: str = "cell") -> str:
    """`name` if it can name a cell; 422 otherwise (whether it is configured is the caller's question)."""
    if not is_cell_name(name):
        raise Invalid(
            f"'{name[:60]}' is not a cell name.",
            errors=[{"field": field, "type": "cell_name", "message": "lower-case letters, digits and '-', or default"}],
        )
    return name


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
    kind: Kind = "full"
    cell: str | None = DEFAULT
    found = _FULL.fullmatch(key)
    if found is None:
        found = _CELL_FULL.fullmatch(key)
        if found is not None:
            cell = found["cell"]
            if cell == DEFAULT or not is_cell_name(cell):  # the default cell's keys have no cell folder
                return None
    if found is None:
        found = _SCHEMA.fullmatch(key)
        kind, cell = "schema", None
    if found is None:
        return None
    try:
        created = datetime.strptime(found["ts"], "%Y-%m-%dT%H-%M-%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    if kind == "full" and (int(found["year"]), int(found["month"])) != (created.year, created.month):
        return None
    return BackupKey(key, kind, found["schema"] if kind == "schema" else None, created, cell)


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
