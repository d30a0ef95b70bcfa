"""`hrms dev`: embedded stack + migrations + the local API Gateway, the template's schedules and its SQS
event sources."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.logging import RichHandler

from hrms_tools.local.cells import CellServers, start_cells_for_stack
from hrms_tools.local.env import parameter_values
from hrms_tools.local.gateway import LocalGateway, make_server
from hrms_tools.local.invoker import log
from hrms_tools.local.runtime import LocalRuntime, RuntimeOptions
from hrms_tools.local.schedule import Scheduler
from hrms_tools.local.stack import EmbeddedStack
from hrms_tools.local.template import Template
from hrms_tools.local.valkey_cluster import ValkeyCluster, start_for_stack

console = Console()


def run_dev(
    *,
    port: int,
    data_dir: Path,
    fresh: bool,
    template: Path,
    seed_demo: bool = True,
    host: str = "127.0.0.1",
    cold: bool = False,
    hot_reload: bool = True,
    schedules: bool = True,
    queues: bool = True,
    parameter_overrides: Mapping[str, str] | None = None,
    env_vars: Mapping[str, Mapping[str, str]] | None = None,
    redis_cluster: bool = False,
    cells: tuple[str, ...] = (),
) -> None:
    spec = Template.load(template)
    if redis_cluster:  # the functions' REDIS_CLUSTER, as the parameter sets it in AWS
        parameter_overrides = {**(parameter_overrides or {}), "RedisCluster": "true"}
    options = RuntimeOptions(
        cold=cold, hot_reload=hot_reload, parameter_overrides=parameter_overrides or {}, env_vars=env_vars or {}
    )
    parameter_values(spec, options.parameter_overrides)  # a bad override fails before anything starts
    _log_to_console()
    stack = EmbeddedStack(data_dir, fresh=fresh, template=template)
    scheduler: Scheduler | None = None
    runtime: LocalRuntime | None = None
    cluster: ValkeyCluster | None = None
    cell_servers: CellServers | None = None
    previous = _stop_on_signals()
    try:
        with console.status("Starting PostgreSQL, Valkey, MongoDB-protocol server and moto..."):
            os.environ.update(stack.start())
        if redis_cluster:
            with console.status("Starting a Valkey cluster of 3 primaries..."):
                cluster = start_for_stack(stack)
            os.environ.update(cluster.env)
            console.print(f"[green]✓[/green] Valkey cluster: primaries on ports {', '.join(map(str, cluster.ports))}")
        if cells:
            with console.status(f"Starting PostgreSQL for cells {', '.join(cells)}..."):
                cell_servers = start_cells_for_stack(stack, cells)
            os.environ.update(stack.env)
            console.print(f"[green]✓[/green] cells: default (control database), {', '.join(cells)}")
        from hrms.auth import credentials, tokens
        from hrms.migrations import runner
        from hrms_tools.local.demo import DEMO, DEMO_ADMIN_EMAIL, DEMO_SLUG, ensure_demo_tenant

        if cells:  # every cell's tenants, each cell's own public schema
            outcome = runner.up_cells()
            for name, error in outcome.errors.items():
                console.print(f"[red]✗[/red] migrations of cell {name}: {error}")
            result = outcome.cells.get("default") or runner.up()
        else:
            result = runner.up()
        if seed_demo:
            ensure_demo_tenant()
        console.print(
            f"[green]✓[/green] migrations: public {result.public_applied or 'up to date'}, "
            f"{result.tenants_migrated} tenant schema(s) migrated"
        )
        runtime = LocalRuntime.for_process(spec, options)
        gateway = LocalGateway(spec, runtime=runtime)
        server = make_server(gateway, host, port)
        admin_token = tokens.issue(
            "platform-admin", "platform_admin", ttl_s=12 * 3600, epoch=credentials.platform_epoch()
        )
        _print_warnings(gateway.warnings)
        mode = "cold (a fresh import per request)" if cold else "warm containers"
        reload = "hot reload on" if hot_reload else "hot reload off"
        console.print(f"[green]✓[/green] {len(spec.functions)} functions, {len(spec.routes)} routes: {mode}, {reload}")
        if schedules and spec.schedules:
            scheduler = Scheduler(spec.schedules, runtime.fire)
            scheduler.start()
            for schedule_id, at in scheduler.next_runs().items():
                when = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "never"
                console.print(f"[green]✓[/green] schedule {schedule_id}: next at {when}")
        elif spec.schedules:
            console.print(f"schedules off (--no-schedules): {', '.join(s.id for s in spec.schedules)}")
        _start_queues(runtime, queues)
        console.print(f"[green]✓[/green] HRMS API:  http://{host}:{port}")
        console.print(f"[green]✓[/green] API docs:  http://{host}:{port}/docs  (OpenAPI: /openapi.json)")
        console.print(f"[green]✓[/green] data dir:  {data_dir.resolve()}")
        console.print("Platform admin token (12 h):")
        console.print(admin_token, soft_wrap=True)
        if seed_demo:
            console.print(f"Demo tenant: slug {DEMO_SLUG}, admin {DEMO_ADMIN_EMAIL} / {DEMO.admin_password}")
        console.print(f"Press Ctrl-C to stop every server. Started {datetime.now(UTC):%H:%M:%S} UTC.")
        try:
            server.serve_forever()  # werkzeug's returns on KeyboardInterrupt (a stop signal while serving)
        finally:
            server.server_close()
        console.print("Stopping...")
    except KeyboardInterrupt:  # Ctrl-C, `kill -INT` or `kill` (SIGTERM) while starting
        console.print("Stopping...")
    finally:
        try:
            if scheduler is not None:
                scheduler.stop()
            if runtime is not None:
                runtime.queues.stop()
            if cluster is not None:
                cluster.stop()
            if cell_servers is not None:
                cell_servers.stop()
            stack.stop()
            (data_dir / "env.json").unlink(missing_ok=True)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _start_queues(runtime: LocalRuntime, enabled: bool) -> None:
    """Poll the template's SQS event sources (each mapping's function runs in its containers)."""
    sources = runtime.template.sqs_sources
    if not sources:
        return
    if not enabled:
        console.print(f"queues off (--no-queues): {', '.join(s.id for s in sources)}")
        return
    runtime.queues.start(os.environ)
    running = {s.id for s in runtime.queues.running}
    for source in sources:
        if source.id in running:
            console.print(f"[green]✓[/green] queue {source.queue_id} -> {source.function_id}: {source.describe()}")
        else:
            console.print(f"queue {source.queue_id} -> {source.function_id}: not polled (disabled or no concurrency)")


def _print_warnings(warnings: list[str]) -> None:
    if not warnings:
        return
    console.print(f"[yellow]! {len(warnings)} things in the template are not emulated locally:[/yellow]")
    for line in warnings:
        console.print(f"  [yellow]-[/yellow] {line}", soft_wrap=True, highlight=False)


def _log_to_console() -> None:
    if not log.handlers:
        log.addHandler(RichHandler(console=console, show_path=False, markup=False))
        log.setLevel(logging.INFO)
        log.propagate = False


def _stop_on_signals() -> dict[int, Any]:
    """SIGINT and SIGTERM stop `hrms dev` cleanly (servers stopped, env.json removed): the first one raises
    KeyboardInterrupt in the main thread, later ones are ignored so that they cannot cut the shutdown short
    (SIGKILL still can). SIGINT is handled even when the shell started us ignoring it (`hrms dev &` in a
    script: POSIX shells ignore SIGINT in background jobs, and Python then keeps it ignored).
    Returns the previous handlers."""
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        if stopping.is_set():
            console.print(f"{signal.Signals(signum).name}: already stopping")
            return
        stopping.set()
        raise KeyboardInterrupt

    return {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
