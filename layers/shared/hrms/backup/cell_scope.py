"""Which MongoDB documents go with a cell's full backup, and which a restore of it may replace.

MongoDB is one database for every cell (documents carry `tenantId`), so a cell's full backup takes the
documents that go with its PostgreSQL database, by the registry's placement (`public.tenants.cell` in the
control database, read when the backup or restore starts; every status, so a deleted tenant's documents
stay with its cell):

- a cell other than `default`: the documents of the tenants the registry places on it;
- `default` (the control database): every document but those of the tenants placed on another cell that is
  configured here, i.e. its own tenants' and whatever belongs to no cell this deploy backs up (documents
  without a tenant, of a tenant the registry does not know, of a tenant on a cell no longer configured). With
  no other cell configured, the normal deploy, that is every document, read without a query, as before cells.

A restore over the live database replaces only the documents it may: those of the tenants the registry places
on the cell restored into, and for `default` every document but those of the tenants placed on any other
cell, configured or not (a restore never touches another cell's tenants; with no other cell configured it
replaces every document, as before cells). Staged documents outside that scope (a tenant that moved since)
are not restored.
"""

from __future__ import annotations

from hrms.backup import repo
from hrms.backup.mongo_part import Scope
from hrms.db import cells


def for_backup(cell: str) -> Scope:
    """The documents of `cell`'s full backup (module rules)."""
    if cell == cells.DEFAULT and cells.single():
        return Scope()
    placed = _placed()
    if cell != cells.DEFAULT:
        return Scope(only=frozenset(placed.get(cell, ())))
    others = set(cells.configured()) - {cells.DEFAULT}
    return Scope(excluding=frozenset(t for name, ids in placed.items() if name in others for t in ids))


def for_restore(cell: str) -> Scope:
    """The live documents a restore of `cell`'s full backup replaces (module rules)."""
    if cell == cells.DEFAULT and cells.single():
        return Scope()
    placed = _placed()
    if cell != cells.DEFAULT:
        return Scope(only=frozenset(placed.get(cell, ())))
    return Scope(excluding=frozenset(t for ids in placed.values() for t in ids))


def _placed() -> dict[str, list[str]]:
    from hrms.db.postgres import transaction

    with transaction(cells.DEFAULT) as conn:
        return repo.tenants_off_default(conn)
