"""`hrms tenant ...`: create, list, check, suspend and activate tenants."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hrms.tenancy import PLATFORM_ADMIN, Actor
from hrms_tools.cli.context import console, print_json, use_local_stack

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
    from hrms.pagination import MAX_LIMIT
    from hrms.tenants import service

    items, cursor = [], None
    while True:
        page = service.list_tenants(status, MAX_LIMIT, cursor)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
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
def check(tenant: Annotated[str, typer.Argument(help="Tenant id or slug.")], as_json: JsonFlag = False) -> None:
    """Status, schema, tables, version, employees and last activity of one tenant."""
    use_local_stack()
    from hrms.tenants import service

    result = service.check_tenant(tenant)
    t = result.tenant
    if as_json:
        print_json(
            {
                **t.model_dump(mode="json", by_alias=True),
                "schemaExists": result.schema_exists,
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
        f"({'exists' if result.schema_exists else 'MISSING'}, {len(result.tables)} tables)"
    )
    console.print(f"  Schema version: {t.schema_version} (latest {result.latest_version})")
    console.print(f"  Created: {t.created_at:%Y-%m-%d %H:%M:%S %Z}\n  Employees: {t.employee_count}")
    console.print(f"  Last activity: {t.last_activity_at or 'never'}")
    if not result.healthy:
        raise typer.Exit(1)


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
