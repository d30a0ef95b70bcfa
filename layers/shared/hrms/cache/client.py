"""Redis/Valkey client factory: standalone or ElastiCache cluster mode, TLS via `rediss://`."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from hrms import aws, snapstart
from hrms.config import settings


@cache
def redis_client() -> Any:
    import redis

    cfg = settings()
    options: dict[str, Any] = {
        "socket_connect_timeout": cfg.redis_timeout_s,
        "socket_timeout": cfg.redis_timeout_s,
        "decode_responses": True,
    }
    if cfg.redis_auth_secret_id:
        options["credential_provider"] = _secret_credentials(cfg.redis_auth_secret_id)
    if cfg.redis_cluster:
        return _cluster_client(cfg.redis_url, options)
    return redis.Redis.from_url(cfg.redis_url, **options)


def _cluster_client(url: str, options: dict[str, Any]) -> Any:
    """Cluster mode (ElastiCache's configuration endpoint, or `hrms dev --redis-cluster`): the URL names one
    startup node, the client learns the slot map from it and routes each key to its slot's primary. Every key
    of a tenant carries the tenant's hash tag (hrms.cache.views.key), so the multi-key commands the cache
    sends stay within one slot. One retry after a connection error (with the slot map refreshed: a failover
    moved the slots), not redis-py's ten: the cache is optional, and a dead node in AWS costs a connect
    timeout per attempt before hrms.cache.store's breaker takes over."""
    from redis.backoff import NoBackoff
    from redis.cluster import RedisCluster
    from redis.retry import Retry

    return RedisCluster.from_url(url, retry=Retry(NoBackoff(), 1), **options)


def _secret_credentials(secret_id: str) -> Any:
    """AUTH from a Secrets Manager secret, asked for by every new connection and cached by Powertools
    Parameters for 5 minutes: a rotated token (ElastiCache's ROTATE, then SET) reaches warm containers.
    The secret is the token itself (the default user), or {"username", "password"} of an RBAC user."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from redis.credentials import CredentialProvider  # here, like redis itself: imported on first use
    from redis.exceptions import ConnectionError as RedisConnectionError

    class SecretCredentials(CredentialProvider):
        def get_credentials(self) -> tuple[str] | tuple[str, str]:
            try:
                return credentials(aws.secret(secret_id))
            except GetParameterError as exc:  # Redis is then unavailable, as for any connection error
                raise RedisConnectionError("the Redis AUTH secret could not be read") from exc

    return SecretCredentials()


def credentials(secret: str) -> tuple[str] | tuple[str, str]:
    """(password,) or (username, password) from the secret's string."""
    value = secret.strip()
    if value.startswith("{"):
        parsed = json.loads(value)
        return (parsed["username"], parsed["password"]) if parsed.get("username") else (parsed["password"],)
    return (value,)


def close_client() -> None:
    if redis_client.cache_info().currsize:
        redis_client().close()
        redis_client.cache_clear()


snapstart.on_restore(close_client)  # a container restored from a snapshot opens its own client
