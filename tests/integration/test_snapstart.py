"""SnapStart's after-restore hook against the embedded stack: once Lambda has restored a container, a request
is served on a new, working PostgreSQL connection and a new Redis client, never on the snapshot's."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import snapshot_restore_py

from hrms.cache import client as cache
from hrms.db import postgres
from hrms_tools.local.invoker import LambdaContext

AUTHORIZER = Path(__file__).resolve().parents[2] / "functions" / "authorizer" / "app.py"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123:api/v1/GET/me"


def _authorizer_handler(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """functions/authorizer/app.py loaded as Lambda loads it, its hooks registered in a registry of their own."""
    monkeypatch.setattr(snapshot_restore_py, "_before_snapshot_registry", [])
    monkeypatch.setattr(snapshot_restore_py, "_after_restore_registry", [])
    spec = importlib.util.spec_from_file_location("snapstart_authorizer", AUTHORIZER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _restore() -> None:
    """What Lambda does when it resumes a container from the snapshot: the after-restore hooks, in order."""
    for hook, args, kwargs in snapshot_restore_py._after_restore_registry:  # type: ignore[attr-defined]
        hook(*args, **kwargs)


def _backend_pid() -> int:
    with postgres.transaction() as conn:
        return int(conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"])  # type: ignore[index]


def _backend_alive(pid: int) -> bool:
    with postgres.transaction() as conn:
        return conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is not None


def test_a_request_after_restore_is_served_on_a_new_connection(
    stack: Any, reset_clients: None, tenant_admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PG_POOL_MAX_SIZE", "1")  # one connection: which one served a request is then certain
    authorizer = _authorizer_handler(monkeypatch)
    # GIVEN a container that connected before its snapshot (what the hook guards against: init never should)
    snapshot_pool, snapshot_pid = postgres.pool(), _backend_pid()
    snapshot_redis = cache.redis_client()
    assert snapshot_redis.ping()

    # WHEN Lambda restores it and a request comes in
    _restore()
    event = {"type": "TOKEN", "authorizationToken": f"Bearer {tenant_admin_token}", "methodArn": METHOD_ARN}
    policy = authorizer.handler(event, LambdaContext("AuthorizerFunction", 5, str(uuid.uuid4())))

    # THEN the request succeeded on a connection of a new pool; the snapshot's is closed, its backend gone
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert postgres.pool() is not snapshot_pool and snapshot_pool.closed
    assert _backend_pid() != snapshot_pid
    assert not _backend_alive(snapshot_pid)
    assert cache.redis_client() is not snapshot_redis and cache.redis_client().ping()


def test_before_snapshot_leaves_nothing_to_restore(
    stack: Any, reset_clients: None, tenant_admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The init phase and the before-snapshot hook open no connection: the first request opens the pool."""
    postgres.close_pool()  # a fresh container (the fixtures used the database)
    cache.close_client()
    authorizer = _authorizer_handler(monkeypatch)
    for hook, args, kwargs in snapshot_restore_py._before_snapshot_registry:  # type: ignore[attr-defined]
        hook(*args, **kwargs)
    assert postgres.pool.cache_info().currsize == 0 and cache.redis_client.cache_info().currsize == 0
    _restore()
    event = {"type": "TOKEN", "authorizationToken": f"Bearer {tenant_admin_token}", "methodArn": METHOD_ARN}
    policy = authorizer.handler(event, LambdaContext("AuthorizerFunction", 5, str(uuid.uuid4())))
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert postgres.pool.cache_info().currsize == 1
