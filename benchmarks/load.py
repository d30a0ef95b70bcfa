"""Issue 8 load test: mixed reads and writes through the local API Gateway (own embedded stack, loopback only).

    .venv/bin/python benchmarks/load.py [--duration 120] [--concurrency 16] [--tenants 20]
        [--employees 200] [--max-requests 200000]

Seeds `--tenants` tenants of `--employees` people with SQL: 10 departments (one root), 10 managers,
a salary structure and everyone's salary, leave balances for this year and the next, a few approved
leaves, and the payroll run of the month before last. Each tenant has an admin, an HR manager and
8 employee users (tokens from `hrms.auth.tokens.issue`). The gateway serves template.yaml in this
process (server threads, as `hrms dev`); the clients run in a process of their own:
`--concurrency` asyncio clients (an httpx.AsyncClient each) until `--duration` seconds or
`--max-requests` requests have passed, whichever comes first. A warm-up (a tenth of the duration,
3-15 s, not measured) brings the function containers up first. What the functions print (their
Powertools metrics, one JSON line per request) is written to /dev/null, not the terminal.

Each step a client picks a random tenant and an operation (weights in READS / WRITES):
- reads, ~85%: GET /employees?limit=50, /employees/{id}, /org/hierarchy, /departments, /leaves,
  /me, /employees/{id}/leave-balances, /dashboards/executive, /dashboards/employees/{id},
  /payroll/runs, /payroll/stats/{month before last};
- writes, ~15%: an employee requests a one-day leave and cancels it (each client owns its own
  employee users, so two requests never overlap), HR changes an employee's phone, rarely an
  admin adds a department; and first of all, one POST /payroll/runs per tenant for last month.

Measures: requests, throughput, p50/p95/p99 of successful reads, writes and all (and per route);
errors by status (any 5xx, transport error or other unexpected status); expected refusals (409 or
422 of a write) apart; the RSS of this process, the server, after the warm-up and after the run
and the warm function containers then [goals: 0 errors, read p95 < 50 ms, RSS after/before flat].

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_gateway import embedded_stack, in_client_process, ms, percentile, serving, summary

GOAL_READ_P95_MS = 50.0
EMPLOYEE_USERS = 8
EXPECTED_REFUSALS = {409, 422}

Plan = dict[str, Any]
Sample = tuple[str, str, int, float, str]  # route, class, status (0: transport error), seconds, detail


# ----------------------------------------------------------------------------- seeding (server side)


def months_back(today: dt.date, count: int) -> str:
    month = today.replace(day=1)
    for _ in range(count):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month.strftime("%Y-%m")


def seed_tenant(index: int, employees: int, today: dt.date) -> Plan:
    """One tenant seeded with SQL, the payroll run of the month before last, and its users' tokens."""
    from psycopg import sql
    from psycopg.types.json import Jsonb

    from hrms.auth import tokens
    from hrms.db.postgres import transaction
    from hrms.payroll.runs import process_payroll
    from hrms.tenancy import PLATFORM_ADMIN, Actor, Tenant
    from hrms.tenants.models import NewTenant
    from hrms.tenants.service import create_tenant
    from hrms_tools.local.demo import DEMO_COMPONENTS

    slug = f"load-{index:02d}"
    created = create_tenant(
        NewTenant(name=f"Load {index}", slug=slug, admin_email=f"admin@{slug}.example.com"),
        Actor("bench", PLATFORM_ADMIN, None),
    )

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(created.schema_name, table)

    with transaction() as conn:

        def run(query: str, params: Any = None, **tables: str) -> Any:
            return conn.execute(sql.SQL(query).format(**{k: t(v) for k, v in tables.items()}), params)

        root = run("INSERT INTO {d} (name, code) VALUES ('Company', 'ROOT') RETURNING id", d="departments").fetchone()
        departments = [root["id"]] + [
            r["id"]
            for r in run(
                "INSERT INTO {d} (name, code, parent_id) SELECT 'Department ' || n, 'D' || n, %s"
                " FROM generate_series(1, 9) n RETURNING id",
                (root["id"],),
                d="departments",
            ).fetchall()
        ]
        run(
            "INSERT INTO {e} (employee_code, email, first_name, last_name, phone, department_id, date_of_joining)"
            " SELECT 'L-' || lpad(n::text, 6, '0'), 'e' || n || '@load.example.com', 'First' || n,"
            " 'Last' || lpad(n::text, 6, '0'), '+91 90000' || lpad(n::text, 5, '0'), (%s::uuid[])[1 + n %% 10],"
            " date '2024-01-01' + (n %% 500) FROM generate_series(1, %s) n",
            (departments, employees),
            e="employees",
        )
        ids = [r["id"] for r in run("SELECT id FROM {e} ORDER BY employee_code", e="employees").fetchall()]
        managers, staff = ids[:10], ids[10:]
        run(
            "UPDATE {e} SET manager_id = m.manager FROM unnest(%s::uuid[], %s::uuid[]) m(id, manager)"
            " WHERE {e}.id = m.id",
            (staff, [managers[i % len(managers)] for i in range(len(staff))]),
            e="employees",
        )
        run(
            "UPDATE {d} SET head_employee_id = h.head FROM unnest(%s::uuid[], %s::uuid[]) h(id, head)"
            " WHERE {d}.id = h.id",
            (departments[: len(managers)], managers),
            d="departments",
        )
        structure = run(
            "INSERT INTO {s} (name, components) VALUES ('Standard', %s) RETURNING id",
            (Jsonb(DEMO_COMPONENTS),),
            s="salary_structures",
        ).fetchone()
        run(
            "INSERT INTO {es} (employee_id, salary_structure_id, annual_ctc, components, effective_from)"
            " SELECT id, %s, 600000 + (hashtext(id::text) & 1023) * 1000, %s, date_of_joining FROM {e}",
            (structure["id"], Jsonb(DEMO_COMPONENTS)),
            es="employee_salaries",
            e="employees",
        )
        run(
            "INSERT INTO {b} (employee_id, leave_type_id, year, allocated)"
            " SELECT e.id, lt.id, y, lt.annual_quota FROM {e} e CROSS JOIN {lt} lt CROSS JOIN unnest(%s::int[]) y",
            ([today.year, today.year + 1],),
            b="employee_leave_balance",
            e="employees",
            lt="leave_types",
        )
        annual = run("SELECT id FROM {lt} WHERE code = 'annual'", lt="leave_types").fetchone()["id"]
        past = dt.date.fromisocalendar(today.year, 10, 1)  # a Monday in March
        few = staff[::20]
        run(
            "INSERT INTO {l} (employee_id, leave_type_id, start_date, end_date, days, balance_year, status)"
            " SELECT id, %s, %s, %s, 1, %s, 'approved' FROM unnest(%s::uuid[]) id",
            (annual, past, past, past.year, few),
            l="leaves",
        )
        run(
            "UPDATE {b} SET used = 1 WHERE leave_type_id = %s AND year = %s AND employee_id = ANY(%s)",
            (annual, past.year, few),
            b="employee_leave_balance",
        )
        hr = run(
            "INSERT INTO {u} (email, password_hash, role) VALUES ('hr@load.example.com', '!', 'hr_manager')"
            " RETURNING id",
            u="users",
        ).fetchone()
        users = run(
            "INSERT INTO {u} (email, password_hash, role, employee_id)"
            " SELECT 'u' || n || '@load.example.com', '!', 'employee', id"
            " FROM unnest(%s::uuid[]) WITH ORDINALITY AS u(id, n) RETURNING id, employee_id",
            (staff[:EMPLOYEE_USERS],),
            u="users",
        ).fetchall()
        run("UPDATE {u} SET must_change_password = false", u="users")
        admin = run("SELECT id FROM {u} WHERE role = 'admin'", u="users").fetchone()
        for table in ("departments", "employees", "employee_salaries", "employee_leave_balance", "leaves", "users"):
            run("ANALYZE {x}", x=table)

    tenant = Tenant(created.tenant_id, created.schema_name)
    process_payroll(tenant, Actor(str(admin["id"]), "admin", tenant), months_back(today, 2))
    tid = str(created.tenant_id)
    return {
        "admin": tokens.issue(str(admin["id"]), "admin", tid=tid),
        "hr": tokens.issue(str(hr["id"]), "hr_manager", tid=tid),
        "users": [
            {"employee": str(u["employee_id"]), "token": tokens.issue(str(u["id"]), "employee", tid=tid)} for u in users
        ],
        "employees": [str(i) for i in ids],
        "root": str(root["id"]),
        "leave_type": str(annual),
    }


# ----------------------------------------------------------------------------- the clients (own process)

Pick = Callable[[Plan, random.Random, str], tuple[str, str]]  # (tenant, rng, stats month) -> (path, token)


def own(path: str) -> Pick:
    """An employee user reading their own record."""

    def pick(t: Plan, r: random.Random, _: str) -> tuple[str, str]:
        user = r.choice(t["users"])
        return path.format(user["employee"]), user["token"]

    return pick


def any_role(t: Plan, r: random.Random, _: str) -> tuple[str, str]:
    return "/me", r.choice([t["admin"], t["hr"], r.choice(t["users"])["token"]])


READS: dict[str, tuple[int, Pick]] = {
    "GET /employees?limit=50": (12, lambda t, r, _: ("/employees?limit=50", t["hr"])),
    "GET /employees/{id}": (12, lambda t, r, _: (f"/employees/{r.choice(t['employees'])}", t["hr"])),
    "GET /org/hierarchy": (10, own("/org/hierarchy")),
    "GET /departments": (8, lambda t, r, _: ("/departments", t["admin"])),
    "GET /leaves (HR)": (4, lambda t, r, _: ("/leaves?limit=50", t["hr"])),
    "GET /leaves (own)": (4, own("/leaves")),
    "GET /me": (10, any_role),
    "GET /employees/{id}/leave-balances": (8, own("/employees/{}/leave-balances")),
    "GET /dashboards/executive": (5, lambda t, r, _: ("/dashboards/executive", t["admin"])),
    "GET /dashboards/employees/{id}": (5, own("/dashboards/employees/{}")),
    "GET /payroll/runs": (4, lambda t, r, _: ("/payroll/runs", t["hr"])),
    "GET /payroll/stats/{month}": (3, lambda t, r, month: (f"/payroll/stats/{month}", t["admin"])),
}
WRITES = {"leave": 6, "phone": 7, "department": 2}


class Client:
    """One simulated user agent: its own connection, random generator and employee users."""

    def __init__(self, index: int, plan: Plan, budget: list[int], samples: list[Sample]) -> None:
        import httpx

        self.http = httpx.AsyncClient(base_url=plan["base_url"], timeout=30)
        self.rng = random.Random(index)
        self.plan, self.budget, self.samples = plan, budget, samples
        users = [(t, u) for t in plan["tenants"] for u in t["users"]]
        self.mine = users[index :: plan["concurrency"]]
        self.ops = [*READS, *WRITES]
        self.weights = [w for w, _ in READS.values()] + list(WRITES.values())

    async def call(self, route: str, kind: str, method: str, path: str, token: str, body: Any = None) -> Any:
        import httpx

        self.budget[0] -= 1
        start = time.perf_counter()
        try:
            response = await self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, json=body)
        except httpx.HTTPError as exc:
            self.samples.append((route, kind, 0, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"[:300]))
            return None
        elapsed = time.perf_counter() - start
        self.samples.append(
            (route, kind, response.status_code, elapsed, "" if response.is_success else response.text[:300])
        )
        return response

    async def run(self, deadline: float) -> None:
        rng, plan = self.rng, self.plan
        while time.perf_counter() < deadline and self.budget[0] > 0:
            if plan["payroll"]:
                token, body = plan["payroll"].pop()["admin"], {"month": plan["payroll_month"]}
                await self.call("POST /payroll/runs", "write", "POST", "/payroll/runs", token, body)
                continue
            tenant = rng.choice(plan["tenants"])
            op = rng.choices(self.ops, self.weights)[0]
            if op in READS:
                path, token = READS[op][1](tenant, rng, plan["stats_month"])
                await self.call(op, "read", "GET", path, token)
            elif op == "leave" and self.mine:
                await self.leave(*rng.choice(self.mine))
            elif op == "department":
                code = f"L-{uuid4().hex[:12]}"
                body = {"name": f"Load {code}", "code": code, "parentId": tenant["root"]}
                await self.call("POST /departments", "write", "POST", "/departments", tenant["admin"], body)
            else:
                path = f"/employees/{rng.choice(tenant['employees'])}"
                body = {"phone": f"+91 9{rng.randrange(10**9):09d}"}
                await self.call("PATCH /employees/{id}", "write", "PATCH", path, tenant["hr"], body)

    async def leave(self, tenant: Plan, user: dict[str, str]) -> None:
        day = self.rng.choice(self.plan["leave_days"])
        body = {"leaveTypeId": tenant["leave_type"], "startDate": day, "endDate": day, "reason": "load test"}
        response = await self.call("POST /leaves", "write", "POST", "/leaves", user["token"], body)
        if response is not None and response.status_code == 201:
            leave_id = response.json()["leaveId"]
            await self.call("POST /leaves/{id}/cancel", "write", "POST", f"/leaves/{leave_id}/cancel", user["token"])


async def drive(plan: Plan) -> dict[str, Any]:
    budget, samples = [plan["max_requests"]], list[Sample]()
    clients = [Client(i, plan, budget, samples) for i in range(plan["concurrency"])]
    started = time.perf_counter()
    await asyncio.gather(*(c.run(started + plan["duration"]) for c in clients))
    elapsed = time.perf_counter() - started
    for c in clients:
        await c.http.aclose()
    return {"seconds": elapsed, "samples": samples}


def load(plan: Plan) -> dict[str, Any]:
    return asyncio.run(drive(plan))


# ----------------------------------------------------------------------------- figures (server side)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS in /proc/self/status")


def latency(seconds: list[float]) -> dict[str, float]:
    return {**summary(seconds), "p99_ms": ms(percentile(seconds, 99))} if seconds else {"n": 0}


def figures(result: dict[str, Any]) -> dict[str, Any]:
    samples: list[Sample] = result["samples"]
    ok = [s for s in samples if 200 <= s[2] < 300]
    refused = [s for s in samples if s[1] == "write" and s[2] in EXPECTED_REFUSALS]
    errors = [s for s in samples if not 200 <= s[2] < 300 and not (s[1] == "write" and s[2] in EXPECTED_REFUSALS)]
    examples: dict[str, str] = {}
    for route, _, status, _, detail in errors:
        examples.setdefault(f"{route} -> {status or 'transport error'}", detail)
    return {
        "requests": len(samples),
        "seconds": round(result["seconds"], 1),
        "throughput_rps": round(len(samples) / result["seconds"], 1),
        "reads": latency([s[3] for s in ok if s[1] == "read"]),
        "writes": latency([s[3] for s in ok if s[1] == "write"]),
        "all": latency([s[3] for s in ok]),
        "routes": {route: latency([s[3] for s in ok if s[0] == route]) for route in sorted({s[0] for s in samples})},
        "errors": len(errors),
        "errors_by_status": dict(Counter(str(s[2]) for s in errors)),
        "error_examples": examples,
        "expected_refusals": dict(Counter(f"{s[0]} -> {s[2]}" for s in refused)),
    }


def sample_rss(stop: threading.Event, readings: list[float]) -> None:
    while not stop.wait(1.0):
        readings.append(rss_mib())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of measured load")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--employees", type=int, default=200, help="per tenant (at least 18)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop after this many (measured run)")
    args = parser.parse_args()
    if args.employees < 10 + EMPLOYEE_USERS:
        parser.error(f"--employees must be at least {10 + EMPLOYEE_USERS}")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("local-runtime").setLevel(logging.WARNING)
    warmup = min(15.0, max(3.0, args.duration / 10))

    with embedded_stack("hrms-bench-load-"):
        from hrms.migrations import runner

        runner.up()
        today = dt.date.today()
        print(f"seeding {args.tenants} tenants x {args.employees} employees ...", flush=True)
        started = time.perf_counter()
        tenants = [seed_tenant(i, args.employees, today) for i in range(args.tenants)]
        seeding_s = time.perf_counter() - started
        days = (today + dt.timedelta(days=n) for n in range(7, 91))
        with serving() as gateway, open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            plan = {
                "base_url": gateway.base_url,
                "tenants": tenants,
                "concurrency": args.concurrency,
                "leave_days": [d.isoformat() for d in days if d.isoweekday() < 6],
                "stats_month": months_back(today, 2),
                "payroll_month": months_back(today, 1),
                "payroll": [],
                "duration": warmup,
                "max_requests": args.max_requests,
            }
            rss_start = rss_mib()
            print(f"warm-up: {args.concurrency} clients for {warmup:g} s ...", file=sys.stderr)
            warm = figures(in_client_process(load, plan))
            rss_before, readings, stop = rss_mib(), list[float](), threading.Event()
            containers_before = sum(pool.size for pool in gateway.containers.pools())
            sampler = threading.Thread(target=sample_rss, args=(stop, readings), daemon=True)
            sampler.start()
            print(f"load: {args.concurrency} clients for {args.duration:g} s ...", file=sys.stderr)
            plan.update(duration=args.duration, payroll=list(tenants))
            result = figures(in_client_process(load, plan))
            stop.set()
            sampler.join()
            rss_after = rss_mib()
            containers_after = sum(pool.size for pool in gateway.containers.pools())

    read_p95 = result["reads"].get("p95_ms", float("inf"))
    result.update(
        tenants=args.tenants,
        employees_per_tenant=args.employees,
        concurrency=args.concurrency,
        seeding_s=round(seeding_s, 1),
        warmup={"seconds": warm["seconds"], "requests": warm["requests"], "errors": warm["errors"]},
        rss_of="the server: this process (gateway threads in-process; the clients run in a process of their own)",
        rss_mib={
            "start": rss_start,
            "before": rss_before,
            "after": rss_after,
            "peak": max([rss_before, rss_after, *readings]),
        },
        rss_after_over_before=round(rss_after / rss_before, 3),
        warm_containers={"before": containers_before, "after": containers_after},
        goal_errors=0,
        goal_read_p95_ms=GOAL_READ_P95_MS,
        goals_met=result["errors"] == 0 and read_p95 < GOAL_READ_P95_MS,
    )
    print()
    print(
        f"{args.tenants} tenants x {args.employees} employees, {args.concurrency} clients, {result['seconds']} s:"
        f" {result['requests']} requests, {result['throughput_rps']} req/s"
    )
    print(f"{'':40} {'n':>7} {'p50':>8} {'p95':>8} {'p99':>8}  (ms, successful requests)")
    rows = [("reads", result["reads"]), ("writes", result["writes"]), ("all", result["all"])]
    for label, figure in rows + [("  " + route, figure) for route, figure in result["routes"].items()]:
        cells = [figure.get(k, "-") for k in ("p50_ms", "p95_ms", "p99_ms")]
        print(f"{label:40} {figure['n']:>7} {cells[0]:>8} {cells[1]:>8} {cells[2]:>8}")
    print(
        f"read p95 {read_p95} ms (goal < {GOAL_READ_P95_MS:g}): {'met' if read_p95 < GOAL_READ_P95_MS else 'NOT met'}"
    )
    print(f"errors {result['errors']} (goal 0) by status {result['errors_by_status']}")
    for what, detail in result["error_examples"].items():
        print(f"  e.g. {what}: {detail}")
    print(f"expected refusals {sum(result['expected_refusals'].values())} {result['expected_refusals']}")
    rss = result["rss_mib"]
    print(
        f"server RSS (this process): {rss['before']} MiB after warm-up, {rss['after']} MiB after the run,"
        f" peak {rss['peak']} MiB, after/before {result['rss_after_over_before']} (goal flat);"
        f" warm containers {containers_before} -> {containers_after}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
