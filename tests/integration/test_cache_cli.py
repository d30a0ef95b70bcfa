"""`hrms cache preload|flush`: against the embedded Valkey, one tenant's keys never touch another's."""

from __future__ import annotations

import json

from hrms.cache.client import redis_client
from hrms.cache.views import key


def _seed_keys(tenant_id: object) -> list[str]:
    keys = [
        key("org", tenant_id, "hierarchy"),
        key("perms", tenant_id, "user", "u1"),
        key("dashboard", tenant_id, "executive"),
    ]
    for k in keys:
        redis_client().set(k, "{}")
    return keys


def test_flushing_one_tenant_leaves_another_tenants_keys(cli, tenant, other_tenant):
    mine, theirs = _seed_keys(tenant.tenant_id), _seed_keys(other_tenant.tenant_id)

    result = cli("cache", "flush", "--tenant", tenant.slug, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deleted"] == len(mine)
    assert redis_client().exists(*mine) == 0
    assert redis_client().exists(*theirs) == len(theirs)


def test_flushing_everything_needs_confirmation_and_spares_foreign_keys(cli, tenant):
    mine = _seed_keys(tenant.tenant_id)
    redis_client().set("someone-else:key", "1")

    refused = cli("cache", "flush", "--all")
    assert refused.exit_code == 2
    assert redis_client().exists(*mine) == len(mine)

    done = cli("cache", "flush", "--all", "--yes")
    assert done.exit_code == 0, done.output
    assert redis_client().exists(*mine) == 0
    assert redis_client().get("someone-else:key") == "1"


def test_preload_warms_one_tenants_org_views(cli, tenant):
    hierarchy = key("org", tenant.tenant_id, "hierarchy")
    redis_client().delete(hierarchy)

    result = cli("cache", "preload", "--tenant", tenant.slug, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"tenants": 1, "warmed": 1, "failed": 0}
    assert redis_client().exists(hierarchy) == 1
