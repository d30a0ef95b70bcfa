"""Feature flags per tenant in MongoDB, with the platform switches of public.tenant_features."""

from __future__ import annotations

import time

import pytest

from hrms.db.postgres import transaction
from hrms.errors import Forbidden, NotFound
from hrms.flags import service
from hrms.flags.models import FlagChange, FlagRule
from tests.integration.mongo_world import actor, as_tenant


def _platform(tenant, name: str, enabled: bool) -> None:
    with transaction() as conn:
        conn.execute(
            "INSERT INTO public.tenant_features (tenant_id, name, enabled) VALUES (%s, %s, %s)"
            " ON CONFLICT (tenant_id, name) DO UPDATE SET enabled = excluded.enabled",
            (tenant.tenant_id, name, enabled),
        )


def test_set_get_list_and_replace_a_flag(tenant):
    t = as_tenant(tenant)
    admin = actor(t)
    created = service.set_flag(t, admin, "new-ui", FlagChange(enabled=True, rollout_percent=30))
    assert (created.name, created.enabled, created.rollout_percent) == ("new-ui", True, 30)
    service.set_flag(t, admin, "beta.reports", FlagChange(enabled=False))
    replaced = service.set_flag(t, admin, "new-ui", FlagChange(enabled=True, rollout_percent=80))
    assert replaced.rollout_percent == 80
    assert service.get_flag(t, "new-ui").rollout_percent == 80
    assert [f.name for f in service.list_flags(t).items] == ["beta.reports", "new-ui"]
    with pytest.raises(NotFound):
        service.get_flag(t, "missing")


def test_evaluation_is_stable_and_follows_rules(tenant):
    t = as_tenant(tenant)
    admin = actor(t)
    rules = [FlagRule(attribute="role", values=["hr_manager"], enabled=True)]
    service.set_flag(t, admin, "payslips-v2", FlagChange(enabled=True, rollout_percent=50, rules=rules))
    employee = actor(t, "employee")
    first = service.evaluate_flag(t, employee, "payslips-v2", None)
    assert all(service.evaluate_flag(t, employee, "payslips-v2", None) == first for _ in range(5))
    assert service.evaluate_flag(t, actor(t, "hr_manager"), "payslips-v2", None).enabled is True
    assert service.evaluate_flag(t, admin, "payslips-v2", employee.user_id) == first
    with pytest.raises(Forbidden):
        service.evaluate_flag(t, employee, "payslips-v2", admin.user_id)
    with pytest.raises(NotFound):
        service.evaluate_flag(t, employee, "nope", None)


def test_platform_switch_off_disables_the_flag_for_everyone(tenant):
    t = as_tenant(tenant)
    service.set_flag(t, actor(t), "ai-assist", FlagChange(enabled=True, rollout_percent=100))
    assert service.evaluate_flag(t, actor(t), "ai-assist", None).enabled is True
    _platform(t, "ai-assist", False)
    result = service.evaluate_flag(t, actor(t), "ai-assist", None)
    assert (result.enabled, result.reason) == (False, "platform_disabled")
    assert service.get_flag(t, "ai-assist").platform_enabled is False
    _platform(t, "platform-only", True)
    assert service.evaluate_flag(t, actor(t), "platform-only", None).enabled is True


def test_flags_are_per_tenant(tenant, platform_actor):
    from hrms.tenants import service as tenants
    from hrms.tenants.models import NewTenant

    other = as_tenant(
        tenants.create_tenant(NewTenant(name="O", slug=f"f-{time.time_ns()}", admin_email="a@o.io"), platform_actor)
    )
    t = as_tenant(tenant)
    service.set_flag(t, actor(t), "mine", FlagChange(enabled=True))
    with pytest.raises(NotFound):
        service.get_flag(other, "mine")
    with pytest.raises(NotFound):
        service.evaluate_flag(other, actor(other), "mine", None)
    assert service.list_flags(other).items == []
