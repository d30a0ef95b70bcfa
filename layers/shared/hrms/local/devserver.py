"""`hrms dev`: embedded stack + migrations + the local API Gateway on one port."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from werkzeug.serving import make_server

from hrms.local.gateway import LocalGateway
from hrms.local.stack import EmbeddedStack
from hrms.local.template import Template

console = Console()


def run_dev(
    *, port: int, data_dir: Path, fresh: bool, template: Path, seed_demo: bool = True, host: str = "127.0.0.1"
) -> None:
    spec = Template.load(template)
    stack = EmbeddedStack(data_dir, fresh=fresh)
    with console.status("Starting PostgreSQL, Valkey, MongoDB-protocol server and moto..."):
        os.environ.update(stack.start())
    try:
        from hrms.auth import tokens
        from hrms.migrations import runner
        from hrms.tenants.demo import DEMO, DEMO_ADMIN_EMAIL, DEMO_SLUG, ensure_demo_tenant

        result = runner.up()
        if seed_demo:
            ensure_demo_tenant()
        console.print(
            f"[green]✓[/green] migrations: public {result.public_applied or 'up to date'}, "
            f"{result.tenants_migrated} tenant schema(s) migrated"
        )
        server = make_server(host, port, LocalGateway(spec), threaded=True)
        admin_token = tokens.issue("platform-admin", "platform_admin", ttl_s=12 * 3600)
        console.print(f"[green]✓[/green] HRMS API:  http://{host}:{port}")
        console.print(f"[green]✓[/green] API docs:  http://{host}:{port}/docs  (OpenAPI: /openapi.json)")
        console.print(f"[green]✓[/green] data dir:  {data_dir.resolve()}")
        console.print("Platform admin token (12 h):")
        console.print(admin_token, soft_wrap=True)
        if seed_demo:
            console.print(f"Demo tenant: slug {DEMO_SLUG}, admin {DEMO_ADMIN_EMAIL} / {DEMO.admin_password}")
        console.print("Press Ctrl-C to stop every server.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("Stopping...")
        finally:
            server.server_close()
    finally:
        stack.stop()
        (data_dir / "env.json").unlink(missing_ok=True)
