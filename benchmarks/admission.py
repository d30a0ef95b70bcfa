"""Per-request cost of authentication, revocation and permission admission, through the local gateway.

Self-contained (its own embedded stack, as `benchmarks/local_gateway.py`). A tenant with an admin, a
manager and their report; warm containers, authorizer answer cached (as API Gateway caches it). For a
few cheap routes, sequential requests over one keep-alive connection, from a separate client process:

- GET /me as the admin (no permission: authentication and revocation only);
- GET /holidays as the employee (an organisation-level permission);
- GET /employees/{own id} as the employee (a `:self` grant: the subject is resolved too);
- GET /employees/{report id} as the manager (a `:team` grant).

Run it before and after a change to the admission path: the difference of the p50s is its cost.

    .venv/bin/python benchmarks/admission.py [--requests 400]

Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_stack import embedded_stack  # noqa: E402
from local_gateway import in_client_process, ms, percentile, serving  # noqa: E402


def tenant_with_team() -> dict[str, Any]:
    """A tenant, its admin, a manager and their report (users linked to employees); tokens and ids."""
    from datetime import date

    from psycopg import sql

    from hrms.auth.login import login
    from hrms.auth.models import LoginIn
    from hrms.db.postgres import transaction
    from hrms.tenancy import PLATFORM_ADMIN, Actor
    from hrms.tenants.models import NewTenant
    from hrms.tenants.service import create_tenant

    platform = Actor(user_id="platform-admin", role=PLATFORM_ADMIN, tenant=None)
    created = create_tenant(
        NewTenant(name="Bench", slug="bench-admission", admin_email="admin@bench.example.com"), platform
    )
    schema = created.schema_name
    password = "correct horse battery staple 42"

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(schema, table)

    from hrms.auth.passwords import hash_password

    hashed = hash_password(password)
    with transaction() as conn:
        department = conn.execute(
            sql.SQL("INSERT INTO {} (name, code) VALUES ('Eng', 'ENG') RETURNING id").format(t("departments"))
        ).fetchone()
        designation = conn.execute(
            sql.SQL("INSERT INTO {} (title) VALUES ('Engineer') RETURNING id").format(t("designations"))
        ).fetchone()
        ids = {}
        manager_id = None
        for name in ("manager", "employee"):
            row = conn.execute(
                sql.SQL(
                    "INSERT INTO {} (employee_code, email, first_name, last_name, department_id, designation_id,"
                    " date_of_joining, manager_id) VALUES (%s, %s, 'Bench', %s, %s, %s, %s, %s) RETURNING id"
                ).format(t("employees")),
                (
                    name.upper(),
                    f"{name}@bench.example.com",
                    name,
                    department["id"],
                    designation["id"],
                    date(2024, 1, 1),
                    manager_id,
                ),  # type: ignore[index]
            ).fetchone()
            ids[name] = str(row["id"])  # type: ignore[index]
            manager_id = row["id"]  # type: ignore[index]
            conn.execute(
                sql.SQL("INSERT INTO {} (email, password_hash, role, employee_id) VALUES (%s, %s, %s, %s)").format(
                    t("users")
                ),
                (f"{name}-user@bench.example.com", hashed, name, row["id"]),  # type: ignore[index]
            )
        conn.execute(
            sql.SQL("UPDATE {} SET password_hash = %s, must_change_password = false").format(t("users")), (hashed,)
        )
    tokens = {
        role: login(LoginIn(tenant_slug="bench-admission", email=email, password=password)).access_token
        for role, email in (
            ("admin", "admin@bench.example.com"),
            ("manager", "manager-user@bench.example.com"),
            ("employee", "employee-user@bench.example.com"),
        )
    }
    return {"tokens": tokens, "ids": ids}


def sequential(base_url: str, path: str, token: str, count: int, warmup: int = 30) -> list[float]:
    import time

    import httpx

    samples = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for i in range(warmup + count):
            start = time.perf_counter()
            response = http.get(path, headers={"Authorization": f"Bearer {token}"})
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} -> {response.status_code}: {response.text[:300]}")
            if i >= warmup:
                samples.append(elapsed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="sequential measured requests per route")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("local-runtime").setLevel(logging.WARNING)

    figures: dict[str, Any] = {}
    with embedded_stack("hrms-bench-admission-"):
        from hrms.migrations import runner

        runner.up()
        world = tenant_with_team()
        tokens, ids = world["tokens"], world["ids"]
        cases = [
            ("GET /me as admin", "/me", tokens["admin"]),
            ("GET /holidays as employee", "/holidays", tokens["employee"]),
            ("GET /employees/{self} as employee", f"/employees/{ids['employee']}", tokens["employee"]),
            ("GET /employees/{report} as manager", f"/employees/{ids['employee']}", tokens["manager"]),
        ]
        with serving() as gateway:
            for label, path, token in cases:
                print(f"{label}: {args.requests} sequential requests ...", flush=True)
                samples = in_client_process(sequential, gateway.base_url, path, token, args.requests)
                figures[label] = {
                    "p50_ms": ms(percentile(samples, 50)),
                    "p95_ms": ms(percentile(samples, 95)),
                    "n": len(samples),
                }
    print()
    print(f"{'route':40} {'p50':>8} {'p95':>8}")
    for label, figure in figures.items():
        print(f"{label:40} {figure['p50_ms']:>6} ms {figure['p95_ms']:>6} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
