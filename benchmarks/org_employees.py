"""Issue 3 benchmarks through the local API Gateway (own embedded stack, loopback only).

    .venv/bin/python benchmarks/org_employees.py [--departments 50] [--employees 2000]
        [--big-employees 10000] [--requests 200]

1. GET /org/hierarchy with 50 departments and 2,000 employees: cache miss (the org epoch is bumped
   before every request, as a department write would) vs cache hit [goal: miss/hit >= 5].
2. GET /employees?limit=50 with 10,000 employees: p50/p95 of the first page vs a deep keyset page
   (cursor taken ~95% into the list) [goal: deep/first p50 <= 1.5 — keyset, not OFFSET].

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_gateway import embedded_stack, percentile, serving, summary


def seed(departments: int, employees: int) -> tuple[Any, str]:
    """A tenant with a department tree and `employees` people spread over it; its admin's token."""
    from psycopg import sql

    from hrms.auth import tokens
    from hrms.db.postgres import transaction
    from hrms.tenancy import PLATFORM_ADMIN, Actor, Tenant
    from hrms.tenants.models import NewTenant
    from hrms.tenants.service import create_tenant

    created = create_tenant(
        NewTenant(name="Bench", slug="bench-org", admin_email="admin@bench.example.com"),
        Actor("platform-admin", PLATFORM_ADMIN, None),
    )
    schema = created.schema_name
    with transaction() as conn:
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(sql.Identifier(schema, "users")))
        ids: list[Any] = []
        for i in range(departments):
            parent = ids[(i - 1) // 3] if i else None  # a tree three wide
            row = conn.execute(
                sql.SQL("INSERT INTO {} (name, code, parent_id) VALUES (%s, %s, %s) RETURNING id").format(
                    sql.Identifier(schema, "departments")
                ),
                (f"Department {i:03}", f"D{i:03}", parent),
            ).fetchone()
            ids.append(row["id"])  # type: ignore[index]
        add_employees(conn, schema, ids, 0, employees)
        admin = conn.execute(sql.SQL("SELECT id FROM {}").format(sql.Identifier(schema, "users"))).fetchone()
    token = tokens.issue(str(admin["id"]), "admin", tid=str(created.tenant_id))  # type: ignore[index]
    return Tenant(created.tenant_id, schema), token


def add_employees(conn: Any, schema: str, departments: list[Any], start: int, count: int) -> None:
    from psycopg import sql

    conn.execute(
        sql.SQL(
            "INSERT INTO {} (employee_code, email, first_name, last_name, department_id, date_of_joining)"
            " SELECT 'B-' || n, 'e' || n || '@bench.example.com', 'First' || n, 'Last' || lpad(n::text, 6, '0'),"
            " (%s::uuid[])[1 + n %% %s::int], date '2024-01-01' FROM generate_series(%s::int, %s::int) AS n"
        ).format(sql.Identifier(schema, "employees")),
        (departments, len(departments), start, start + count - 1),
    )
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, "employees")))


def timed_get(http: Any, path: str, token: str) -> tuple[float, Any]:
    start = time.perf_counter()
    response = http.get(path, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} -> {response.status_code}: {response.text[:300]}")
    return elapsed, response.json()


def hierarchy(http: Any, tenant: Any, token: str, requests: int) -> dict[str, Any]:
    from hrms.db.postgres import tenant_tx
    from hrms.org.cache import invalidate_org

    for _ in range(10):
        timed_get(http, "/org/hierarchy", token)
    hits = [timed_get(http, "/org/hierarchy", token)[0] for _ in range(requests)]
    misses = []
    for _ in range(requests):
        with tenant_tx(tenant) as tx:
            invalidate_org(tx)
        misses.append(timed_get(http, "/org/hierarchy", token)[0])
    ratio = percentile(misses, 50) / percentile(hits, 50)
    return {"hit": summary(hits), "miss": summary(misses), "miss_over_hit_p50": round(ratio, 2)}


def pagination(http: Any, token: str, total: int, requests: int) -> dict[str, Any]:
    first = [timed_get(http, "/employees?limit=50", token)[0] for _ in range(requests)]
    cursor, seen = None, 0
    while seen < total * 0.95:
        _, page = timed_get(http, "/employees?limit=200" + (f"&cursor={cursor}" if cursor else ""), token)
        if page["nextCursor"] is None:
            break  # the last page: measure from the cursor that led to it
        cursor, seen = page["nextCursor"], seen + len(page["items"])
    deep = [timed_get(http, f"/employees?limit=50&cursor={cursor}", token)[0] for _ in range(requests)]
    return {
        "employees": total,
        "first_page": summary(first),
        "deep_page": {**summary(deep), "position": seen},
        "deep_over_first_p50": round(percentile(deep, 50) / percentile(first, 50), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--big-employees", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    import httpx
    from psycopg import sql

    from hrms.db.postgres import transaction
    from hrms.migrations import runner

    with embedded_stack("hrms-bench-org-"):
        runner.up()
        tenant, token = seed(args.departments, args.employees)
        with serving() as gateway, httpx.Client(base_url=gateway.base_url, timeout=60) as http:
            org = hierarchy(http, tenant, token, args.requests)
            with transaction() as conn:
                rows = conn.execute(
                    sql.SQL("SELECT array_agg(id) AS ids FROM {}").format(
                        sql.Identifier(tenant.schema_name, "departments")
                    )
                ).fetchone()
                add_employees(
                    conn, tenant.schema_name, rows["ids"], args.employees, args.big_employees - args.employees
                )
            pages = pagination(http, token, args.big_employees, args.requests)
    print(f"GET /org/hierarchy ({args.departments} departments, {args.employees} employees)")
    print(f"  hit  p50 {org['hit']['p50_ms']} ms  p95 {org['hit']['p95_ms']} ms")
    print(f"  miss p50 {org['miss']['p50_ms']} ms  p95 {org['miss']['p95_ms']} ms")
    print(f"  miss/hit {org['miss_over_hit_p50']}  (goal >= 5)")
    print(f"GET /employees?limit=50 ({args.big_employees} employees)")
    print(f"  first page p50 {pages['first_page']['p50_ms']} ms  p95 {pages['first_page']['p95_ms']} ms")
    print(
        f"  deep page  p50 {pages['deep_page']['p50_ms']} ms  p95 {pages['deep_page']['p95_ms']} ms"
        f"  (after {pages['deep_page']['position']} rows)"
    )
    print(f"  deep/first {pages['deep_over_first_p50']}  (goal <= 1.5)")
    print(json.dumps({"hierarchy": org, "pagination": pages, "unit": "ms"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
