"""`hrms cache ...`: warm or flush the Redis caches."""

from __future__ import annotations

from typing import Annotated

import typer

from hrms_tools.cli.context import console, print_json, use_local_stack

app = typer.Typer(help="Redis cache administration.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command()
def preload(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug); default every active tenant.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recompute the org caches (departments, designations, hierarchy), like CachePreloadFunction."""
    use_local_stack()
    from hrms.org.service import preload_org_caches

    summary = preload_org_caches(tenant)
    if as_json:
        print_json(summary)
    else:
        console.print(f"[green]✓[/green] warmed {summary['warmed']} of {summary['tenants']} tenant(s)")
    if summary["failed"]:
        raise typer.Exit(1)


@app.command()
def flush(
    tenant: Annotated[str | None, typer.Option(help="Flush only this tenant's keys (slug or id).")] = None,
    flush_everything: Annotated[bool, typer.Option("--all", help="Flush every HRMS key.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm --all.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete cached keys with SCAN: one tenant's (--tenant) or all of HRMS's (--all --yes)."""
    if (tenant is None) == (not flush_everything):
        raise typer.BadParameter("use exactly one of --tenant SLUG or --all")
    if flush_everything and not yes:
        raise typer.BadParameter("--all deletes every HRMS cache key: add --yes to confirm")
    use_local_stack()
    from hrms.cache import admin, store
    from hrms.tenants.service import check_tenant

    deleted = admin.flush_all() if tenant is None else admin.flush_tenant(check_tenant(tenant).tenant.tenant_id)
    if not store.available():
        console.print("[red]✗ Redis is unavailable[/red]")
        raise typer.Exit(1)
    if as_json:
        print_json({"deleted": deleted})
    else:
        console.print(f"[green]✓[/green] deleted {deleted} key(s)")
