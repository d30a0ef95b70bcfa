"""`hrms tenant ...`: create, list, check, suspend and activate tenants."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hrms.tenancy import PLATFORM_ADMIN, Actor
from hrms_tools.cli.context import console, every_page, print_json, use_local_stack

app = typer.Typer(help="Manage tenants (each has its own PostgreSQL schema).", no_args_is_help=True)
CLI_ACTOR = Actor(user_id="cli", role=PLATFORM_ADMIN, tenant=None)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Display name.")],
    slug: Annotated[str, typer.Option(help="URL-safe id, 3-40 chars of a-z, 0-9 and single dashes.")],
    email: Annotated[str, typer.Option(help="Email of the tenant's first admin user.")],
    description: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str, typer.Option()] = "IN",
    currency: Annotated[str, typer.Option()] = "INR",
    timezone: Annotated[str, typer.Option()] = "Asia/Kolkata",
    as_json: JsonFlag = False,
) -> None:
    """Create a tenant: registry row, schema, tables, defaults and an admin with a temporary password."""
    use_local_stack()
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    new = NewTenant.model_validate(
        {
            "name": name,
            "slug": slug,
            "adminEmail": email,
            "description": description,
            "settings": {"country": country, "currency": currency, "timezone": timezone},
        }
    )
    created = service.create_tenant(new, CLI_ACTOR)
    if as_json:
        print_json(created)
        return
    console.print(f"[green]✓[/green] Tenant [bold]{created.slug}[/bold] created")
    console.print(f"  id: {created.tenant_id}\n  schema: {created.schema_name}\n  admin: {created.admin_email}")
    console.print(f"  temporary password: [bold]{created.admin_temporary_password}[/bold] (must be changed)")


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="active or suspended")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List tenants with employee counts and last activity."""
    use_local_stack()
    from hrms.tenants import service

    items = every_page(lambda limit, cursor: service.list_tenants(status, limit, cursor))
    if as_json:
        print_json([item.model_dump(mode="json", by_alias=True) for item in items])
        return
    table = Table("slug", "name", "status", "schema", "employees", "created", "last activity")
    for t in items:
        table.add_row(
            t.slug,
            t.name,
            t.status,
            t.schema_name,
            str(t.employee_count),
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.last_activity_at:%Y-%m-%d %H:%M}" if t.last_activity_at else "-",
        )
    console.print(table)


@app.command()
def check(
    tenant: Annotated[str | None, typer.Argument(help="Tenant id or slug; none: recover every cell.")] = None,
    grace: Annotated[
        float, typer.Option(help="Leave creations younger than this many seconds alone (recovery).", min=0)
    ] = 300.0,
    as_json: JsonFlag = False,
) -> None:
    """Status, schema, cell, tables, version, employees and last activity of one tenant. Without a tenant:
    recovery - finish or remove creations that died midway, drop what cells hold that the registry does not
    place there."""
    use_local_stack()
    from hrms.tenants import service

    if tenant is None:
        _recover(grace, as_json)
        return
    result = service.check_tenant(tenant)
    t = result.tenant
    if as_json:
        print_json(
            {
                **t.model_dump(mode="json", by_alias=True),
                "schemaExists": result.schema_exists,
                "cell": result.cell,
                "tables": result.tables,
                "latestVersion": result.latest_version,
                "healthy": result.healthy,
            }
        )
        return
    mark = "[green]✓[/green]" if result.healthy else "[red]✗[/red]"
    console.print(f"{mark} Tenant: {t.name} ({t.slug})")
    console.print(
        f"  Status: {t.status}\n  Schema: {t.schema_name} "
        f"({'exists' if result.schema_exists else 'MISSING'}, {len(result.tables)} tables)\n  Cell: {result.cell}"
    )
    console.print(f"  Schema version: {t.schema_version} (latest {result.latest_version})")
    console.print(f"  Created: {t.created_at:%Y-%m-%d %H:%M:%S %Z}\n  Employees: {t.employee_count}")
    console.print(f"  Last activity: {t.last_activity_at or 'never'}")
    if not result.healthy:
        raise typer.Exit(1)


def _recover(grace: float, as_json: bool) -> None:
    from dataclasses import asdict

    from hrms.db import cells
    from hrms.tenants import moves, service

    done = service.recover(older_than_s=grace)
    if not cells.single():
        done.moved.extend(moves.finish_due())  # old copies of moved tenants whose grace period is over
    if as_json:
        print_json(asdict(done))
    else:
        for slug in done.finished:
            console.print(f"[green]✓[/green] finished the creation of {slug}")
        for slug in done.removed:
            console.print(f"[green]✓[/green] removed the unfinished creation of {slug}")
        for where in done.orphans:
            console.print(f"[green]✓[/green] dropped {where} (no registration places it there)")
        for slug in done.moved:
            console.print(f"[green]✓[/green] dropped the old copy of {slug} (moved; grace period over)")
        for cell in sorted(set(done.unreachable)):
            console.print(f"[red]✗[/red] cell {cell} did not answer; run again once it is back")
        if not (done.finished or done.removed or done.orphans or done.moved or done.unreachable):
            console.print("[green]✓[/green] nothing to recover")
    if done.unreachable:
        raise typer.Exit(1)


@app.command()
def move(
    tenant: Annotated[str, typer.Argument(help="Tenant id or slug.")],
    to: Annotated[str, typer.Option("--to", help="The cell to move it to.")],
    grace: Annotated[float, typer.Option(help="Seconds the old copy is kept after the switch.", min=0)] = 3600.0,
    as_json: JsonFlag = False,
) -> None:
    """Move a tenant to another cell: copy, verify, freeze its writes for the cut-over only, switch, and drop
    the old copy after the grace period. Safe to run again after a crash: it resumes where it stopped."""
    use_local_stack()
    from dataclasses import asdict

    from hrms.tenants import moves

    if as_json:
        report = moves.move(tenant, to, grace_s=grace)
    else:
        with console.status(f"Moving {tenant} to cell {to}: copy, verify, cut-over..."):
            report = moves.move(tenant, to, grace_s=grace)
    if as_json:
        print_json(asdict(report))
        return
    console.print(f"[green]✓[/green] {report.tenant}: {report.source} -> {report.target} ({report.phase})")
    console.print(
        f"  copy {report.copy_s:.2f} s, writes frozen {report.freeze_s:.2f} s, verification {report.verify_s:.2f} s"
    )
    if report.recopied:
        console.print(f"  copied again (changed during the copy): {', '.join(report.recopied)}")
    if report.phase != "done":
        console.print(
            "  the old copy is dropped once the grace period is over (run this again, or `hrms tenant check`)"
        )


def _set_status(tenant: str, status: str) -> None:
    use_local_stack()
    from hrms.tenants import service
    from hrms.tenants.models import TenantPatch

    found = service.check_tenant(tenant).tenant
    updated = service.update_tenant(found.tenant_id, TenantPatch(status=status), CLI_ACTOR)  # type: ignore[arg-type]
    console.print(f"[green]✓[/green] {updated.slug} is now {updated.status}")


@app.command()
def suspend(tenant: Annotated[str, typer.Argument(help="Tenant id or slug.")]) -> None:
    """Suspend a tenant: its tokens get 403 everywhere; its data is kept."""
    _set_status(tenant, "suspended")


@app.command()
def activate(tenant: Annotated[str, typer.Argument(help="Tenant id or slug.")]) -> None:
    """Re-activate a suspended tenant."""
    _set_status(tenant, "active")
