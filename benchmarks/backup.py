"""Backups at scale: the streamed backup vs `pg_dump | gzip > file`, its memory, a one-tenant restore.

Self-contained: starts its own embedded stack (PostgreSQL 18, Valkey, Mongo-protocol server, moto S3)
in a temporary directory, loopback only, and removes it at the end.

    .venv/bin/python benchmarks/backup.py [--tenants 100] [--employees 1000] [--grow 3] [--runs 3]

Measures (DESIGN.md section 6, issue 7; goals in brackets):
- full backup time: `hrms.backup`'s PostgreSQL part (pg_dump -> gzip -> S3 multipart with sha256,
  then published under its key) vs `pg_dump | gzip > file` of the same database with the same pg_dump
  and gzip level, median of --runs, alternating [ratio <= 1.3]; and the whole backup (both parts);
- peak memory (VmHWM: peak resident set of the backing-up Python process; pg_dump is a separate
  process in both cases) of a full backup at the seeded size and after growing the database about
  --grow times [ratio <= 1.2, i.e. streaming: memory does not follow the database size];
- restore of one tenant's schema (validation pass, safety backup, then drop + load + checks in one
  transaction): seconds and rows/s.
- the MongoDB part (issue 21), seeded in proportion (per employee: an appraisal and a document's
  metadata; per tenant: settings history, flags, forms), grown with the database: its time against the
  PostgreSQL part's within the same backups (full, and one tenant's), and the peak memory of a process
  that streams only the MongoDB part of the whole database, at both sizes [ratio <= 1.2: flat].
  Seeded documents pin their file versions already, as confirmed uploads do (no S3 look-ups).

Each backup and restore runs in a fresh child process (so its memory is its own, and moto, which
keeps the objects, lives in this parent process). Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from bench_stack import embedded_stack  # noqa: E402

GOALS = {"backup_time_ratio": 1.3, "peak_memory_ratio": 1.2}
GZIP_LEVEL = 6  # gzip's default, and BACKUP_GZIP_LEVEL's


# ----------------------------------------------------------------------------- child process side


def _vm_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(op: str, arg: str | None) -> None:
    """Run one operation and print its figures as JSON (used as `backup.py --child OP [ARG]`)."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    from hrms.backup import dump, load, mongo_part, service, storage, validate
    from hrms.db.postgres import transaction

    storage.s3().head_bucket(Bucket=storage.bucket())  # clients built and connected before measuring
    with transaction() as conn:
        conn.execute("SELECT 1")
    baseline_kb = _vm_kb("VmRSS")
    phases: dict[str, float] = {}

    def timed(module: Any, name: str, label: str) -> None:
        real = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return real(*args, **kwargs)
            finally:
                phases[label] = round(time.monotonic() - started, 3)

        setattr(module, name, wrapper)

    if op == "restore":  # the steps of a restore, as restore.py calls them
        timed(validate, "verify", "validate")
        timed(dump, "backup_schema", "safety backup")
        timed(mongo_part, "stage", "mongo: stage the part")
        timed(mongo_part, "keep_current", "mongo: copy the tenant's documents aside")
        timed(load, "load", "drop + load in one transaction (with the mongo swap)")
        timed(mongo_part, "replace", "mongo: swap (inside the load)")
    if op in ("full", "schema"):
        timed(mongo_part, "dump", "mongo part")
        timed(dump, "_pg_dump", "postgresql part")

    started = time.monotonic()
    out: dict[str, Any] = {}
    if op == "full":
        info = dump.backup_full()
        out.update(key=info.key, size=info.size_bytes, dump_bytes=int(storage.head(info.key).metadata["dump-bytes"]))
    elif op == "schema":
        assert arg
        info = dump.backup_schema(arg)
        out.update(key=info.key, size=info.size_bytes)
    elif op == "mongo":  # only the MongoDB part of the whole database, uploaded, not published
        part = mongo_part.dump(None, {"kind": "full", "part": "mongo"})
        storage.delete_incoming(part.incoming, part.version_id)
        out.update(size=part.size, documents=part.documents)
    elif op == "restore":
        assert arg
        result = service.restore_backup(arg)
        out.update(rows=sum(result.row_counts.values()), tables=len(result.row_counts))
    out["seconds"] = time.monotonic() - started
    out["phases_s"] = phases
    out["baseline_rss_kb"] = baseline_kb
    out["peak_rss_kb"] = _vm_kb("VmHWM")
    print(json.dumps(out))


def run_child(op: str, arg: str | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", op] + ([arg] if arg else [])
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"child {op} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# ----------------------------------------------------------------------------- parent side


def seed(tenants: int, employees: int) -> list[str]:
    """`tenants` tenants, each with 10 departments/designations, `employees` employees, an audit row each."""
    from psycopg import sql

    from hrms.db.postgres import transaction
    from hrms.tenancy import PLATFORM_ADMIN, Actor
    from hrms.tenants.models import NewTenant
    from hrms.tenants.service import create_tenant

    actor = Actor("platform-admin", PLATFORM_ADMIN, None)
    schemas = []
    for n in range(tenants):
        slug = f"bench-{n:04d}"
        schema = create_tenant(
            NewTenant(name=f"Bench {n}", slug=slug, admin_email=f"admin@{slug}.io"), actor
        ).schema_name
        schemas.append(schema)

        def t(table: str, schema: str = schema) -> sql.Identifier:
            return sql.Identifier(schema, table)

        with transaction() as conn:
            conn.execute(
                sql.SQL("INSERT INTO {} (name, code) SELECT 'Dept ' || i, 'D' || i FROM generate_series(1, 10) i")
                .format(t("departments"))
            )  # fmt: skip
            conn.execute(
                sql.SQL("INSERT INTO {} (title, level, department_id) SELECT 'Role ' || code, 1, id FROM {}").format(
                    t("designations"), t("departments")
                )
            )
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (employee_code, email, first_name, last_name, phone, department_id,"
                    " designation_id, date_of_joining, pan_encrypted, pan_blind_index, pan_masked)"
                    " SELECT 'EMP-' || lpad(i::text, 6, '0'), 'employee' || i || '@example.com',"
                    " 'First' || md5(i::text), 'Last' || md5((i * 7)::text), '+91' || (9000000000 + i),"
                    " d.id, g.id, date '2015-01-01' + (i %% 3000), decode(md5(random()::text) || md5(i::text), 'hex'),"
                    " decode(md5(random()::text), 'hex'), 'XXXXX' || lpad((i %% 10000)::text, 4, '0') || 'X'"
                    " FROM generate_series(1, %s) i JOIN {} d ON d.code = 'D' || (1 + i %% 10)"
                    " JOIN {} g ON g.department_id = d.id"
                ).format(t("employees"), t("departments"), t("designations")),
                (employees,),
            )
        grow_audit(schema, 1)
        seed_mongo(schema, employees, 1)
    return schemas


def seed_mongo(schema: str, employees: int, per_employee: int, *, first: bool = True) -> None:
    """The tenant's MongoDB documents: `per_employee` appraisals and document metadata per employee; with
    `first`, settings (20 versions of history), 10 flags and 3 appraisal forms."""
    import uuid
    from datetime import UTC, datetime

    from hrms.db.mongo import database
    from hrms.db.postgres import transaction

    with transaction() as conn:
        row = conn.execute("SELECT id FROM public.tenants WHERE schema_name = %s", (schema,)).fetchone()
    tid, now, db = str(row["id"]), datetime.now(UTC), database()
    if first:
        settings = {"currency": "INR", "timezone": "Asia/Kolkata", "weekendDays": [6, 7], "motto": "x" * 200}
        db["TenantSettings"].insert_one({"_id": tid, "tenantId": tid, "version": 20, "settings": settings})
        db["SettingsAudit"].insert_many(
            [
                {"_id": str(uuid.uuid4()), "tenantId": tid, "version": v, "settings": settings, "at": now}
                for v in range(20)
            ]
        )
        db["FeatureFlag"].insert_many(
            [{"tenantId": tid, "name": f"flag-{n}", "enabled": n % 2 == 0, "rolloutPercent": 50} for n in range(10)]
        )
        fields = [{"key": f"q{n}", "label": f"Question {n}", "type": "text", "required": True} for n in range(8)]
        db["AppraisalForm"].insert_many(
            [
                {"_id": f"{tid}-f{n}:1", "tenantId": tid, "formId": f"f{n}", "version": 1, "fields": fields}
                for n in range(3)
            ]
        )
    for _ in range(per_employee):
        batch_a, batch_d = [], []
        for n in range(employees):
            doc_id = str(uuid.uuid4())
            batch_a.append(
                {
                    "_id": str(uuid.uuid4()),
                    "tenantId": tid,
                    "formId": "f0",
                    "formVersion": 1,
                    "employeeId": str(uuid.uuid4()),
                    "responses": {f"q{q}": f"answer {q} of employee {n}: " + "ok " * 20 for q in range(4)},
                    "status": "submitted",
                    "createdAt": now,
                }
            )
            batch_d.append(
                {
                    "_id": doc_id,
                    "tenantId": tid,
                    "category": "contract",
                    "fileName": f"contract-{n}.pdf",
                    "sizeBytes": 123456,
                    "s3Key": f"tenants/{tid}/documents/{doc_id}/contract-{n}.pdf",
                    "s3VersionId": uuid.uuid4().hex,
                    "createdAt": now,
                    "deletedAt": None,
                }
            )
            if len(batch_a) >= 1000:
                db["Appraisal"].insert_many(batch_a)
                db["DocumentMetadata"].insert_many(batch_d)
                batch_a, batch_d = [], []
        if batch_a:
            db["Appraisal"].insert_many(batch_a)
            db["DocumentMetadata"].insert_many(batch_d)


def grow_audit(schema: str, per_employee: int) -> None:
    """`per_employee` audit rows (a realistic JSON diff each) for every employee of the schema."""
    from psycopg import sql

    from hrms.db.postgres import transaction

    with transaction() as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (actor_id, actor_role, action, entity_type, entity_id, before, after, request_id)"
                " SELECT md5(random()::text), 'hr_manager', 'employee.updated', 'employee', e.id::text,"
                " jsonb_build_object('phone', e.phone, 'lastName', e.last_name, 'note', md5(random()::text)),"
                " jsonb_build_object('phone', '+91' || (random() * 1e9)::bigint, 'note', md5(random()::text)),"
                " gen_random_uuid()::text FROM {} e, generate_series(1, %s)"
            ).format(sql.Identifier(schema, "audit_logs"), sql.Identifier(schema, "employees")),
            (per_employee,),
        )
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, "audit_logs")))


def database_bytes() -> int:
    from hrms.db.postgres import transaction

    with transaction() as conn:
        row = conn.execute("SELECT pg_database_size(current_database()) AS n").fetchone()
    return int(row["n"]) if row else 0


def pipe_backup(target: Path) -> float:
    """`pg_dump | gzip > file`: the same tool, options, database and compression level."""
    from hrms.backup import pgtools

    db = pgtools.live()
    pg_dump = pgtools.tool("pg_dump")
    command = (
        f"set -o pipefail; '{pg_dump}' --format=plain --no-owner --no-privileges --dbname=\"$HRMS_BENCH_DB\""
        f" | gzip -{GZIP_LEVEL} > '{target}'"
    )
    env = {**db.env(), "HRMS_BENCH_DB": db.conninfo}
    started = time.monotonic()
    subprocess.run(["bash", "-c", command], env=env, check=True)  # noqa: S603, S607
    return time.monotonic() - started


def compare_backups(runs: int, scratch: Path) -> dict[str, Any]:
    """Alternate ours and the pipe `runs` times; medians and the ratio."""
    ours, pipe, peaks, baselines, sizes = [], [], [], [], {}
    pg_parts, mongo_parts = [], []
    for n in range(runs):
        result = run_child("full")
        ours.append(result["seconds"])
        pg_parts.append(result["phases_s"]["postgresql part"])
        mongo_parts.append(result["phases_s"]["mongo part"])
        peaks.append(result["peak_rss_kb"])
        baselines.append(result["baseline_rss_kb"])
        sizes = {"dump_mib": result["dump_bytes"] / 2**20, "gzip_mib": result["size"] / 2**20}
        target = scratch / f"pipe-{n}.sql.gz"
        pipe.append(pipe_backup(target))
        sizes["pipe_gzip_mib"] = target.stat().st_size / 2**20
        target.unlink()
    ours_s, pipe_s = statistics.median(ours), statistics.median(pipe)
    pg_s = statistics.median(pg_parts)
    return {
        "ours_s": round(ours_s, 3),
        "pipe_s": round(pipe_s, 3),
        "ratio": round(pg_s / pipe_s, 3),  # the PostgreSQL part against the same pg_dump | gzip
        "total_ratio": round(ours_s / pipe_s, 3),  # the whole backup, MongoDB part included
        "ours_runs_s": [round(s, 3) for s in ours],
        "pipe_runs_s": [round(s, 3) for s in pipe],
        "pg_part_s": round(statistics.median(pg_parts), 3),
        "mongo_part_s": round(statistics.median(mongo_parts), 3),
        "peak_rss_mib": round(max(peaks) / 1024, 1),
        "baseline_rss_mib": round(statistics.median(baselines) / 1024, 1),
        **{k: round(v, 2) for k, v in sizes.items()},
    }


def mongo_only(runs: int) -> dict[str, Any]:
    """The MongoDB part of the whole database alone: time, size, documents and peak memory (max of runs)."""
    results = [run_child("mongo") for _ in range(runs)]
    return {
        "mongo_documents": results[0]["documents"],
        "mongo_gzip_mib": round(results[0]["size"] / 2**20, 2),
        "mongo_only_s": round(statistics.median(r["seconds"] for r in results), 3),
        "mongo_only_peak_rss_mib": round(max(r["peak_rss_kb"] for r in results) / 1024, 1),
        "mongo_only_baseline_rss_mib": round(statistics.median(r["baseline_rss_kb"] for r in results) / 1024, 1),
    }


def mongo_documents() -> int:
    from hrms.backup import mongo_part

    return sum(mongo_part.counts_of(mongo_part.target_database(None), None).values())


def restore_one(schema: str) -> dict[str, Any]:
    """Back up one tenant's schema, then restore it over itself (validation, safety backup, load)."""
    backup = run_child("schema", schema)
    restored = run_child("restore", backup["key"])
    load_s = restored["phases_s"].get("drop + load in one transaction (with the mongo swap)", restored["seconds"])
    return {
        "schema_backup_s": round(backup["seconds"], 3),
        "schema_backup_phases_s": backup["phases_s"],
        "rows": restored["rows"],
        "tables": restored["tables"],
        "total_s": round(restored["seconds"], 3),
        "phases_s": restored["phases_s"],
        "rows_per_s_total": round(restored["rows"] / restored["seconds"]),
        "rows_per_s_load": round(restored["rows"] / max(load_s, 1e-6)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100, help="tenants (default 100)")
    parser.add_argument("--employees", type=int, default=1000, help="employees per tenant (default 1000)")
    parser.add_argument("--grow", type=float, default=3.0, help="second database size, times the first (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="backups of each kind per size (default 3)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1] if len(args.child) > 1 else None)
        return 0

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    f: dict[str, Any] = {"benchmark": "backup", "tenants": args.tenants, "employees_per_tenant": args.employees}
    with embedded_stack("hrms-bench-backup-"), tempfile.TemporaryDirectory(prefix="hrms-bench-pipe-") as scratch:
        from hrms.migrations import runner

        runner.up()
        print(f"seeding {args.tenants} tenants x {args.employees} employees ...", flush=True)
        started = time.monotonic()
        schemas = seed(args.tenants, args.employees)
        f["seed_s"] = round(time.monotonic() - started, 1)
        f["small"] = {"database_mib": round(database_bytes() / 2**20, 1)}
        print(f"full backups vs pg_dump | gzip, {args.runs} each ...", flush=True)
        f["small"].update(compare_backups(args.runs, Path(scratch)))
        print(f"the MongoDB part alone ({mongo_documents()} documents), {args.runs} runs ...", flush=True)
        f["small"].update(mongo_only(args.runs))

        print("restoring one tenant's schema ...", flush=True)
        f["small"]["restore_one_schema"] = restore_one(schemas[0])

        extra = max(1, round((args.grow - 1) * 2.2))  # audit rows per employee to grow the dump ~grow times
        print(f"growing the database (+{extra} audit rows per employee) ...", flush=True)
        for schema in schemas:
            grow_audit(schema, extra)
            seed_mongo(schema, args.employees, max(1, round(args.grow - 1)), first=False)
        f["large"] = {"database_mib": round(database_bytes() / 2**20, 1)}
        print(f"full backups vs pg_dump | gzip at the larger size, {args.runs} each ...", flush=True)
        f["large"].update(compare_backups(args.runs, Path(scratch)))
        print(f"the MongoDB part alone ({mongo_documents()} documents), {args.runs} runs ...", flush=True)
        f["large"].update(mongo_only(args.runs))
        print("restoring one tenant's schema at the larger size ...", flush=True)
        f["large"]["restore_one_schema"] = restore_one(schemas[1])

    small, large = f["small"], f["large"]
    f["size_ratio"] = round(large["dump_mib"] / small["dump_mib"], 2)
    f["peak_memory_ratio"] = round(large["peak_rss_mib"] / small["peak_rss_mib"], 3)
    f["mongo_documents_ratio"] = round(large["mongo_documents"] / small["mongo_documents"], 2)
    f["mongo_peak_memory_ratio"] = round(large["mongo_only_peak_rss_mib"] / small["mongo_only_peak_rss_mib"], 3)
    f["goals"] = {
        "mongo_peak_memory_ratio_ok": f["mongo_peak_memory_ratio"] <= GOALS["peak_memory_ratio"],
        "backup_time_ratio_small_ok": small["ratio"] <= GOALS["backup_time_ratio"],
        "backup_time_ratio_large_ok": large["ratio"] <= GOALS["backup_time_ratio"],
        "peak_memory_ratio_ok": f["peak_memory_ratio"] <= GOALS["peak_memory_ratio"],
    }

    print()
    print(f"{'':34}{'small':>14}{'large':>14}")
    for label, name, unit in (
        ("database size", "database_mib", "MiB"),
        ("dump (uncompressed)", "dump_mib", "MiB"),
        ("backup object (gzip)", "gzip_mib", "MiB"),
        ("hrms backup (both parts), median", "ours_s", "s"),
        ("pg_dump | gzip > file, median", "pipe_s", "s"),
        ("PostgreSQL part / pipe [<= 1.3]", "ratio", ""),
        ("both parts / pipe", "total_ratio", ""),
        ("peak RSS of the backing-up process", "peak_rss_mib", "MiB"),
        ("  of which before the backup", "baseline_rss_mib", "MiB"),
        ("  in it: the PostgreSQL part", "pg_part_s", "s"),
        ("  in it: the MongoDB part", "mongo_part_s", "s"),
        ("MongoDB documents", "mongo_documents", ""),
        ("MongoDB part (gzip)", "mongo_gzip_mib", "MiB"),
        ("MongoDB part alone, median", "mongo_only_s", "s"),
        ("  peak RSS of that process", "mongo_only_peak_rss_mib", "MiB"),
        ("  of which before the backup", "mongo_only_baseline_rss_mib", "MiB"),
    ):
        print(f"{label:34}{small[name]:>11} {unit:<3}{large[name]:>10} {unit:<3}")
    print(f"dump size ratio large/small: {f['size_ratio']}; peak memory ratio [<= 1.2]: {f['peak_memory_ratio']}")
    print(
        f"MongoDB documents ratio large/small: {f['mongo_documents_ratio']};"
        f" MongoDB-only peak memory ratio [<= 1.2]: {f['mongo_peak_memory_ratio']}"
    )
    for size in ("small", "large"):
        r = f[size]["restore_one_schema"]
        print(
            f"restore of one tenant schema ({size}): {r['rows']} rows in {r['tables']} tables, {r['total_s']} s"
            f" ({r['rows_per_s_total']} rows/s overall, {r['rows_per_s_load']} rows/s in the load); {r['phases_s']};"
            f" its schema backup took {r['schema_backup_s']} s ({r['schema_backup_phases_s']})"
        )
    print(json.dumps(f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
