"""Redis/Valkey client factory: standalone or ElastiCache cluster mode, TLS via `rediss://`."""

from __future__ import annotations

from functools import cache
from typing import Any

from hrms import aws
from hrms.config import settings


@cache
def redis_client() -> Any:
    import redis
    from redis.cluster import RedisCluster

    cfg = settings()
    options: dict[str, Any] = {
        "socket_connect_timeout": cfg.redis_timeout_s,
        "socket_timeout": cfg.redis_timeout_s,
        "decode_responses": True,
    }
    if cfg.redis_auth_secret_id:
        options["password"] = aws.secret(cfg.redis_auth_secret_id)
    if cfg.redis_cluster:
        return RedisCluster.from_url(cfg.redis_url, **options)
    return redis.Redis.from_url(cfg.redis_url, **options)


def close_client() -> None:
    if redis_client.cache_info().currsize:
        redis_client().close()
        redis_client.cache_clear()
