"""Versioned tenant settings in MongoDB: versions, conflicts, concurrent writers, history, rollback, outage."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hrms.db.tenant_collection import INDEXES, collection, ensure_indexes, reset_breaker
from hrms.errors import Conflict, DependencyDown, NotFound
from hrms.health.checks import check_health
from hrms.settings import service
from hrms.settings.models import SettingsRollback, SettingsUpdate
from tests.conftest import _reset_clients
from tests.integration.mongo_world import actor, as_tenant


def _put(tenant: Any, who: Any, settings: dict[str, Any], expected: int) -> Any:
    return service.update_settings(tenant, who, SettingsUpdate(settings=settings, expected_version=expected))


def test_effective_settings_overlay_the_postgres_defaults(tenant):
    t = as_tenant(tenant)
    defaults = {"weekendDays": [6, 7], "currency": "INR", "timezone": "Asia/Kolkata"}
    assert service.effective_settings(t, defaults) == defaults
    _put(t, actor(t), {"weekendDays": [5, 6]}, 0)
    assert service.effective_settings(t, defaults) == {**defaults, "weekendDays": [5, 6]}


def test_a_new_tenant_starts_at_version_zero_and_each_write_adds_one(tenant):
    t = as_tenant(tenant)
    admin = actor(t)
    assert service.get_settings(t).version == 0
    assert _put(t, admin, {"currency": "INR"}, 0).version == 1
    second = _put(t, admin, {"currency": "EUR", "timezone": "Europe/Berlin"}, 1)
    assert second.version == 2
    assert service.get_settings(t).settings == {"currency": "EUR", "timezone": "Europe/Berlin"}
    assert second.updated_by == admin.user_id


def test_stale_expected_version_is_a_conflict_naming_the_current_version(tenant):
    t = as_tenant(tenant)
    _put(t, actor(t), {"currency": "INR"}, 0)
    with pytest.raises(Conflict) as caught:
        _put(t, actor(t), {"currency": "USD"}, 0)
    assert caught.value.extra == {"currentVersion": 1}
    with pytest.raises(Conflict):
        _put(t, actor(t), {"currency": "USD"}, 7)
    assert service.get_settings(t).settings == {"currency": "INR"}


def test_concurrent_writers_of_one_version_exactly_one_wins(tenant):
    t = as_tenant(tenant)
    _put(t, actor(t), {"n": 0}, 0)

    def attempt(n: int) -> str:
        try:
            _put(t, actor(t), {"n": n}, 1)
            return "won"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(1, 17)))
    assert outcomes.count("won") == 1
    assert outcomes.count("conflict") == 15
    current = service.get_settings(t)
    assert current.version == 2
    history = service.settings_history(t, 50, None).items
    assert [h.version for h in history] == [2, 1]
    assert history[0].settings == current.settings  # the winner's write is the one recorded


def test_every_change_is_audited_with_who_and_a_diff(tenant):
    t = as_tenant(tenant)
    alice, bob = actor(t), actor(t, "admin")
    _put(t, alice, {"currency": "INR", "weekendDays": [6, 7], "payroll": {"day": 28}}, 0)
    _put(t, bob, {"currency": "INR", "weekendDays": [7], "payroll": {"day": 30}, "timezone": "Asia/Kolkata"}, 1)
    latest, first = service.settings_history(t, 10, None).items
    assert (latest.actor_id, first.actor_id) == (bob.user_id, alice.user_id)
    assert latest.action == "update"
    assert {d["path"]: (d["from"], d["to"]) for d in latest.diff} == {
        "payroll.day": (28, 30),
        "timezone": (None, "Asia/Kolkata"),
        "weekendDays": ([6, 7], [7]),
    }
    assert {d["path"] for d in first.diff} == {"currency", "weekendDays", "payroll"}


def test_rollback_makes_an_old_version_current_as_a_new_version(tenant):
    t = as_tenant(tenant)
    admin = actor(t)
    _put(t, admin, {"currency": "INR"}, 0)
    _put(t, admin, {"currency": "USD", "timezone": "UTC"}, 1)
    rolled = service.rollback_settings(t, admin, SettingsRollback(version=1))
    assert (rolled.version, rolled.settings) == (3, {"currency": "INR"})
    entry = service.settings_history(t, 1, None).items[0]
    assert (entry.action, entry.rolled_back_to, entry.version) == ("rollback", 1, 3)
    with pytest.raises(NotFound):
        service.rollback_settings(t, admin, SettingsRollback(version=99))
    with pytest.raises(Conflict):
        service.rollback_settings(t, admin, SettingsRollback(version=2, expected_version=2))


def test_history_pages_newest_first(tenant):
    t = as_tenant(tenant)
    for version in range(5):
        _put(t, actor(t), {"n": version}, version)
    first = service.settings_history(t, 2, None)
    second = service.settings_history(t, 2, first.next_cursor)
    third = service.settings_history(t, 2, second.next_cursor)
    assert [h.version for h in first.items + second.items + third.items] == [5, 4, 3, 2, 1]
    assert third.next_cursor is None


def test_known_settings_are_validated():
    with pytest.raises(ValueError, match="weekendDays"):
        SettingsUpdate(settings={"weekendDays": [0, 8]}, expected_version=0)
    with pytest.raises(ValueError, match="currency"):
        SettingsUpdate(settings={"currency": "rupees"}, expected_version=0)
    with pytest.raises(ValueError, match="timezone"):
        SettingsUpdate(settings={"timezone": "Mars/Olympus"}, expected_version=0)
    with pytest.raises(ValueError, match="names"):
        SettingsUpdate(settings={"a": {"$where": 1}}, expected_version=0)
    with pytest.raises(ValueError, match="2\\^53"):
        SettingsUpdate(settings={"n": [10**30]}, expected_version=0)
    with pytest.raises(ValueError):
        SettingsRollback(version=10**20)


def test_one_tenant_never_sees_another_tenants_settings(tenant, stack, platform_actor):
    from hrms.tenants import service as tenants
    from hrms.tenants.models import NewTenant

    other = as_tenant(
        tenants.create_tenant(NewTenant(name="O", slug=f"o-{time.time_ns()}", admin_email="a@o.io"), platform_actor)
    )
    t = as_tenant(tenant)
    _put(t, actor(t), {"secret": "alpha"}, 0)
    assert service.get_settings(other).version == 0
    assert service.settings_history(other, 10, None).items == []
    with pytest.raises(NotFound):
        service.rollback_settings(other, actor(other), SettingsRollback(version=1))
    stored = collection(t, "SettingsAudit").find()
    assert all(doc["tenantId"] == str(t.tenant_id) for doc in stored)


def test_indexes_lead_with_tenant_and_creation_is_idempotent(stack):
    ensure_indexes()
    ensure_indexes()
    from hrms.db.mongo import database

    for name, specs in INDEXES.items():
        info = database()[name].index_information()
        for _keys, options in specs:
            assert options["name"] in info, (name, options["name"])
            # The one exception: the audit sweep looks for old hints across tenants by time.
            leading = "at" if name == "PendingAudit" else "tenantId"
            assert info[options["name"]]["key"][0][0] == leading


def test_mongo_down_fails_fast_with_503_and_health_degraded(tenant, stack, reset_clients):
    t = as_tenant(tenant)
    stack.stop_service("mongo")
    _reset_clients()
    try:
        started = time.perf_counter()
        with pytest.raises(DependencyDown):
            service.get_settings(t)
        # Fails fast (1.5 s server selection), not after pymongo's default 30 s; a hang guard, not a benchmark.
        assert time.perf_counter() - started < 5.0
        with pytest.raises(DependencyDown):
            _put(t, actor(t), {"a": 1}, 0)
        assert service.effective_settings(t, {"weekendDays": [6, 7]}) == {"weekendDays": [6, 7]}
        report = check_health()
        assert report.status == "degraded"
        assert report.checks["mongo"].ok is False
        assert report.checks["postgres"].ok is True
    finally:
        stack.start_service("mongo")
        _reset_clients()
        reset_breaker()
    assert service.get_settings(t).version == 0


def test_settings_changes_also_reach_the_postgres_audit_trail(tenant):
    from hrms.audit.service import AuditFilter, list_audit_logs

    t = as_tenant(tenant)
    who = actor(t)
    _put(t, who, {"currency": "EUR"}, 0)
    page = list_audit_logs(t, who, AuditFilter(entity_type="settings"), 10, None)
    assert [entry.action for entry in page.items] == ["settings.update"]
    assert page.items[0].after == {"settings": {"currency": "EUR"}}
