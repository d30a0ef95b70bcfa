"""Cold-start imports: each function's module vs importing every runtime dependency at once.

Each measurement runs in a fresh interpreter (a subprocess) that looks like a Lambda container:
the function's code directory then the shared layer on sys.path, LAMBDA_TASK_ROOT and the other
variables Lambda sets, and X-Ray tracing active as template.yaml deploys it (`Tracing: Active`;
`--tracing-disabled` measures with POWERTOOLS_TRACE_DISABLED=true instead). Only the import of
the handler module is timed, as the Lambda init phase pays it. Rounds are interleaved (baseline,
then every function, --repeat times) after one unmeasured round that warms the OS file cache
and the bytecode caches, so background load hits every figure alike; figures are medians of
CPU time (robust on a shared machine), with wall time shown too.

    .venv/bin/python benchmarks/cold_import.py [--repeat 5] [--top 6] [--tracing-disabled]
        [--save after.json] [--baseline before.json] [--only LoginFunction GetMeFunction]

The yardstick is each function's cold import CPU in ms (fresh interpreter, CPU time of importing the
handler module): CPU time, unlike wall time, does not count the time other processes hold the cores,
but a loaded machine still slows it somewhat (caches, shared cores), so the load average is printed
with the figures. Goals (issue 17, DESIGN.md section 8): every function <= 120 ms of CPU; each function
imports in <= 0.5x the time of all dependencies; no function imports pymongo or boto3 at cold start
(Postgres-only functions never need them; Health imports them lazily when it runs its checks), nor
redis-py (imported on the first cache call). `--save` writes the JSON summary; `--baseline` adds a
before/after column from an earlier summary. Prints a table, then one JSON line.

The floor row is a fresh interpreter that imports only the libraries DESIGN.md mandates, as an HTTP function
uses them (`hrms.http`, `hrms.observability`, `hrms.db.postgres`: psycopg 3 and psycopg_pool, pydantic v2,
Powertools' event handler, Logger, Tracer and Metrics) and builds the objects every function builds (the
Logger, the Tracer, EphemeralMetrics, a REST resolver with validation, the wrapped handler), and nothing of
hrms: what no trimming of our own code can go below. Each function's `own` column is its CPU minus the
floor's (for the SQS workers, which use Powertools' batch utilities instead of the resolver, an
approximation).

The `gc` column is the part of the CPU spent in Python's cyclic garbage collector during the import, and
`full` how many full (generation 2) collections ran in it. The first full collection of a process comes
after a fixed number of allocations (about ten generation-1 collections) and costs 15-30 ms here: an
import just under that count leaves it to the function's first requests, one just over pays it at init.
So a few ms less import can show as 20-30 ms less CPU while the collection moves to the first request,
not a saving; `own w/o gc` (CPU minus GC time, function minus floor) is the figure to compare code changes by.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "shared"
sys.path.insert(0, str(LAYER))

GOAL_RATIO = 0.5
GOAL_CPU_MS = 120.0  # issue 17: each function's cold import CPU, on this yardstick
TIMEOUT_S = 120  # per subprocess
FORBIDDEN = ("pymongo", "boto3", "redis")  # must not be imported at cold start
WATCHED = (
    "botocore",
    "jwt",
    "argon2",
    "psycopg",
    "pydantic_settings",
    "asyncio",
    "aws_xray_sdk",
    "requests",
    "httpx",
    "cryptography",
    "openpyxl",
    "pydyf",
)

# Every runtime dependency of the shared layer (pyproject.toml), imported the way the code uses them.
ALL_DEPENDENCIES = """
import boto3
import pymongo
import redis
import psycopg
import psycopg_pool
import pydantic
from pydantic import BaseModel
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
import jwt
import argon2
import cryptography
from cryptography.hazmat.primitives import hashes
"""

# The floor: the mandated libraries as an HTTP function imports and builds them, and no hrms code.
FLOOR = """
import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import class_row, dict_row, scalar_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="hrms")
tracer = Tracer(service="hrms", auto_patch=False)
metrics = EphemeralMetrics(namespace="HRMS", service="hrms")
app = APIGatewayRestResolver(enable_validation=True, cors=CORSConfig(allow_origin="*"))
handler = logger.inject_lambda_context(tracer.capture_lambda_handler(metrics.log_metrics(app.resolve)))
"""
BASELINE, FLOOR_ROW = "<all dependencies>", "<floor>"

# Runs in the fresh interpreter: argv = [module file or "-", code dir, layer, dependencies]; prints one JSON line.
PROBE = """
import gc, importlib.util, json, sys, time
target, code_dir, layer, deps = sys.argv[1:5]
sys.path[:0] = [p for p in (code_dir, layer) if p]
collected = {"cpu": 0.0, "full": 0, "since": 0.0}
def count(phase, info):
    if phase == "start":
        collected["since"] = time.process_time()
    else:
        collected["cpu"] += time.process_time() - collected["since"]
        collected["full"] += info["generation"] == 2
gc.callbacks.append(count)
before = set(sys.modules)
wall, cpu = time.perf_counter(), time.process_time()
if target == "-":
    exec(compile(deps, "<dependencies>", "exec"), {})
else:
    spec = importlib.util.spec_from_file_location("hrms_function", target)
    module = importlib.util.module_from_spec(spec)
    sys.modules["hrms_function"] = module
    spec.loader.exec_module(module)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
loaded = set(sys.modules) - before
top_level = sorted({name.split(".")[0] for name in loaded})
gc.callbacks.remove(count)
result = {"wall": wall, "cpu": cpu, "gc": collected["cpu"], "full_gc": collected["full"], "modules": len(loaded)}
print(json.dumps({**result, "top_level": top_level}))
"""


def lambda_env(function_name: str, code_dir: str, tracing: bool, tmp: str) -> dict[str, str]:
    """What Lambda sets in a python3.12 container, plus the template's variables (dummy values)."""
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "LANG", "LC_ALL")}
    env.update(
        {
            "HOME": tmp,
            "TMPDIR": tmp,
            "LAMBDA_TASK_ROOT": code_dir or tmp,
            "LAMBDA_RUNTIME_DIR": tmp,
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "_HANDLER": "app.handler",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",  # nothing is sent at import; loopback anyway
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "STAGE": "dev",
            "DATABASE_URL": "postgresql:///x",
            "MONGODB_URI": "mongodb://127.0.0.1:1/",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "JWT_SECRET_ID": "hrms/jwt-secret",
            "POWERTOOLS_SERVICE_NAME": "hrms",
        }
    )
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


class Prober:
    def __init__(self, tracing: bool, tmp: str) -> None:
        self.tracing = tracing
        self.tmp = tmp

    def run(self, name: str, target: str, code_dir: str, extra_args: list[str] | None = None) -> dict[str, Any]:
        code = FLOOR if name == FLOOR_ROW else ALL_DEPENDENCIES  # what target "-" executes
        cmd = [sys.executable, *(extra_args or []), "-c", PROBE, target, code_dir, str(LAYER), code]
        done = subprocess.run(  # noqa: S603 - our own interpreter and probe
            cmd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env=lambda_env(name, code_dir, self.tracing, self.tmp),
            cwd=self.tmp,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"import of {target} failed:\n{done.stderr.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        result["stderr"] = done.stderr
        return result

    def heaviest(self, name: str, target: str, code_dir: str, top: int) -> list[tuple[str, float]]:
        """The `top` third-party packages by own import time (-X importtime, summed over their modules),
        each with the hrms module that first pulled it in."""
        stderr = self.run(name, target, code_dir, ["-X", "importtime"])["stderr"]
        rows = []
        for line in stderr.splitlines():
            if not line.startswith("import time:") or line.count("|") != 2:
                continue
            own, _cumulative, module = line[len("import time:") :].split("|")
            if not own.strip().isdigit():
                continue
            depth = (len(module) - len(module.lstrip()) - 1) // 2
            rows.append((int(own) / 1000, depth, module.strip()))
        own_ms: dict[str, float] = {}
        via: dict[str, str] = {}
        for i, (own, depth, module) in enumerate(rows):
            package = module.split(".")[0]
            own_ms[package] = own_ms.get(package, 0) + own
            if package not in via:
                # -X importtime lists a module after what it imported: ancestors are the next shallower rows.
                ancestor, level = "<function>", depth
                for _, d, m in rows[i + 1 :]:
                    if d < level:
                        level = d
                        if m.startswith("hrms"):
                            ancestor = m
                            break
                via[package] = ancestor
        ranked = sorted((kv for kv in own_ms.items() if not kv[0].startswith("hrms")), key=lambda kv: -kv[1])
        hrms_own = sum(ms for package, ms in own_ms.items() if package.startswith("hrms"))
        return [(f"{package} (via {via[package]})", ms) for package, ms in ranked[:top]] + [("hrms itself", hrms_own)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="measured rounds (median taken)")
    parser.add_argument("--top", type=int, default=6, help="heaviest imports listed for a function over the goal")
    parser.add_argument("--tracing-disabled", action="store_true", help="POWERTOOLS_TRACE_DISABLED=true")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--only", nargs="*", help="logical ids to measure (default: every function)")
    parser.add_argument("--budget-s", type=float, default=900, help="start no new round after this many seconds")
    parser.add_argument("--save", type=Path, help="write the JSON summary to this file")
    parser.add_argument("--baseline", type=Path, help="an earlier --save (or the JSON line): before/after columns")
    args = parser.parse_args(argv)
    before, before_floor = _baseline(args.baseline) if args.baseline else ({}, None)
    before_own = {name: round(cpu - before_floor, 1) for name, cpu in before.items()} if before_floor else {}
    load_before = os.getloadavg()

    from hrms_tools.local.template import Template

    started = time.monotonic()
    functions = {
        k: v for k, v in sorted(Template.load(args.template).functions.items()) if not args.only or k in args.only
    }
    targets = {BASELINE: ("-", ""), FLOOR_ROW: ("-", "")} | {
        logical_id: (str(spec.module_file), str(spec.code_dir)) for logical_id, spec in functions.items()
    }
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    with tempfile.TemporaryDirectory(prefix="hrms-cold-") as tmp:
        prober = Prober(tracing=not args.tracing_disabled, tmp=tmp)
        rounds = 0
        for round_no in range(args.repeat + 1):  # round 0 warms caches and is not kept
            if round_no > 1 and time.monotonic() - started > args.budget_s:
                print(f"time budget reached after {round_no - 1} measured rounds")
                break
            rounds = round_no
            print(f"round {round_no}/{args.repeat} ({len(targets)} imports) ...", flush=True)
            for name, (target, code_dir) in targets.items():
                result = prober.run(name, target, code_dir)
                if round_no:
                    samples[name].append(result)

        def med(name: str, key: str) -> float:
            return round(statistics.median(s[key] for s in samples[name]) * 1000, 1)

        def full_gc(name: str) -> int:
            return int(statistics.median_low(s["full_gc"] for s in samples[name]))

        base_cpu, base_wall = med(BASELINE, "cpu"), med(BASELINE, "wall")
        floor_cpu, floor_wall, floor_gc = med(FLOOR_ROW, "cpu"), med(FLOOR_ROW, "wall"), med(FLOOR_ROW, "gc")
        rows = []
        for name in functions:
            cpu, wall, gc_cpu = med(name, "cpu"), med(name, "wall"), med(name, "gc")
            last = samples[name][-1]
            row: dict[str, Any] = {
                "function": name,
                "module": str(functions[name].module_file.relative_to(ROOT)),
                "cpu_ms": cpu,
                "own_cpu_ms": round(cpu - floor_cpu, 1),
                "gc_cpu_ms": gc_cpu,
                "full_gc": full_gc(name),
                "own_cpu_without_gc_ms": round((cpu - gc_cpu) - (floor_cpu - floor_gc), 1),
                "wall_ms": wall,
                "cpu_runs_ms": [round(s["cpu"] * 1000, 1) for s in samples[name]],
                "modules": last["modules"],
                "ratio": round(cpu / base_cpu, 3),
                "wall_ratio": round(wall / base_wall, 3),
                "ratio_ok": cpu / base_cpu <= GOAL_RATIO,
                "cpu_ok": cpu <= GOAL_CPU_MS,
                "before_cpu_ms": before.get(name),
                "before_own_cpu_ms": before_own.get(name),
                "forbidden_loaded": [m for m in FORBIDDEN if m in last["top_level"]],
                "watched_loaded": [m for m in WATCHED if m in last["top_level"]],
            }
            if not row["cpu_ok"] or row["forbidden_loaded"]:
                target, code_dir = targets[name]
                row["heaviest"] = prober.heaviest(name, target, code_dir, args.top)
            rows.append(row)

    mode = "tracing disabled" if args.tracing_disabled else "X-Ray tracing active (as deployed)"
    load = [round(x, 2) for x in (*load_before, *os.getloadavg()[:1])]
    name_w = max(len(r["function"]) for r in rows)
    print()
    print(f"Lambda-like environment, {mode}; medians of {rounds} interleaved rounds")
    print(f"load average {load[0]}/{load[1]}/{load[2]} (1/5/15 min) at the start, {load[3]} at the end", end="")
    print(f" ({os.cpu_count()} CPUs)")
    print(
        f"all dependencies at once: {base_cpu} ms CPU, {base_wall} ms wall ({samples[BASELINE][-1]['modules']} modules)"
    )
    print(
        f"floor (the mandated libraries alone, no hrms code): {floor_cpu} ms CPU (gc {floor_gc} ms, full"
        f" collections {full_gc(FLOOR_ROW)}), {floor_wall} ms wall ({samples[FLOOR_ROW][-1]['modules']} modules)"
        + ("" if before_floor is None else f"; before: {before_floor} ms")
        + (f"; the {GOAL_CPU_MS:g} ms goal is below it" if floor_cpu > GOAL_CPU_MS else "")
    )
    print(
        f"{'function':<{name_w}}  {'before':>6}  {'cpu ms':>7}  {f'<={GOAL_CPU_MS:g}':<6}  {'own':>5}  {'gc':>4}"
        f"  {'full':>4}  {'own w/o gc':>10}  {'wall ms':>7}  {'ratio':>5}  {'<=0.5x':<6}  {'modules':>7}"
        "  pymongo/boto3/redis    also loaded"
    )
    for r in rows:
        bad = ",".join(r["forbidden_loaded"]) + " (VIOLATION)" if r["forbidden_loaded"] else "no"
        was = "-" if r["before_cpu_ms"] is None else r["before_cpu_ms"]
        print(
            f"{r['function']:<{name_w}}  {was:>6}  {r['cpu_ms']:>7}  {'ok' if r['cpu_ok'] else 'MISSED':<6}"
            f"  {r['own_cpu_ms']:>5}  {r['gc_cpu_ms']:>4}  {r['full_gc']:>4}  {r['own_cpu_without_gc_ms']:>10}"
            f"  {r['wall_ms']:>7}  {r['ratio']:>5}  {'ok' if r['ratio_ok'] else 'MISSED':<6}"
            f"  {r['modules']:>7}  {bad:<21}  {','.join(r['watched_loaded'])}"
        )
    heavy = [r for r in rows if "heaviest" in r]
    if heavy:
        print("\nheaviest imports (own ms under -X importtime, summed per package; the hrms module that pulled it in):")
        for r in heavy:
            print(f"  {r['function']}: " + "; ".join(f"{name} {ms:.0f}" for name, ms in r["heaviest"]))
    missed = [r["function"] for r in rows if not r["ratio_ok"]]
    over = [r["function"] for r in rows if not r["cpu_ok"]]
    violations = [r["function"] for r in rows if r["forbidden_loaded"]]
    cpus = sorted(r["cpu_ms"] for r in rows)
    print()
    owns = sorted(r["own_cpu_ms"] for r in rows)
    print(f"cold import CPU: {cpus[0]}-{cpus[-1]} ms, median {statistics.median(cpus):.1f} ms", end="")
    befores = sorted(r["before_cpu_ms"] for r in rows if r["before_cpu_ms"] is not None)
    if befores:
        print(f" (before: {befores[0]}-{befores[-1]} ms, median {statistics.median(befores):.1f} ms)", end="")
    print()
    print(f"own cost (function - floor): {owns[0]}-{owns[-1]} ms, median {statistics.median(owns):.1f} ms", end="")
    before_owns = sorted(r["before_own_cpu_ms"] for r in rows if r["before_own_cpu_ms"] is not None)
    if before_owns:
        median = statistics.median(before_owns)
        print(f" (before: {before_owns[0]}-{before_owns[-1]} ms, median {median:.1f} ms)", end="")
    print()
    nogc = sorted(r["own_cpu_without_gc_ms"] for r in rows)
    print(f"own cost without GC: {nogc[0]}-{nogc[-1]} ms, median {statistics.median(nogc):.1f} ms")
    print(f"CPU goal (<= {GOAL_CPU_MS:g} ms): " + ("met by all" if not over else f"MISSED by {len(over)}/{len(rows)}"))
    print(f"ratio goal (<= {GOAL_RATIO}x): " + ("met by all" if not missed else f"MISSED by {len(missed)}/{len(rows)}"))
    print(
        "pymongo/boto3/redis at import: "
        + ("none" if not violations else f"VIOLATION in {len(violations)}/{len(rows)}")
    )
    print()
    for r in rows:
        r["heaviest"] = [[name, round(ms, 1)] for name, ms in r.get("heaviest", [])]
    summary = {
        "benchmark": "cold_import",
        "tracing": not args.tracing_disabled,
        "rounds": rounds,
        "python": sys.version.split()[0],
        "baseline_cpu_ms": base_cpu,
        "baseline_wall_ms": base_wall,
        "floor_cpu_ms": floor_cpu,
        "floor_wall_ms": floor_wall,
        "floor_gc_cpu_ms": floor_gc,
        "floor_full_gc": full_gc(FLOOR_ROW),
        "functions": rows,
        "load_average": load,
        "cpu_goal_ms": GOAL_CPU_MS,
        "cpu_missed": over,
        "ratio_goal": GOAL_RATIO,
        "ratio_missed": missed,
        "forbidden_violations": violations,
        "total_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary))
    if args.save:
        args.save.write_text(json.dumps(summary, indent=1) + "\n")
    return 0


def _baseline(path: Path) -> tuple[dict[str, float], float | None]:
    """Each function's cpu_ms in an earlier summary (a --save file, or output whose last line is the JSON),
    and its floor (None in a summary from before the floor row)."""
    text = path.read_text().strip()
    summary = json.loads(text) if text.startswith("{") and text.endswith("}") else json.loads(text.splitlines()[-1])
    return {row["function"]: row["cpu_ms"] for row in summary["functions"]}, summary.get("floor_cpu_ms")


if __name__ == "__main__":
    sys.exit(main())
