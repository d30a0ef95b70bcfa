"""The API through the local gateway with the functions on the 3-primary Valkey cluster, as `hrms dev
--redis-cluster` runs it (template parameter RedisCluster=true, REDIS_URL a startup node): cached routes fill
the tenant's slot and writes refresh them; with the primary serving the tenant's slot stopped, every route
still answers (the cache is optional) and the cache works again once the primary is back."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hrms.cache import store
from hrms.cache.client import redis_client
from tests.conftest import ROOT, bearer
from tests.e2e.test_redis_outage import admin_token  # noqa: F401 - the tenant admin, password already changed

_PARAM = re.compile(r"\{(\w+)\+?\}")


@pytest.fixture
def cluster_client(on_cluster: Any) -> Iterator[httpx.Client]:
    """A gateway whose functions get RedisCluster=true, as `hrms dev --redis-cluster` gives them."""
    from hrms_tools.local.gateway import LocalGateway, make_server
    from hrms_tools.local.runtime import RuntimeOptions
    from hrms_tools.local.template import Template

    options = RuntimeOptions(parameter_overrides={"RedisCluster": "true"})
    app = LocalGateway(Template.load(ROOT / "template.yaml"), options)
    server = make_server(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=30) as http:
            http.app = app  # type: ignore[attr-defined]
            yield http
    finally:
        server.shutdown()


def _owner(on_cluster: Any, key: str) -> Any:
    return on_cluster.cluster.node(on_cluster.cluster.owner(redis_client().keyslot(key)))


def test_cached_routes_fill_the_tenants_slot_and_writes_refresh_them(
    cluster_client: httpx.Client,
    on_cluster: Any,
    tenant: Any,
    admin_token: str,  # noqa: F811
) -> None:
    admin = bearer(admin_token)
    hierarchy_key = f"org:{{{tenant.tenant_id}}}:hierarchy"
    assert cluster_client.get("/org/hierarchy", headers=admin).status_code == 200
    assert cluster_client.get("/dashboards/executive", headers=admin).status_code == 200
    owner = _owner(on_cluster, hierarchy_key)
    assert owner.exists(hierarchy_key, f"dashboard:{{{tenant.tenant_id}}}:executive") == 2  # one node, one slot

    created = cluster_client.post("/departments", json={"name": "Platform", "code": "PLT"}, headers=admin)
    assert created.status_code == 201, created.text
    assert owner.exists(hierarchy_key) == 0  # invalidated on the cluster
    roots = cluster_client.get("/org/hierarchy", headers=admin).json()["roots"]
    assert "Platform" in {root["name"] for root in roots}
    health = cluster_client.get("/health").json()
    assert (health["status"], health["checks"]["redis"]["ok"]) == ("ok", True)


def test_with_the_tenants_primary_down_every_route_answers(
    cluster_client: httpx.Client,
    on_cluster: Any,
    tenant: Any,
    admin_token: str,  # noqa: F811
) -> None:
    admin = bearer(admin_token)
    on_cluster.expect_failures()
    cluster = on_cluster.cluster
    index = cluster.owner(redis_client().keyslot(f"org:{{{tenant.tenant_id}}}:hierarchy"))
    assert cluster_client.get("/org/hierarchy", headers=admin).status_code == 200  # cached

    cluster.stop_node(index)
    try:
        created = cluster_client.post("/departments", json={"name": "Outage", "code": "OUT"}, headers=admin)
        assert created.status_code == 201, created.text  # its invalidation cannot reach the tenant's primary
        started = time.perf_counter()
        roots = cluster_client.get("/org/hierarchy", headers=admin).json()["roots"]
        assert time.perf_counter() - started < 2
        assert "Outage" in {root["name"] for root in roots}
        for route in cluster_client.app.template.routes:  # type: ignore[attr-defined]
            path = _PARAM.sub(str(uuid.uuid4()), route.path)
            body = {} if route.method in ("POST", "PUT", "PATCH") else None
            response = cluster_client.request(route.method, path, headers=admin, json=body)
            assert response.status_code < 500, f"{route.method} {path}: {response.text}"
    finally:
        cluster.start_node(index)
        cluster.wait_ok()
        store.reset_breaker()

    roots = cluster_client.get("/org/hierarchy", headers=admin).json()["roots"]
    assert "Outage" in {root["name"] for root in roots}
    assert _owner(on_cluster, f"org:{{{tenant.tenant_id}}}:hierarchy").exists(
        f"org:{{{tenant.tenant_id}}}:hierarchy"
    )  # cached again on the primary that came back
