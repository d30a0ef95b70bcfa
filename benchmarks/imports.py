"""Issue 16 benchmark: a bulk import of employees end to end (own embedded stack, loopback only).

    .venv/bin/python benchmarks/imports.py [--rows 10000] [--small 1000]

For each size, in a fresh tenant with a department and a designation:
1. through the local API Gateway: POST /imports, the client's PUT of the CSV to the presigned URL,
   POST /imports/{id}/start;
2. the ImportWorker in a process of its own (as Lambda runs it), fed the import.started event from the
   tenant's outbox as the SQS event source would deliver it: it validates every row, then writes them
   in one transaction (employees, audit rows, leave balances);
3. GET /imports/{id} until it is finished.
Every tenth person reports to the first; every fifth has a PAN (encrypted).

Measures (goal in brackets): end-to-end seconds for `--rows` [< 60 s on 2 cores]; the worker
process's peak RSS (what Lambda reports as "Max Memory Used") at `--small` vs `--rows` rows
[ratio <= 1.5]; and, from a second worker run under tracemalloc (slower, so not timed), the peak of
Python allocations during the run, which shows what the rows themselves cost.

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from bench_stack import embedded_stack  # noqa: E402
from local_gateway import serving  # noqa: E402

GOAL_S = 60.0
GOAL_RATIO = 1.5
HEADER = [
    "email",
    "firstName",
    "lastName",
    "departmentCode",
    "designationTitle",
    "dateOfJoining",
    "managerEmail",
    "pan",
]
PAN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def csv_file(rows: int, domain: str) -> bytes:
    lines = [",".join(HEADER)]
    for n in range(rows):
        manager = f"p0@{domain}" if n and n % 10 == 0 else ""
        pan = f"AB{PAN_LETTERS[n // 10000 % 26]}DE{n % 10000:04d}F" if n % 5 == 0 else ""
        lines.append(f"p{n}@{domain},First{n},Last{n:06d},ENG,Engineer,2024-01-01,{manager},{pan}")
    return ("\n".join(lines) + "\n").encode()


def tenant(slug: str) -> tuple[Any, str]:
    """A tenant with department ENG and designation Engineer; its admin's token."""
    from psycopg import sql

    from hrms.auth import tokens
    from hrms.db.postgres import transaction
    from hrms.tenancy import PLATFORM_ADMIN, Actor, Tenant
    from hrms.tenants.models import NewTenant
    from hrms.tenants.service import create_tenant

    created = create_tenant(
        NewTenant(name="Bench", slug=slug, admin_email=f"admin@{slug}.example.com"),
        Actor("platform-admin", PLATFORM_ADMIN, None),
    )
    schema = created.schema_name
    with transaction() as conn:
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(sql.Identifier(schema, "users")))
        conn.execute(
            sql.SQL("INSERT INTO {} (name, code) VALUES ('Eng', 'ENG')").format(sql.Identifier(schema, "departments"))
        )
        conn.execute(
            sql.SQL("INSERT INTO {} (title) VALUES ('Engineer')").format(sql.Identifier(schema, "designations"))
        )
        admin = conn.execute(sql.SQL("SELECT id FROM {}").format(sql.Identifier(schema, "users"))).fetchone()
    token = tokens.issue(str(admin["id"]), "admin", tid=str(created.tenant_id))  # type: ignore[index]
    return Tenant(created.tenant_id, schema), token


def worker(tenant_id: str, schema: str, import_id: str, trace: bool) -> dict[str, Any]:
    """Run the ImportWorker in a child process; its own figures."""
    command = [sys.executable, __file__, "--worker", tenant_id, schema, import_id] + (["--trace"] if trace else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=os.environ.copy())  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"worker failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def worker_main(tenant_id: str, schema: str, import_id: str, trace: bool) -> None:
    """The child: one SQS record of the import's import.started event through the worker's consumer."""
    import tracemalloc
    from uuid import UUID

    from psycopg import sql

    from hrms.db.postgres import transaction
    from hrms.imports.worker import handle
    from hrms.outbox.consumer import consume
    from hrms.outbox.envelope import Envelope
    from hrms.outbox.store import OutboxRow

    with transaction() as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT id, event_id, event_type, payload, created_at, attempts FROM {}"
                " WHERE payload->>'importId' = %s ORDER BY id DESC LIMIT 1"
            ).format(sql.Identifier(schema, "outbox")),
            (import_id,),
        ).fetchone()
    assert row is not None
    envelope = Envelope.from_row(UUID(tenant_id), OutboxRow(**row))
    record = {
        "messageId": str(envelope.event_id),
        "receiptHandle": "bench",
        "body": envelope.body(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:hrms-local-ImportQueue",
        "awsRegion": "us-east-1",
    }
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    result = consume({"Records": [record]}, None, handle)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "failures": result["batchItemFailures"],
                "rss_mib": rss_kib / 1024,
                "traced_peak_mib": None if peak is None else peak / 2**20,
            }
        )
    )


def one_import(http: Any, rows: int, slug: str, trace: bool = False) -> dict[str, Any]:
    import httpx

    tenant_, token = tenant(slug)
    auth = {"Authorization": f"Bearer {token}"}
    content = csv_file(rows, f"{slug}.example.com")
    start = time.perf_counter()
    created = http.post(
        "/imports",
        headers=auth,
        json={"kind": "employees", "fileName": "people.csv", "contentType": "text/csv", "sizeBytes": len(content)},
    )
    assert created.status_code == 201, created.text
    upload = created.json()
    put = httpx.put(upload["uploadUrl"], content=content, headers=upload["uploadHeaders"], timeout=120)
    assert put.status_code == 200, put.text
    started = http.post(f"/imports/{upload['importId']}/start", headers=auth, json={})
    assert started.status_code == 202, started.text
    figures = worker(str(tenant_.tenant_id), tenant_.schema_name, upload["importId"], trace)
    while (job := http.get(f"/imports/{upload['importId']}", headers=auth).json())["status"] not in (
        "succeeded",
        "failed",
    ):
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    if job["status"] != "succeeded" or job["succeeded"] != rows:
        raise RuntimeError(f"import did not succeed: {json.dumps(job)[:1000]}")
    return {
        "rows": rows,
        "bytes": len(content),
        "end_to_end_s": round(elapsed, 2),
        "worker_s": round(figures["seconds"], 2),
        "worker_rss_mib": round(figures["rss_mib"], 1),
        "traced_peak_mib": None if figures["traced_peak_mib"] is None else round(figures["traced_peak_mib"], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(*args.worker, trace=args.trace)
        return 0
    import httpx

    from hrms.migrations import runner

    with embedded_stack("hrms-bench-imports-"):
        runner.up()
        with serving() as gateway, httpx.Client(base_url=gateway.base_url, timeout=120) as http:
            small = one_import(http, args.small, "bench-small")
            big = one_import(http, args.rows, "bench-big")
            small_traced = one_import(http, args.small, "bench-small-t", trace=True)
            big_traced = one_import(http, args.rows, "bench-big-t", trace=True)
    ratio = round(big["worker_rss_mib"] / small["worker_rss_mib"], 2)
    traced_ratio = round(big_traced["traced_peak_mib"] / small_traced["traced_peak_mib"], 2)
    print("Employee import, CSV, end to end (gateway, S3 upload, start, worker process, GET until done)")
    for run in (small, big):
        print(
            f"  {run['rows']:>6} rows ({run['bytes'] / 2**20:.1f} MiB): {run['end_to_end_s']} s end to end,"
            f" worker {run['worker_s']} s, worker peak RSS {run['worker_rss_mib']} MiB"
        )
    print(f"  goal: {args.rows} rows < {GOAL_S:.0f} s: {'met' if big['end_to_end_s'] < GOAL_S else 'NOT met'}")
    print(f"  worker peak RSS {args.rows} / {args.small} rows: {ratio} (goal <= {GOAL_RATIO})")
    print(
        f"  Python allocations' peak under tracemalloc: {small_traced['traced_peak_mib']} MiB vs"
        f" {big_traced['traced_peak_mib']} MiB (ratio {traced_ratio})"
    )
    print(
        json.dumps(
            {
                "small": small,
                "big": big,
                "small_traced": small_traced,
                "big_traced": big_traced,
                "rss_ratio": ratio,
                "traced_ratio": traced_ratio,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
