"""Where CLI commands find the stack: the environment, or the one `hrms dev` is running."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic.alias_generators import to_camel
from rich.console import Console

from hrms_tools.local.stack import load_env_file

if TYPE_CHECKING:
    from hrms.pagination import Page

T = TypeVar("T")

console = Console()
DEFAULT_DATA_DIR = Path(".hrms")


def use_local_stack(data_dir: Path = DEFAULT_DATA_DIR) -> None:
    """Adopt the running local stack's settings unless DATABASE_URL is already set (e.g. in AWS)."""
    if os.environ.get("DATABASE_URL"):
        return
    env = load_env_file(data_dir)
    if not env:
        console.print(
            f"[red]No running stack found under {data_dir}/ - start one with `hrms dev`, "
            "or set DATABASE_URL and friends.[/red]"
        )
        raise SystemExit(2)
    for key, value in env.items():
        os.environ.setdefault(key, value)
    secret = data_dir / "jwt-secret"
    if secret.exists():
        os.environ.setdefault("JWT_SECRET", secret.read_text().strip())


def print_json(data: Any) -> None:
    """JSON with camelCase keys, like the HTTP API."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json", by_alias=True)
    elif dataclasses.is_dataclass(data) and not isinstance(data, type):
        data = dataclasses.asdict(data)
    if isinstance(data, dict):
        data = {to_camel(k): v for k, v in data.items()}
    console.print_json(json.dumps(data, default=str))


def every_page(fetch: Callable[[int, str | None], Page[T]]) -> list[T]:
    """Every item of a paginated listing: `fetch(limit, cursor)` page after page of the largest size."""
    from hrms.pagination import MAX_LIMIT

    items: list[T] = []
    cursor = None
    while True:
        page = fetch(MAX_LIMIT, cursor)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items
