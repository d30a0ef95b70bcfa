"""The numbered SQL migrations shipped with the package (`public/` and `tenant/`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from psycopg import sql

Scope = Literal["public", "tenant"]
SCHEMA_TOKEN = "@schema"  # noqa: S105 - a placeholder, not a secret
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    scope: Scope
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def file(self) -> str:
        """Where it lives in the package, e.g. `tenant/0002_payroll_guards.sql`."""
        return f"{self.scope}/{self.version:04d}_{self.name}.sql"

    def statement(self, schema: str | None = None) -> sql.Composed:
        """The migration as one composable; tenant migrations get `schema` quoted in place of @schema."""
        parts = self.text.split(SCHEMA_TOKEN)
        if self.scope == "public" or schema is None:
            if len(parts) > 1:
                raise ValueError(f"{self.name} needs a schema")
            return sql.Composed([sql.SQL(self.text)])
        pieces: list[sql.Composable] = [sql.SQL(parts[0])]
        for part in parts[1:]:
            pieces += [sql.Identifier(schema), sql.SQL(part)]
        return sql.Composed(pieces)


@cache
def migrations(scope: Scope) -> tuple[Migration, ...]:
    """All migrations of a scope, ordered by version; versions must be 1..N without gaps."""
    found = []
    for entry in resources.files("hrms.migrations").joinpath(scope).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(scope, int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{scope} migrations must be numbered 0001..N without gaps")
    return tuple(found)


def latest_version(scope: Scope) -> int:
    return len(migrations(scope))
