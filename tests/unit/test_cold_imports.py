"""What a cold start imports: redis-py only once a cache call happens (benchmarks/cold_import.py measures the
CPU it saves), and the cache still treats an unreachable Redis as a miss once redis-py is imported late."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hrms.cache import client, store

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    "PATH": "/usr/bin:/bin",
    "STAGE": "dev",
    "DATABASE_URL": "postgresql://127.0.0.1:1/x",
    "MONGODB_URI": "mongodb://127.0.0.1:1/",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "JWT_SECRET_ID": "hrms/jwt-secret",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def _loaded_after_import(function: str, then: str = "") -> list[str]:
    """The top-level packages a fresh interpreter has loaded after importing functions/<function>/app.py
    (the way Lambda does: the function's directory, then the layer, on sys.path), then running `then`."""
    code = f"""
import json, sys
sys.path[:0] = [{str(ROOT / "functions" / function)!r}, {str(ROOT / "layers" / "shared")!r}]
import app
{then}
packages = {{name.split(".")[0] for name in sys.modules}}
print(json.dumps(sorted(packages | {{name for name in sys.modules if name.startswith("hrms.")}})))
"""
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("function", ["get_org_hierarchy", "list_employees", "get_employee_dashboard"])
def test_a_function_that_uses_the_cache_imports_redis_only_on_a_cache_call(function: str) -> None:
    loaded = _loaded_after_import(function)
    assert "hrms.cache.store" in loaded  # it does use the cache ...
    assert "redis" not in loaded  # ... but redis-py waits for the first call


def test_the_first_cache_call_imports_redis_and_an_unreachable_redis_is_a_miss() -> None:
    loaded = _loaded_after_import(
        "get_org_hierarchy",
        then="from hrms.cache import store\nassert store.get_json('k') is None\nassert not store.available()",
    )
    assert "redis" in loaded


def test_a_redis_error_on_a_late_import_still_opens_the_breaker(monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    class Down:
        def get(self, key: str) -> None:
            raise RedisConnectionError("refused")

    client.close_client()  # an earlier test may have built the real one
    monkeypatch.setattr(store, "redis_client", Down)
    store.reset_breaker()
    try:
        assert store.get_json("k") is None
        assert not store.available()
    finally:
        store.reset_breaker()
    assert client.redis_client.cache_info().currsize == 0  # the real client was never built
