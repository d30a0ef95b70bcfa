"""What a cold start imports: redis-py only once a cache call happens (benchmarks/cold_import.py measures the
CPU it saves), and the cache still treats an unreachable Redis as a miss once redis-py is imported late."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
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


# What only some of a domain's functions use is imported where it is used, and at init by the handler modules
# of the functions whose every request uses it (so it is not paid on their first request instead).
NOT_AT_COLD_START = {
    "get_me": ["jwt", "hrms.auth.tokens"],  # only a sign-in and a password change issue tokens
    "get_payroll_run": ["hrms.approvals.engine", "hrms.approvals.models", "hrms.leave.repo", "hrms.outbox"],
    "list_payroll_runs": ["hrms.approvals.engine", "hrms.leave.repo", "hrms.outbox"],
    "mark_payroll_processed": ["hrms.approvals.engine", "hrms.leave.repo"],
    "list_salary_structures": ["hrms.approvals.models", "hrms.leave.models"],
    "list_leaves": ["hrms.approvals.engine", "hrms.outbox"],
    "get_employee_dashboard": ["hrms.approvals.engine", "hrms.outbox"],
    "list_approvals": ["hrms.approvals.engine", "hrms.outbox"],
    "get_export": ["hrms.outbox", "hrms.payroll.models", "hrms.payroll.repo"],
    "create_export": ["hrms.payroll.repo"],  # one kind of export of three reads the payroll tables
    "get_import": ["hrms.outbox"],
    "get_user": ["argon2"],
    "get_tenant": ["argon2"],
}
AT_COLD_START = {
    "login": ["jwt", "hrms.auth.tokens", "argon2"],
    "change_password": ["jwt", "hrms.auth.tokens", "argon2"],
    "process_payroll": ["hrms.approvals.engine", "hrms.leave.repo", "hrms.outbox"],
    "approve_payroll": ["hrms.approvals.engine", "hrms.leave.repo"],
    "mark_payroll_processed": ["hrms.outbox"],
    "request_leave": ["hrms.approvals.engine", "hrms.outbox"],
    "decide_leave": ["hrms.approvals.engine"],
    "cancel_leave": ["hrms.approvals.engine"],
    "decide_approval": ["hrms.approvals.engine", "hrms.outbox"],
    "create_export": ["hrms.outbox"],
    "start_import": ["hrms.outbox"],
    "create_user": ["argon2"],
    "reset_user_password": ["argon2"],
    "create_tenant": ["argon2"],
}


def _module_level_imports(function: str) -> set[str]:
    """What importing functions/<function>/app.py imports, read from the source: the hrms modules (with their
    packages) it imports at module level, transitively, and the top-level names of the other packages those
    import directly. Imports inside functions and under `if TYPE_CHECKING:` wait for their use."""
    layer = ROOT / "layers" / "shared"

    def source(module: str) -> Path | None:
        base = layer.joinpath(*module.split("."))
        return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)

    def imported_by(tree: ast.Module) -> Iterator[str]:
        pending: list[ast.stmt] = list(tree.body)
        while pending:
            node = pending.pop()
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                yield node.module
                yield from (
                    f"{node.module}.{alias.name}" for alias in node.names if source(f"{node.module}.{alias.name}")
                )
            elif isinstance(node, ast.If) and not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                pending += [*node.body, *node.orelse]
            elif isinstance(node, ast.Try):
                pending += [*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)]
            elif isinstance(node, ast.ClassDef):
                pending += node.body

    seen: set[str] = set()
    todo = [str(ROOT / "functions" / function / "app.py")]
    while todo:
        name = todo.pop()
        path = Path(name) if name.endswith(".py") else source(name)
        if path is None:
            seen.add(name.split(".")[0])  # a third-party or standard module
            continue
        for imported in imported_by(ast.parse(path.read_text())):
            parts = imported.split(".")
            for module in (".".join(parts[: i + 1]) for i in range(len(parts))):  # packages run their __init__
                if module not in seen and (module.startswith("hrms") or "." not in module):
                    seen.add(module)
                    todo.append(module)
    return seen


@pytest.mark.parametrize("function", sorted(NOT_AT_COLD_START.keys() | AT_COLD_START.keys()))
def test_a_function_imports_at_cold_start_what_its_every_request_uses_and_not_what_other_functions_use(
    function: str,
) -> None:
    imported = _module_level_imports(function)
    assert [name for name in NOT_AT_COLD_START.get(function, []) if name in imported] == []
    assert [name for name in AT_COLD_START.get(function, []) if name not in imported] == []


def test_the_source_reading_agrees_with_a_real_import() -> None:
    loaded = set(_loaded_after_import("get_payroll_run"))
    imported = _module_level_imports("get_payroll_run")
    hrms = {name for name in imported if name.startswith("hrms")}
    assert hrms == {name for name in loaded if name.startswith("hrms")}


def test_a_cold_start_builds_none_of_the_models_it_imports() -> None:
    """hrms.models.ApiModel defers building a model to its first use: a function imports its domain's whole models
    module, and builds only the models a request uses (hrms.snapstart builds them all before a snapshot)."""
    _loaded_after_import(
        "get_payroll_run",
        then="from hrms.models import ApiModel\n"
        "from hrms.payroll import models\n"
        "built = [m for m in vars(models).values() if isinstance(m, type) and issubclass(m, ApiModel)"
        " and m.__pydantic_complete__]\n"
        "assert built == [], built",
    )


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
