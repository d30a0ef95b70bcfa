"""Feature flags per tenant (MongoDB `FeatureFlag`), evaluated with the platform switches."""

from __future__ import annotations

from hrms.errors import Forbidden, NotFound
from hrms.flags import repo
from hrms.flags.evaluation import evaluate
from hrms.flags.models import FeatureFlag, FlagChange, FlagEvaluation
from hrms.pagination import Page
from hrms.tenancy import Actor, Tenant

_MAY_EVALUATE_OTHERS = frozenset({"admin", "hr_manager"})


def list_flags(tenant: Tenant) -> Page[FeatureFlag]:
    platform = repo.platform_switches(tenant)
    return Page(items=[_out(f, platform.get(f.name)) for f in repo.all_flags(tenant)])


def get_flag(tenant: Tenant, name: str) -> FeatureFlag:
    flag = repo.find(tenant, name)
    if flag is None:
        raise NotFound("No such feature flag.")
    return _out(flag, repo.platform_switches(tenant, name).get(name))


def set_flag(tenant: Tenant, actor: Actor, name: str, change: FlagChange) -> FeatureFlag:
    flag = repo.save(
        tenant,
        actor,
        name,
        enabled=change.enabled,
        rollout_percent=change.rollout_percent,
        rules=[r.model_dump(by_alias=True) for r in change.rules],
        description=change.description,
    )
    return _out(flag, repo.platform_switches(tenant, name).get(name))


def evaluate_flag(tenant: Tenant, actor: Actor, name: str, user_id: str | None) -> FlagEvaluation:
    """Stable per user: the same user always lands in the same rollout bucket."""
    if user_id is not None and user_id != actor.user_id and actor.role not in _MAY_EVALUATE_OTHERS:
        raise Forbidden("Only admins and HR may evaluate a flag for another user.")
    platform = repo.platform_switches(tenant, name).get(name)
    flag = repo.find(tenant, name)
    if flag is None and platform is None:
        raise NotFound("No such feature flag.")
    spec = (
        None if flag is None else {"enabled": flag.enabled, "rolloutPercent": flag.rollout_percent, "rules": flag.rules}
    )
    enabled, reason = evaluate(str(tenant.tenant_id), name, spec, platform, user_id or actor.user_id, actor.role)
    return FlagEvaluation(name=name, enabled=enabled, reason=reason)


def _out(flag: repo.Flag, platform: bool | None) -> FeatureFlag:
    return FeatureFlag(
        name=flag.name,
        enabled=flag.enabled,
        rollout_percent=flag.rollout_percent,
        rules=flag.rules,
        description=flag.description,
        platform_enabled=platform,
        updated_at=flag.updated_at,
        updated_by=flag.updated_by,
    )
