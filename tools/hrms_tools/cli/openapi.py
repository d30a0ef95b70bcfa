"""`hrms openapi`: write the API's OpenAPI document, built from template.yaml and the handlers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hrms_tools.cli.context import console, print_json


def openapi(
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write it ('-': standard output); default the committed hrms/openapi/openapi.json."),
    ] = None,
    template: Annotated[Path, typer.Option(help="SAM template to read.")] = Path("template.yaml"),
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the file differs.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Build the OpenAPI 3.1 document (what GET /openapi.json serves) from the template's routes and the
    handlers' declarations, and write it (commit the default file after changing a route)."""
    from hrms import openapi as contract
    from hrms.openapi.build import build, render

    text = render(build(template))
    target = out or Path(contract.__file__).parent / contract.DOCUMENT
    if str(target) == "-":
        sys.stdout.write(text)
        return
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if not check and current != text:
        target.write_text(text, encoding="utf-8")
    summary = {"file": str(target), "changed": current != text, "bytes": len(text.encode())}
    if as_json:
        print_json(summary)
    elif check:
        console.print(f"{target}: " + ("[red]differs from the code[/red]" if current != text else "up to date"))
    else:
        console.print(f"[green]✓[/green] {target}" + (" written" if current != text else " unchanged"))
    if check and current != text:
        raise typer.Exit(1)
