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

from datetime import UTC, datetime
from typing import Any

from hrms.db import mongo_audit
from hrms.db.mongo_audit import Change
from hrms.db.tenant_collection import collection
from hrms.errors import Conflict, DependencyDown, NotFound
from hrms.observability import logger
from hrms.pagination import Page, bigint, decode_keyset, encode_cursor
from hrms.request_context import request_id
from hrms.settings.models import SettingsChange, SettingsRollback, SettingsUpdate, TenantSettings
from hrms.tenancy import Actor, Tenant

CURRENT = "TenantSettings"
AUDIT = "SettingsAudit"


def get_settings(tenant: Tenant) -> TenantSettings:
    doc = collection(tenant, CURRENT).find_one({"_id": str(tenant.tenant_id)})
    if doc is None:
        return TenantSettings(version=0, settings={})
    return _current(doc)


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
    target = collection(tenant, AUDIT).find_one({"version": body.version})
    if target is None:
        raise NotFound(f"Settings version {body.version} does not exist.")
    expected = body.expected_version if body.expected_version is not None else get_settings(tenant).version
    return _write(tenant, actor, target["settings"], expected, "rollback", rolled_back_to=body.version)


def settings_history(tenant: Tenant, limit: int, cursor: str | None) -> Page[SettingsChange]:
    after = decode_keyset(cursor, bigint)
    flt: dict[str, Any] = {"version": {"$lt": after[0]}} if after else {}
    docs = collection(tenant, AUDIT).find(flt, sort=[("version", -1)], limit=limit + 1)
    page = docs[:limit]
    return Page(
        items=[SettingsChange.model_validate(_public(d)) for d in page],
        next_cursor=encode_cursor([str(page[-1]["version"])]) if len(docs) > limit else None,
    )


def _write(
    tenant: Tenant,
    actor: Actor,
    new: dict[str, Any],
    expected: int,
    action: str,
    rolled_back_to: int | None = None,
) -> TenantSettings:
    current = collection(tenant, CURRENT)
    now = datetime.now(UTC)
    key = str(tenant.tenant_id)
    before = current.find_one({"_id": key})
    if before is not None and before["version"] != expected:
        raise _stale(before["version"])
    previous = before["settings"] if before else {}
    version = expected + 1
    history = {
        "version": version,
        "action": action,
        "settings": new,
        "diff": diff(previous, new),
        "actorId": actor.user_id,
        "actorRole": actor.role,
        "at": now,
        "requestId": request_id.get(),
        "rolledBackTo": rolled_back_to,
    }
    change = Change(
        f"settings.{action}", "settings", version, {"settings": previous}, {"settings": new}, copies={AUDIT: history}
    )
    fields = {"settings": new, "updatedAt": now, "updatedBy": actor.user_id}
    if expected == 0:
        try:
            doc = mongo_audit.insert(current, actor, {"_id": key, "version": version, **fields}, change)
        except Conflict:
            raise _stale(None) from None
    else:
        found = mongo_audit.update(
            current, actor, {"_id": key, "version": expected}, {"$set": fields, "$inc": {"version": 1}}, change
        )
        if found is None:
            latest = current.find_one({"_id": key})
            raise _stale(latest["version"] if latest else 0)
        doc = found
    return _current(doc)


def _stale(current: int | None) -> Conflict:
    detail = "The settings were changed by someone else; reload and retry."
    return Conflict(detail) if current is None else Conflict(detail, currentVersion=current)


def _current(doc: dict[str, Any]) -> TenantSettings:
    return TenantSettings(
        version=doc["version"],
        settings=doc["settings"],
        updated_at=doc.get("updatedAt"),
        updated_by=doc.get("updatedBy"),
    )


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("_id", "tenantId", "requestId")}


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
