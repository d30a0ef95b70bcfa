"""`hrms db ...`: index check and repair, ANALYZE, VACUUM, statistics and purging expired
Idempotency-Key rows, per tenant schema."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hrms_tools.cli.context import console, print_json, use_local_stack

if TYPE_CHECKING:
    from hrms.migrations.maintenance import Progress as MaintenanceProgress
    from hrms.migrations.maintenance import SchemaRun

app = typer.Typer(help="PostgreSQL maintenance per tenant schema.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Only this tenant (slug or id).")]
AllFlag = Annotated[bool, typer.Option("--all", help="Every tenant.")]
CellOpt = Annotated[
    str | None, typer.Option("--cell", help="Only this cell's database (default: the tenant's, or every cell).")
]


def _scope(tenant: str | None, every: bool) -> str | None:
    if (tenant is None) == (not every):
        raise typer.BadParameter("use exactly one of --tenant SLUG or --all")
    use_local_stack()
    return tenant


@contextmanager
def _progress(verb: str, enabled: bool) -> Iterator[MaintenanceProgress]:
    """A rich progress bar over the tenant schemas."""
    columns = (
        TextColumn(f"{verb:>8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[schema]}"),
    )
    with Progress(*columns, console=console, transient=True, disable=not enabled) as bar:
        task = bar.add_task(verb, total=None, schema="")

        def report(done: int, total: int, schema: str) -> None:
            bar.update(task, completed=done, total=total, schema=schema)

        yield report


@app.command()
def indexes(
    tenant: TenantOpt = None,
    every: AllFlag = False,
    dry_run: Annotated[bool, typer.Option(help="Only report; create nothing (exit 1 if any is missing).")] = False,
    cell: CellOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Create the indexes the migrations define that a schema lacks; list never-scanned ones."""
    scope = _scope(tenant, every)
    from hrms.migrations import maintenance

    with _progress("indexes", not as_json) as progress:
        reports = maintenance.ensure_indexes(scope, dry_run=dry_run, progress=progress, cell=cell)
    if as_json:
        print_json([report.model_dump(mode="json", by_alias=True) for report in reports])
    else:
        for report in reports:
            where = f"{report.schema_name} ({report.tenant})"
            if report.skipped:
                console.print(f"[yellow]- {where}: skipped, {report.skipped}[/yellow]")
            for name in report.created:
                console.print(f"[green]✓[/green] {where}: {name} was missing, created")
            for name in report.missing if dry_run else ():
                console.print(f"[red]✗[/red] {where}: {name} is missing")
            for name, error in report.failed.items():
                console.print(f"[red]✗[/red] {where}: {name} is missing, not created: {error}")
        unused = Counter(name for report in reports for name in report.unused)
        if unused:
            table = Table("unused index (idx_scan = 0, not unique)", "schemas", title="Never scanned")
            for name, count in sorted(unused.items()):
                table.add_row(name, f"{count} of {len(reports)}")
            console.print(table)
        missing = sum(len(report.missing) for report in reports)
        created = sum(len(report.created) for report in reports)
        console.print(f"{len(reports)} schema(s) checked: {missing} index(es) missing, {created} created")
    if any(report.skipped or report.failed or (dry_run and report.missing) for report in reports):
        raise typer.Exit(1)


@app.command()
def analyze(tenant: TenantOpt = None, every: AllFlag = False, cell: CellOpt = None, as_json: JsonFlag = False) -> None:
    """ANALYZE every table of the tenant schemas (fresh planner statistics)."""
    scope = _scope(tenant, every)
    from hrms.migrations import maintenance

    with _progress("analyze", not as_json) as progress:
        runs = maintenance.analyze(scope, progress=progress, cell=cell)
    _print_runs("analyzed", runs, as_json)


@app.command()
def vacuum(
    tenant: TenantOpt = None,
    every: AllFlag = False,
    full: Annotated[bool, typer.Option("--full", help="VACUUM FULL: rewrite tables (locks them meanwhile).")] = False,
    with_analyze: Annotated[bool, typer.Option("--analyze", help="VACUUM ANALYZE.")] = False,
    cell: CellOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """VACUUM every table of the tenant schemas (outside any transaction)."""
    scope = _scope(tenant, every)
    from hrms.migrations import maintenance

    with _progress("vacuum", not as_json) as progress:
        runs = maintenance.vacuum(scope, full=full, with_analyze=with_analyze, progress=progress, cell=cell)
    _print_runs("vacuumed", runs, as_json)


def _print_runs(verb: str, runs: Sequence[SchemaRun], as_json: bool) -> None:
    failed = [run for run in runs if run.error]
    if as_json:
        print_json([run.model_dump(mode="json", by_alias=True) for run in runs])
    else:
        for run in failed:
            console.print(f"[red]✗[/red] {run.schema_name} ({run.tenant}): {run.error}")
        tables = sum(run.tables for run in runs if not run.error)
        seconds = sum(run.seconds for run in runs)
        mark = "[red]✗[/red]" if failed else "[green]✓[/green]"
        console.print(f"{mark} {verb} {tables} tables in {len(runs) - len(failed)} schema(s) in {seconds:.2f} s")
    if failed:
        raise typer.Exit(1)


@app.command()
def stats(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant (slug or id); default all.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many slow statements.")] = 10,
    cell: Annotated[str | None, typer.Option("--cell", help="This cell's database (default: the control's).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Slowest statements, index usage, unused indexes, cache hit ratio and connections of one cell's database."""
    use_local_stack()
    from hrms.migrations import maintenance

    report = maintenance.stats(tenant, limit=limit, cell=cell)
    if as_json:
        print_json(report)
        return
    scope = f"tenant {tenant}" if tenant else f"all {report.schemas} tenant schemas"
    console.print(f"[bold]PostgreSQL statistics[/bold] ({scope})")
    slow = report.slow_statements
    if slow.available:
        table = Table("mean ms", "calls", "total ms", "rows", "query", title="Slowest statements (pg_stat_statements)")
        for s in slow.statements:
            query = " ".join(s.query.split())
            table.add_row(f"{s.mean_ms:.2f}", str(s.calls), f"{s.total_ms:.0f}", str(s.rows), query[:100])
        console.print(table)
    else:
        console.print(f"[yellow]Slowest statements unavailable: {slow.reason}[/yellow]")
    for title, rows in (("Index usage", report.index_usage), ("Unused indexes", report.unused_indexes)):
        table = Table("table", "index", "scans", "tuples read", "size", "schemas", title=title)
        for u in rows:
            table.add_row(u.table, u.index, str(u.scans), str(u.tuples_read), f"{u.size_bytes:,} B", str(u.schemas))
        console.print(table)
    ratio = report.cache_hit_ratio
    console.print(
        f"Cache hit ratio: tables {_percent(ratio.tables)}, indexes {_percent(ratio.indexes)}, "
        f"database {_percent(ratio.database)}"
    )
    conns = report.connections
    states = ", ".join(f"{state} {n}" for state, n in conns.by_state.items())
    console.print(f"Connections: {conns.total} of {conns.max} ({states})")


def _percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.1%}"


@app.command("purge-idempotency-keys")
def purge_idempotency_keys(tenant: TenantOpt = None, every: AllFlag = False, as_json: JsonFlag = False) -> None:
    """Delete expired Idempotency-Key rows (--all: public's too), like the hourly IdempotencyPurgeFunction
    but to the last row and without a deadline."""
    scope = _scope(tenant, every)
    from hrms.http import idempotency

    with _progress("purge", not as_json) as progress:
        summary = idempotency.purge_expired(tenant=scope, max_rows_per_schema=None, progress=progress)
    if as_json:
        print_json(summary)
    else:
        mark = "[red]✗[/red]" if summary.failed else "[green]✓[/green]"
        console.print(
            f"{mark} purged {summary.purged} expired key(s) from {summary.expired} of {summary.schemas} schema(s)"
            + (f"; {summary.failed} schema(s) failed, see the log" if summary.failed else "")
        )
    if summary.failed:
        raise typer.Exit(1)
