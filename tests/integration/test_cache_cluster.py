"""The cache layer on a real 3-primary Valkey cluster (tests/cluster_fixtures.py): the cache tests of the
org views, dashboards, payroll stats and `hrms cache` run again here, unchanged, through the real services
with REDIS_CLUSTER on; then what only a cluster has: one slot per tenant, flushes over every primary, deletes
that span slots, and a primary going down. Any Redis error the cache meets fails a test (the fixture), so a
CROSSSLOT anywhere in these paths would show."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest
from redis.exceptions import RedisError, ResponseError

from hrms.cache import admin, store, views
from hrms.cache.client import redis_client
from hrms.dashboards import service as dashboards
from hrms.org import service as org_service
from hrms.payroll import runs, stats
from tests.integration.leave_world import World

# The cache tests of the single-server suite, collected again in this module and so run on the cluster.
from tests.integration.test_cache_cli import (  # noqa: F401
    test_flushing_everything_needs_confirmation_and_spares_foreign_keys,
    test_flushing_one_tenant_leaves_another_tenants_keys,
    test_preload_warms_one_tenants_org_views,
)
from tests.integration.test_dashboards import (  # noqa: F401
    staff,
    test_a_leave_decision_refreshes_both_employee_dashboards,
    test_employee_and_department_writes_refresh_the_executive_dashboard,
    test_employees_see_their_own_dashboard_and_managers_their_team,
    test_second_call_comes_from_redis_until_a_write_invalidates_it,
)
from tests.integration.test_org import (  # noqa: F401
    org,
    test_a_stale_cached_value_is_never_served_even_if_redis_missed_the_invalidation,
    test_department_list_is_cached_and_refreshed_after_an_update,
    test_preload_warms_the_org_views_of_every_active_tenant,
    test_second_hierarchy_read_is_a_cache_hit_and_a_write_makes_the_next_read_fresh,
)
from tests.integration.test_payroll import (  # noqa: F401
    MONTH,
    Payroll,
    payroll,
    test_stats_are_served_from_cache_and_fresh_after_a_change,
)

pytestmark = pytest.mark.usefixtures("on_cluster")


def _keys_on(node: Any, pattern: str) -> set[str]:
    return set(node.scan_iter(match=pattern, count=500))


def _tenants_on_every_primary(cluster: Any, per_primary: int = 1) -> dict[int, list[str]]:
    """Made-up tenant ids, `per_primary` of them served by each primary."""
    found: dict[int, list[str]] = {index: [] for index in range(cluster.primaries)}
    while any(len(ids) < per_primary for ids in found.values()):
        tenant_id = str(uuid.uuid4())
        owner = cluster.owner(redis_client().keyslot(views.key("org", tenant_id, "hierarchy")))
        if len(found[owner]) < per_primary:
            found[owner].append(tenant_id)
    return found


def _seed(tenant_id: str) -> list[str]:
    keys = [
        views.key("org", tenant_id, "hierarchy"),
        views.key("perms", tenant_id, "role", "admin"),
        views.key("dashboard", tenant_id, "executive"),
        views.key("dashboard", tenant_id, "employee", uuid.uuid4()),
        views.key("stats", tenant_id, "payroll", "2026-03"),
    ]
    for key in keys:
        store.set_json(key, {"epoch": 1, "value": tenant_id}, 60)
    return keys


def test_every_key_the_services_write_for_a_tenant_is_on_the_tenants_one_slot(world: World, on_cluster: Any) -> None:
    cluster = on_cluster.cluster
    pay = Payroll(world)
    employee = pay.hire()
    pay.run()  # warms stats:{t}:payroll:<month>
    org_service.get_hierarchy(world.tenant, world.admin)
    org_service.list_departments(world.tenant, world.admin, 50, None)
    dashboards.executive_dashboard(world.tenant, world.admin)
    dashboards.employee_dashboard(world.tenant, world.admin, "all", employee)

    tag = f"{{{world.tenant.tenant_id}}}"
    keys = set().union(*(_keys_on(cluster.node(i), f"*:{tag}:*") for i in range(cluster.primaries)))
    namespaces = {key.split(":", 1)[0] for key in keys}
    assert {"org", "dashboard", "stats"} <= namespaces, keys
    slots = {cluster.node(0).execute_command("CLUSTER KEYSLOT", key) for key in keys}
    assert len(slots) == 1, slots  # the hash tag is the tenant id: one slot, whatever the key
    (slot,) = slots
    assert slot == redis_client().keyslot(f"x:{tag}:y")
    owner = cluster.node(cluster.owner(slot))
    assert keys <= _keys_on(owner, f"*:{tag}:*")  # all on the primary serving that slot


def test_tenants_spread_over_every_primary(on_cluster: Any) -> None:
    cluster = on_cluster.cluster
    owners = {cluster.owner(redis_client().keyslot(views.key("org", uuid.uuid4(), "x"))) for _ in range(60)}
    assert owners == set(range(cluster.primaries))


def test_flushing_a_tenant_or_everything_scans_every_primary(on_cluster: Any) -> None:
    cluster = on_cluster.cluster
    tenants = _tenants_on_every_primary(cluster, per_primary=2)
    seeded = {tenant_id: _seed(tenant_id) for ids in tenants.values() for tenant_id in ids}
    redis_client().set("someone-else:{x}:key", "1")
    for index in range(cluster.primaries):  # each primary holds keys of its tenants
        assert _keys_on(cluster.node(index), "stats:*") >= {seeded[t][-1] for t in tenants[index]}

    target = tenants[2][0]
    assert admin.flush_tenant(target) == len(seeded[target])
    assert redis_client().exists(*seeded[target]) == 0
    others = [key for tenant_id, keys in seeded.items() if tenant_id != target for key in keys]
    assert redis_client().exists(*others) == len(others)

    assert admin.flush_all() >= len(others)
    for index in range(cluster.primaries):
        assert not any(_keys_on(cluster.node(index), f"{ns}:*") for ns in admin.NAMESPACES)
    assert redis_client().get("someone-else:{x}:key") == "1"
    redis_client().delete("someone-else:{x}:key")


def test_deletes_that_span_slots_are_split_by_slot_not_refused(on_cluster: Any) -> None:
    cluster = on_cluster.cluster
    tenants = _tenants_on_every_primary(cluster, per_primary=1)
    keys = [key for ids in tenants.values() for key in _seed(ids[0])]
    with pytest.raises(ResponseError, match="same slot"):  # CROSSSLOT: what the server does with such a DEL
        cluster.node(0).execute_command("DEL", *keys)

    store.delete(keys)  # several tenants at once: one DEL per slot, pipelined
    assert redis_client().exists(*keys) == 0

    many = [views.key("dashboard", uuid.uuid4(), "employee", n) for n in range(3) for _ in range(400)]
    for key in many:
        store.set_json(key, {"epoch": 1, "value": 0}, 60)
    started = time.perf_counter()
    deleted = store.delete_matching("dashboard:*")  # 1,200 keys over ~1,200 slots, in SCAN pages of 500
    elapsed = time.perf_counter() - started
    assert deleted >= len(many)
    assert redis_client().exists(*many) == 0
    assert elapsed < 5, f"{elapsed:.2f} s"


def test_with_a_primary_down_the_services_answer_and_the_cache_comes_back_with_it(
    world: World, on_cluster: Any
) -> None:
    cluster = on_cluster.cluster
    on_cluster.expect_failures()
    assert redis_client().retry.get_retries() == 1  # one retry with a fresh slot map, then the breaker
    pay = Payroll(world)
    pay.hire()
    pay.run()
    key = stats.cache_key(world.tenant.tenant_id, dt.date(2026, 3, 1))
    before = stats.payroll_stats(world.tenant, world.admin, MONTH)
    hierarchy = org_service.get_hierarchy(world.tenant, world.admin)
    assert store.get_json(key) is not None
    owner = cluster.owner(redis_client().keyslot(key))

    cluster.stop_node(owner)
    try:
        started = time.perf_counter()
        during = stats.payroll_stats(world.tenant, world.admin, MONTH)  # the cache fails: computed
        assert time.perf_counter() - started < 2
        assert during == before
        assert on_cluster.failures, "the cache should have met the dead primary"
        assert not store.available()  # the breaker: the next calls skip Redis altogether
        with pytest.raises(RedisError):
            admin.ping()  # what a health check asks: every primary
        assert org_service.get_hierarchy(world.tenant, world.admin) == hierarchy
        runs.approve(world.tenant, world.admin, before.payroll_run_id, None)  # its invalidation cannot reach Redis
    finally:
        cluster.start_node(owner)  # same port and nodes.conf: it rejoins with its slots (and no data)
        cluster.wait_ok()
        store.reset_breaker()

    admin.ping()
    after = stats.payroll_stats(world.tenant, world.admin, MONTH)
    assert after.status == "approved"
    assert store.get_json(key)["value"]["status"] == "approved"  # cached again on the primary that came back
