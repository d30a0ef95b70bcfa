"""Feature flags per tenant (MongoDB `FeatureFlag`), evaluated with the platform switches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hrms.db import mongo_audit
from hrms.db.mongo_audit import Change
from hrms.db.postgres import transaction
from hrms.db.tenant_collection import collection
from hrms.errors import Forbidden, NotFound
from hrms.flags.evaluation import evaluate
from hrms.flags.models import FeatureFlag, FlagChange, FlagEvaluation
from hrms.pagination import Page
from hrms.tenancy import Actor, Tenant

FLAGS = "FeatureFlag"
_MAY_EVALUATE_OTHERS = frozenset({"admin", "hr_manager"})


def list_flags(tenant: Tenant) -> Page[FeatureFlag]:
    platform = _platform_switches(tenant)
    docs = collection(tenant, FLAGS).find({}, sort=[("name", 1)], limit=1000)
    return Page(items=[_flag(d, platform.get(d["name"])) for d in docs])


def get_flag(tenant: Tenant, name: str) -> FeatureFlag:
    doc = collection(tenant, FLAGS).find_one({"name": name})
    if doc is None:
        raise NotFound("No such feature flag.")
    return _flag(doc, _platform_switches(tenant, name).get(name))


def set_flag(tenant: Tenant, actor: Actor, name: str, change: FlagChange) -> FeatureFlag:
    now = datetime.now(UTC)
    fields = {
        "enabled": change.enabled,
        "rolloutPercent": change.rollout_percent,
        "rules": [r.model_dump(by_alias=True) for r in change.rules],
        "description": change.description,
        "updatedAt": now,
        "updatedBy": actor.user_id,
    }
    flags = collection(tenant, FLAGS)
    before = flags.find_one({"name": name})
    audited = Change("update" if before else "create", "feature_flag", name, before, {**(before or {}), **fields})
    upsert = {"$set": fields, "$setOnInsert": {"createdAt": now}}
    doc = mongo_audit.update(flags, actor, {"name": name}, upsert, audited, upsert=True)
    assert doc is not None  # an upsert always returns the document
    return _flag(doc, _platform_switches(tenant, name).get(name))


def evaluate_flag(tenant: Tenant, actor: Actor, name: str, user_id: str | None) -> FlagEvaluation:
    """Stable per user: the same user always lands in the same rollout bucket."""
    if user_id is not None and user_id != actor.user_id and actor.role not in _MAY_EVALUATE_OTHERS:
        raise Forbidden("Only admins and HR may evaluate a flag for another user.")
    platform = _platform_switches(tenant, name).get(name)
    doc = collection(tenant, FLAGS).find_one({"name": name})
    if doc is None and platform is None:
        raise NotFound("No such feature flag.")
    enabled, reason = evaluate(str(tenant.tenant_id), name, doc, platform, user_id or actor.user_id, actor.role)
    return FlagEvaluation(name=name, enabled=enabled, reason=reason)


def _platform_switches(tenant: Tenant, name: str | None = None) -> dict[str, bool]:
    with transaction() as conn:
        rows = conn.execute(
            "SELECT name, enabled FROM public.tenant_features WHERE tenant_id = %s AND (%s::text IS NULL OR name = %s)",
            (tenant.tenant_id, name, name),
        ).fetchall()
    return {row["name"]: row["enabled"] for row in rows}


def _flag(doc: dict[str, Any], platform: bool | None) -> FeatureFlag:
    return FeatureFlag(
        name=doc["name"],
        enabled=doc["enabled"],
        rollout_percent=doc.get("rolloutPercent", 100),
        rules=doc.get("rules") or [],
        description=doc.get("description"),
        platform_enabled=platform,
        updated_at=doc.get("updatedAt"),
        updated_by=doc.get("updatedBy"),
    )
