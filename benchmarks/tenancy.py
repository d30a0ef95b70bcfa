"""Tenancy at scale: tenant creation, migrations and request latency as the tenant count grows.

Self-contained: starts its own embedded stack (PostgreSQL, Valkey, Mongo-protocol server, moto)
in a temporary directory, loopback only, and removes it at the end.

    .venv/bin/python benchmarks/tenancy.py [--tenants 10000] [--requests 300] [--budget-s 7200]

Measures (DESIGN.md section 2; goals in brackets):
- create_tenant: median ms of the first 100 vs the last 100 of N creates [ratio <= 1.3, <= 150 ms];
- a no-op `runner.up()` over N tenants, median of 5 runs [< 1 s];
- a trivial new tenant migration applied to every schema [>= 50 schemas/s];
- p50/p95 of an authenticated tenant-scoped GET (/me, as each tenant's admin) through the local
  gateway with 10 vs N tenants [p50 ratio <= 1.2], for one tenant and rotating over every tenant;
- peak RSS of the API's PostgreSQL backends under a rotating load (GET /me once as every tenant's
  admin, the authorizer's cache cleared first) at 1,000 and at N tenants, with the pool's recycling
  (`PG_POOL_MAX_TENANT_SCHEMAS`) [N/1,000 ratio <= 1.2], and without it (the limit set out of reach);
- the catalog cache of one backend against the tenant schemas it has touched (CacheMemoryContext with
  its children, and the backend's private RSS from /proc): one table per tenant over every tenant,
  every table per tenant over the first 1,000. The per-tenant slope sizes `PG_POOL_MAX_TENANT_SCHEMAS`
  and the tenants-per-cell rule behind RDS Proxy (README, "Scaling to many tenants").

Sequential figures (10 tenants first, N later) drift with whatever else the machine runs, so
the tenant-count comparisons are also measured paired: a second database of the same cluster
holds 10 tenants, and creates and requests alternate between it and the N-tenant database
(PostgreSQL catalogs and backend caches are per database, so it is a faithful small install).

Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

GOALS = {
    "create_ratio": 1.3,
    "create_median_ms": 150.0,
    "noop_up_s": 1.0,
    "migrate_schemas_per_s": 50.0,
    "gateway_p50_ratio": 1.2,
    "backend_rss_ratio": 1.2,
}
SMALL = 10  # tenants of the "few tenants" measurements
WINDOW = 100  # creates compared at the start and at the end
SMALL_DB = "hrms_few"
NO_DEADLINE = float("inf")
RSS_MARK = 1000  # tenants at which the rotating-load backend RSS is first measured
CURVE_MARKS = (0, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
ALL_TABLES_UP_TO = 1000  # tenants whose every table one backend reads (~0.5 MiB each)


# ----------------------------------------------------------------------------- helpers


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def reset_clients() -> None:
    """Forget cached clients and settings so they are rebuilt from the current environment."""
    from hrms import aws
    from hrms.cache.client import close_client as close_redis
    from hrms.config import settings
    from hrms.db.mongo import close_client as close_mongo
    from hrms.db.postgres import close_pool

    close_pool()
    close_mongo()
    close_redis()
    aws.client.cache_clear()
    aws._secrets_provider.cache_clear()
    settings.cache_clear()


@contextmanager
def embedded_stack() -> Iterator[None]:
    """A fresh embedded stack in a temporary directory, removed at the end."""
    tmp = tempfile.mkdtemp(prefix="hrms-bench-")
    atexit.register(shutil.rmtree, tmp, True)  # registered first, so it runs after the servers' own exit hooks
    os.environ["XDG_RUNTIME_DIR"] = str(Path(tmp) / "run")  # private (0700), inside the temporary directory
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700)

    from hrms_tools.local.stack import EmbeddedStack

    stack = EmbeddedStack(Path(tmp) / "hrms", fresh=True)
    try:
        os.environ.update(stack.start())
        reset_clients()
        yield
    finally:
        reset_clients()
        _checkpoint()  # so the shutdown checkpoint of thousands of new relations fits pg_ctl's 60 s wait
        for name in list(stack._servers):
            try:
                stack.stop_service(name)
            except Exception as exc:  # report the figures anyway
                print(f"warning: stopping {name} failed: {exc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


def _checkpoint() -> None:
    import psycopg

    try:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error as exc:
        print(f"warning: CHECKPOINT failed: {exc}", file=sys.stderr)


@contextmanager
def gateway_server() -> Iterator[tuple[str, Any]]:
    """The local API Gateway over template.yaml on a free loopback port; yields its base URL and itself."""
    from werkzeug.serving import make_server

    from hrms_tools.local.gateway import LocalGateway
    from hrms_tools.local.template import Template

    app = LocalGateway(Template.load(ROOT / "template.yaml"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=10)


class Databases:
    """The stack's database and a second, small one; `use(name)` routes hrms.db.postgres to one of them.

    Each database gets a pool built by hrms.db.postgres.pool itself (same options), and
    `hrms.db.postgres.pool` is pointed at the chosen one: requests run one at a time, so the
    gateway's functions, the authorizer and the tenant service all follow the switch.
    """

    def __init__(self) -> None:
        from hrms.db import postgres

        self._postgres = postgres
        self._original = postgres.pool
        from psycopg.conninfo import make_conninfo

        self.urls = {"main": os.environ["DATABASE_URL"]}
        self.urls["few"] = make_conninfo(self.urls["main"], dbname=SMALL_DB)
        self._pools: dict[str, Any] = {}
        self.current = "main"

    def create_small(self) -> None:
        import psycopg
        from psycopg import sql

        from hrms.migrations import runner

        with psycopg.connect(self.urls["main"], autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SMALL_DB)))
        runner.up(self.urls["few"])

    def _pool(self, name: str) -> Any:
        if name not in self._pools:
            from hrms.config import settings

            os.environ["DATABASE_URL"] = self.urls[name]
            settings.cache_clear()
            try:
                self._pools[name] = self._original.__wrapped__()  # type: ignore[attr-defined]
            finally:
                os.environ["DATABASE_URL"] = self.urls["main"]
                settings.cache_clear()
        return self._pools[name]

    def use(self, name: str) -> None:
        pool = self._pool(name)
        self._postgres.pool = lambda: pool  # type: ignore[assignment]
        self.current = name

    def close(self) -> None:
        self._postgres.pool = self._original  # type: ignore[assignment]
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


class Tenants:
    """Tenants created through the service in one database, with their admins' tokens."""

    def __init__(self, dbs: Databases, db: str, prefix: str) -> None:
        from hrms.tenancy import PLATFORM_ADMIN, Actor

        self.dbs, self.db, self.prefix = dbs, db, prefix
        self.actor = Actor(user_id="platform-admin", role=PLATFORM_ADMIN, tenant=None)
        self.created: list[Any] = []  # CreatedTenant
        self.create_s: list[float] = []
        self._tokens: dict[int, str] = {}

    def create_one(self) -> float:
        from hrms.tenants.models import NewTenant
        from hrms.tenants.service import create_tenant

        self.dbs.use(self.db)
        n = len(self.created)
        slug = f"{self.prefix}-{n:05d}"
        new = NewTenant(name=f"Bench tenant {n}", slug=slug, admin_email=f"admin@{slug}.example.com")
        start = time.perf_counter()
        self.created.append(create_tenant(new, self.actor))  # type: ignore[arg-type]
        elapsed = time.perf_counter() - start
        self.create_s.append(elapsed)
        return elapsed

    def create_until(self, total: int, deadline: float, report_every: int = 100) -> None:
        while len(self.created) < total and time.monotonic() < deadline:
            self.create_one()
            if len(self.created) % report_every == 0:
                median = ms(statistics.median(self.create_s[-report_every:]))
                print(f"  {self.db}: {len(self.created)} tenants ({median} ms median of the last {report_every})")

    def token(self, index: int) -> str:
        if index not in self._tokens:
            from psycopg import sql

            from hrms.auth import tokens
            from hrms.db.postgres import transaction

            self.dbs.use(self.db)
            created = self.created[index]
            with transaction() as conn:
                user = conn.execute(
                    sql.SQL("SELECT id, role FROM {} WHERE email = %s").format(
                        sql.Identifier(created.schema_name, "users")
                    ),
                    (created.admin_email,),
                ).fetchone()
            self._tokens[index] = tokens.issue(str(user["id"]), user["role"], tid=str(created.tenant_id))  # type: ignore[index]
        return self._tokens[index]

    def tokens(self) -> list[str]:
        return [self.token(i) for i in range(len(self.created))]


# ----------------------------------------------------------------------------- measurements


class Requests:
    """GET `path` through the gateway with one keep-alive connection; each call picks a database."""

    def __init__(self, base_url: str, path: str, dbs: Databases) -> None:
        import httpx

        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.path, self.dbs = path, dbs

    def get(self, db: str, token: str) -> float:
        self.dbs.use(db)
        start = time.perf_counter()
        response = self.http.get(self.path, headers={"Authorization": f"Bearer {token}"})
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"GET {self.path} -> {response.status_code}: {response.text[:300]}")
        return elapsed

    def series(self, db: str, pick: Callable[[int], str], count: int) -> list[float]:
        return [self.get(db, pick(i)) for i in range(count)]

    def close(self) -> None:
        self.http.close()


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": ms(percentile(samples, 50)), "p95_ms": ms(percentile(samples, 95)), "n": len(samples)}


def gateway_sequential(req: Requests, tenants: Tenants, count: int) -> dict[str, Any]:
    """One tenant repeated, then every tenant in turn, in the main database as it is now."""
    tokens = tenants.tokens()
    req.series("main", lambda i: tokens[0], 30)  # warm-up: cold imports, pools, authorizer cache
    one = req.series("main", lambda i: tokens[0], count)
    req.series("main", lambda i: tokens[i], len(tokens))  # authorizer cache for every token
    rotating = req.series("main", lambda i: tokens[i % len(tokens)], max(count, len(tokens)))
    return {"tenants": len(tokens), "one_tenant": summary(one), "rotating": summary(rotating)}


def gateway_paired(req: Requests, few: Tenants, many: Tenants, count: int) -> dict[str, Any]:
    """Requests alternating between the 10-tenant and the N-tenant database."""
    few_tokens, many_tokens = few.tokens(), many.tokens()
    for db, tokens in (("few", few_tokens), ("main", many_tokens)):
        req.series(db, lambda i, t=tokens: t[0], 30)  # type: ignore[misc]
        req.series(db, lambda i, t=tokens: t[i], len(tokens))  # type: ignore[misc]
    one: dict[str, list[float]] = {"few": [], "main": []}
    rotating: dict[str, list[float]] = {"few": [], "main": []}
    for _ in range(count):
        one["few"].append(req.get("few", few_tokens[0]))
        one["main"].append(req.get("main", many_tokens[0]))
    for i in range(max(count, len(many_tokens))):
        rotating["few"].append(req.get("few", few_tokens[i % len(few_tokens)]))
        rotating["main"].append(req.get("main", many_tokens[i % len(many_tokens)]))
    return {
        "few": {"tenants": len(few_tokens), "one_tenant": summary(one["few"]), "rotating": summary(rotating["few"])},
        "many": {
            "tenants": len(many_tokens),
            "one_tenant": summary(one["main"]),
            "rotating": summary(rotating["main"]),
        },
    }


def creates_paired(few: Tenants, many: Tenants, count: int) -> dict[str, Any]:
    """`count` creates in each database, alternating."""
    few_s, many_s = [], []
    for _ in range(count):
        few_s.append(few.create_one())
        many_s.append(many.create_one())
    return {
        "few_from": len(few.created) - count,
        "many_from": len(many.created) - count,
        "few_median_ms": ms(statistics.median(few_s)),
        "many_median_ms": ms(statistics.median(many_s)),
        "ratio": round(statistics.median(many_s) / statistics.median(few_s), 3),
    }


def measure_noop_up(runs: int = 5) -> dict[str, Any]:
    from hrms.migrations import runner

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = runner.up()
        times.append(time.perf_counter() - start)
        if result.public_applied or result.tenants_migrated or result.failures:
            raise RuntimeError(f"expected a no-op run, got {result}")
    return {"median_s": round(statistics.median(times), 4), "runs_s": [round(t, 4) for t in times]}


def measure_new_migration() -> dict[str, Any]:
    from hrms.config import settings
    from hrms.migrations import runner
    from hrms.migrations.files import Migration, migrations

    tenant = migrations("tenant")
    bench = Migration("tenant", len(tenant) + 1, "bench_noop", "COMMENT ON TABLE @schema.employees IS 'bench'")
    mset = runner.MigrationSet(public=migrations("public"), tenant=(*tenant, bench))
    start = time.perf_counter()
    result = runner.up(mset=mset)
    elapsed = time.perf_counter() - start
    if result.failures:
        raise RuntimeError(f"{len(result.failures)} schemas failed, e.g. {next(iter(result.failures.items()))}")
    return {
        "schemas": result.tenants_migrated,
        "seconds": round(elapsed, 3),
        "schemas_per_s": round(result.tenants_migrated / elapsed, 1) if elapsed else None,
        "workers": settings().migration_workers,
    }


def measure_catalog(url: str) -> dict[str, Any]:
    """Size of the system catalogs (they grow with schemas x relations) and shared_buffers."""
    import psycopg

    query = """
        SELECT c.relname, pg_total_relation_size(c.oid) AS bytes
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'pg_catalog' AND c.relkind = 'r'"""
    with psycopg.connect(url, autocommit=True) as conn:
        sizes = {name: size for name, size in conn.execute(query)}
        relations = conn.execute("SELECT count(*) FROM pg_class").fetchone()[0]  # type: ignore[index]
        shared_buffers = conn.execute("SHOW shared_buffers").fetchone()[0]  # type: ignore[index]
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:4]
    return {
        "relations": relations,
        "catalog_mib": round(sum(sizes.values()) / 2**20, 1),
        "largest_mib": {name: round(size / 2**20, 1) for name, size in top},
        "shared_buffers": shared_buffers,
    }


def proc_memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (shared buffers it touched included) and RssAnon (its private memory) of a process, in MiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                values[key] = round(int(value.split()[0]) / 1024, 1)
    return values


class BackendSampler:
    """Samples, every `interval_s`, the RSS of the database's `application_name = 'hrms'` backends (the pool's)."""

    def __init__(self, url: str, interval_s: float = 0.1) -> None:
        self.url, self.interval_s = url, interval_s
        self.peak = {"VmRSS": 0.0, "RssAnon": 0.0}
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        query = "SELECT pid FROM pg_stat_activity WHERE application_name = 'hrms' AND datname = current_database()"
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                for (pid,) in conn.execute(query).fetchall():
                    self.pids.add(pid)
                    try:
                        sample = proc_memory_mib(pid)
                    except (FileNotFoundError, ProcessLookupError):
                        continue  # retired between the query and the read
                    for key, value in sample.items():
                        self.peak[key] = max(self.peak[key], value)
                self._stop.wait(self.interval_s)

    def __enter__(self) -> BackendSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@contextmanager
def schema_limit(limit: int | None) -> Iterator[None]:
    """PG_POOL_MAX_TENANT_SCHEMAS for the duration (None: the default), on fresh pool connections."""
    from hrms.config import settings
    from hrms.db import postgres

    previous = os.environ.get("PG_POOL_MAX_TENANT_SCHEMAS")

    def apply(value: str | None) -> None:
        if value is None:
            os.environ.pop("PG_POOL_MAX_TENANT_SCHEMAS", None)
        else:
            os.environ["PG_POOL_MAX_TENANT_SCHEMAS"] = value
        settings.cache_clear()
        postgres.pool().drain()  # every backend starts afresh

    apply(None if limit is None else str(limit))
    try:
        yield
    finally:
        apply(previous)


def rotating_backend_rss(req: Requests, gateway: Any, tenants: Tenants) -> dict[str, Any]:
    """GET /me once as every tenant's admin, the authorizer's cache cleared first (so it reads every tenant
    too), sampling the pool's backends; with the pool's recycling, then with its limit out of reach."""
    from hrms.config import settings

    tokens = tenants.tokens()
    tenants.dbs.use("main")
    out: dict[str, Any] = {"tenants": len(tokens)}
    for label, limit in (("recycled", None), ("unrecycled", 10**9)):
        with schema_limit(limit):
            gateway.auth_cache.clear()
            start = time.perf_counter()
            with BackendSampler(tenants.dbs.urls["main"]) as sampler:
                req.series("main", lambda i: tokens[i], len(tokens))
            out[label] = {
                "peak_rss_mib": sampler.peak["VmRSS"],
                "peak_private_mib": sampler.peak["RssAnon"],
                "backends": len(sampler.pids),
                "seconds": round(time.perf_counter() - start, 1),
                "limit": settings().pg_pool_max_tenant_schemas,
            }
        print(f"  {len(tokens)} tenants, {label}: {out[label]}", flush=True)
    return out


def measure_backend_memory() -> dict[str, Any]:
    """One fresh backend's catalog cache against the tenant schemas it has touched: SELECT from one table of
    every tenant, then (another fresh backend) from every table of the first ALL_TABLES_UP_TO tenants."""
    import psycopg
    from psycopg import sql

    from hrms.config import settings

    # CacheMemoryContext with its children (relation cache entries hang off it in their own contexts)
    cache = """
        WITH c AS (SELECT path[level] AS id FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext')
        SELECT sum(m.total_bytes)::bigint FROM pg_backend_memory_contexts m, c WHERE c.id = ANY (m.path)"""
    url = settings().database_url
    with psycopg.connect(url, autocommit=True) as conn:
        schemas = [r[0] for r in conn.execute("SELECT schema_name FROM public.tenants ORDER BY created_at")]
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY 1",
                (schemas[0],),
            )
        ]

    def curve(names: list[str], upto: int) -> list[dict[str, Any]]:
        points = []
        with psycopg.connect(url, autocommit=True) as conn:
            done = 0
            for mark in [m for m in CURVE_MARKS if m <= upto] + ([upto] if upto not in CURVE_MARKS else []):
                for schema in schemas[done:mark]:
                    conn.execute(
                        sql.SQL(" UNION ALL ").join(
                            sql.SQL("(SELECT 1 FROM {} LIMIT 1)").format(sql.Identifier(schema, t)) for t in names
                        )
                    )
                done = mark
                points.append(
                    {
                        "schemas": mark,
                        "cache_mib": round(conn.execute(cache).fetchone()[0] / 2**20, 1),  # type: ignore[index]
                        **proc_memory_mib(conn.info.backend_pid),
                    }
                )
        return points

    def slope_kib(points: list[dict[str, Any]]) -> float:
        first, last = points[0], points[-1]
        return round((last["cache_mib"] - first["cache_mib"]) * 1024 / max(1, last["schemas"] - first["schemas"]), 1)

    one = curve(["employees"], len(schemas))
    every = curve(tables, min(ALL_TABLES_UP_TO, len(schemas)))
    return {
        "tables_per_schema": len(tables),
        "one_table": one,
        "all_tables": every,
        "kib_per_schema_one_table": slope_kib(one),
        "kib_per_schema_all_tables": slope_kib(every),
    }


# ----------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(f: dict[str, Any]) -> None:
    n = f["tenants"]
    rows: list[tuple[str, ...]] = []
    c = f["create"]
    rows += [
        (f"create_tenant median, first {c['window']}", f"{c['first_median_ms']} ms", "<= 150 ms", ""),
        (f"create_tenant median, last {c['window']}", f"{c['last_median_ms']} ms", "<= 150 ms", ""),
        ("create_tenant last/first (sequential)", f"{c['ratio']}", "<= 1.3", verdict(c["ratio_ok"])),
    ]
    p = f["create_paired"]
    rows += [
        (
            f"create_tenant paired: {SMALL}+ vs {p['many_from']}+ tenants",
            f"{p['few_median_ms']} vs {p['many_median_ms']} ms",
            "<= 150 ms",
            verdict(f["create_median_ok"]),
        ),
        ("create_tenant paired ratio", f"{p['ratio']}", "<= 1.3", verdict(p["ratio"] <= GOALS["create_ratio"])),
    ]
    u = f["noop_up"]
    rows.append((f"no-op runner.up(), {n} tenants (median of 5)", f"{u['median_s']} s", "< 1 s", verdict(u["ok"])))
    m = f["new_migration"]
    rows.append(
        (
            f"new tenant migration, {m['schemas']} schemas, {m['workers']} workers",
            f"{m['schemas_per_s']} schemas/s ({m['seconds']} s)",
            ">= 50/s",
            verdict(m["ok"]),
        )
    )
    g = f["gateway"]
    for label, key in (("one tenant", "one_tenant"), ("rotating", "rotating")):
        s, big = g["sequential_small"][key], g["sequential_large"][key]
        rows.append(
            (
                f"GET {g['path']} {label}, sequential {SMALL} -> {n}",
                f"p50 {s['p50_ms']} -> {big['p50_ms']} ms, p95 {s['p95_ms']} -> {big['p95_ms']}",
                "<= 1.2x",
                f"{g['ratios'][f'sequential_{key}']}x {verdict(g['ratios'][f'sequential_{key}'] <= 1.2)}",
            )
        )
        s, big = g["paired"]["few"][key], g["paired"]["many"][key]
        rows.append(
            (
                f"GET {g['path']} {label}, paired {SMALL} vs {n}",
                f"p50 {s['p50_ms']} vs {big['p50_ms']} ms, p95 {s['p95_ms']} vs {big['p95_ms']}",
                "<= 1.2x",
                f"{g['ratios'][f'paired_{key}']}x {verdict(g['ratios'][f'paired_{key}'] <= 1.2)}",
            )
        )
    r = f["backend_rss"]
    for label in ("recycled", "unrecycled"):
        small, big = r["at_mark"][label], r["at_n"][label]
        rows.append(
            (
                f"backend peak RSS, /me rotating, {label} (limit {big['limit']})",
                f"{small['peak_rss_mib']} MiB ({r['at_mark']['tenants']} tenants) -> {big['peak_rss_mib']} MiB "
                f"({r['at_n']['tenants']}); private {small['peak_private_mib']} -> {big['peak_private_mib']}; "
                f"backends {small['backends']} -> {big['backends']}",
                "<= 1.2x" if label == "recycled" else "",
                f"{r['ratios'][label]}x {verdict(r['ratios'][label] <= GOALS['backend_rss_ratio'])}"
                if label == "recycled"
                else f"{r['ratios'][label]}x",
            )
        )
    b = f["backend_memory"]
    for key, label in (("one_table", "employees"), ("all_tables", f"all {b['tables_per_schema']} tables")):
        points = ", ".join(f"{p['schemas']}: {p['cache_mib']}/{p['RssAnon']}" for p in b[key])
        rows.append(
            (
                f"one backend, {label}: schemas: cache/private MiB",
                f"{points} ({b[f'kib_per_schema_{key}']} KiB per schema)",
            )
        )
    for key, label in (("few", f"{SMALL}-tenant database"), ("main", f"{n}-tenant database")):
        cat = f["catalog"][key]
        largest = ", ".join(f"{name} {mib}" for name, mib in cat["largest_mib"].items())
        rows.append(
            (
                f"system catalogs, {label}",
                f"{cat['catalog_mib']} MiB, {cat['relations']} relations ({largest}); "
                f"shared_buffers {cat['shared_buffers']}",
            )
        )
    header = ("measure", "value", "goal", "verdict")
    rows = [(*r, "", "")[:4] for r in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    print()
    print(line(header))
    print(line(tuple("-" * w for w in widths)))
    for row in rows:
        print(line(row))
    for note in f["notes"]:
        print(f"note: {note}")
    print(f"note: load average at the end {f['load_average']} on {f['cpus']} CPUs; total {f['total_s']} s")
    print()


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000, help="tenants to create (default 1000; the issue's 10000)")
    parser.add_argument("--requests", type=int, default=300, help="measured gateway requests per series")
    parser.add_argument("--budget-s", type=float, default=1800, help="stop creating tenants after this many seconds")
    args = parser.parse_args(argv)
    if args.tenants < 2 * SMALL:
        parser.error(f"--tenants must be at least {2 * SMALL}")

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto and the gateway: no access log
    path = "/me"
    f: dict[str, Any] = {
        "benchmark": "tenancy",
        "tenants_requested": args.tenants,
        "notes": [f"gateway route: GET {path} as each tenant's admin (tenant-scoped; reads the tenant's schema)"],
    }
    started = time.monotonic()
    deadline = started + args.budget_s
    with embedded_stack():
        from hrms.migrations import runner

        runner.up()
        dbs = Databases()
        dbs.create_small()
        many, few = Tenants(dbs, "main", "bench"), Tenants(dbs, "few", "few")
        try:
            with gateway_server() as (base_url, gateway):
                req = Requests(base_url, path, dbs)
                print(f"creating {SMALL} tenants and measuring the gateway ...", flush=True)
                many.create_until(SMALL, NO_DEADLINE)
                small = gateway_sequential(req, many, args.requests)
                mark = min(RSS_MARK, args.tenants // 2)
                print(f"creating {mark} tenants, backend RSS under a rotating load ...", flush=True)
                many.create_until(mark, deadline)
                rss_mark = rotating_backend_rss(req, gateway, many)
                print(f"creating up to {args.tenants} tenants ...", flush=True)
                many.create_until(args.tenants, deadline)
                n = len(many.created)
                if n < args.tenants:
                    f["notes"].append(f"time budget reached: only {n} tenants created")
                print(f"measuring the gateway at {n} tenants, then paired with a {SMALL}-tenant database ...")
                large = gateway_sequential(req, many, args.requests)
                print(f"backend RSS under a rotating load at {n} tenants ...", flush=True)
                rss_n = rotating_backend_rss(req, gateway, many)
                few.create_until(SMALL, NO_DEADLINE)  # the budget bounds the big database only
                paired = gateway_paired(req, few, many, args.requests)
                req.close()
            dbs.use("main")
            print("no-op runner.up() x5 ...", flush=True)
            f["noop_up"] = measure_noop_up()
            print("applying a trivial tenant migration to every schema ...", flush=True)
            f["new_migration"] = measure_new_migration()
            print("backend memory after touching every tenant ...", flush=True)
            f["backend_memory"] = measure_backend_memory()
            f["catalog"] = {"few": measure_catalog(dbs.urls["few"]), "main": measure_catalog(dbs.urls["main"])}
            window = min(WINDOW, n // 2)
            print(f"paired creates: {window} in each database, alternating ...", flush=True)
            f["create_paired"] = creates_paired(few, many, window)
        finally:
            dbs.close()
    f["tenants"] = n
    f["noop_up"]["ok"] = f["noop_up"]["median_s"] < GOALS["noop_up_s"]
    f["new_migration"]["ok"] = (f["new_migration"]["schemas_per_s"] or 0) >= GOALS["migrate_schemas_per_s"]
    first, last = statistics.median(many.create_s[:window]), statistics.median(many.create_s[n - window : n])
    f["create"] = {
        "window": window,
        "first_median_ms": ms(first),
        "last_median_ms": ms(last),
        "ratio": round(last / first, 3),
        "ratio_ok": last / first <= GOALS["create_ratio"],
    }
    p = f["create_paired"]
    f["create_median_ok"] = max(p["few_median_ms"], p["many_median_ms"]) <= GOALS["create_median_ms"]

    def ratio(big: dict[str, Any], small: dict[str, Any]) -> float:
        return round(big["p50_ms"] / small["p50_ms"], 3)

    f["gateway"] = {
        "path": path,
        "sequential_small": small,
        "sequential_large": large,
        "paired": paired,
        "ratios": {
            "sequential_one_tenant": ratio(large["one_tenant"], small["one_tenant"]),
            "sequential_rotating": ratio(large["rotating"], small["rotating"]),
            "paired_one_tenant": ratio(paired["many"]["one_tenant"], paired["few"]["one_tenant"]),
            "paired_rotating": ratio(paired["many"]["rotating"], paired["few"]["rotating"]),
        },
    }
    f["backend_rss"] = {
        "at_mark": rss_mark,
        "at_n": rss_n,
        "ratios": {
            label: round(rss_n[label]["peak_rss_mib"] / rss_mark[label]["peak_rss_mib"], 3)
            for label in ("recycled", "unrecycled")
        },
    }
    f["load_average"] = [round(x, 2) for x in os.getloadavg()]
    f["cpus"] = os.cpu_count()
    f["total_s"] = round(time.monotonic() - started, 1)
    report(f)
    print(json.dumps(f, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
