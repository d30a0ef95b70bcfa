"""SQL of the imports domain: the job table, and the set-based writes and lookups of the kinds.

Every table through `tx.t(...)`, every value bound. Job rows come out as `ImportRow`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from hrms.db import audit_log, crud, rows
from hrms.db.postgres import TenantTx

TABLE = "imports"
ENTITY = "import"
# A claim older than this is taken to belong to a worker that died (longer than any Lambda may run).
STALE_CLAIM = dt.timedelta(minutes=20)
_AUDIT_CHUNK = 1_000


@dataclass(frozen=True)
class ImportRow:
    id: UUID
    kind: str
    file_name: str
    content_type: str
    size_bytes: int
    object_key: str
    status: str
    dry_run: bool
    total: int
    succeeded: int
    failed: int
    reason: str | None
    errors: list[dict[str, Any]]
    error_count: int
    error_report_key: str | None
    created_by: UUID
    started_by: UUID | None
    started_role: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


# ---------------------------------------------------------------- jobs


def insert(tx: TenantTx, values: Mapping[str, Any]) -> ImportRow:
    """Audited (`import.created`)."""
    return crud.insert(tx, TABLE, ENTITY, values, ImportRow)


def get(tx: TenantTx, import_id: UUID, *, for_update: bool = False) -> ImportRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(rows.columns(ImportRow), tx.t(TABLE))
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    return rows.one(tx, ImportRow, query, (import_id,))


def page(tx: TenantTx, after: tuple[dt.datetime, UUID] | None, limit: int) -> list[ImportRow]:
    """Up to `limit` jobs, newest first, strictly after the keyset position `after`."""
    condition = sql.SQL("TRUE") if after is None else sql.SQL("(created_at, id) < (%(at)s, %(id)s)")
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY created_at DESC, id DESC LIMIT %(limit)s").format(
        rows.columns(ImportRow), tx.t(TABLE), condition
    )
    params = {"limit": limit, "at": after[0] if after else None, "id": after[1] if after else None}
    return rows.many(tx, ImportRow, query, params)


def queue(tx: TenantTx, import_id: UUID, dry_run: bool, started_by: UUID | None, role: str) -> ImportRow:
    """Audited (`import.updated`): status queued, who started it and whether as a dry run."""
    changes = {
        "status": "queued",
        "dry_run": dry_run,
        "started_by": started_by,
        "started_role": role,
        "reason": None,
        "errors": [],
        "error_count": 0,
        "error_report_key": None,
        "total": 0,
        "succeeded": 0,
        "failed": 0,
        "finished_at": None,
    }
    return crud.update(tx, TABLE, ENTITY, import_id, changes, ImportRow)


def claim(tx: TenantTx, import_id: UUID) -> ImportRow | None:
    """Move a queued job (or one whose worker died mid-run) to `validating`; None if another worker
    has it or it is finished: a redelivered event then does nothing."""
    query = sql.SQL(
        "UPDATE {} SET status = 'validating', started_at = now(), updated_at = now()"
        " WHERE id = %(id)s AND (status = 'queued'"
        " OR (status IN ('validating', 'running') AND updated_at < now() - %(stale)s))"
        " RETURNING {}"
    ).format(tx.t(TABLE), rows.columns(ImportRow))
    return rows.one(tx, ImportRow, query, {"id": import_id, "stale": STALE_CLAIM})


def set_status(tx: TenantTx, import_id: UUID, status: str, total: int) -> None:
    query = sql.SQL("UPDATE {} SET status = %s, total = %s, updated_at = now() WHERE id = %s").format(tx.t(TABLE))
    tx.execute(query, (status, total, import_id))


def finish(tx: TenantTx, import_id: UUID, outcome: Mapping[str, Any]) -> ImportRow:
    """Audited (`import.succeeded` / `import.failed`, with the counts): the job's final state."""
    changes = {**outcome, "errors": Jsonb(outcome["errors"]), "finished_at": dt.datetime.now(dt.UTC)}
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes)
    query = sql.SQL("UPDATE {} SET {}, updated_at = now() WHERE id = %(_id)s RETURNING {}").format(
        tx.t(TABLE), assignments, rows.columns(ImportRow)
    )
    row = rows.one(tx, ImportRow, query, {**changes, "_id": import_id})
    assert row is not None
    summary = {k: outcome[k] for k in ("total", "succeeded", "failed", "error_count", "reason")}
    audit_log.record(tx, f"import.{outcome['status']}", ENTITY, import_id, None, {"dryRun": row.dry_run, **summary})
    return row


# ---------------------------------------------------------------- set-based writes of the kinds


def insert_many(tx: TenantTx, table: str, columns: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    """Insert `values` (one tuple per row, in `columns` order) in one pipelined batch, not audited
    (the caller audits with `audit_created` once the rows are final)."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        tx.t(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    with tx.conn.cursor() as cursor:
        cursor.executemany(query, values)


def audit_created(tx: TenantTx, table: str, entity_type: str, ids: Sequence[UUID]) -> None:
    """One `<entity>.created` audit row per id, holding the row as now stored: what `hrms.db.crud.insert`
    records for a single insert (`audit_log` leaves the secret columns out), read back in chunks."""
    for start in range(0, len(ids), _AUDIT_CHUNK):
        chunk = list(ids[start : start + _AUDIT_CHUNK])
        query = sql.SQL("SELECT * FROM {} WHERE id = ANY(%s)").format(tx.t(table))
        found = {row["id"]: row for row in tx.execute(query, (chunk,)).fetchall()}
        audit_log.record_many(tx, f"{entity_type}.created", entity_type, [(i, None, found[i]) for i in chunk])


def set_managers(tx: TenantTx, pairs: Sequence[tuple[UUID, UUID]]) -> None:
    """(employee, manager) for employees inserted by this transaction."""
    if not pairs:
        return
    query = sql.SQL(
        "UPDATE {} e SET manager_id = p.manager FROM unnest(%s::uuid[], %s::uuid[]) AS p(id, manager) WHERE e.id = p.id"
    ).format(tx.t("employees"))
    tx.execute(query, ([p[0] for p in pairs], [p[1] for p in pairs]))


def advance_employee_codes(tx: TenantTx, highest: int) -> None:
    """Move the employee code sequence past `highest`, so a generated `EMP-nnnnnn` never repeats an imported one."""
    seq = f"{tx.tenant.schema_name}.employee_code_seq"  # schema name is pattern-checked (no quoting needed)
    query = sql.SQL("SELECT setval(%(seq)s::regclass, greatest(%(n)s, last_value)) FROM {}").format(
        sql.Identifier(tx.tenant.schema_name, "employee_code_seq")
    )
    tx.execute(query, {"seq": seq, "n": highest})


# ---------------------------------------------------------------- lookups of the kinds


@dataclass(frozen=True)
class Ref:
    """A row found by a natural key (lower-case text): its id and, for employees, their status."""

    key: str
    id: UUID
    status: str | None = None


def departments(tx: TenantTx) -> list[Ref]:
    query = sql.SQL("SELECT lower(code) AS key, id, NULL AS status FROM {}").format(tx.t("departments"))
    return rows.many(tx, Ref, query)


@dataclass(frozen=True)
class DesignationRef:
    department_id: UUID | None
    title: str
    id: UUID


def designations(tx: TenantTx) -> list[DesignationRef]:
    query = sql.SQL("SELECT department_id, lower(title) AS title, id FROM {}").format(tx.t("designations"))
    return rows.many(tx, DesignationRef, query)


def employees_by_email(tx: TenantTx, emails: Collection[str]) -> list[Ref]:
    query = sql.SQL("SELECT lower(email) AS key, id, status FROM {} WHERE lower(email) = ANY(%s)").format(
        tx.t("employees")
    )
    return rows.many(tx, Ref, query, (list(emails),))


def taken(tx: TenantTx, table: str, column: str, values: Collection[Any], *, lower: bool = False) -> set[Any]:
    """Which of `values` the tenant's `table.column` already holds (compared in lower case with `lower`)."""
    if not values:
        return set()
    target = sql.SQL("lower({})").format(sql.Identifier(column)) if lower else sql.Identifier(column)
    query = sql.SQL("SELECT {target} FROM {table} WHERE {target} = ANY(%s)").format(target=target, table=tx.t(table))
    return {bytes(v) if isinstance(v, memoryview) else v for v in rows.scalars(tx, query, (list(values),))}


def user_emails(tx: TenantTx, user_id: UUID) -> list[str]:
    """The importer's own addresses: their user's and their employee record's (lower case)."""
    query = sql.SQL(
        "SELECT lower(u.email) FROM {users} u WHERE u.id = %(id)s"
        " UNION SELECT lower(e.email) FROM {users} u JOIN {employees} e ON e.id = u.employee_id WHERE u.id = %(id)s"
    ).format(users=tx.t("users"), employees=tx.t("employees"))
    return [str(email) for email in rows.scalars(tx, query, {"id": user_id})]


def structures(tx: TenantTx) -> list[Ref]:
    """Active salary structures by lower-case name."""
    query = sql.SQL("SELECT lower(name) AS key, id, NULL AS status FROM {} WHERE is_active").format(
        tx.t("salary_structures")
    )
    return rows.many(tx, Ref, query)


def leave_types(tx: TenantTx) -> list[Ref]:
    """Active leave types by lower-case code."""
    query = sql.SQL("SELECT lower(code) AS key, id, NULL AS status FROM {} WHERE is_active").format(tx.t("leave_types"))
    return rows.many(tx, Ref, query)


def salaries_taken(tx: TenantTx, pairs: Collection[tuple[UUID, dt.date]]) -> set[tuple[UUID, dt.date]]:
    """Which (employee, effective from) pairs already have a salary."""
    if not pairs:
        return set()
    query = sql.SQL(
        "SELECT s.employee_id, s.effective_from FROM {} s"
        " JOIN unnest(%s::uuid[], %s::date[]) AS p(employee_id, effective_from)"
        " ON p.employee_id = s.employee_id AND p.effective_from = s.effective_from"
    ).format(tx.t("employee_salaries"))
    found = tx.execute(query, ([p[0] for p in pairs], [p[1] for p in pairs])).fetchall()
    return {(row["employee_id"], row["effective_from"]) for row in found}
