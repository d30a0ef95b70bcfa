"""`hrms mail`: the mail the local stack's SES (moto) has captured - what the Notifier sent."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hrms_tools.cli.context import console, print_json, use_local_stack


def mail(
    to: Annotated[str | None, typer.Option("--to", help="Only mail to this address (any case).")] = None,
    last: Annotated[int, typer.Option(help="Show only the newest N (0: all).", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: every mail with its text and HTML.")] = False,
) -> None:
    """List the mail sent through the local stack's SES (moto keeps it; nothing leaves the machine), oldest
    first, each with its plain-text body."""
    use_local_stack()
    from hrms_tools.local.mail import captured

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        console.print("[red]No local AWS endpoint (AWS_ENDPOINT_URL): `hrms mail` reads the local stack's SES.[/red]")
        raise typer.Exit(2)
    try:
        found = captured(endpoint, to)
    except (OSError, ValueError) as exc:
        console.print(f"[red]Cannot read the captured mail at {endpoint}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if last:
        found = found[-last:]
    if as_json:
        print_json({"count": len(found), "mail": [m.as_dict() for m in found]})
        return
    if not found:
        console.print("no mail" + (f" to {to}" if to else ""))
        return
    for item in found:
        console.rule(f"[bold]{item.subject}[/bold]")
        console.print(f"From: {item.sender}\nTo: {', '.join(item.to)}\nId: {item.message_id}\n", highlight=False)
        console.print(item.text, highlight=False, markup=False)
    console.print(f"\n{len(found)} mail(s)")
