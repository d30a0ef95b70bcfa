"""Typed rows: every repo reads through these, so rows leave the database as the repo's frozen
dataclasses (psycopg's `class_row`), never as dicts the type checker cannot see into.

`source` is a tenant transaction or a plain connection (platform tables, backups). Writes that go
through `hrms.db.crud` (audited: the audit stores every column) return the shape the repo names;
`Key` is the shape of a write whose caller reads the row again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import class_row, scalar_row

from hrms.db.postgres import TenantTx

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")
Params = Sequence[object] | Mapping[str, object]
Query = sql.SQL | sql.Composed
Source = TenantTx | psycopg.Connection[Any]


@dataclass(frozen=True)
class Key:
    """Only a row's id."""

    id: Any


def columns(shape: type[DataclassInstance], alias: str | None = None) -> sql.Composed:
    """The columns a row shape holds, as a select list (qualified by `alias` if given)."""
    names = (f.name for f in fields(shape))
    return sql.SQL(", ").join(sql.Identifier(alias, n) if alias else sql.Identifier(n) for n in names)


def exists(tx: TenantTx, table: str, row_id: object) -> bool:
    """Whether the tenant's `table` has a row with this id."""
    return scalar(tx, sql.SQL("SELECT 1 FROM {} WHERE id = %s").format(tx.t(table)), (row_id,)) is not None


def one(source: Source, shape: type[R], query: Query, params: Params | None = None) -> R | None:
    with _conn(source).cursor(row_factory=class_row(shape)) as cursor:
        return cursor.execute(query, params).fetchone()


def many(source: Source, shape: type[R], query: Query, params: Params | None = None) -> list[R]:
    with _conn(source).cursor(row_factory=class_row(shape)) as cursor:
        return cursor.execute(query, params).fetchall()


def scalar(source: Source, query: Query, params: Params | None = None) -> Any:
    """The first column of the first row, or None."""
    with _conn(source).cursor(row_factory=scalar_row) as cursor:
        return cursor.execute(query, params).fetchone()


def scalars(source: Source, query: Query, params: Params | None = None) -> list[Any]:
    """The first column of every row."""
    with _conn(source).cursor(row_factory=scalar_row) as cursor:
        return cursor.execute(query, params).fetchall()


def _conn(source: Source) -> psycopg.Connection[Any]:
    return source.conn if isinstance(source, TenantTx) else source
