"""Tenant cells: which PostgreSQL cluster holds a tenant's schema.

Rules (README "Tenant cells"; read them against the code below):
- A cell is one PostgreSQL cluster (behind its own RDS Proxy in AWS) with its own URL and credentials. The
  control database (DATABASE_URL) is always the cell `default`; others come from the CELLS setting (locally,
  name -> URL) or the Secrets Manager secret CELLS_SECRET_ID (name -> {"url", "secretId"}: the proxy endpoint
  and the secret of its credentials), read through Powertools parameters and cached per container.
- The control database's `public.tenants` (the registry) records each tenant's cell (`cell`). Each cell holds a
  `public.tenants` row for every tenant it hosts, so the request path keeps joining its tenant's row (status,
  write freezes, features) in one round trip inside the cell; lifecycle changes write both (hrms.tenants).
- Routing: `cell_of(tenant_id)` reads the registry once per `cell_cache_ttl_s` per container and tenant; with
  no cell configured besides `default` it answers `default` without a query, so a one-cell deployment pays
  nothing. `hrms.db.postgres` keeps one pool per cell, opened on first use; a cell that does not answer makes
  its own tenants' requests 503 and nobody else's.
- Placement: a new tenant goes to the accepting cell with the most headroom, i.e. the lowest
  live tenants / capacity (capacity from `public.cells.capacity`, else the CELL_CAPACITY setting); ties go to
  the cell named first. A cell configured here but absent from the registry is registered on first placement.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from hrms.config import settings

DEFAULT = "default"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


class UnknownCell(LookupError):
    """A cell name that neither the registry nor this container's configuration knows."""


@dataclass(frozen=True)
class Cell:
    """How to reach one cell: its URL and, in AWS, the secret holding its user and password."""

    name: str
    url: str
    secret_id: str | None = None


def configured() -> dict[str, Cell]:
    """Every cell this container can reach, `default` (the control database) first."""
    cfg = settings()
    found = {DEFAULT: Cell(DEFAULT, cfg.database_url, cfg.database_secret_id)}
    raw: dict[str, Any] = {name: value.get_secret_value() for name, value in cfg.cells.items()}
    if cfg.cells_secret_id:
        raw.update(_from_secret(cfg.cells_secret_id))
    for name, value in sorted(raw.items()):
        found[name] = _cell(name, value)
    return found


def cell(name: str) -> Cell:
    """How to reach the cell `name` (the control database without reading any other cell's configuration)."""
    if name == DEFAULT:
        cfg = settings()
        return Cell(DEFAULT, cfg.database_url, cfg.database_secret_id)
    try:
        return configured()[name]
    except KeyError:
        raise UnknownCell(f"No cell '{name}' is configured.") from None


def single() -> bool:
    """Only the control database: routing needs no lookup."""
    cfg = settings()
    return not cfg.cells and not cfg.cells_secret_id


def _cell(name: str, value: Any) -> Cell:
    if name == DEFAULT or not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"invalid cell name {name!r}: lower-case letters, digits and '-', not 'default'")
    if isinstance(value, str):
        return Cell(name, value)
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        secret_id = value.get("secretId") or value.get("secretArn")
        return Cell(name, value["url"], str(secret_id) if secret_id else None)
    raise ValueError(f"cell {name!r} must be a URL or {{'url': ..., 'secretId': ...}}")


def _from_secret(secret_id: str) -> dict[str, Any]:
    from hrms import aws

    value = json.loads(aws.secret(secret_id))
    if not isinstance(value, dict):
        raise ValueError("the cells secret must be a JSON object of cell name -> cell")
    return value


# ---------------------------------------------------------------- tenant -> cell, cached per container


class _Lookups:
    """Tenant id or slug -> (cell, when read), for `cell_cache_ttl_s`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: dict[str, tuple[str, float]] = {}

    def get(self, key: str, read: Callable[[], str | None]) -> str:
        ttl = settings().cell_cache_ttl_s
        now = time.monotonic()
        with self._lock:
            hit = self._found.get(key)
        if hit is not None and now - hit[1] < ttl:
            return hit[0]
        name = read()
        if name is None:  # not (yet) a tenant: not cached, so that a tenant created next is found at once
            return DEFAULT
        with self._lock:
            self._found[key] = (name, now)
        return name

    def forget(self, *keys: str) -> None:
        with self._lock:
            if not keys:
                self._found.clear()
            for key in keys:
                self._found.pop(key, None)


_lookups = _Lookups()


def cell_of(tenant_id: UUID | str) -> str:
    """The cell holding the tenant's schema (`default` for a tenant the registry does not know)."""
    if single():
        return DEFAULT
    return _lookups.get(f"id:{tenant_id}", lambda: _registry_cell("id = %s", str(tenant_id)))


def cell_of_slug(slug: str) -> str:
    """The cell of the live tenant with `slug` (`default` when there is none: the caller then finds none)."""
    if single():
        return DEFAULT
    return _lookups.get(f"slug:{slug}", lambda: _registry_cell("slug = %s", slug))


def cell_of_schema(schema: str) -> str:
    """The cell holding a tenant schema, read afresh from the registry (backups and restores, not the request
    path); `default` when the registry places it nowhere else."""
    if single():
        return DEFAULT
    return _registry_cell("schema_name = %s", schema) or DEFAULT


def forget(*tenant_keys: UUID | str) -> None:
    """Drop cached lookups (ids or slugs; none: all), e.g. after a tenant moved or was created."""
    keys = [f"{kind}:{key}" for key in tenant_keys for kind in ("id", "slug")]
    _lookups.forget(*keys)


def _registry_cell(condition: str, value: str) -> str | None:
    from psycopg import sql

    from hrms.db.postgres import transaction

    query = sql.SQL("SELECT cell FROM public.tenants WHERE status <> 'deleted' AND {}").format(sql.SQL(condition))
    with transaction(DEFAULT) as conn:
        row = conn.execute(query, (value,)).fetchone()
    return str(row["cell"]) if row else None


# ---------------------------------------------------------------- placement


@dataclass(frozen=True)
class Load:
    """A cell's share of the tenants, as placement sees it."""

    name: str
    tenants: int
    capacity: int
    accepting: bool

    @property
    def used(self) -> float:
        return self.tenants / self.capacity


def loads(conn: Any) -> list[Load]:
    """Every configured cell's load, read from the registry (control database connection `conn`)."""
    register(conn)
    rows = conn.execute(
        "SELECT c.name, c.capacity, c.accepting, count(t.id) AS tenants FROM public.cells c"
        " LEFT JOIN public.tenants t ON t.cell = c.name AND t.status <> 'deleted'"
        " GROUP BY c.name, c.capacity, c.accepting ORDER BY c.name"
    ).fetchall()
    reachable = configured()
    default_capacity = settings().cell_capacity
    return [
        Load(row["name"], int(row["tenants"]), row["capacity"] or default_capacity, bool(row["accepting"]))
        for row in rows
        if row["name"] in reachable
    ]


def place(conn: Any) -> str:
    """The cell a new tenant goes to: the accepting cell with the lowest tenants / capacity (module rules).
    Takes a transaction-level lock so that concurrent creations see each other's choice."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('hrms.cells.place'))")
    candidates = [load for load in loads(conn) if load.accepting]
    if not candidates:
        return DEFAULT
    order = {name: i for i, name in enumerate(configured())}
    return min(candidates, key=lambda load: (load.used, order.get(load.name, len(order)))).name


def register(conn: Any) -> None:
    """Make sure every configured cell has its `public.cells` row (in the database of `conn`)."""
    conn.execute(
        "INSERT INTO public.cells (name) SELECT unnest(%s::text[]) ON CONFLICT (name) DO NOTHING",
        (list(configured()),),
    )
