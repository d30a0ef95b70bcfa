"""`hrms leave ...`: leave operations (the rollover that opens each tenant's new leave year)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from hrms_tools.cli.context import console, print_json, use_local_stack

app = typer.Typer(help="Leave operations.", no_args_is_help=True)


@app.command()
def rollover(
    at: Annotated[
        datetime | None,
        typer.Option(help="Decide as at this instant (ISO 8601, e.g. 2027-04-01T00:30:00+05:30); default now."),
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug); default every due tenant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Open every leave year that has begun (in each tenant's time zone), as the hourly schedule does.

    Annual quotas plus unused days of the year before, capped per type. Idempotent."""
    use_local_stack()
    from rich.progress import Progress

    from hrms.leave import rollover as leave_rollover

    moment = at or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    with Progress(console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("tenants", total=None)
        summary = leave_rollover.open_due(
            moment,
            slug=tenant,
            actor_id="cli",
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(
            {
                "at": summary.at.isoformat(),
                "allocated": summary.allocated,
                "tenants": [
                    {
                        "slug": t.slug,
                        "years": t.years,
                        "allocated": t.allocated,
                        "carriedForward": str(t.carried_forward),
                    }
                    for t in summary.tenants
                ],
                "failed": summary.failed,
            }
        )
    else:
        table = Table("tenant", "years opened", "rows allocated", "days carried forward")
        for t in summary.tenants:
            table.add_row(t.slug, ", ".join(map(str, t.years)) or "-", str(t.allocated), str(t.carried_forward))
        console.print(table)
        console.print(f"{summary.allocated} balance rows allocated")
        for slug, error in summary.failed.items():
            console.print(f"[red]✗ {slug}: {error}[/red]")
    if summary.failed:
        raise typer.Exit(1)
