"""Listing backups: filtered by kind, schema, cell (full backups) and date, newest first, keyset-paginated.

A backup is listed once, by its PostgreSQL dump's key, with its MongoDB part (`keys.mongo_key`) described
from the dump's metadata: the parts are one backup, and MongoDB part keys never parse as backup keys.

What a backup is and when it was taken comes from its key, so listing needs no per-object calls;
only the page that is returned is enriched from each object's metadata (sha256, server version).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from hrms.backup import keys, storage
from hrms.backup.models import BackupInfo, MongoPartInfo
from hrms.db import cells
from hrms.errors import NotFound
from hrms.pagination import DEFAULT_LIMIT, Page, decode_keyset, encode_cursor


@dataclass(frozen=True)
class Listed:
    parsed: keys.BackupKey
    size: int


def iter_backups(
    kind: keys.Kind | None = None,
    schema_name: str | None = None,
    since: datetime | None = None,
    cell: str | None = None,
) -> Iterator[Listed]:
    """Every backup object matching the filters, in no particular order (S3 key order per prefix). `cell`
    selects full backups of that cell (a schema backup's key does not say its cell)."""
    for prefix, start_after in _prefixes(kind, schema_name, since, cell):
        for obj in storage.list_objects(prefix, start_after=start_after):
            parsed = keys.parse(obj["Key"])
            if parsed is None or (kind and parsed.kind != kind):
                continue
            if schema_name and parsed.schema_name != schema_name:
                continue
            if cell and parsed.cell != cell:
                continue
            if since and parsed.created_at < since:
                continue
            yield Listed(parsed, int(obj["Size"]))


def _prefixes(
    kind: keys.Kind | None, schema_name: str | None, since: datetime | None, cell: str | None = None
) -> list[tuple[str, str | None]]:
    """The S3 prefixes (and a StartAfter) worth listing: one schema's folder, or the years of full backups
    (of one cell, or of the default cell and every cell's folder)."""
    if schema_name:
        if kind == "full" or cell:
            return []
        prefix = keys.schema_prefix(schema_name)
        start = f"{prefix}backup_schema_{keys.stamp(since)}" if since else None
        return [(prefix, start)]
    found: list[tuple[str, str | None]] = []
    if kind in (None, "full"):
        found += _years(keys.full_prefix(cell or cells.DEFAULT), since)
        if cell is None:
            found.append((keys.CELLS_PREFIX, None))
    if kind in (None, "schema") and cell is None:
        found.append((keys.SCHEMAS_PREFIX, None))
    return found


def _years(prefix: str, since: datetime | None) -> list[tuple[str, str | None]]:
    """The year folders of full backups under `prefix` (from the year of `since` on)."""
    found: list[tuple[str, str | None]] = []
    for common in storage.list_objects(prefix, delimiter="/"):
        year = common["Prefix"][len(prefix) : -1]
        if year.isdigit() and len(year) == 4 and (since is None or int(year) >= since.year):
            found.append((common["Prefix"], None))
    return found


def list_backups(
    kind: keys.Kind | None = None,
    schema_name: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    cell: str | None = None,
) -> Page[BackupInfo]:
    """Newest first; the cursor is the (created_at, key) of the last item returned."""
    after = _after(cursor)
    ordered = sorted(iter_backups(kind, schema_name, since, cell), key=_order, reverse=True)
    if after is not None:
        ordered = [item for item in ordered if _order(item) < after]
    page, more = ordered[:limit], len(ordered) > limit
    items = [info for info in _describe(page) if info is not None]
    last = page[-1].parsed if page else None
    next_cursor = encode_cursor([last.created_at.isoformat(), last.key]) if more and last else None
    return Page(items=items, next_cursor=next_cursor)


def _order(item: Listed) -> tuple[datetime, str]:
    return item.parsed.created_at, item.parsed.key


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    position = decode_keyset(cursor, datetime.fromisoformat, str)
    if position is None:
        return None
    moment, key = position
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), key


def _describe(page: list[Listed]) -> list[BackupInfo | None]:
    if not page:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(page))) as pool:
        return list(pool.map(describe, page))


def describe(item: Listed) -> BackupInfo | None:
    """The listed backup with its metadata; None if it was deleted since it was listed."""
    try:
        meta = storage.head(item.parsed.key).metadata
    except NotFound:
        return None
    return BackupInfo(
        key=item.parsed.key,
        kind=item.parsed.kind,
        schema_name=item.parsed.schema_name,
        cell=item.parsed.cell or meta.get("cell"),
        size_bytes=item.size,
        sha256=meta.get("sha256"),
        created_at=item.parsed.created_at,
        server_version=meta.get("pg-version"),
        reason=meta.get("reason"),
        mongo=mongo_info(item.parsed.key, meta),
    )


def mongo_info(key: str, meta: dict[str, str]) -> MongoPartInfo | None:
    """The MongoDB part as the dump's metadata describes it; None for a backup without one."""
    if not meta.get("mongo-sha256"):
        return None
    size = meta.get("mongo-size", "")
    return MongoPartInfo(
        key=keys.mongo_key(key),
        size_bytes=int(size) if size.isdigit() else 0,
        sha256=meta["mongo-sha256"],
        counts=keys.parse_counts(meta.get("mongo-counts")) or {},
    )
