"""What the write guard costs (hrms.db.write_guard): writes with and without the trigger, and the drain.

On an embedded stack of its own: one tenant; `--writes` single-row INSERTs into its holidays table, each in a
transaction of its own as a request's would be, then the same with the guard's trigger disabled on that table,
interleaved in rounds so background load hits both alike; then one transaction of `--writes` INSERTs (a bulk
import's shape: one guard call per statement). Then the drain: right after a freeze with no writer, and with a
writer holding its transaction open for `--hold` seconds. Prints a table and one JSON line.

    .venv/bin/python benchmarks/write_guard.py [--writes 2000] [--rounds 5] [--hold 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hold", type=float, default=0.5)
    args = parser.parse_args()

    from benchmarks.bench_stack import embedded_stack

    with embedded_stack("hrms-bench-guard-"):
        print(json.dumps(measure(args)))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    from hrms.db import write_guard
    from hrms.migrations import runner
    from hrms.tenancy import PLATFORM_ADMIN, Actor
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    runner.up()
    created = service.create_tenant(
        NewTenant(name="Guard bench", slug="guard-bench", admin_email="admin@guard-bench.example.com"),
        Actor("bench", PLATFORM_ADMIN, None),
    )
    table = sql.Identifier(created.schema_name, "holidays")
    insert = sql.SQL("INSERT INTO {} (name, date) VALUES (%s, DATE '2000-01-01' + %s)").format(table)
    conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    serial = iter(range(10**9))

    def one_per_transaction() -> float:
        started = time.perf_counter()
        for _ in range(args.writes):
            n = next(serial)
            with conn.transaction():
                conn.execute(insert, (f"h{n}", n))
        return (time.perf_counter() - started) / args.writes * 1e6

    def set_guard(on: bool) -> None:
        verb = "ENABLE" if on else "DISABLE"
        conn.execute(sql.SQL("ALTER TABLE {} " + verb + " TRIGGER hrms_write_guard").format(table))

    guarded, bare = [], []
    for _ in range(args.rounds):
        set_guard(False)
        bare.append(one_per_transaction())
        set_guard(True)
        guarded.append(one_per_transaction())
    bulk: dict[str, float] = {}
    for on in (False, True):
        set_guard(on)
        started = time.perf_counter()
        with conn.transaction():
            for _ in range(args.writes):
                n = next(serial)
                conn.execute(insert, (f"h{n}", n))
        bulk["guarded" if on else "bare"] = (time.perf_counter() - started) / args.writes * 1e6

    def timed_drain() -> float:
        """ms of a drain right after a freeze (lifted again afterwards)."""
        conn.execute(
            "INSERT INTO public.tenant_write_freezes (tenant_id, operation_id, reason) VALUES (%s, 'bench', 'bench')",
            (created.tenant_id,),
        )
        started = time.perf_counter()
        write_guard.drain(conn, created.schema_name)
        elapsed_ms = (time.perf_counter() - started) * 1000
        conn.execute("DELETE FROM public.tenant_write_freezes WHERE operation_id = 'bench'")
        return elapsed_ms

    idle_drain_ms = timed_drain()
    wrote = threading.Event()

    def writer() -> None:
        with psycopg.connect(os.environ["DATABASE_URL"]) as other:
            other.execute(insert, ("held", 99_999))
            wrote.set()
            time.sleep(args.hold)
            other.rollback()

    thread = threading.Thread(target=writer)
    thread.start()
    wrote.wait(30)
    busy_drain_ms = timed_drain()
    thread.join()
    conn.close()

    result = {
        "writes": args.writes,
        "rounds": args.rounds,
        "one_per_tx_us": {"bare": round(statistics.median(bare), 1), "guarded": round(statistics.median(guarded), 1)},
        "bulk_us": {k: round(v, 1) for k, v in bulk.items()},
        "drain_ms": {"idle": round(idle_drain_ms, 2), "writer_holding": round(busy_drain_ms, 1), "hold_s": args.hold},
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    for label, figures in (("one per transaction", result["one_per_tx_us"]), ("all in one transaction", bulk)):
        print(f"single-row INSERT, {label:24} bare {figures['bare']:8.1f} us  guarded {figures['guarded']:8.1f} us")
    print(f"drain with no writer {idle_drain_ms:.2f} ms; with a writer holding {args.hold} s: {busy_drain_ms:.0f} ms")
    print(f"load average {result['load_average']}")
    return result


if __name__ == "__main__":
    main()
