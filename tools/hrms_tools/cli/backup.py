"""`hrms backup ...`: full and schema backups to S3 (PostgreSQL dump and MongoDB part), list, validate,
cleanup, restore and recover (restores that died midway)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Literal

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from hrms.backup.common import Progress as BackupProgress
from hrms.backup.models import BackupInfo
from hrms_tools.cli.context import console, every_page, print_json, use_local_stack

app = typer.Typer(help="Backups of the database and of tenant schemas to S3, and restores.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant slug (or id).")]
KeyOpt = Annotated[str, typer.Option("--key", help="Backup key, as `hrms backup list` shows it.")]
CellOpt = Annotated[str, typer.Option("--cell", help="The cell (`default`: the control database).")]


@contextmanager
def _progress(enabled: bool = True) -> Iterator[BackupProgress]:
    """A rich progress bar per phase (dump, validate, restore ...) showing bytes and speed."""
    columns = (
        TextColumn("{task.description:>14}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=not enabled) as bar:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield report


def _print_backup(info: BackupInfo, as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    console.print(f"[green]✓[/green] {info.key}\n  {info.size_bytes:,} bytes, sha256 {info.sha256}")
    if info.cell:
        console.print(f"  cell: {info.cell}")
    if info.mongo:
        part, documents = info.mongo, sum(info.mongo.counts.values())
        console.print(f"  MongoDB part: {part.size_bytes:,} bytes, {documents:,} documents, sha256 {part.sha256}")


@app.command()
def full(cell: CellOpt = "default", as_json: JsonFlag = False) -> None:
    """Back up one cell's whole database (pg_dump, gzip-streamed to S3) and its MongoDB documents."""
    use_local_stack()
    from hrms.backup import service

    with _progress(not as_json) as progress:
        info = service.create_backup("full", cell=cell, progress=progress)
    _print_backup(info, as_json)


@app.command()
def schema(tenant: TenantOpt, as_json: JsonFlag = False) -> None:
    """Back up one tenant's schema."""
    use_local_stack()
    from hrms.backup import service

    with _progress(not as_json) as progress:
        info = service.create_backup("schema", tenant, progress=progress)
    _print_backup(info, as_json)


@app.command("list")
def list_(
    kind: Annotated[Literal["full", "schema"] | None, typer.Option(help="full or schema")] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's schema backups.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only backups taken at or after (UTC).")] = None,
    cell: Annotated[str | None, typer.Option("--cell", help="Only this cell's full backups.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List backups, newest first."""
    use_local_stack()
    from hrms.backup import service

    items = every_page(lambda limit, cursor: service.list_backups(kind, tenant, since, limit, cursor, cell=cell))
    if as_json:
        print_json([item.model_dump(mode="json", by_alias=True) for item in items])
        return
    table = Table("created (UTC)", "cell", "size", "MongoDB docs")
    table.add_column("key (says kind, and schema or cell)", overflow="fold")
    for item in items:
        documents = f"{sum(item.mongo.counts.values()):,}" if item.mongo else "-"
        when, size = f"{item.created_at:%Y-%m-%d %H:%M:%S}", f"{item.size_bytes:,}"
        table.add_row(when, item.cell or "-", size, documents, item.key)
    console.print(table)


@app.command()
def validate(
    key: KeyOpt,
    trial_restore: Annotated[bool, typer.Option(help="Also restore into a scratch database, then drop it.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check both parts of a backup: metadata, sizes, sha256s, gzip, dump trailer, MongoDB end marker and
    counts (exit 1 if invalid)."""
    use_local_stack()
    from hrms.backup import service

    with _progress(not as_json) as progress:
        result = service.validate_backup(key, trial_restore=trial_restore, progress=progress)
    if as_json:
        print_json(result)
    else:
        for name, passed in result.checks.items():
            mark = "[dim]-[/dim]" if passed is None else "[green]✓[/green]" if passed else "[red]✗[/red]"
            console.print(f"{mark} {name}")
        for problem in result.problems:
            console.print(f"  [red]{problem}[/red]")
        console.print("[green]valid[/green]" if result.valid else "[red]invalid[/red]")
    if not result.valid:
        raise typer.Exit(1)


@app.command()
def cleanup(
    retention_days: Annotated[int | None, typer.Option(help="Delete backups older than this (default 30).")] = None,
    keep_last: Annotated[
        int | None, typer.Option(help="Always keep the newest N of each schema, and of each cell's full backups.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only show what would be deleted.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete expired backups (retention days), always keeping the newest N of each schema's backups and of each
    cell's full backups."""
    use_local_stack()
    from hrms.backup import service

    report = service.cleanup_backups(retention_days, keep_last, dry_run=dry_run)
    if as_json:
        print_json(report)
        return
    verb = "would delete" if report.dry_run else "deleted"
    for key in report.expired:
        console.print(f"  {verb} {key}")
    console.print(
        f"{verb} {len(report.expired)}, kept {report.kept} "
        f"(retention {report.retention_days} days, newest {report.keep_last} always kept)"
    )


@app.command()
def restore(
    key: KeyOpt,
    tenant: Annotated[str | None, typer.Option("--tenant", help="The tenant (slug) a schema backup is for.")] = None,
    target: Annotated[str | None, typer.Option(help="Restore into this RESTORE_TARGETS database.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Restore a backup (validated first; a safety backup of what it replaces in the live database)."""
    use_local_stack()
    from hrms.backup import keys, service

    parsed = keys.parse(key)
    cell = f" of cell '{parsed.cell}'" if parsed is not None and parsed.cell not in (None, "default") else ""
    where = f"target '{target}'" if target else f"the LIVE database{cell}"
    if not yes and not typer.confirm(f"Replace data in {where} with {key}?"):
        raise typer.Exit(1)
    with _progress(not as_json) as progress:
        result = service.restore_backup(key, tenant, target, progress=progress)
    if as_json:
        print_json(result)
        return
    into = result.target if result.cell in (None, "default") else f"{result.target} (cell {result.cell})"
    console.print(f"[green]✓[/green] restored {key} into {into} in {result.duration_ms / 1000:.1f} s")
    if result.safety_backup_key:
        console.print(f"  safety backup: {result.safety_backup_key}")
    console.print(f"  schemas: {len(result.restored_schemas)}, rows: {sum(result.row_counts.values()):,}")
    if result.mongo_counts is not None:
        console.print(f"  MongoDB documents: {sum(result.mongo_counts.values()):,}")


@app.command()
def recover(
    older_than: Annotated[
        float, typer.Option(help="Only restores idle this many seconds (default 900: none is still running).")
    ] = 900.0,
    as_json: JsonFlag = False,
) -> None:
    """Finish or roll back tenant restores that died midway, from their journal, and lift their write freeze."""
    use_local_stack()
    from hrms.backup import service

    done = service.recover_restores(older_than_s=older_than)
    if as_json:
        print_json(done)
        return
    for item in done:
        console.print(f"[green]✓[/green] {item['schema']}: {item['action']} ({item['operation']})")
    console.print(f"{len(done)} restore(s) recovered")
