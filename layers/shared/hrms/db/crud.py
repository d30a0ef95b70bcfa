"""Audited single-row writes on tenant tables: one helper instead of copy-pasted CRUD per entity.

Every insert/update/delete writes its audit row (`<entity>.created|updated|deleted`) in the same
transaction. Constraint violations become domain errors (409 / 422), never 500s. Rows come back as
the caller's row shape (a dataclass whose fields are columns, `hrms.db.rows`); the whole row, which
the audit diff needs, never leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from hrms.db import audit_log
from hrms.db.postgres import TenantTx
from hrms.errors import Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")
_Row = dict[str, Any]


def _adapt(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict | list) else value


@contextmanager
def constraint_errors(entity_type: str, table: str) -> Iterator[None]:
    """Translate integrity errors of one statement into 409/422 problems naming the field (`body.code`),
    never the constraint or the table (`<table>_<column>_key|fkey|check` names the field)."""
    name = entity_type.replace("_", " ")
    article = "An" if name[:1] in "aeiou" else "A"
    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(
            f"{article} {name} with the same unique value already exists.",
            errors=_field_errors(exc, table, "unique", "already in use"),
        ) from exc
    except psycopg.errors.ForeignKeyViolation as exc:
        raise Invalid(
            f"The {name} refers to something that does not exist or is still in use.",
            errors=_field_errors(exc, table, "reference", "refers to something missing or still in use"),
        ) from exc
    except psycopg.errors.CheckViolation as exc:
        raise Invalid(f"The {name} breaks a rule.", errors=_field_errors(exc, table, "rule", "not allowed")) from exc
    except psycopg.errors.NotNullViolation as exc:
        field = _body_field(exc.diag.column_name or "") or "body"
        raise Invalid(
            f"The {name} needs a value that was missing.",
            errors=[{"field": field, "type": "missing", "message": "may be omitted but not null"}],
        ) from exc


def _field_errors(exc: psycopg.Error, table: str, kind: str, message: str) -> list[dict[str, Any]]:
    name = (exc.diag.constraint_name or "").removeprefix(f"{table}_")
    column = re.sub(r"_(key|fkey|check|idx)$", "", name)
    column = column.removeprefix("employee_id_")  # per-employee uniques: the other column is what clashed
    field = _body_field(column)
    return [{"field": field, "type": kind, "message": message}] if field else []


def _body_field(column: str) -> str | None:
    """`date_of_joining` -> `body.dateOfJoining`; None for anything that is not a plain column name."""
    if not re.fullmatch(r"[a-z_]+", column):
        return None
    return "body." + re.sub(r"_([a-z])", lambda m: m.group(1).upper(), column)


def get_or_404(
    tx: TenantTx, table: str, row_id: object, entity_type: str, shape: type[R], *, for_update: bool = False
) -> R:
    """The row as `shape`; 404 naming the entity if there is none."""
    return _typed(shape, _existing(tx, table, row_id, entity_type, for_update=for_update))


def insert(tx: TenantTx, table: str, entity_type: str, values: Mapping[str, Any], shape: type[R]) -> R:
    columns = list(values)
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING *").format(
        tx.t(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    with constraint_errors(entity_type, table):
        row = tx.execute(query, [_adapt(values[c]) for c in columns]).fetchone()
    assert row is not None
    audit_log.record(tx, f"{entity_type}.created", entity_type, row["id"], None, row)
    return _typed(shape, row)


def update(tx: TenantTx, table: str, entity_type: str, row_id: object, changes: Mapping[str, Any], shape: type[R]) -> R:
    before = _existing(tx, table, row_id, entity_type, for_update=True)
    if not changes:
        return _typed(shape, before)
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes)
    query = sql.SQL("UPDATE {} SET {}, updated_at = now() WHERE id = %(_id)s RETURNING *").format(
        tx.t(table), assignments
    )
    with constraint_errors(entity_type, table):
        after = tx.execute(query, {**{c: _adapt(v) for c, v in changes.items()}, "_id": row_id}).fetchone()
    assert after is not None
    audit_log.record(tx, f"{entity_type}.updated", entity_type, row_id, before, after)
    return _typed(shape, after)


def delete(tx: TenantTx, table: str, entity_type: str, row_id: object) -> None:
    before = _existing(tx, table, row_id, entity_type, for_update=True)
    with constraint_errors(entity_type, table):
        tx.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(tx.t(table)), (row_id,))
    audit_log.record(tx, f"{entity_type}.deleted", entity_type, row_id, before, None)


def _typed(shape: type[R], row: _Row) -> R:
    return shape(**{f.name: row[f.name] for f in fields(shape)})


def _existing(tx: TenantTx, table: str, row_id: object, entity_type: str, *, for_update: bool) -> _Row:
    query = sql.SQL("SELECT * FROM {} WHERE id = %s").format(tx.t(table))
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    row: _Row | None = tx.execute(query, (row_id,)).fetchone()
    if row is None:
        raise NotFound(f"No such {entity_type}.")
    return row
