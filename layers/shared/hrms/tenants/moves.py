"""Moving a tenant to another cell (`hrms tenant move <tenant> --to <cell>`): copy, verify, brief freeze, flip.

The steps, each recorded in `public.tenant_moves` (control database) before the next begins, so that a run
that died anywhere is resumed by running the same command again:
1. copying: the schema is streamed from the source cell into the target (pg_dump --format=custom of that one
   schema piped into pg_restore --single-transaction, tools from PG_BIN_DIR as hrms.backup.pgtools finds
   them), together with the tenant's row and platform switches in the target's public schema. Writes go on
   meanwhile. A resumed copy drops whatever a previous attempt left in the target first.
2. frozen (the cut-over): the tenant's writes are frozen in the source cell (a `public.tenant_write_freezes`
   row, reason 'move': writes answer 503 with Retry-After, reads are served), then the move waits for every
   transaction that wrote to the tenant before the freeze to end; the database refuses any later write
   (hrms.db.write_guard). Row counts and a checksum of every table (md5 over the md5 of each row's text,
   order-independent) are compared between the cells; each table that changed during the copy is copied
   again (its rows replaced in one target transaction, triggers and foreign keys held off by
   session_replication_role = replica), and everything is compared again: any difference left fails the
   move (the freeze is lifted, the target copy dropped, the tenant stays where it was).
3. flipped: one control transaction points the registry at the target; the target's row becomes active and
   the source's 'moved' (its requests answer 503 with Retry-After 1 and forget the cached cell: the retry
   goes to the target); the freeze is lifted with it; the tenant's cache keys are flushed.
4. done: after the grace period (`drop_after`) a later run (`hrms tenant move` again, or recovery) drops the
   source copy.
Refused with a clear error: a missing, deleted or suspended tenant, an unknown target cell, the cell the
tenant is on, a tenant with another move in progress towards a different cell.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row

from hrms.backup import pgtools
from hrms.backup.common import BackupFailed
from hrms.config import settings
from hrms.db import cells, write_guard
from hrms.db.postgres import credentials, transaction
from hrms.errors import Conflict, Invalid, NotFound
from hrms.tenancy import checked_schema_name
from hrms.tenants import repo

REASON = "move"
RETRY_AFTER_S = 5  # what a frozen write is told (the cut-over of a 10,000-employee tenant: benchmarks/cells.py)
GRACE_S = 3_600.0  # the old copy is kept this long after the flip (a stale container may still read it)

Conn = psycopg.Connection[DictRow]


class MoveFailed(Conflict):
    """The copy could not be made or verified; the tenant stays on its cell, writes thawed."""


@dataclass
class MoveReport:
    """What `move` did (seconds are this run's)."""

    tenant: str
    source: str
    target: str
    phase: str
    copy_s: float = 0.0
    freeze_s: float = 0.0  # writes frozen: from the freeze to the flip
    verify_s: float = 0.0  # comparing counts and checksums (both rounds)
    recopied: list[str] = field(default_factory=list)  # tables that changed during the copy
    rows: dict[str, int] = field(default_factory=dict)
    dropped_old_copy: bool = False


def move(id_or_slug: str, target: str, *, grace_s: float = GRACE_S) -> MoveReport:
    """Move the tenant to `target`, or resume its move there (module notes)."""
    with transaction() as conn:
        tenant = repo.find_tenant(conn, id_or_slug)
        if tenant is None:
            raise NotFound(f"No tenant '{id_or_slug}'.")
        current = _open_move(conn, tenant.tenant_id)
        if current is None:
            _check_movable(tenant, target)
            current = _start(conn, tenant.tenant_id, tenant.cell, target)
        elif current["target"] != target:
            raise Conflict(f"Tenant '{tenant.slug}' is being moved to cell '{current['target']}'; resume that first.")
    report = MoveReport(tenant.slug, current["source"], target, current["phase"])
    schema = checked_schema_name(tenant.schema_name)
    if current["phase"] == "copying":
        started = time.perf_counter()
        _copy(tenant, current["source"], target)
        report.copy_s = time.perf_counter() - started
        step("copied")
        _set_phase(current["id"], "frozen")
        current["phase"] = "frozen"
    if current["phase"] == "frozen" and tenant.cell == target:  # died between the flip and its record
        _flip(tenant, current, f"move-{current['id']}", grace_s)
        _set_phase(current["id"], "flipped")
        report.phase = "flipped"
    elif current["phase"] == "frozen":
        _cut_over(tenant, current, schema, report, grace_s)
    if report.phase == "flipped" or current["phase"] == "flipped":
        report.phase = "flipped"
        report.dropped_old_copy = _drop_old_copy_if_due(current["id"])
        if report.dropped_old_copy:
            report.phase = "done"
    return report


def step(name: str) -> None:
    """Called between the steps of a move (`copied`, `verified`, `flipped`: after the registry points at the
    target): a point where a process may die. Tests replace it to inject such a crash; it does nothing else."""


def _check_movable(tenant: repo.TenantRow, target: str) -> None:
    if tenant.status != "active":
        raise Invalid(f"Tenant '{tenant.slug}' is {tenant.status}; only an active tenant can be moved.")
    if target not in cells.configured():
        known = ", ".join(cells.configured())
        raise Invalid(f"Unknown cell '{target}' (known: {known}).")
    if target == tenant.cell:
        raise Invalid(f"Tenant '{tenant.slug}' is on cell '{target}' already.")


def _open_move(conn: Conn, tenant_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, source, target, phase, drop_after FROM public.tenant_moves"
        " WHERE tenant_id = %s AND phase NOT IN ('done', 'failed') FOR UPDATE",
        (tenant_id,),
    ).fetchone()


def _start(conn: Conn, tenant_id: UUID, source: str, target: str) -> dict[str, Any]:
    cells.register(conn)
    row = conn.execute(
        "INSERT INTO public.tenant_moves (tenant_id, source, target) VALUES (%s, %s, %s)"
        " RETURNING id, source, target, phase, drop_after",
        (tenant_id, source, target),
    ).fetchone()
    assert row is not None
    return row


def _set_phase(move_id: UUID, phase: str, **detail: Any) -> None:
    from psycopg.types.json import Jsonb

    with transaction() as conn:
        conn.execute(
            "UPDATE public.tenant_moves SET phase = %s, detail = detail || %s, updated_at = now() WHERE id = %s",
            (phase, Jsonb(detail), move_id),
        )


# ---------------------------------------------------------------- 1. copy


def _copy(tenant: repo.TenantRow, source: str, target: str) -> None:
    schema = checked_schema_name(tenant.schema_name)
    with transaction(target) as conn:  # what an earlier attempt left
        repo.drop_schema(conn, schema)
        if target != cells.DEFAULT:  # on the control database the row is the registry's own: it stays
            repo.delete_registration(conn, tenant.tenant_id)
    _stream_schema(source, target, schema)
    if target == cells.DEFAULT:
        return
    with transaction(source) as conn:
        row = conn.execute("SELECT * FROM public.tenants WHERE id = %s", (tenant.tenant_id,)).fetchone()
        features = repo.get_features(conn, tenant.tenant_id)
    assert row is not None
    with transaction(target) as conn:
        cells.register(conn)
        columns = [c for c in row if c != "cell"]
        conn.execute(
            sql.SQL("INSERT INTO public.tenants ({}, cell, status) VALUES ({}, %s, 'moved')").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in columns if c != "status"),
                sql.SQL(", ").join(sql.Placeholder() for c in columns if c != "status"),
            ),
            [_adapt(row[c]) for c in columns if c != "status"] + [target],
        )
        repo.replace_features(conn, tenant.tenant_id, features)


def _adapt(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value) if isinstance(value, dict | list) else value


def tool(name: str) -> str:
    """pg_dump / pg_restore, found as the backups find them (PG_BIN_DIR, the pgtools layer's /opt/bin, PATH)."""
    try:
        return pgtools.tool(name)
    except BackupFailed as exc:
        raise MoveFailed(exc.detail) from None


def _stream_schema(source: str, target: str, schema: str) -> None:
    """pg_dump of one schema piped into pg_restore in one target transaction (nothing half-restored)."""
    src, dst = pgtools.live(source), pgtools.live(target)  # conninfo without the password, which is in env()
    dump = subprocess.Popen(  # noqa: S603 - fixed tool paths, no shell
        [
            tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--schema={schema}",
            f"--dbname={src.conninfo}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=src.env(),
    )
    restore = subprocess.run(  # noqa: S603
        [
            tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={dst.conninfo}",
        ],
        stdin=dump.stdout,
        capture_output=True,
        env=dst.env(),
        check=False,
    )
    assert dump.stdout is not None and dump.stderr is not None
    dump.stdout.close()
    dump_error = dump.stderr.read().decode(errors="replace")
    if dump.wait() != 0 or restore.returncode != 0:
        error = dump_error.strip() or restore.stderr.decode(errors="replace").strip()
        raise MoveFailed(f"copying {schema} failed: {error.splitlines()[-1] if error else 'no output'}")


# ---------------------------------------------------------------- 2. cut-over


def _cut_over(
    tenant: repo.TenantRow, move_row: dict[str, Any], schema: str, report: MoveReport, grace_s: float
) -> None:
    source, target = move_row["source"], move_row["target"]
    operation = f"move-{move_row['id']}"
    frozen_at = time.perf_counter()
    with transaction(source) as conn:
        conn.execute(
            "INSERT INTO public.tenant_write_freezes (tenant_id, operation_id, reason, retry_after_s, phase)"
            " VALUES (%s, %s, %s, %s, 'frozen') ON CONFLICT (tenant_id) DO NOTHING",
            (tenant.tenant_id, operation, REASON, RETRY_AFTER_S),
        )
        holder = conn.execute(
            "SELECT operation_id FROM public.tenant_write_freezes WHERE tenant_id = %s", (tenant.tenant_id,)
        ).fetchone()
    if holder is None or holder["operation_id"] != operation:
        raise Conflict(f"Tenant '{tenant.slug}' is frozen by another operation ({holder and holder['operation_id']}).")
    try:
        _drain(source, schema)
        started = time.perf_counter()
        with _direct(source) as src, _direct(target) as dst:
            before, after = _sums(src, schema), _sums(dst, schema)
            changed = sorted(t for t in before if before[t] != after.get(t))
            report.verify_s += time.perf_counter() - started
            for table in changed:
                _recopy(src, dst, schema, table)
            started = time.perf_counter()
            after = _sums(dst, schema) if changed else after
            report.verify_s += time.perf_counter() - started
        report.recopied = changed
        report.rows = {t: count for t, (count, _) in before.items()}
        wrong = sorted(t for t in before if before[t] != after.get(t)) + sorted(set(after) - set(before))
        if wrong:
            raise MoveFailed(f"the copy in cell '{target}' differs from the tenant's tables: {', '.join(wrong)}")
        step("verified")
    except BaseException as exc:
        if isinstance(exc, MoveFailed | psycopg.Error):
            _fail(tenant, move_row, operation, str(exc))
        raise
    _flip(tenant, move_row, operation, grace_s)
    report.freeze_s = time.perf_counter() - frozen_at
    report.phase = "flipped"
    _set_phase(
        move_row["id"],
        "flipped",
        copy_s=round(report.copy_s, 3),
        freeze_s=round(report.freeze_s, 3),
        verify_s=round(report.verify_s, 3),
        recopied=report.recopied,
        rows=report.rows,
    )


def _drain(source: str, schema: str) -> None:
    """Wait for the transactions that wrote to the tenant before the freeze (hrms.db.write_guard)."""
    with _direct(source) as conn:
        try:
            write_guard.drain(conn, schema)
        except write_guard.DrainTimeout as exc:
            raise MoveFailed(f"write transactions on the tenant did not end: {exc}") from exc


def _direct(cell: str) -> Conn:
    """A dedicated autocommit connection, UTC (row texts compare alike in both cells), no statement timeout."""
    cfg = settings()
    conninfo = make_conninfo(
        cells.cell(cell).url,
        application_name="hrms-move",
        connect_timeout=cfg.pg_connect_timeout_s,
        options="-c TimeZone=UTC -c DateStyle=ISO,MDY -c extra_float_digits=3",
        **credentials(cell),
        **cfg.pg_tls,
    )
    return psycopg.connect(conninfo, autocommit=True, row_factory=dict_row)


def _tables(conn: Conn, schema: str) -> list[str]:
    found = conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace(%s) AND relkind IN ('r', 'p')"
        " ORDER BY relname",
        (schema,),
    ).fetchall()
    return [row["relname"] for row in found]


def _sums(conn: Conn, schema: str) -> dict[str, tuple[int, str]]:
    """Table -> (rows, checksum): md5 over the sorted md5s of every row's text, so row order does not matter."""
    tables = _tables(conn, schema)
    if not tables:
        return {}
    parts = [
        sql.SQL(
            "SELECT {name} AS t, count(*) AS n, coalesce(md5(string_agg(h, '' ORDER BY h)), '') AS sum"
            " FROM (SELECT md5(r::text) AS h FROM {table} r) x"
        ).format(name=sql.Literal(table), table=sql.Identifier(schema, table))
        for table in tables
    ]
    rows = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    return {row["t"]: (int(row["n"]), str(row["sum"])) for row in rows}


def _recopy(src: Conn, dst: Conn, schema: str, table: str) -> None:
    """Replace the target's rows of one table with the source's, in one target transaction."""
    name = sql.Identifier(schema, table)
    with dst.transaction():
        dst.execute("SET LOCAL session_replication_role = replica")  # no FK checks or triggers mid-replacement
        dst.execute(sql.SQL("DELETE FROM {}").format(name))
        with (
            src.cursor().copy(sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(name)) as out,
            dst.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(name)) as into,
        ):
            for chunk in out:
                into.write(chunk)
        sequences = dst.execute(
            "SELECT a.attname, pg_get_serial_sequence(format('%%I.%%I', %s::text, %s::text), a.attname) AS seq"
            " FROM pg_attribute a WHERE a.attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))"
            " AND a.attnum > 0 AND NOT a.attisdropped",
            (schema, table, schema, table),
        ).fetchall()
        for row in sequences:
            if row["seq"]:
                dst.execute(
                    sql.SQL("SELECT setval(%s, coalesce((SELECT max({}) FROM {}), 0) + 1, false)").format(
                        sql.Identifier(row["attname"]), name
                    ),
                    (row["seq"],),
                )


def _fail(tenant: repo.TenantRow, move_row: dict[str, Any], operation: str, error: str) -> None:
    """Thaw the tenant where it is, drop the target copy, record why."""
    with transaction(move_row["source"]) as conn:
        conn.execute("DELETE FROM public.tenant_write_freezes WHERE operation_id = %s", (operation,))
    with transaction(move_row["target"]) as conn:
        repo.drop_schema(conn, tenant.schema_name)
        if move_row["target"] != cells.DEFAULT:
            repo.delete_registration(conn, tenant.tenant_id)
    _set_phase(move_row["id"], "failed", error=error[:500])


# ---------------------------------------------------------------- 3. flip, 4. drop


def _flip(tenant: repo.TenantRow, move_row: dict[str, Any], operation: str, grace_s: float) -> None:
    source, target = move_row["source"], move_row["target"]
    with transaction(target) as conn:
        conn.execute("UPDATE public.tenants SET status = 'active' WHERE id = %s", (tenant.tenant_id,))
    with transaction() as conn:  # the flip itself: from now on the registry sends the tenant to the target
        conn.execute(
            "UPDATE public.tenants SET cell = %s, updated_at = now() WHERE id = %s", (target, tenant.tenant_id)
        )
        conn.execute(
            "UPDATE public.tenant_moves SET drop_after = now() + make_interval(secs => %s) WHERE id = %s",
            (grace_s, move_row["id"]),
        )
        repo.audit(conn, tenant.tenant_id, "tenant.moved", "move", {"from": source, "to": target})
    step("flipped")
    with transaction(source) as conn:
        if source == cells.DEFAULT:  # the registry row is this cell's row: the freeze stays until the drop
            conn.execute(
                "UPDATE public.tenant_write_freezes SET reason = 'moved', retry_after_s = 1, updated_at = now()"
                " WHERE operation_id = %s",
                (operation,),
            )
        else:
            conn.execute("UPDATE public.tenants SET status = 'moved' WHERE id = %s", (tenant.tenant_id,))
            conn.execute("DELETE FROM public.tenant_write_freezes WHERE operation_id = %s", (operation,))
    cells.forget(tenant.tenant_id, tenant.slug)
    _flush_cache(tenant.tenant_id)


def _flush_cache(tenant_id: UUID) -> None:
    try:
        from hrms.cache.admin import flush_tenant

        flush_tenant(tenant_id)
    except Exception:  # Redis is an accelerator: cached values carry epochs read from PostgreSQL anyway
        from hrms.observability import logger

        logger.warning("Could not flush the moved tenant's cache keys", extra={"tenant_id": str(tenant_id)})


def _drop_old_copy_if_due(move_id: UUID) -> bool:
    with transaction() as conn:
        row = conn.execute(
            "SELECT m.source, m.tenant_id, t.schema_name, m.drop_after <= now() AS due FROM public.tenant_moves m"
            " JOIN public.tenants t ON t.id = m.tenant_id WHERE m.id = %s AND m.phase = 'flipped'",
            (move_id,),
        ).fetchone()
    if row is None or not row["due"]:
        return False
    with transaction(row["source"]) as conn:
        repo.drop_schema(conn, row["schema_name"])
        if row["source"] != cells.DEFAULT:
            repo.delete_registration(conn, row["tenant_id"])
        else:
            conn.execute(
                "DELETE FROM public.tenant_write_freezes WHERE tenant_id = %s AND reason = 'moved'", (row["tenant_id"],)
            )
    _set_phase(move_id, "done")
    return True


def finish_due() -> list[str]:
    """Drop every old copy whose grace period is over (recovery calls it); the tenants' slugs."""
    with transaction() as conn:
        due = conn.execute(
            "SELECT m.id, t.slug FROM public.tenant_moves m JOIN public.tenants t ON t.id = m.tenant_id"
            " WHERE m.phase = 'flipped' AND m.drop_after <= now()"
        ).fetchall()
    return [row["slug"] for row in due if _drop_old_copy_if_due(row["id"])]
