"""Issue 5 benchmark: the executive dashboard, cache miss vs hit (own embedded stack, loopback only).

    .venv/bin/python benchmarks/dashboards.py [--departments 50] [--employees 2000] [--requests 200]

A tenant with 50 departments and 2,000 employees, a few hundred leaves (approved ones covering
today, pending ones with their approval tasks), joiners and leavers this month, and 6 months of
payroll runs. Measured at the service level (`hrms.dashboards.service`, no HTTP) and through the
local gateway: a miss follows an invalidation (the epoch bump a write does), a hit the call
before it [goal: miss/hit p50 >= 5]. The employee dashboard is measured at the service level too.

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_gateway import embedded_stack, percentile, serving, summary
from org_employees import seed, timed_get


def add_activity(tenant: Any, employees: int) -> Any:
    """Leaves, approval tasks, joiners, leavers and payroll runs; returns an employee id."""
    from psycopg import sql

    from hrms.db.postgres import transaction

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(tenant.schema_name, table)

    today = sql.SQL("(now() AT TIME ZONE 'Asia/Kolkata')::date")  # the tenant's default time zone
    with transaction() as conn:
        conn.execute(
            sql.SQL(
                "WITH e AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {employees})"
                " INSERT INTO {leaves} (employee_id, leave_type_id, start_date, end_date, days, balance_year, status)"
                " SELECT e.id, (SELECT id FROM {types} WHERE code = 'annual'), {today} - (n % 5)::int,"
                " {today} + (n % 3)::int, 1, extract(year FROM {today})::int,"
                " CASE WHEN n % 2 = 0 THEN 'approved' ELSE 'pending' END FROM e WHERE n % 7 = 0"
            ).format(employees=t("employees"), leaves=t("leaves"), types=t("leave_types"), today=today)
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {approvals} (entity_type, entity_id, step, approver_type, approver_role,"
                " subject_employee_id) SELECT 'leave', id, 1, 'role', 'hr_manager', employee_id FROM {leaves}"
                " WHERE status = 'pending'"
            ).format(approvals=t("approvals"), leaves=t("leaves"))
        )
        conn.execute(
            sql.SQL(
                "UPDATE {} SET date_of_joining = date_trunc('month', {today})::date WHERE employee_code LIKE 'B-%%3'"
            ).format(t("employees"), today=today)
        )
        conn.execute(
            sql.SQL(
                "UPDATE {} SET status = 'terminated', date_of_leaving = {today} WHERE employee_code LIKE 'B-%%9'"
            ).format(t("employees"), today=today)
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (month, status, employee_count, total_gross, total_deductions, total_net)"
                " SELECT (date_trunc('month', {today}) - n * interval '1 month')::date,"
                " CASE WHEN n = 0 THEN 'draft' ELSE 'processed' END, %s, %s * 50000.00, %s * 8000.00, %s * 42000.00"
                " FROM generate_series(0, 5) AS n"
            ).format(t("payroll_runs"), today=today),
            (employees, employees, employees, employees),
        )
        for table in ("employees", "leaves", "approvals", "payroll_runs"):
            conn.execute(sql.SQL("ANALYZE {}").format(t(table)))
        row = conn.execute(sql.SQL("SELECT employee_id FROM {} LIMIT 1").format(t("leaves"))).fetchone()
    return row["employee_id"]  # type: ignore[index]


def invalidate(tenant: Any) -> None:
    from hrms.dashboards.cache import invalidate_dashboards
    from hrms.db.postgres import tenant_tx

    with tenant_tx(tenant) as tx:
        invalidate_dashboards(tx)


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def miss_and_hit(tenant: Any, call: Callable[[], Any], requests: int) -> dict[str, Any]:
    """`requests` misses (each after an invalidation) and as many hits (the call right after)."""
    for _ in range(10):
        call()
    misses, hits = [], []
    for _ in range(requests):
        invalidate(tenant)
        misses.append(timed(call))
        hits.append(timed(call))
    ratio = percentile(misses, 50) / percentile(hits, 50)
    return {"miss": summary(misses), "hit": summary(hits), "miss_over_hit_p50": round(ratio, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    import httpx

    from hrms.dashboards import service
    from hrms.migrations import runner
    from hrms.tenancy import Actor

    with embedded_stack("hrms-bench-dashboards-"):
        runner.up()
        tenant, token = seed(args.departments, args.employees)
        employee_id = add_activity(tenant, args.employees)
        admin = Actor("bench-admin", "admin", tenant)
        results = {
            "executive_service": miss_and_hit(
                tenant, lambda: service.executive_dashboard(tenant, admin, "all"), args.requests
            ),
            "employee_service": miss_and_hit(
                tenant, lambda: service.employee_dashboard(tenant, admin, "all", employee_id), args.requests
            ),
        }
        with serving() as gateway, httpx.Client(base_url=gateway.base_url, timeout=60) as http:
            results["executive_gateway"] = miss_and_hit(
                tenant, lambda: timed_get(http, "/dashboards/executive", token), args.requests
            )
    print(f"Executive dashboard ({args.departments} departments, {args.employees} employees), miss vs hit")
    for name, label in [
        ("executive_service", "service"),
        ("executive_gateway", "gateway"),
        ("employee_service", "employee dashboard, service"),
    ]:
        figures = results[name]
        print(f"  {label}")
        print(f"    miss p50 {figures['miss']['p50_ms']} ms  p95 {figures['miss']['p95_ms']} ms")
        print(f"    hit  p50 {figures['hit']['p50_ms']} ms  p95 {figures['hit']['p95_ms']} ms")
        print(f"    miss/hit {figures['miss_over_hit_p50']}  (goal >= 5)")
    print(json.dumps({**results, "unit": "ms"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
