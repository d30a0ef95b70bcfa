"""Tenant cells: moving a 10,000-employee tenant between PostgreSQL servers, and request latency with tenants
spread over three cells against one.

Self-contained: its own embedded stack (control database = cell `default`) plus two more embedded PostgreSQL
servers (cells `b`, `c`; hrms_tools.local.cells), in a temporary directory.

1. Move: a tenant on cell b with `--employees` employees (and a leave balance row for each) moves to cell c
   (`hrms.tenants.moves.move`, grace 0) while a writer inserts a department every ~20 ms through admission
   (`credentials.admit(writing=True)`) and a tenant transaction, as a write request does. Reported: the move's
   duration, copy time, the write-freeze window (from the move: freeze to flip; from the writer: first to
   last 503 it saw), verification time (counts and checksums of every table), writes answered and lost.
2. Latency: `--tenants` tenants, each request = admission + one read of the tenant's employees (what GET
   /employees/{id} costs in PostgreSQL), round-robin over the tenants, sequential, in-process: (a) one cell,
   no CELLS configured; (b) three cells configured, every tenant on `default`; (c) the tenants spread over
   the three cells.

    .venv/bin/python benchmarks/cells.py [--employees 10000] [--tenants 30] [--requests 3000]

Prints a summary, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tools"))

from bench_stack import embedded_stack  # noqa: E402

PLATFORM: Any = None


def _reset() -> None:
    from hrms.config import settings
    from hrms.db import cells
    from hrms.db.postgres import close_pool

    close_pool()
    settings.cache_clear()
    cells.forget()


def _control() -> Any:
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row)


def create_on(cell: str) -> Any:
    """A tenant on `cell` (the only accepting cell while it is created: the placement rule does the rest)."""
    from hrms.tenants.models import NewTenant
    from hrms.tenants.service import create_tenant

    slug = f"bench-{cell}-{secrets.token_hex(3)}"
    with _control() as conn:
        conn.execute("UPDATE public.cells SET accepting = (name = %s)", (cell,))
        try:
            return create_tenant(NewTenant(name=slug, slug=slug, admin_email=f"a@{slug}.example.com"), PLATFORM)
        finally:
            conn.execute("UPDATE public.cells SET accepting = true")


def context_of(created: Any) -> dict[str, Any]:
    from psycopg import sql

    from hrms.db.postgres import tenant_tx
    from hrms.tenancy import Tenant

    with tenant_tx(Tenant(created.tenant_id, created.schema_name)) as tx:
        tx.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(tx.t("users")))
        user = tx.execute(
            sql.SQL("SELECT id, credentials_epoch FROM {} WHERE role = 'admin'").format(tx.t("users"))
        ).fetchone()
    assert user is not None
    return {
        "userId": str(user["id"]),
        "role": "admin",
        "tenantId": str(created.tenant_id),
        "schemaName": created.schema_name,
        "credentialsEpoch": user["credentials_epoch"],
    }


def staff(created: Any, employees: int) -> None:
    """`employees` employees in one department, each with a leave balance row (set-based SQL)."""
    from psycopg import sql

    from hrms.db.postgres import tenant_tx
    from hrms.tenancy import Tenant

    with tenant_tx(Tenant(created.tenant_id, created.schema_name)) as tx:
        t = tx.t
        department = tx.execute(
            sql.SQL("INSERT INTO {} (name, code) VALUES ('Ops', 'OPS') RETURNING id").format(t("departments"))
        ).fetchone()
        designation = tx.execute(
            sql.SQL("INSERT INTO {} (title) VALUES ('Engineer') RETURNING id").format(t("designations"))
        ).fetchone()
        assert department is not None and designation is not None
        tx.execute(
            sql.SQL(
                "INSERT INTO {} (employee_code, email, first_name, last_name, department_id, designation_id,"
                " date_of_joining) SELECT 'E' || g, 'e' || g || '@bench.example.com', 'First' || g, 'Last' || g,"
                " %s, %s, DATE '2024-01-01' + (g %% 365) FROM generate_series(1, %s) g"
            ).format(t("employees")),
            (department["id"], designation["id"], employees),
        )
        tx.execute(
            sql.SQL(
                "INSERT INTO {} (employee_id, leave_type_id, year, allocated)"
                " SELECT e.id, lt.id, 2026, 18 FROM {} e, (SELECT id FROM {} WHERE code = 'annual') lt"
            ).format(t("employee_leave_balance"), t("employees"), t("leave_types"))
        )


def bench_move(employees: int) -> dict[str, Any]:
    from psycopg import sql

    from hrms.auth import credentials
    from hrms.db.postgres import tenant_tx
    from hrms.errors import WritesFrozen
    from hrms.tenancy import Tenant
    from hrms.tenants import moves

    created = create_on("b")
    started = time.perf_counter()
    staff(created, employees)
    staffing_s = time.perf_counter() - started
    context = context_of(created)
    tenant = Tenant(created.tenant_id, created.schema_name)
    answered: list[str] = []
    frozen_at: list[float] = []
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                credentials.admit(context, writing=True)
                with tenant_tx(tenant) as tx:
                    tx.execute(
                        sql.SQL("INSERT INTO {} (name, code) VALUES (%s, %s)").format(tx.t("departments")),
                        (f"W{n}", f"W{n}"),
                    )
                answered.append(f"W{n}")
            except WritesFrozen:
                frozen_at.append(time.perf_counter())
            stop.wait(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    started = time.perf_counter()
    try:
        report = moves.move(created.slug, "c", grace_s=0)
    finally:
        total_s = time.perf_counter() - started
        stop.set()
        thread.join()
    with tenant_tx(tenant) as tx:  # now in cell c
        present = {r["code"] for r in tx.execute(sql.SQL("SELECT code FROM {}").format(tx.t("departments")))}
        moved = tx.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(tx.t("employees"))).fetchone()
    return {
        "employees": employees,
        "employeesInTarget": moved["n"] if moved else 0,
        "staffingS": round(staffing_s, 2),
        "moveS": round(total_s, 3),
        "copyS": round(report.copy_s, 3),
        "freezeS": round(report.freeze_s, 3),
        "verifyS": round(report.verify_s, 3),
        "recopied": report.recopied,
        "writesAnswered": len(answered),
        "writes503": len(frozen_at),
        "writer503WindowS": round(frozen_at[-1] - frozen_at[0], 3) if frozen_at else 0.0,
        "writesLost": len(set(answered) - present),
        "phase": report.phase,
    }


def _latency(contexts: list[tuple[Any, dict[str, Any]]], requests: int) -> dict[str, float]:
    from psycopg import sql

    from hrms.auth import credentials
    from hrms.db.postgres import tenant_tx

    def one(i: int) -> float:
        _created, context = contexts[i % len(contexts)]
        started = time.perf_counter()
        actor = credentials.admit(context)
        assert actor.tenant is not None
        with tenant_tx(actor.tenant, actor) as tx:
            tx.execute(sql.SQL("SELECT id, email FROM {} ORDER BY id LIMIT 1").format(tx.t("employees"))).fetchall()
        return (time.perf_counter() - started) * 1000

    for i in range(len(contexts) * 3):  # warm: pools open, cell lookups cached, catalog caches filled
        one(i)
    samples = sorted(one(i) for i in range(requests))
    return {
        "p50Ms": round(statistics.median(samples), 3),
        "p95Ms": round(samples[int(len(samples) * 0.95) - 1], 3),
        "meanMs": round(statistics.fmean(samples), 3),
    }


def bench_latency(tenants: int, requests: int, cell_urls: dict[str, str]) -> dict[str, Any]:
    # (a) one cell, nothing configured
    os.environ.pop("CELLS", None)
    _reset()
    single = [create_on("default") for _ in range(tenants)]
    for created in single:
        staff(created, 20)
    single_contexts = [(c, context_of(c)) for c in single]
    one_cell = _latency(single_contexts, requests)
    # (b) three cells configured, the same tenants (all on default): the cost of routing alone
    os.environ["CELLS"] = json.dumps(cell_urls)
    _reset()
    routed = _latency(single_contexts, requests)
    # (c) tenants spread over three cells
    names = ["default", "b", "c"]
    spread = [create_on(names[i % 3]) for i in range(tenants)]
    for created in spread:
        staff(created, 20)
    spread_contexts = [(c, context_of(c)) for c in spread]
    three = _latency(spread_contexts, requests)
    return {
        "tenants": tenants,
        "requests": requests,
        "oneCell": one_cell,
        "threeCellsAllOnDefault": routed,
        "threeCells": three,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=30)
    parser.add_argument("--requests", type=int, default=3_000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    global PLATFORM
    with embedded_stack("hrms-bench-cells-") as stack:
        from hrms.migrations import runner
        from hrms.tenancy import PLATFORM_ADMIN, Actor
        from hrms_tools.local.cells import CellServers

        PLATFORM = Actor(user_id="platform-admin", role=PLATFORM_ADMIN, tenant=None)
        servers = CellServers(stack.data_dir, names=("b", "c"))
        try:
            urls = servers.start()
            os.environ["CELLS"] = json.dumps(urls)
            _reset()
            result = runner.up_cells()
            assert not result.failures, result.failures
            with _control() as conn:
                conn.execute("INSERT INTO public.cells (name) VALUES ('b'), ('c') ON CONFLICT DO NOTHING")
            move = bench_move(args.employees)
            print(
                f"move of {move['employees']} employees b -> c: {move['moveS']} s (copy {move['copyS']} s),"
                f" writes frozen {move['freezeS']} s (writer saw 503s over {move['writer503WindowS']} s),"
                f" verification {move['verifyS']} s; writes answered {move['writesAnswered']},"
                f" told to retry {move['writes503']}, lost {move['writesLost']}"
            )
            latency = bench_latency(args.tenants, args.requests, urls)
            for name in ("oneCell", "threeCellsAllOnDefault", "threeCells"):
                figures = latency[name]
                print(f"{name:>24}: p50 {figures['p50Ms']} ms, p95 {figures['p95Ms']} ms, mean {figures['meanMs']} ms")
            print(json.dumps({"move": move, "latency": latency}))
        finally:
            _reset()
            servers.stop()


if __name__ == "__main__":
    main()
