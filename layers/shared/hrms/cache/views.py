"""Cached read models stamped with a Postgres epoch, so a missed invalidation never serves stale data.

Key names follow the guide with the tenant id inside braces (a Redis Cluster hash tag, so one
tenant's keys share a slot): `org:{<tenantId>}:hierarchy`, `perms:{<tenantId>}:user:<id>` ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from psycopg import sql

from hrms.cache import store
from hrms.db.postgres import TenantTx

T = TypeVar("T")

TTL_ORG_S = 3600
TTL_PERMS_S = 1800
TTL_DASHBOARD_S = 900
TTL_STATS_S = 1800


def key(namespace: str, tenant_id: object, *parts: object) -> str:
    return ":".join([namespace, f"{{{tenant_id}}}", *map(str, parts)])


def epoch(tx: TenantTx, namespace: str) -> int:
    row = tx.execute(sql.SQL("SELECT epoch FROM {} WHERE name = %s").format(tx.t("cache_epochs")), (namespace,))
    found = row.fetchone()
    return int(found["epoch"]) if found else 0


def cached(tx: TenantTx, namespace: str, cache_key: str, ttl_s: int, compute: Callable[[], T]) -> T:
    """The value under `cache_key` if stamped with the current epoch of `namespace`, else compute and store it.

    `compute` must return JSON-serialisable data (dicts/lists of plain values).
    """
    current = epoch(tx, namespace)
    hit = store.get_json(cache_key)
    if isinstance(hit, dict) and hit.get("epoch") == current:
        return hit["value"]
    value = compute()
    store.set_json(cache_key, {"epoch": current, "value": value}, ttl_s)
    return value


def invalidate(tx: TenantTx, namespace: str, keys: list[str] | None = None, pattern: str | None = None) -> None:
    """Bump the namespace's epoch in the caller's transaction, then drop keys best-effort."""
    tx.execute(
        sql.SQL(
            "INSERT INTO {} AS e (name, epoch) VALUES (%s, 1) ON CONFLICT (name) DO UPDATE SET epoch = e.epoch + 1"
        ).format(tx.t("cache_epochs")),
        (namespace,),
    )
    store.delete(keys or [])
    if pattern:
        store.delete_matching(pattern)
