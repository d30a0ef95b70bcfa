"""SnapStart's runtime hooks (hrms.snapstart), called here the way Lambda calls them: the handlers of the SnapStart
group register them, `before_snapshot` builds without opening, fetching or seeding anything, and `after_restore`
makes every store the function imported start afresh and re-seeds `random`."""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import snapshot_restore_py

from hrms import snapstart

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"
SNAPSTART_HANDLERS = (  # the SnapStart group of template.yaml (tests/unit/test_template.py checks the template)
    "authorizer",
    "login",
    "get_me",
    "list_employees",
    "get_employee",
    "get_leave_balances",
    "list_leaves",
    "list_approvals",
    "get_employee_dashboard",
)
ENV = {
    "STAGE": "dev",
    "DATABASE_URL": "postgresql://127.0.0.1:1/x",
    "MONGODB_URI": "mongodb://127.0.0.1:1/",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "JWT_SECRET_ID": "hrms/jwt-secret",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@pytest.fixture
def registry() -> Iterator[tuple[list[Any], list[Any]]]:
    """The runtime's hook registries, emptied before and restored after the test."""
    before = snapshot_restore_py._before_snapshot_registry  # type: ignore[attr-defined]
    after = snapshot_restore_py._after_restore_registry  # type: ignore[attr-defined]
    saved = (list(before), list(after))
    before.clear()
    after.clear()
    yield before, after
    before[:] = saved[0]
    after[:] = saved[1]


def _handler_module(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"snapstart_test_{name}", ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # pydantic's generic models look their module up
    spec.loader.exec_module(module)
    return module


def _python(code: str) -> Any:
    """Run `code` in a fresh interpreter with the layer on sys.path; it prints one JSON line."""
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(LAYER)!r})\n{code}"],
        capture_output=True,
        text=True,
        env={**ENV, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", SNAPSTART_HANDLERS)
def test_each_snapstart_handler_registers_both_hooks(
    name: str, registry: tuple[list[Any], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    module = _handler_module(name, monkeypatch)
    before, after = registry
    assert before == [(snapstart.before_snapshot, (getattr(module, "app", None),), {})]  # the resolver, if any
    assert after == [(snapstart.after_restore, (), {})]


def test_without_the_runtime_library_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # `import` raises ImportError
    assert snapstart.prepare() is False


def test_before_snapshot_builds_routes_and_imports_but_opens_fetches_and_seeds_nothing() -> None:
    result = _python(
        f"""
import importlib.util, json, random
spec = importlib.util.spec_from_file_location("app", {str(ROOT / "functions" / "get_me" / "app.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from hrms import aws, snapstart
from hrms.cache import client as cache
from hrms.db import postgres
from hrms.models import ApiModel
routes = [*module.app._static_routes, *module.app._dynamic_routes]
state = random.getstate()
snapstart.before_snapshot(module.app)
models, pending = [], [ApiModel]
while pending:
    models.append(pending.pop())
    pending.extend(models[-1].__subclasses__())
print(json.dumps({{
    "routes_built": all(route._dependant is not None for route in routes),
    "models_built": len(models) > 5 and all(model.__pydantic_complete__ for model in models),
    "imported": [name for name in snapstart.WARM_IMPORTS if name in sys.modules],
    "clients": [postgres.pool.cache_info().currsize, cache.redis_client.cache_info().currsize,
                aws.client.cache_info().currsize, aws._secrets_provider.cache_info().currsize],
    "random_untouched": random.getstate() == state,
}}))
"""
    )
    assert result == {
        "routes_built": True,
        "models_built": True,
        "imported": list(snapstart.WARM_IMPORTS),
        "clients": [0, 0, 0, 0],
        "random_untouched": True,
    }


def test_each_store_registers_how_it_lets_go_when_imported() -> None:
    from hrms import aws
    from hrms.cache import client as cache
    from hrms.db import mongo, postgres

    resets = {postgres.close_pool, mongo.close_client, cache.close_client}
    resets |= {aws.client.cache_clear, aws._secrets_provider.cache_clear}
    assert resets <= set(snapstart._RESETS)


def test_after_restore_runs_every_registered_reset_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []
    monkeypatch.setattr(snapstart, "_RESETS", [])
    snapstart.on_restore(lambda: done.append("pool"))
    snapstart.on_restore(lambda: done.append("client"))
    snapstart.after_restore()
    assert done == ["pool", "client"]


def test_after_restore_imports_no_store_the_function_did_not() -> None:
    result = _python(
        """
import json
from hrms import snapstart
snapstart.after_restore()
print(json.dumps(sorted(m for m in ("pymongo", "redis", "psycopg", "boto3", "hrms.db.mongo") if m in sys.modules)))
"""
    )
    assert result == []


def test_after_restore_reseeds_random() -> None:
    random.seed(17)
    snapshot_sequence = [random.random() for _ in range(3)]
    random.seed(17)  # the state every container restored from one snapshot would share
    snapstart.after_restore()
    assert [random.random() for _ in range(3)] != snapshot_sequence
