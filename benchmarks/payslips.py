"""Issue 19 benchmark: the PayslipWorker (own embedded stack, loopback only; S3 is the local moto server).

    .venv/bin/python benchmarks/payslips.py [--small 1000] [--employees 10000]

Two tenants of `--small` and `--employees` people (seeded in SQL: 20 departments, the five-component
structure of the payroll benchmark, a masked PAN each). Each tenant's February 2026 is processed through
the domain (`runs.process_payroll` -> approve -> `mark_processed`, which takes the payslip snapshot), then
a fresh child process runs `hrms.payslips.worker.handle` for the run's `payroll.processed` event, as
PayslipWorkerFunction does, rendering every PDF and putting it to S3 with SSE-KMS.

Printed: the snapshot's time in `mark_processed`; per tenant, the worker's wall time, payslips (pages)
per second per worker, and its peak memory (VmHWM) [goal: flat with count, big / small <= 1.2]; and the
bare rendering rate (no S3, one thread). Then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

MONTH = "2026-02"
STRUCTURE = [
    {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": 40},
    {"code": "hra", "name": "House rent allowance", "kind": "earning", "calc": "percent_of_basic", "value": 50},
    {"code": "special", "name": "Special allowance", "kind": "earning", "calc": "fixed", "value": 10000},
    {"code": "pf", "name": "Provident fund", "kind": "deduction", "calc": "percent_of_basic", "value": 12},
    {"code": "pt", "name": "Professional tax", "kind": "deduction", "calc": "fixed", "value": 200},
]


def _vm_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# ----------------------------------------------------------------------------- child process side


def child(tenant_json: str, run_id: str) -> None:
    """Run the worker once for the run's payroll.processed event; print its figures as JSON."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    from uuid import UUID

    from psycopg import sql

    from hrms.db.postgres import transaction
    from hrms.outbox.envelope import Envelope
    from hrms.payslips import worker
    from hrms.tenancy import Tenant

    data = json.loads(tenant_json)
    tenant = Tenant(UUID(data["tenant_id"]), data["schema_name"])
    with transaction() as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT event_id, event_type, payload, created_at FROM {} WHERE event_type = 'payroll.processed'"
            ).format(sql.Identifier(tenant.schema_name, "outbox"))
        ).fetchone()
    assert row is not None
    envelope = Envelope(row["event_id"], row["event_type"], tenant.tenant_id, row["created_at"], row["payload"])
    started = time.perf_counter()
    worker.handle(tenant, envelope)
    elapsed = time.perf_counter() - started
    with transaction() as conn:
        stored = conn.execute(
            sql.SQL("SELECT count(*) AS n, sum(size_bytes) AS bytes FROM {} WHERE payroll_run_id = %s").format(
                sql.Identifier(tenant.schema_name, "payslips")
            ),
            (run_id,),
        ).fetchone()
    assert stored is not None
    print(json.dumps({"seconds": elapsed, "payslips": stored["n"], "bytes": int(stored["bytes"] or 0),
                      "peak_kb": _vm_kb("VmHWM")}))  # fmt: skip


# ----------------------------------------------------------------------------- parent side


def seed(count: int) -> tuple[Any, str, float]:
    """A tenant of `count` paid employees with February 2026 processed; (tenant, run id, snapshot seconds)."""
    import secrets

    from psycopg import sql
    from psycopg.types.json import Jsonb

    from hrms.auth.users import find_user_by_email
    from hrms.db.postgres import transaction
    from hrms.payroll import runs
    from hrms.tenancy import PLATFORM_ADMIN, Actor, Tenant
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    slug = f"slips-{secrets.token_hex(4)}"
    created = service.create_tenant(
        NewTenant(name=f"Payslips {count}", slug=slug, admin_email=f"admin@{slug}.example.com"),
        Actor("bench", PLATFORM_ADMIN, None),
    )
    tenant = Tenant(created.tenant_id, created.schema_name)

    def t(name: str) -> sql.Identifier:
        return sql.Identifier(tenant.schema_name, name)

    with transaction() as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (name, code) SELECT 'Department ' || n, 'D' || n FROM generate_series(1, 20) n"
            ).format(t("departments"))
        )
        conn.execute(sql.SQL("INSERT INTO {} (title) VALUES ('Engineer')").format(t("designations")))
        conn.execute(
            sql.SQL(
                "INSERT INTO {e} (employee_code, email, first_name, last_name, department_id, designation_id,"
                " date_of_joining, pan_masked)"
                " SELECT 'EMP-' || lpad(n::text, 6, '0'), 'e' || n || '@bench.example.com', 'Employee', 'Number ' || n,"
                " (SELECT id FROM {d} ORDER BY code OFFSET n %% 20 LIMIT 1), (SELECT id FROM {g} LIMIT 1),"
                " '2024-01-01', 'XXXXX' || lpad((n %% 10000)::text, 4, '0') || 'X'"
                " FROM generate_series(1, %s) n"
            ).format(e=t("employees"), d=t("departments"), g=t("designations")),
            (count,),
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {s} (employee_id, annual_ctc, components, effective_from)"
                " SELECT id, 1200000, %s, '2024-01-01' FROM {e}"
            ).format(s=t("employee_salaries"), e=t("employees")),
            (Jsonb(STRUCTURE),),
        )
    admin_user = find_user_by_email(created.slug, created.admin_email)
    admin = Actor(str(admin_user.user_id), "admin", tenant)
    with transaction() as conn:
        clerk_id = conn.execute(
            sql.SQL(
                "INSERT INTO {} (email, password_hash, role) VALUES ('clerk@bench.example.com', 'x', 'hr_manager')"
                " RETURNING id"
            ).format(t("users"))
        ).fetchone()["id"]
    run = runs.process_payroll(tenant, Actor(str(clerk_id), "hr_manager", tenant), MONTH)
    runs.approve(tenant, admin, run.payroll_run_id, None)
    started = time.perf_counter()
    runs.mark_processed(tenant, admin, run.payroll_run_id)
    return tenant, str(run.payroll_run_id), time.perf_counter() - started


def run_child(tenant: Any, run_id: str) -> dict[str, Any]:
    tenant_json = json.dumps({"tenant_id": str(tenant.tenant_id), "schema_name": tenant.schema_name})
    out = subprocess.run(  # noqa: S603 - this script, with ids it made
        [sys.executable, __file__, "--child", tenant_json, run_id],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def render_rate(seconds: float = 3.0) -> float:
    import datetime as dt
    from decimal import Decimal

    from hrms.payslips.render import Line, Payslip, render

    slip = Payslip("run", "employee", dt.date(2026, 2, 1), "Bench Co", "INR", dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                   "Employee Number 1", "EMP-000001", "Department 1", "Engineer", "XXXXX0001X", Decimal(28),
                   Decimal(0), 28, Decimal("70000.00"), Decimal("5000.00"), Decimal("65000.00"),
                   tuple(Line(c["name"], c["kind"], Decimal("1000.00")) for c in STRUCTURE))  # fmt: skip
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        render(slip)
        count += 1
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--employees", type=int, default=10000)
    args = parser.parse_args()

    from bench_stack import embedded_stack

    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    with embedded_stack("hrms-bench-payslips-"):
        from hrms.migrations import runner

        runner.up()
        results: dict[str, Any] = {"render_pages_per_s": round(render_rate(), 1)}
        for label, count in (("small", args.small), ("big", args.employees)):
            tenant, run_id, snapshot_s = seed(count)
            figures = run_child(tenant, run_id)
            assert figures["payslips"] == count, figures
            results[label] = {
                "employees": count,
                "snapshot_s": round(snapshot_s, 2),
                "worker_s": round(figures["seconds"], 2),
                "pages_per_s": round(count / figures["seconds"], 1),
                "peak_mib": round(figures["peak_kb"] / 1024, 1),
                "avg_pdf_bytes": figures["bytes"] // count,
            }
            print(f"{label:>5}: {count} payslips: mark_processed {snapshot_s:.2f} s; worker {figures['seconds']:.1f} s"
                  f" = {count / figures['seconds']:.0f} pages/s, peak {figures['peak_kb'] / 1024:.1f} MiB,"
                  f" {figures['bytes'] // count} bytes a PDF")  # fmt: skip
        results["peak_ratio"] = round(results["big"]["peak_mib"] / results["small"]["peak_mib"], 3)
        print(f"rendering alone: {results['render_pages_per_s']:.0f} pages/s (one thread, no S3)")
        print(f"peak memory big/small: {results['peak_ratio']:.2f} (goal <= 1.2)")
        print(json.dumps(results))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
