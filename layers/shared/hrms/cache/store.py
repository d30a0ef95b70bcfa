"""Best-effort JSON cache on Redis. Redis is an accelerator, never a source of truth:
every failure is logged and treated as a miss, and after one failure Redis is skipped for a
few seconds (a small circuit breaker) so an outage costs one timeout, not one per call.

In cluster mode (REDIS_CLUSTER) a command's keys must hash to one slot, or the server answers CROSSSLOT. A
tenant's keys do (they share the tenant's hash tag), and a DEL that may span tenants (a pattern flush) is split
by redis-py's cluster client: one DEL per slot, pipelined, one round trip per primary. Pattern deletes SCAN
every primary: each node's SCAN sees only its own keys.

redis-py is imported on the first cache call (hrms.cache.client), never at import: it costs ~50 ms of CPU,
which a request that never reaches the cache should not pay.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from functools import cache
from typing import Any

from hrms.cache.client import redis_client
from hrms.observability import logger


@cache
def _redis_errors() -> tuple[type[Exception], ...]:
    """What a failing Redis call raises. Evaluated only when an exception reaches an `except`: by then
    redis_client() has imported redis (or failed to, and importing it here raises that error again)."""
    from redis.exceptions import RedisClusterException, RedisError

    return (RedisError, RedisClusterException, OSError)


_BREAKER_S = 5.0
_state = {"open_until": 0.0}
_lock = threading.Lock()


def available() -> bool:
    return time.monotonic() >= _state["open_until"]


def _failed(operation: str, exc: Exception) -> None:
    with _lock:
        _state["open_until"] = time.monotonic() + _BREAKER_S
    logger.warning(
        "Redis unavailable; continuing without cache", extra={"operation": operation, "error": type(exc).__name__}
    )


def reset_breaker() -> None:
    _state["open_until"] = 0.0


def get_json(key: str) -> Any | None:
    if not available():
        return None
    try:
        raw = redis_client().get(key)
    except _redis_errors() as exc:  # any Redis failure is a cache miss
        _failed("get", exc)
        return None
    return json.loads(raw) if raw is not None else None


def set_json(key: str, value: Any, ttl_s: int) -> None:
    if not available():
        return
    try:
        redis_client().set(key, json.dumps(value, default=str, separators=(",", ":")), ex=ttl_s)
    except _redis_errors() as exc:
        _failed("set", exc)


def delete(keys: Iterable[str]) -> None:
    keys = list(keys)
    if not keys or not available():
        return
    try:
        redis_client().delete(*keys)
    except _redis_errors() as exc:
        _failed("delete", exc)


def delete_matching(pattern: str) -> int:
    """Delete keys matching a glob with SCAN (never KEYS), on every primary of a cluster; returns how many went."""
    if not available():
        return 0
    deleted = 0
    try:
        client = redis_client()
        batch: list[str] = []
        for key in client.scan_iter(match=pattern, count=500):  # a cluster client SCANs each primary in turn
            batch.append(key)
            if len(batch) == 500:
                deleted += client.delete(*batch)
                batch.clear()
        if batch:
            deleted += client.delete(*batch)
    except _redis_errors() as exc:
        _failed("delete_matching", exc)
    return deleted
