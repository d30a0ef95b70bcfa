"""Store access of the flags domain: the tenant's `FeatureFlag` documents (MongoDB) and the
platform switches in `public.tenant_features` (PostgreSQL).

Flags come out typed as `Flag` (built from the stored dict in `_flag` only); `tenantId`, `_id`
and `_pendingAudit` stay here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import sql

from hrms.db import mongo_audit, rows
from hrms.db.mongo_audit import Change
from hrms.db.postgres import transaction
from hrms.db.tenant_collection import collection
from hrms.tenancy import Actor, Tenant

FLAGS = "FeatureFlag"


@dataclass(frozen=True)
class Flag:
    """A `FeatureFlag` document."""

    name: str
    enabled: bool
    rollout_percent: int
    rules: list[dict[str, Any]]
    description: str | None
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True)
class Switch:
    """A `public.tenant_features` row."""

    name: str
    enabled: bool


def all_flags(tenant: Tenant) -> list[Flag]:
    return [_flag(d) for d in collection(tenant, FLAGS).find({}, sort=[("name", 1)], limit=1000)]


def find(tenant: Tenant, name: str) -> Flag | None:
    doc = collection(tenant, FLAGS).find_one({"name": name})
    return None if doc is None else _flag(doc)


def save(
    tenant: Tenant,
    actor: Actor,
    name: str,
    *,
    enabled: bool,
    rollout_percent: int,
    rules: list[dict[str, Any]],
    description: str | None,
) -> Flag:
    """Create or replace the flag `name`, audited (`create` or `update`)."""
    now = datetime.now(UTC)
    fields = {
        "enabled": enabled,
        "rolloutPercent": rollout_percent,
        "rules": rules,
        "description": description,
        "updatedAt": now,
        "updatedBy": actor.user_id,
    }
    flags = collection(tenant, FLAGS)
    before = flags.find_one({"name": name})
    audited = Change("update" if before else "create", "feature_flag", name, before, {**(before or {}), **fields})
    upsert = {"$set": fields, "$setOnInsert": {"createdAt": now}}
    doc = mongo_audit.update(flags, actor, {"name": name}, upsert, audited, upsert=True)
    assert doc is not None  # an upsert always returns the document
    return _flag(doc)


def platform_switches(tenant: Tenant, name: str | None = None) -> dict[str, bool]:
    """The platform's switches for the tenant (only `name`'s, if given)."""
    query = sql.SQL(
        "SELECT name, enabled FROM public.tenant_features WHERE tenant_id = %s AND (%s::text IS NULL OR name = %s)"
    )
    with transaction() as conn:
        switches = rows.many(conn, Switch, query, (tenant.tenant_id, name, name))
    return {s.name: s.enabled for s in switches}


def _flag(doc: dict[str, Any]) -> Flag:
    return Flag(
        name=doc["name"],
        enabled=doc["enabled"],
        rollout_percent=doc.get("rolloutPercent", 100),
        rules=doc.get("rules") or [],
        description=doc.get("description"),
        updated_at=doc.get("updatedAt"),
        updated_by=doc.get("updatedBy"),
    )
