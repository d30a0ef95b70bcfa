"""Versioned tenant settings.

One `TenantSettings` document per tenant (`_id` = tenant id) holds the current settings and
`version`. A write names the version it read (`expectedVersion`) and is one
`find_one_and_update` with that version in the filter and `$inc: {version: 1}`: of concurrent
writers holding the same version exactly one matches, the others get 409 — no lost update.
Version 0 is "never written" (an insert; a duplicate `_id` means someone else won: 409).
Every change writes a `SettingsAudit` document (who, action, full snapshot, diff); the history
and rollback read those snapshots, and a rollback is a new version.
"""

from __future__ import annotations

from typing import Any

from hrms.errors import Conflict, DependencyDown, NotFound
from hrms.observability import logger
from hrms.pagination import Page, bigint, decode_keyset, encode_cursor
from hrms.settings import repo
from hrms.settings.models import SettingsChange, SettingsRollback, SettingsUpdate, TenantSettings
from hrms.tenancy import Actor, Tenant


def get_settings(tenant: Tenant) -> TenantSettings:
    doc = repo.current(tenant)
    if doc is None:
        return TenantSettings(version=0, settings={})
    return _out(doc)


def effective_settings(tenant: Tenant, defaults: dict[str, Any]) -> dict[str, Any]:
    """For the PostgreSQL side (weekend days, currency, timezone): these settings over `defaults`
    (the tenant's `organization_settings`). Mongo down -> the defaults, so Postgres routes keep working."""
    try:
        return {**defaults, **get_settings(tenant).settings}
    except DependencyDown:
        logger.warning("Settings store unavailable; using the PostgreSQL defaults")
        return dict(defaults)


def update_settings(tenant: Tenant, actor: Actor, body: SettingsUpdate) -> TenantSettings:
    return _write(tenant, actor, body.settings, body.expected_version, "update")


def rollback_settings(tenant: Tenant, actor: Actor, body: SettingsRollback) -> TenantSettings:
    target = repo.snapshot(tenant, body.version)
    if target is None:
        raise NotFound(f"Settings version {body.version} does not exist.")
    expected = body.expected_version if body.expected_version is not None else get_settings(tenant).version
    return _write(tenant, actor, target.settings, expected, "rollback", rolled_back_to=body.version)


def settings_history(tenant: Tenant, limit: int, cursor: str | None) -> Page[SettingsChange]:
    after = decode_keyset(cursor, bigint)
    docs = repo.snapshots(tenant, below=after[0] if after else None, limit=limit + 1)
    page = docs[:limit]
    return Page(
        items=[_change(d) for d in page],
        next_cursor=encode_cursor([str(page[-1].version)]) if len(docs) > limit else None,
    )


def _write(
    tenant: Tenant,
    actor: Actor,
    new: dict[str, Any],
    expected: int,
    action: str,
    rolled_back_to: int | None = None,
) -> TenantSettings:
    before = repo.current(tenant)
    if before is not None and before.version != expected:
        raise _stale(before.version)
    previous = before.settings if before else {}
    try:
        doc = repo.write(
            tenant,
            actor,
            expected=expected,
            previous=previous,
            new=new,
            diff=diff(previous, new),
            action=action,
            rolled_back_to=rolled_back_to,
        )
    except Conflict:
        if expected == 0:  # someone else wrote version 1 first
            raise _stale(None) from None
        raise
    if doc is None:
        latest = repo.current(tenant)
        raise _stale(latest.version if latest else 0)
    return _out(doc)


def _stale(current: int | None) -> Conflict:
    detail = "The settings were changed by someone else; reload and retry."
    return Conflict(detail) if current is None else Conflict(detail, currentVersion=current)


def _out(doc: repo.Current) -> TenantSettings:
    return TenantSettings(
        version=doc.version, settings=doc.settings, updated_at=doc.updated_at, updated_by=doc.updated_by
    )


def _change(doc: repo.Snapshot) -> SettingsChange:
    return SettingsChange(
        version=doc.version,
        action=doc.action,
        settings=doc.settings,
        diff=doc.diff,
        actor_id=doc.actor_id,
        actor_role=doc.actor_role,
        at=doc.at,
        rolled_back_to=doc.rolled_back_to,
    )


def diff(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """`[{"path": "a.b", "from": old, "to": new}]` for every leaf that changed, was added or removed.

    A list, not a dict keyed by path: dotted field names are not portable to DocumentDB.
    """
    changes: list[dict[str, Any]] = []
    for key in sorted(set(before) | set(after)):
        path = f"{prefix}{key}"
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changes.extend(diff(old, new, f"{path}."))
        elif key not in after:
            changes.append({"path": path, "from": old, "to": None, "removed": True})
        elif key not in before or old != new:
            changes.append({"path": path, "from": old, "to": new})
    return changes
