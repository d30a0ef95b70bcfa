"""Issue 5 benchmarks: ProcessPayroll (own embedded stack, loopback only).

    .venv/bin/python benchmarks/payroll.py [--small 1000] [--employees 10000] [--runs 3]

A tenant of `--employees` people (50 departments; the demo structure of five components; 10% with
a mid-month revision; 5% with two days of approved unpaid leave) and one of `--small` people.

1. POST /payroll/runs through the function's handler (a child process that imports
   functions/process_payroll/app.py and calls `handler(event, context)` with an API Gateway event)
   vs (a) a naive per-employee implementation (one SELECT and one INSERT per employee, in one
   transaction) [goal: ours >= 50x faster] and (b) the bare lower bound: one
   `INSERT ... SELECT` of gross = CTC / 12 for everyone [goal: ours <= 3x of it].
2. Peak memory (VmHWM) of the handler process for the small and the big tenant [goal: ratio <= 1.2].

Months of 2025 are used, one per run; the medians are printed, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = ROOT / "functions" / "process_payroll" / "app.py"


# ----------------------------------------------------------------------------- child process side


def _vm_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(tenant_json: str, months: list[str]) -> None:
    """Invoke the ProcessPayroll handler once per month; print timings and peak memory as JSON."""
    import importlib.util
    import uuid

    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    from hrms_tools.local.invoker import LambdaContext

    spec = importlib.util.spec_from_file_location("process_payroll_app", FUNCTION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tenant = json.loads(tenant_json)
    authorizer = {
        "principalId": tenant["user_id"],
        "userId": tenant["user_id"],
        "role": "admin",
        "tenantId": tenant["tenant_id"],
        "schemaName": tenant["schema"],
        "mustChangePassword": False,
        "credentialsEpoch": tenant["credentials_epoch"],
    }
    baseline_kb = _vm_kb("VmRSS")
    timings = []
    for month in months:
        event = {
            "resource": "/payroll/runs",
            "path": "/payroll/runs",
            "httpMethod": "POST",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"month": month}),
            "requestContext": {
                "resourcePath": "/payroll/runs",
                "httpMethod": "POST",
                "requestId": str(uuid.uuid4()),
                "authorizer": authorizer,
            },
        }
        context = LambdaContext("ProcessPayrollFunction", 29, str(uuid.uuid4()))
        started = time.perf_counter()
        response = module.handler(event, context)
        timings.append(time.perf_counter() - started)
        if response["statusCode"] != 201:
            raise RuntimeError(f"ProcessPayroll {month} -> {response['statusCode']}: {response['body'][:500]}")
        count = json.loads(response["body"])["employeeCount"]
    print(json.dumps({"seconds": timings, "employees": count, "baseline_kb": baseline_kb, "peak_kb": _vm_kb("VmHWM")}))


def run_child(tenant: dict[str, str], months: list[str]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", json.dumps(tenant), *months]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"child failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# ----------------------------------------------------------------------------- parent side


def seed(slug: str, employees: int) -> dict[str, str]:
    """A tenant with `employees` people, salaries, revisions and unpaid leaves; ids for the child."""
    from psycopg import sql
    from psycopg.types.json import Jsonb

    from hrms.db.postgres import transaction
    from hrms.tenancy import PLATFORM_ADMIN, Actor
    from hrms.tenants.models import NewTenant
    from hrms.tenants.service import create_tenant
    from hrms_tools.local.demo import DEMO_COMPONENTS

    created = create_tenant(
        NewTenant(name=slug, slug=slug, admin_email=f"admin@{slug}.example.com"), Actor("bench", PLATFORM_ADMIN, None)
    )
    schema = created.schema_name

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(schema, table)

    with transaction() as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (name, code) SELECT 'Department ' || n, 'D' || n FROM generate_series(1, 50) n"
            ).format(t("departments"))
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (employee_code, email, first_name, last_name, department_id, date_of_joining)"
                " SELECT 'B-' || lpad(n::text, 6, '0'), 'e' || n || '@bench.example.com', 'First', 'Last' || n,"
                " (SELECT array_agg(id) FROM {})[1 + n %% 50], date '2024-01-01' + (n %% 500)"
                " FROM generate_series(1, %s) n"
            ).format(t("employees"), t("departments")),
            (employees,),
        )
        structure = conn.execute(
            sql.SQL("INSERT INTO {} (name, components) VALUES ('Standard', %s) RETURNING id").format(
                t("salary_structures")
            ),
            (Jsonb(DEMO_COMPONENTS),),
        ).fetchone()
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (employee_id, salary_structure_id, annual_ctc, components, effective_from)"
                " SELECT id, %(structure)s, 600000 + (hashtext(id::text) & 1023) * 1000, %(components)s,"
                " date_of_joining FROM {} UNION ALL"
                " SELECT id, %(structure)s, 900000, %(components)s, date '2025-06-16'"
                " FROM {} WHERE hashtext(id::text) %% 10 = 0"
            ).format(t("employee_salaries"), t("employees"), t("employees")),
            {"structure": structure["id"], "components": Jsonb(DEMO_COMPONENTS)},  # type: ignore[index]
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (employee_id, leave_type_id, start_date, end_date, days, balance_year, status)"
                " SELECT e.id, t.id, make_date(2025, m, 10), make_date(2025, m, 11), 2, 2025, 'approved'"
                " FROM {} e CROSS JOIN (SELECT id FROM {} WHERE code = 'unpaid') t"
                " CROSS JOIN generate_series(1, 12) m WHERE hashtext(e.id::text) % 20 = 0"
            ).format(t("leaves"), t("employees"), t("leave_types")),
        )
        admin = conn.execute(
            sql.SQL("UPDATE {} SET must_change_password = false RETURNING id, credentials_epoch").format(t("users"))
        ).fetchone()
        for table in ("employees", "employee_salaries", "leaves"):
            conn.execute(sql.SQL("ANALYZE {}").format(t(table)))
    return {
        "tenant_id": str(created.tenant_id),
        "schema": schema,
        "user_id": str(admin["id"]),  # type: ignore[index]
        "credentials_epoch": str(admin["credentials_epoch"]),  # type: ignore[index]
    }


def scratch_run(conn: Any, schema: str, month: str) -> Any:
    """A run row to hang comparison records on (rejected, so it holds no month)."""
    from psycopg import sql

    row = conn.execute(
        sql.SQL("INSERT INTO {} (month, status) VALUES (%s, 'rejected') RETURNING id").format(
            sql.Identifier(schema, "payroll_runs")
        ),
        (f"{month}-01",),
    ).fetchone()
    return row["id"]


def naive(schema: str, month: str) -> float:
    """One SELECT (the employee's salary in force) and one INSERT per employee, in one transaction."""
    from decimal import Decimal

    from psycopg import sql

    from hrms.db.postgres import transaction

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(schema, table)

    started = time.perf_counter()
    with transaction() as conn:
        run_id = scratch_run(conn, schema, month)
        people = conn.execute(sql.SQL("SELECT id, department_id FROM {}").format(t("employees"))).fetchall()
        for person in people:
            salary = conn.execute(
                sql.SQL(
                    "SELECT annual_ctc FROM {} WHERE employee_id = %s AND effective_from <= %s"
                    " ORDER BY effective_from DESC LIMIT 1"
                ).format(t("employee_salaries")),
                (person["id"], f"{month}-28"),
            ).fetchone()
            if salary is None:
                continue
            gross = (salary["annual_ctc"] / 12).quantize(Decimal("0.01"))
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (payroll_run_id, employee_id, department_id, month, paid_days, gross,"
                    " deductions, net) VALUES (%s, %s, %s, %s, 30, %s, 0, %s)"
                ).format(t("payroll")),
                (run_id, person["id"], person["department_id"], f"{month}-01", gross, gross),
            )
    return time.perf_counter() - started


def lower_bound(schema: str, month: str) -> float:
    """The least any set-based payroll must do: one INSERT ... SELECT of every employee's current salary / 12."""
    from psycopg import sql

    from hrms.db.postgres import transaction

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(schema, table)

    started = time.perf_counter()
    with transaction() as conn:
        run_id = scratch_run(conn, schema, month)
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (payroll_run_id, employee_id, department_id, month, paid_days, gross, deductions, net)"
                " SELECT %(run)s, e.id, e.department_id, %(month)s, 30, round(s.annual_ctc / 12, 2), 0,"
                " round(s.annual_ctc / 12, 2)"
                " FROM {} e JOIN LATERAL (SELECT annual_ctc FROM {} WHERE employee_id = e.id"
                " AND effective_from <= %(month)s ORDER BY effective_from DESC LIMIT 1) s ON true"
            ).format(t("payroll"), t("employees"), t("employee_salaries")),
            {"run": run_id, "month": f"{month}-01"},
        )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1:])
        return 0

    from bench_stack import embedded_stack

    months = [f"2025-{m:02d}" for m in range(1, args.runs + 1)]
    with embedded_stack("hrms-bench-payroll-"):
        from hrms.migrations import runner

        runner.up()
        small = seed("bench-small", args.small)
        big = seed("bench-big", args.employees)
        ours_small = run_child(small, months)
        ours_big = run_child(big, months)
        naive_s = [naive(big["schema"], f"2025-{m:02d}") for m in range(7, 7 + args.runs)]
        bound_s = [lower_bound(big["schema"], f"2025-{m:02d}") for m in range(7, 7 + args.runs)]

    ours = statistics.median(ours_big["seconds"])
    figures = {
        "employees": ours_big["employees"],
        "ours_ms": round(ours * 1000, 1),
        "ours_each_ms": [round(s * 1000, 1) for s in ours_big["seconds"]],
        "naive_ms": round(statistics.median(naive_s) * 1000, 1),
        "lower_bound_ms": round(statistics.median(bound_s) * 1000, 1),
        "naive_over_ours": round(statistics.median(naive_s) / ours, 1),
        "ours_over_lower_bound": round(ours / statistics.median(bound_s), 2),
        "peak_rss_small_mib": round(ours_small["peak_kb"] / 1024, 1),
        "peak_rss_big_mib": round(ours_big["peak_kb"] / 1024, 1),
        "peak_rss_ratio": round(ours_big["peak_kb"] / ours_small["peak_kb"], 3),
        "small_employees": ours_small["employees"],
    }
    rows = [
        (f"ProcessPayroll handler, {figures['employees']} employees (median)", figures["ours_ms"], "ms"),
        ("naive: SELECT + INSERT per employee", figures["naive_ms"], "ms"),
        ("lower bound: one INSERT ... SELECT", figures["lower_bound_ms"], "ms"),
        ("naive / ours (goal >= 50)", figures["naive_over_ours"], "x"),
        ("ours / lower bound (goal <= 3)", figures["ours_over_lower_bound"], "x"),
        (f"handler peak RSS, {figures['small_employees']} employees", figures["peak_rss_small_mib"], "MiB"),
        (f"handler peak RSS, {figures['employees']} employees", figures["peak_rss_big_mib"], "MiB"),
        ("peak RSS ratio (goal <= 1.2)", figures["peak_rss_ratio"], "x"),
    ]
    for label, value, unit in rows:
        print(f"{label:<60} {value:>10} {unit}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
