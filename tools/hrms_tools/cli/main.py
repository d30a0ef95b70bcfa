"""The `hrms` command: local stack, tenants, migrations, health, tokens, invoking functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from hrms.errors import DomainError
from hrms_tools.cli import backup, cache, db, leave, mail, openapi, tenant
from hrms_tools.cli.context import DEFAULT_DATA_DIR, console, print_json, use_local_stack

if TYPE_CHECKING:
    from hrms_tools.local.template import Template

app = typer.Typer(help="HRMS Serverless: local runtime and operations.", no_args_is_help=True)
app.add_typer(tenant.app, name="tenant")
app.add_typer(backup.app, name="backup")
app.add_typer(cache.app, name="cache")
app.add_typer(leave.app, name="leave")
app.add_typer(db.app, name="db")
migrate_app = typer.Typer(help="Public and per-tenant schema migrations.", no_args_is_help=True)
app.add_typer(migrate_app, name="migrate")
app.command("openapi")(openapi.openapi)
app.command("mail")(mail.mail)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TemplateOpt = Annotated[Path, typer.Option(help="SAM template to read.")]


EnvVarsOpt = Annotated[
    Path | None,
    typer.Option(
        "--env-vars",
        help='SAM-format JSON: {"FunctionLogicalId": {"VAR": "value"}, "Parameters": {"VAR": "value"}} '
        "(may also add variables).",
    ),
]
StackDirOpt = Annotated[Path, typer.Option(help="Data directory of the running `hrms dev` stack.")]
ParameterOverridesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--parameter-overrides",
        help="Template parameters: 'Stage=prod RedisCluster=true' or ParameterKey=Stage,ParameterValue=prod.",
    ),
]


def _runtime_options(env_vars: Path | None, parameter_overrides: list[str] | None) -> dict[str, Any]:
    from hrms_tools.local.env import load_env_vars, parse_parameter_overrides

    try:
        return {
            "env_vars": load_env_vars(env_vars) if env_vars else {},
            "parameter_overrides": parse_parameter_overrides(parameter_overrides),
        }
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _cell_names(option: str | None) -> tuple[str, ...]:
    """`--cells b,c` as names the CELLS setting accepts (not `default`: the control database is that cell)."""
    from hrms.db.cells import DEFAULT, NAME_PATTERN

    names = tuple(dict.fromkeys(name.strip() for name in (option or "").split(",") if name.strip()))
    bad = [name for name in names if name == DEFAULT or not NAME_PATTERN.fullmatch(name)]
    if bad:
        raise typer.BadParameter(
            f"not a cell name: {', '.join(bad)} (lowercase letters, digits and '-', not '{DEFAULT}')",
            param_hint="--cells",
        )
    return names


def _load_template(template: Path, function: str | None = None) -> Template:
    from hrms_tools.local.template import Template

    spec = Template.load(template)
    if function is not None and function not in spec.functions:
        raise typer.BadParameter(
            f"{function} is not a function in {template}; choose from {', '.join(sorted(spec.functions))}"
        )
    return spec


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the local API.")] = 3000,
    data_dir: Annotated[Path, typer.Option(help="Where the embedded stores keep their data.")] = DEFAULT_DATA_DIR,
    fresh: Annotated[bool, typer.Option(help="Delete the data directory first.")] = False,
    template: TemplateOpt = Path("template.yaml"),
    demo: Annotated[bool, typer.Option(help="Seed the demo tenant the events/ samples use.")] = True,
    cold: Annotated[bool, typer.Option("--cold", help="Import each function afresh for every request.")] = False,
    reload: Annotated[bool, typer.Option(help="Apply edits under functions/ and layers/ without a restart.")] = True,
    schedules: Annotated[bool, typer.Option(help="Fire the template's Schedule/ScheduleV2 events.")] = True,
    queues: Annotated[bool, typer.Option(help="Poll the template's SQS event sources (queue workers).")] = True,
    redis_cluster: Annotated[
        bool, typer.Option("--redis-cluster", help="Cache on a 3-primary Valkey cluster (RedisCluster=true).")
    ] = False,
    cells: Annotated[
        str | None,
        typer.Option(
            "--cells",
            help="Tenant cells beside the control database, comma-separated (e.g. b,c): one more"
            " embedded PostgreSQL each; new tenants go to the cell with most headroom.",
        ),
    ] = None,
    env_vars: EnvVarsOpt = None,
    parameter_overrides: ParameterOverridesOpt = None,
) -> None:
    """Start the embedded stack, migrate, serve the API like API Gateway, fire the template's schedules and
    run its queue workers."""
    from hrms_tools.local.devserver import run_dev

    options = _runtime_options(env_vars, parameter_overrides)
    try:
        run_dev(
            port=port,
            data_dir=data_dir,
            fresh=fresh,
            template=template,
            seed_demo=demo,
            cold=cold,
            hot_reload=reload,
            schedules=schedules,
            queues=queues,
            redis_cluster=redis_cluster,
            cells=_cell_names(cells),
            **options,
        )
    except ValueError as exc:  # a parameter the template refuses
        raise typer.BadParameter(str(exc)) from exc


@migrate_app.command("status")
def migrate_status(as_json: JsonFlag = False) -> None:
    """Versions of the public schema, how many tenant schemas are behind, and applied files that changed
    (drift: exit 1)."""
    use_local_stack()
    from dataclasses import asdict

    from hrms.db import cells
    from hrms.migrations import runner

    if not cells.single():
        _migrate_status_cells(runner.status_cells(), as_json)
        return
    state = runner.status()
    if as_json:
        print_json({**asdict(state), "up_to_date": state.up_to_date})
    else:
        at_latest = state.tenants_total - state.tenants_behind
        console.print(f"public: {state.public_version}/{state.public_latest}")
        console.print(f"tenants: {at_latest}/{state.tenants_total} at version {state.tenant_latest}")
        if state.drift:
            for drift in state.drift:
                console.print(f"[red]✗ changed after it was applied: {drift.describe()}[/red]")
            console.print("[red]checksum drift: `hrms migrate up` refuses to run until the files are restored[/red]")
        else:
            console.print(f"checksums: {state.checked} applied migration(s) match their files")
            console.print("[green]up to date[/green]" if state.up_to_date else "[yellow]migrations pending[/yellow]")
    if state.drift:
        raise typer.Exit(1)


@migrate_app.command("up")
def migrate_up(
    workers: Annotated[int | None, typer.Option(help="Schemas migrated in parallel.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Apply pending migrations: public first, then every tenant schema in parallel (resumable); with tenant
    cells configured, on every cell at once (a failing cell is named; the others keep their new versions)."""
    use_local_stack()

    from rich.progress import Progress

    from hrms.db import cells
    from hrms.migrations import runner

    if not cells.single():
        _migrate_cells(runner.up_cells(workers=workers), as_json)
        return

    try:
        with Progress(console=console, transient=True, disable=as_json) as progress:
            task = progress.add_task("tenant schemas", total=None)
            result = runner.up(
                workers=workers, progress=lambda done, total: progress.update(task, completed=done, total=total)
            )
    except runner.ChecksumDrift as refused:
        if as_json:
            from dataclasses import asdict

            print_json({"drift": [asdict(drift) for drift in refused.drift]})
        else:
            for drift in refused.drift:
                console.print(f"[red]✗ changed after it was applied: {drift.describe()}[/red]")
            console.print("[red]nothing applied: restore the file(s) and put the change in a new migration[/red]")
        raise typer.Exit(1) from refused
    if as_json:
        print_json(result)
    else:
        console.print(f"public migrations applied: {result.public_applied or 'none'}")
        console.print(f"tenant schemas migrated: {result.tenants_migrated}")
        for schema, error in result.failures.items():
            console.print(f"[red]✗ {schema}: {error}[/red]")
    if result.failures:
        raise typer.Exit(1)


def _migrate_status_cells(statuses: dict[str, Any], as_json: bool) -> None:
    from dataclasses import asdict

    if as_json:
        print_json({cell: s if isinstance(s, str) else asdict(s) for cell, s in statuses.items()})
    for cell, state in statuses.items():
        if isinstance(state, str) and not as_json:
            console.print(f"[red]✗ cell {cell}: {state}[/red]")
        elif not as_json:
            at_latest = state.tenants_total - state.tenants_behind
            mark = "[green]up to date[/green]" if state.up_to_date else "[yellow]migrations pending[/yellow]"
            console.print(
                f"cell {cell}: public {state.public_version}/{state.public_latest}, tenants {at_latest}/"
                f"{state.tenants_total} at version {state.tenant_latest}, {len(state.drift)} drifted file(s): {mark}"
            )
    if any(isinstance(s, str) or s.drift for s in statuses.values()):
        raise typer.Exit(1)


def _migrate_cells(outcome: Any, as_json: bool) -> None:
    if as_json:
        print_json(outcome)
    else:
        for cell, result in sorted(outcome.cells.items()):
            console.print(
                f"cell {cell}: public migrations applied: {result.public_applied or 'none'};"
                f" tenant schemas migrated: {result.tenants_migrated}"
            )
        for where, error in sorted(outcome.failures.items()):
            console.print(f"[red]✗ {where}: {error}[/red]")
    if outcome.failures:
        raise typer.Exit(1)


@app.command()
def health(as_json: JsonFlag = False) -> None:
    """Check PostgreSQL, MongoDB, Redis and S3 like GET /health; exit 0 when ok, 1 degraded, 2 down."""
    use_local_stack()
    from hrms.health.checks import check_health

    report = check_health()
    if as_json:
        body = report.model_dump(mode="json", by_alias=True)
        for name, check in report.checks.items():
            if check.reason:
                body["checks"][name]["reason"] = check.reason
        print_json(body)
    else:
        names = {"postgres": "PostgreSQL", "mongo": "MongoDB", "redis": "Redis", "s3": "S3"}
        for name, check in report.checks.items():
            mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
            label = names.get(name) or f"PostgreSQL cell {name.partition(':')[2]}"  # postgres:<cell>
            console.print(f"{mark} {label}: {check.detail}" + (f": {check.reason}" if check.reason else ""))
        failing = ", ".join(
            names.get(name) or f"PostgreSQL cell {name.partition(':')[2]}"
            for name, check in report.checks.items()
            if not check.ok
        )
        colour = {"ok": "green", "degraded": "yellow", "down": "red"}[report.status]
        overall = f"[{colour}]Overall: {report.status}[/{colour}]"
        if failing:
            consequence = "the API answers 503" if report.status == "down" else "requests are still served"
            overall += f" ({failing} unavailable: {consequence})"
        console.print(overall)
    raise typer.Exit({"ok": 0, "degraded": 1, "down": 2}[report.status])


@app.command()
def token(
    platform_admin: Annotated[bool, typer.Option("--platform-admin", help="A platform admin token.")] = False,
    tenant_slug: Annotated[str | None, typer.Option("--tenant", help="Tenant slug of the user.")] = None,
    email: Annotated[str | None, typer.Option(help="Email of the tenant user.")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
    data_dir: StackDirOpt = DEFAULT_DATA_DIR,
) -> None:
    """Print a JWT for the running local stack."""
    use_local_stack(data_dir)
    from hrms.auth import credentials, tokens

    if platform_admin:
        print(tokens.issue("platform-admin", "platform_admin", ttl_s=ttl, epoch=credentials.platform_epoch()))
        return
    if not (tenant_slug and email):
        raise typer.BadParameter("use --platform-admin, or --tenant SLUG --email EMAIL")
    from hrms.auth.users import find_user_by_email

    user = find_user_by_email(tenant_slug, email)
    print(tokens.issue(str(user.user_id), user.role, tid=str(user.tenant_id), ttl_s=ttl, epoch=user.epoch))


platform_app = typer.Typer(help="The platform admin's credentials.", no_args_is_help=True)
app.add_typer(platform_app, name="platform")


@platform_app.command("revoke-tokens")
def revoke_platform_tokens() -> None:
    """Revoke every platform-admin token issued so far (they fail on their next request)."""
    use_local_stack()
    from hrms.auth import credentials

    epoch = credentials.rotate_platform_epoch()
    console.print(f"[green]✓[/green] platform-admin tokens revoked (credentials epoch now {epoch})")


@app.command()
def invoke(
    function: Annotated[str, typer.Argument(help="Logical id from template.yaml, e.g. HealthFunction.")],
    event: Annotated[Path, typer.Option(help="Event JSON file ('-' for stdin).")],
    template: TemplateOpt = Path("template.yaml"),
    env_vars: EnvVarsOpt = None,
    parameter_overrides: ParameterOverridesOpt = None,
    data_dir: StackDirOpt = DEFAULT_DATA_DIR,
) -> None:
    """Invoke one function with an event, in-process (the Docker-less `sam local invoke`)."""
    use_local_stack(data_dir)
    spec = _load_template(template, function)
    payload = json.loads(sys.stdin.read() if str(event) == "-" else event.read_text())
    print(json.dumps(_invoke_once(spec, function, payload, env_vars, parameter_overrides), indent=2, default=str))


@app.command()
def trigger(
    logical_id: Annotated[
        str,
        typer.Argument(
            help="A scheduled function (e.g. CachePreloadFunction) or its rule (CachePreloadFunctionHourly)."
        ),
    ],
    schedule: Annotated[str | None, typer.Option(help="The event name, when the function has several.")] = None,
    print_event: Annotated[bool, typer.Option("--print-event", help="Only print the event it would send.")] = False,
    template: TemplateOpt = Path("template.yaml"),
    env_vars: EnvVarsOpt = None,
    parameter_overrides: ParameterOverridesOpt = None,
    data_dir: StackDirOpt = DEFAULT_DATA_DIR,
) -> None:
    """Fire one of the template's schedules now, with EventBridge's event, against the running stack."""
    from datetime import UTC, datetime

    spec = _load_template(template)
    found = [s for s in spec.schedules if logical_id in (s.id, s.function_id)]
    if schedule:
        found = [s for s in found if s.id in (schedule, f"{s.function_id}{schedule}")]
    if len(found) != 1:
        choices = ", ".join(s.id for s in spec.schedules) or "none"
        what = "several schedules; pick one with --schedule" if found else "no schedule"
        raise typer.BadParameter(f"{logical_id} has {what} (schedules in {template}: {choices})")
    payload = found[0].event(datetime.now(UTC).replace(microsecond=0))
    if print_event:
        print(json.dumps(payload, indent=2))
        return
    use_local_stack(data_dir)
    print(
        json.dumps(
            _invoke_once(spec, found[0].function_id, payload, env_vars, parameter_overrides), indent=2, default=str
        )
    )


def _invoke_once(
    spec: Template, function: str, payload: Any, env_vars: Path | None, parameter_overrides: list[str] | None
) -> Any:
    """One invocation with the function's full environment in os.environ (restored afterwards).

    What the function prints (its CloudWatch EMF metrics) goes to stderr, as `sam local invoke` shows a
    function's output, so that stdout carries only the result. A function error (raised, init failure or
    timeout) prints Lambda's error document instead (errorMessage, errorType, requestId, stackTrace) and
    exits 1; `sam local invoke` prints the same document but exits 0.
    """
    import os
    import uuid
    from contextlib import redirect_stdout

    from rich.console import Console

    from hrms_tools.local.invoker import error_document
    from hrms_tools.local.runtime import LocalRuntime, RuntimeOptions

    options = RuntimeOptions(**_runtime_options(env_vars, parameter_overrides))
    saved = dict(os.environ)
    try:
        try:
            runtime = LocalRuntime.for_process(spec, options, function_id=function)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        request_id = str(uuid.uuid4())
        try:
            with redirect_stdout(sys.stderr):
                return runtime.containers.get(function).invoke(payload, request_id, wait=True)
        except Exception as exc:  # the function's error, reported as Lambda reports it
            document = error_document(exc, request_id)
            print(json.dumps(document, indent=2))
            Console(stderr=True).print(f"[red]✗ {function}: {document['errorType']}: {document['errorMessage']}[/red]")
            raise typer.Exit(1) from exc
    finally:
        os.environ.clear()
        os.environ.update(saved)
        from hrms.config import settings

        settings.cache_clear()


def main() -> None:
    """Console entry point: domain errors print as one line instead of a traceback."""
    try:
        app()
    except DomainError as error:
        console.print(f"[red]✗ {error.title}: {error.detail}[/red]")
        sys.exit(1)
    except ValidationError as error:
        for item in error.errors():
            console.print(f"[red]✗ {'.'.join(map(str, item['loc']))}: {item['msg']}[/red]")
        sys.exit(2)
