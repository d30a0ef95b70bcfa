"""MongoDB access of the settings domain: `TenantSettings` (one document per tenant, `_id` = tenant
id) and `SettingsAudit` (one snapshot per version, written with the change by `hrms.db.mongo_audit`).

Documents come out typed: `Current` and `Snapshot` below, each built from the stored dict in one
place (`_current`, `_snapshot`); `tenantId`, `_id`, `requestId` and `_pendingAudit` stay here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hrms.db import mongo_audit
from hrms.db.mongo_audit import Change
from hrms.db.tenant_collection import collection
from hrms.request_context import request_id
from hrms.tenancy import Actor, Tenant

CURRENT = "TenantSettings"
AUDIT = "SettingsAudit"


@dataclass(frozen=True)
class Current:
    """The tenant's `TenantSettings` document."""

    version: int
    settings: dict[str, Any]
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True)
class Snapshot:
    """A `SettingsAudit` document: the settings as one version left them."""

    version: int
    action: str
    settings: dict[str, Any]
    diff: list[dict[str, Any]]
    actor_id: str
    actor_role: str
    at: datetime
    rolled_back_to: int | None


def current(tenant: Tenant) -> Current | None:
    doc = collection(tenant, CURRENT).find_one({"_id": str(tenant.tenant_id)})
    return None if doc is None else _current(doc)


def snapshot(tenant: Tenant, version: int) -> Snapshot | None:
    doc = collection(tenant, AUDIT).find_one({"version": version})
    return None if doc is None else _snapshot(doc)


def snapshots(tenant: Tenant, *, below: int | None, limit: int) -> list[Snapshot]:
    """Newest version first, versions below `below` (if given)."""
    flt: dict[str, Any] = {"version": {"$lt": below}} if below is not None else {}
    return [_snapshot(d) for d in collection(tenant, AUDIT).find(flt, sort=[("version", -1)], limit=limit)]


def write(
    tenant: Tenant,
    actor: Actor,
    *,
    expected: int,
    previous: dict[str, Any],
    new: dict[str, Any],
    diff: list[dict[str, Any]],
    action: str,
    rolled_back_to: int | None,
) -> Current | None:
    """Version `expected + 1` with `new` settings, its snapshot and audit row, in one audited write.

    `expected == 0` inserts (a duplicate `_id` raises `Conflict`); otherwise the update matches only
    while the stored version is still `expected`: None when it is not (nothing written)."""
    target = collection(tenant, CURRENT)
    now = datetime.now(UTC)
    key = str(tenant.tenant_id)
    version = expected + 1
    history = {
        "version": version,
        "action": action,
        "settings": new,
        "diff": diff,
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
        return _current(mongo_audit.insert(target, actor, {"_id": key, "version": version, **fields}, change))
    found = mongo_audit.update(
        target, actor, {"_id": key, "version": expected}, {"$set": fields, "$inc": {"version": 1}}, change
    )
    return None if found is None else _current(found)


def _current(doc: dict[str, Any]) -> Current:
    return Current(
        version=doc["version"],
        settings=doc["settings"],
        updated_at=doc.get("updatedAt"),
        updated_by=doc.get("updatedBy"),
    )


def _snapshot(doc: dict[str, Any]) -> Snapshot:
    return Snapshot(
        version=doc["version"],
        action=doc["action"],
        settings=doc["settings"],
        diff=doc["diff"],
        actor_id=doc["actorId"],
        actor_role=doc["actorRole"],
        at=doc["at"],
        rolled_back_to=doc.get("rolledBackTo"),
    )
