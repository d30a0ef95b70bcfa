"""The local runtime under load: a warm cached GET through the local API Gateway, alone and 16 at a time.

Self-contained: starts its own embedded stack (PostgreSQL, Valkey, Mongo-protocol server, moto)
in a temporary directory, loopback only, creates a tenant with a few departments, and serves
template.yaml with `hrms_tools.local.gateway` on a free port (as `hrms dev` does, hot reload on).

    .venv/bin/python benchmarks/local_gateway.py [--requests 500] [--concurrency 16] [--seconds 10]

Measures (goal in brackets), with the tenant admin's token, GET /org/hierarchy (a cached read: the
authorizer result is cached for the template's TTL, the hierarchy in Redis):
- sequential latency p50/p95 over one keep-alive connection, warm containers [p50 < 10 ms];
- throughput and p50/p95 with 16 clients at once, each on its own connection;
(the clients run in a process of their own, as curl or a browser would, so they do not compete
with the gateway for its interpreter lock);
- `--cold` mode: a fresh import of the function module for every request (in-process);
- container-per-request emulation, as `sam local` does it (it starts a Docker container for each
  request): measured here without Docker as its lower bound, a fresh Python process per request
  that imports the function and invokes it once. Docker's container start comes on top.

Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from bench_stack import embedded_stack  # noqa: E402

GOAL_P50_MS = 10.0
PATH = "/org/hierarchy"
FUNCTION_ID = "GetOrgHierarchyFunction"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": ms(percentile(samples, 50)), "p95_ms": ms(percentile(samples, 95)), "n": len(samples)}


def tenant_admin_token() -> str:
    """A tenant with a small department tree; its admin's token (temporary password cleared)."""
    from psycopg import sql

    from hrms.auth import tokens
    from hrms.db.postgres import transaction
    from hrms.tenancy import PLATFORM_ADMIN, Actor
    from hrms.tenants.models import NewTenant
    from hrms.tenants.service import create_tenant

    platform = Actor(user_id="platform-admin", role=PLATFORM_ADMIN, tenant=None)
    created = create_tenant(NewTenant(name="Bench", slug="bench", admin_email="admin@bench.example.com"), platform)
    with transaction() as conn:
        users = sql.Identifier(created.schema_name, "users")
        departments = sql.Identifier(created.schema_name, "departments")
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(users))
        parent = conn.execute(
            sql.SQL("INSERT INTO {} (name, code) VALUES ('Engineering', 'ENG') RETURNING id").format(departments)
        ).fetchone()
        for i in range(5):
            conn.execute(
                sql.SQL("INSERT INTO {} (name, code, parent_id) VALUES (%s, %s, %s)").format(departments),
                (f"Team {i}", f"T{i}", parent["id"]),  # type: ignore[index]
            )
        admin = conn.execute(sql.SQL("SELECT id FROM {} WHERE role = 'admin'").format(users)).fetchone()
    return tokens.issue(str(admin["id"]), "admin", tid=str(created.tenant_id))  # type: ignore[index]


@contextmanager
def serving(cold: bool = False) -> Iterator[Any]:
    from hrms_tools.local.gateway import LocalGateway, make_server
    from hrms_tools.local.runtime import LocalRuntime, RuntimeOptions
    from hrms_tools.local.template import Template

    template = Template.load(ROOT / "template.yaml")
    runtime = LocalRuntime.for_process(template, RuntimeOptions(cold=cold, hot_reload=True))
    gateway = LocalGateway(template, runtime=runtime)
    server = make_server(gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway.base_url = f"http://127.0.0.1:{server.server_port}"  # type: ignore[attr-defined]
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()


def get(http: Any, token: str) -> float:
    start = time.perf_counter()
    response = http.get(PATH, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"GET {PATH} -> {response.status_code}: {response.text[:300]}")
    return elapsed


def sequential(base_url: str, token: str, count: int, warmup: int = 30) -> list[float]:
    import httpx

    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(warmup):
            get(http, token)
        return [get(http, token) for _ in range(count)]


def concurrent(base_url: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    import httpx

    samples: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    ready = threading.Barrier(clients + 1)
    stop_at = [float("inf")]

    def client(index: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            get(http, token)  # connection up, container warm
            ready.wait()
            while time.perf_counter() < stop_at[0]:
                try:
                    samples[index].append(get(http, token))
                except Exception as exc:
                    errors.append(str(exc)[:200])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    stop_at[0] = started + seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [s for per in samples for s in per]
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(flat),
        "throughput_rps": round(len(flat) / elapsed, 1),
        **summary(flat),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def in_client_process(function: Any, *args: Any) -> Any:
    """Run a load function in its own process, as curl or a browser would be: not on the server's GIL."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def process_per_request(token: str, count: int) -> list[float]:
    """A fresh interpreter per request: import the function, build the event, invoke once (no Docker)."""
    from hrms_tools.local.template import Template

    spec = Template.load(ROOT / "template.yaml").functions[FUNCTION_ID]
    probe = f"""
import json, sys
sys.path[:0] = [{str(spec.code_dir)!r}, {str(ROOT / "layers" / "shared")!r}]
from hrms.auth.authorizer import authorize
import app
policy = authorize("Bearer " + sys.argv[1], "arn:aws:execute-api:us-east-1:123456789012:local/v1/GET{PATH}")
context = {{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in policy["context"].items()}}
event = {{"resource": "{PATH}", "path": "{PATH}", "httpMethod": "GET", "headers": {{}}, "body": None,
         "isBase64Encoded": False, "queryStringParameters": None, "pathParameters": None,
         "requestContext": {{"requestId": "bench", "authorizer": {{**context, "principalId": policy["principalId"]}}}}}}
class Context:
    function_name = "{FUNCTION_ID}"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
result = app.handler(event, Context())
assert result["statusCode"] == 200, result
"""
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true"}
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own interpreter and probe
            [sys.executable, "-c", probe, token], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        samples.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"process-per-request probe failed: {done.stderr[-800:]}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="sequential measured requests")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the concurrent run")
    parser.add_argument("--cold-requests", type=int, default=40, help="requests in --cold mode")
    parser.add_argument("--process-requests", type=int, default=5, help="fresh-process invocations")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("local-runtime").setLevel(logging.WARNING)

    figures: dict[str, Any] = {"route": f"GET {PATH} as a tenant admin (authorizer cached, hierarchy cached)"}
    with embedded_stack("hrms-bench-gw-"):
        from hrms.migrations import runner

        runner.up()
        token = tenant_admin_token()
        with serving() as gateway:
            print(f"warm: {args.requests} sequential requests ...", flush=True)
            figures["warm_sequential"] = summary(in_client_process(sequential, gateway.base_url, token, args.requests))
            print(f"warm: {args.concurrency} concurrent clients for {args.seconds:g} s ...", flush=True)
            figures["warm_concurrent"] = in_client_process(
                concurrent, gateway.base_url, token, args.concurrency, args.seconds
            )
            pool = gateway.containers.get(FUNCTION_ID)
            figures["warm_concurrent"]["containers"] = pool.size
            figures["warm_concurrent"]["cold_starts"] = pool.stats.cold_starts
        with serving(cold=True) as gateway:
            print(f"cold: {args.cold_requests} requests, a fresh import each ...", flush=True)
            figures["cold_mode"] = summary(
                in_client_process(sequential, gateway.base_url, token, args.cold_requests, 3)
            )
        print(f"process per request: {args.process_requests} fresh interpreters ...", flush=True)
        figures["process_per_request"] = summary(process_per_request(token, args.process_requests))

    seq, par, cold, proc = (
        figures["warm_sequential"],
        figures["warm_concurrent"],
        figures["cold_mode"],
        figures["process_per_request"],
    )
    figures["goal_p50_ms"] = GOAL_P50_MS
    figures["goal_met"] = seq["p50_ms"] < GOAL_P50_MS
    figures["process_vs_warm_p50"] = round(proc["p50_ms"] / seq["p50_ms"], 1)
    rows = [
        ("warm, 1 client", f"{seq['p50_ms']} / {seq['p95_ms']} ms", f"{round(1000 / seq['p50_ms'])} req/s (1/p50)"),
        (
            f"warm, {par['clients']} clients",
            f"{par['p50_ms']} / {par['p95_ms']} ms",
            f"{par['throughput_rps']} req/s ({par['containers']} containers, {par['errors']} errors)",
        ),
        ("--cold (fresh import per request)", f"{cold['p50_ms']} / {cold['p95_ms']} ms", ""),
        ("fresh process per request (no Docker)", f"{proc['p50_ms']} / {proc['p95_ms']} ms", ""),
    ]
    print()
    print(f"{figures['route']}")
    print(f"{'mode':40} {'p50 / p95':22} throughput")
    for mode, latency, rate in rows:
        print(f"{mode:40} {latency:22} {rate}")
    print(f"goal p50 < {GOAL_P50_MS:g} ms: {'met' if figures['goal_met'] else 'NOT met'}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
