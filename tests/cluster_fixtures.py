"""Fixtures of the Redis Cluster tests: a real 3-primary Valkey cluster (hrms_tools.local.valkey_cluster),
started once per session and only by the tests that use it, and REDIS_URL/REDIS_CLUSTER pointing the cache
at it for one test. Every Redis error the cache meets during such a test (a CROSSSLOT, a MOVED it could not
follow, a dead node) fails the test, unless the test says it expects them (`on_cluster.expect_failures()`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@pytest.fixture(scope="session")
def valkey_cluster(stack: Any) -> Iterator[Any]:
    from hrms_tools.local.valkey_cluster import ValkeyCluster

    cluster = ValkeyCluster(stack.data_dir / "valkey-cluster", password=stack.redis_password())
    cluster.start()
    yield cluster
    cluster.stop()


@dataclass
class OnCluster:
    cluster: Any
    failures: list[str] = field(default_factory=list)
    expected: bool = False

    def expect_failures(self) -> None:
        self.expected = True


@pytest.fixture
def on_cluster(valkey_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[OnCluster]:
    """The cache on the cluster for this test (the stack's single Valkey again afterwards)."""
    from hrms.cache import store
    from hrms.cache.client import redis_client
    from tests.conftest import _reset_clients

    state = OnCluster(valkey_cluster)
    failed = store._failed

    def recording(operation: str, exc: Exception) -> None:
        state.failures.append(f"{operation}: {type(exc).__name__}: {exc}")
        failed(operation, exc)

    monkeypatch.setattr(store, "_failed", recording)
    saved = {name: os.environ.get(name) for name in ("REDIS_URL", "REDIS_CLUSTER")}
    os.environ.update(valkey_cluster.env)
    _reset_clients()
    store.reset_breaker()
    try:
        assert type(redis_client()).__name__ == "RedisCluster"
        yield state
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reset_clients()
        store.reset_breaker()
    assert state.expected or not state.failures, f"Redis errors on the cluster: {state.failures}"
