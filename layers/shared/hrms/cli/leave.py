"""`hrms leave ...`: leave operations (the year-end rollover)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hrms.cli.context import console, print_json, use_local_stack

app = typer.Typer(help="Leave operations.", no_args_is_help=True)


@app.command()
def rollover(
    year: Annotated[int, typer.Option(min=1901, max=2999, help="The NEW leave year to allocate, e.g. 2025.")],
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug); default every active tenant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Allocate leave year YEAR: annual quotas plus unused YEAR-1 days, capped per type. Idempotent."""
    use_local_stack()
    from rich.progress import Progress

    from hrms.leave import rollover as leave_rollover

    with Progress(console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("tenants", total=None)
        summary = leave_rollover.rollover(
            year,
            slug=tenant,
            actor_id="cli",
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(
            {
                "year": summary.year,
                "allocated": summary.allocated,
                "tenants": [
                    {"slug": t.slug, "allocated": t.allocated, "carriedForward": str(t.carried_forward)}
                    for t in summary.tenants
                ],
                "failed": summary.failed,
            }
        )
    else:
        table = Table("tenant", "rows allocated", "days carried forward")
        for t in summary.tenants:
            table.add_row(t.slug, str(t.allocated), str(t.carried_forward))
        console.print(table)
        console.print(f"leave year {summary.year}: {summary.allocated} balance rows allocated")
        for slug, error in summary.failed.items():
            console.print(f"[red]✗ {slug}: {error}[/red]")
    if summary.failed:
        raise typer.Exit(1)
