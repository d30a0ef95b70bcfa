"""Least privilege for the data stores' secrets: a function may read the MongoDB secret exactly when its
code can reach `hrms.db.mongo`, and the Redis AUTH secret exactly when it can reach `hrms.cache.client`.

What a function can reach is read from the code, not from the template: every `import` of its handler
and, transitively, of the hrms modules it imports (inside functions too), plus every string constant that
names an hrms module - the way `hrms.db.changes`, the approvals registry and the import kinds load their
modules (`importlib.import_module("hrms.org.cache")`). Connection secrets never travel in environment
variables: only secret ids do.
"""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"
STORE_SECRETS = {"hrms.db.mongo": "MongoDbSecretArn", "hrms.cache.client": "RedisAuthSecretArn"}


@functools.cache
def _modules() -> dict[str, Path]:
    found = {}
    for path in (LAYER / "hrms").rglob("*.py"):
        parts = path.relative_to(LAYER).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _references(path: Path) -> set[str]:
    """The hrms modules a file imports or names, with their parent packages (importing a.b runs a)."""
    modules = _modules()
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            named.add(node.module)
            named.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            named.add(node.value)
    found = set()
    for name in named:
        parts = name.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found & modules.keys()


@functools.cache
def _direct(module: str) -> frozenset[str]:
    return frozenset(_references(_modules()[module]))


def reachable(handler: Path) -> set[str]:
    """Every hrms module the handler file can import, directly or through others."""
    seen: set[str] = set()
    todo = list(_references(handler))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(_direct(module))
    return seen


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return json.loads(json.dumps(cfn_yaml.load(str(ROOT / "template.yaml"))))


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }


def _handler_file(props: dict[str, Any]) -> Path:
    return ROOT / props["CodeUri"] / (props["Handler"].rsplit(".", 1)[0] + ".py")


def secret_grants(props: dict[str, Any]) -> set[str]:
    """The parameters naming a secret this function may read (also under `!If [cond, policy, NoValue]`)."""
    granted = set()
    for policy in props.get("Policies") or []:
        if isinstance(policy, dict) and "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        if isinstance(policy, dict):
            secret = (policy.get("AWSSecretsManagerGetSecretValuePolicy") or {}).get("SecretArn")
            if isinstance(secret, dict) and "Ref" in secret:
                granted.add(secret["Ref"])
    return granted


def test_the_analysis_sees_imports_made_by_module_name() -> None:
    # hrms.db.changes imports its subscribers by name (importlib): the org cache, which uses Redis.
    assert "hrms.org.cache" in _direct("hrms.db.changes")
    assert "hrms.cache.client" in reachable(ROOT / "functions" / "get_org_hierarchy" / "app.py")
    assert "hrms.db.mongo" not in reachable(ROOT / "functions" / "get_me" / "app.py")


@pytest.mark.parametrize(("module", "parameter"), STORE_SECRETS.items())
def test_exactly_the_functions_that_reach_a_store_may_read_its_secret(
    template: dict[str, Any], module: str, parameter: str
) -> None:
    functions = _functions(template)
    reach = {lid for lid, props in functions.items() if module in reachable(_handler_file(props))}
    granted = {lid for lid, props in functions.items() if parameter in secret_grants(props)}
    assert 0 < len(reach) < len(functions)  # the analysis found users and non-users
    assert sorted(reach - granted) == [], f"reach {module} but may not read {parameter}"
    assert sorted(granted - reach) == [], f"may read {parameter} but never reach {module}"


def test_the_redis_grant_exists_only_with_a_redis_secret(template: dict[str, Any]) -> None:
    for lid, props in _functions(template).items():
        for policy in props.get("Policies") or []:
            if isinstance(policy, dict) and "Fn::If" in policy:
                condition, granted, otherwise = policy["Fn::If"]
                if granted == {"Ref": "CellsSecretsPolicy"}:
                    assert condition == "HasCells", lid
                else:
                    assert condition == "HasRedisAuth", lid
                assert otherwise == {"Ref": "AWS::NoValue"}, lid


def test_every_function_that_reads_the_database_secret_may_read_the_cells_secrets(template: dict[str, Any]) -> None:
    """A tenant's transaction may go to any cell (hrms.db.cells): whoever reaches the control database's
    credentials reaches the cells' too, and only with cells configured."""
    cells_grant = {"Fn::If": ["HasCells", {"Ref": "CellsSecretsPolicy"}, {"Ref": "AWS::NoValue"}]}
    functions = _functions(template)
    database = {lid for lid, props in functions.items() if "DatabaseSecretArn" in secret_grants(props)}
    cells = {lid for lid, props in functions.items() if cells_grant in (props.get("Policies") or [])}
    assert database and database == cells
    policy = template["Resources"]["CellsSecretsPolicy"]
    assert policy["Condition"] == "HasCells"
    assert template["Globals"]["Function"]["Environment"]["Variables"]["CELLS_SECRET_ID"] == {
        "Fn::If": ["HasCells", {"Ref": "CellsSecretArn"}, {"Ref": "AWS::NoValue"}]
    }


def test_no_connection_secret_is_an_environment_variable(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for props in _functions(template).values():
        variables = {**variables, **((props.get("Environment") or {}).get("Variables") or {})}
    assert variables["MONGODB_SECRET_ID"] == {"Ref": "MongoDbSecretArn"}
    assert variables["REDIS_AUTH_SECRET_ID"] == {
        "Fn::If": ["HasRedisAuth", {"Ref": "RedisAuthSecretArn"}, {"Ref": "AWS::NoValue"}]
    }
    parameters = template["Parameters"]
    # No parameter whose value is put into an environment variable is NoEcho (a NoEcho value is a secret).
    referenced = {v["Ref"] for v in variables.values() if isinstance(v, dict) and "Ref" in v}
    assert [name for name in referenced & parameters.keys() if parameters[name].get("NoEcho")] == []
