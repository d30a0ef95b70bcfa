"""The data model stays shardable by Citus schema-based sharding (README, "Scaling to many tenants").

With `citus.enable_schema_based_sharding`, each tenant schema becomes a distributed schema placed whole on
one worker, and a statement naming one schema's tables is routed there. That needs, of the SQL we ship:
1. no foreign key from a tenant schema to another schema, except to the `public` reference data
   (REFERENCE_DATA: the tables that become Citus reference tables, copied to every worker);
2. no statement joining a tenant's tables with `public` tables other than the reference data (the
   registry stays on the coordinator and is read in statements of its own);
3. no statement naming the tables of two tenant schemas, on any request path: such a statement would join
   two workers. The maintenance jobs that read every schema in one statement are listed in
   CROSS_SCHEMA_JOBS with the reason they are not request paths.

Migrations are read as text (tenant tables are written `@schema.table`); Python sources are parsed, and
each `<sql>.format(...)` (one statement) is checked: its template's `public.<table>` names, and the
identifiers it is given (`tx.t("table")`, `sql.Identifier(schema, "table")`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HRMS = ROOT / "layers" / "shared" / "hrms"
SOURCES = (HRMS, ROOT / "functions")
TENANT_MIGRATIONS = HRMS / "migrations" / "tenant"

# Public tables a tenant's statements (or foreign keys) may name: on Citus they are made reference tables
# (`SELECT create_reference_table('public.<table>')`, README), copied to every worker, so the worker holding
# the tenant's schema answers the statement alone. Small, read on every request, written rarely.
REFERENCE_DATA = frozenset(
    {
        "tenants",  # the registry: admission reads the tenant's status with the user (auth/repo.py user_state)
        "tenant_write_freezes",  # a tenant's write freeze during a move, read by the same statement
    }
)

# Public functions tenant tables may call (triggers): each reads only REFERENCE_DATA, so it answers on the worker
# holding the schema (README "Citus": the function is created on every node).
PUBLIC_FUNCTIONS = frozenset({"hrms_tenant_write_guard"})  # hrms.db.write_guard, public migration 0007

# (module relative to layers/shared/hrms, function) -> why its one statement over many schemas is no request path.
CROSS_SCHEMA_JOBS = {
    ("http/idempotency.py", "_oldest_expired"): "the scheduled purge of idempotency keys probes a chunk of schemas"
    " in one UNION ALL (Citus plans each arm on its own worker and gathers them on the coordinator)",
}

_REFERENCES = re.compile(r"\bREFERENCES\s+([\w@\"]+(?:\.[\w\"]+)?)", re.IGNORECASE)
_QUALIFIED = re.compile(r"(?<![\w@.])(@schema|[a-z_][a-z0-9_]*|\"[^\"]+\")\s*\.\s*(\"?[a-z_][a-z0-9_]*\"?)\b")
_PUBLIC = re.compile(r"\bpublic\s*\.\s*\"?([a-z_][a-z0-9_]*)")
_NOT_SCHEMAS = {"pg_catalog", "information_schema"}


def _without_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


# ----------------------------------------------------------------------------- migrations


def foreign_key_violations(text: str) -> list[str]:
    """REFERENCES to anything but the tenant's own schema or the public reference data."""
    found = []
    for target in _REFERENCES.findall(_without_comments(text)):
        schema, _, table = target.replace('"', "").rpartition(".")
        if schema == "@schema" or (schema == "public" and table in REFERENCE_DATA):
            continue
        found.append(f"REFERENCES {target}")
    return found


def schema_violations(text: str) -> list[str]:
    """Objects of other schemas named in a tenant migration: another tenant's, or public non-reference data.
    (An unqualified REFERENCES target, which would resolve through search_path, fails the foreign-key check.)"""
    found = []
    body = re.sub(r"'(?:[^']|'')*'", "''", _without_comments(text))  # string literals (comments, checks) out
    for schema, table in _QUALIFIED.findall(body):
        schema, table = schema.strip('"'), table.strip('"')
        if schema == "@schema" or schema in _NOT_SCHEMAS:
            continue
        if schema == "public" and (table in REFERENCE_DATA or table in PUBLIC_FUNCTIONS):
            continue
        if schema in {"excluded", "new", "old"} or not _looks_like_schema(schema, body):
            continue
        found.append(f"{schema}.{table}")
    return found


def _looks_like_schema(name: str, body: str) -> bool:
    """`x.y` is also alias.column: a name given to a table (`FROM @schema.users u`, `UPDATE ... r`) is no schema."""
    alias = rf"\b(?:FROM|JOIN|UPDATE|INTO)\s+[\w@.\"]+\s+(?:AS\s+)?{name}\b(?!\s*\.)"
    return not re.search(alias, body, re.IGNORECASE)


def tenant_migrations() -> Iterator[tuple[str, str]]:
    for path in sorted(TENANT_MIGRATIONS.glob("*.sql")):
        yield path.name, path.read_text(encoding="utf-8")


def test_tenant_foreign_keys_stay_inside_the_schema_or_reach_reference_data() -> None:
    bad = {name: v for name, text in tenant_migrations() if (v := foreign_key_violations(text))}
    assert bad == {}


def test_tenant_migrations_name_no_other_schema_than_their_own_and_reference_data() -> None:
    bad = {name: v for name, text in tenant_migrations() if (v := schema_violations(text))}
    assert bad == {}


# ----------------------------------------------------------------------------- Python SQL


@dataclass(frozen=True)
class Statement:
    module: str
    function: str
    line: int
    template: str  # the literal SQL text, when the template is a literal or a module constant
    tenant_schemas: frozenset[str]  # source text of each schema expression its tenant identifiers use
    public_tables: frozenset[str]  # public tables named in the template or by sql.Identifier("public", t)


def _literal(node: ast.AST, constants: dict[str, str]) -> str:
    """The SQL text of a template expression: "...", sql.SQL("..."), a module constant of either."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id, "")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "SQL" and node.args:
        return _literal(node.args[0], constants)
    return ""


def _identifiers(node: ast.AST) -> Iterator[tuple[str, str | None]]:
    """(schema expression, table) of each qualified identifier in an expression: `x.t(table)` uses x's tenant."""
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Call) or not isinstance(sub.func, ast.Attribute):
            continue
        if sub.func.attr == "Identifier" and len(sub.args) == 2:
            schema, table = sub.args
            name = table.value if isinstance(table, ast.Constant) and isinstance(table.value, str) else None
            if isinstance(schema, ast.Constant):
                yield str(schema.value), name
            else:
                yield ast.unparse(schema), name
        elif sub.func.attr == "t" and len(sub.args) == 1:
            yield f"{ast.unparse(sub.func.value)}.tenant.schema_name", None


def python_statements(path: Path, relative: str) -> Iterator[Statement]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {
        target.id: text
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and (text := _literal(node.value, {}))
    }
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    owner = {id(sub): f.name for f in functions for sub in ast.walk(f)}  # innermost last: nested functions win
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"):
            continue
        template = _literal(node.func.value, constants)
        arguments = [*node.args, *(k.value for k in node.keywords)]
        idents = [i for arg in arguments for i in _identifiers(arg)]
        tenant = frozenset(schema for schema, _ in idents if schema != "public")
        public = {table for schema, table in idents if schema == "public" and table}
        public |= set(_PUBLIC.findall(_without_comments(template)))
        yield Statement(relative, owner.get(id(node), "<module>"), node.lineno, template, tenant, frozenset(public))


def _comprehension_statements(path: Path, relative: str) -> Iterator[tuple[str, int]]:
    """`sql.SQL(sep).join(... sql.Identifier(s, table) ... for s in <schemas>)`: one statement over many schemas."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    owner = {id(sub): f.name for f in functions for sub in ast.walk(f)}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"):
            continue
        for arg in node.args:
            if not isinstance(arg, ast.GeneratorExp | ast.ListComp):
                continue
            loop_vars = {n.id for gen in arg.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
            if any(schema in loop_vars for schema, table in _identifiers(arg.elt) if table is not None):
                yield owner.get(id(node), "<module>"), node.lineno


def sources() -> Iterator[tuple[Path, str]]:
    for base in SOURCES:
        for path in sorted(base.rglob("*.py")):
            yield path, str(path.relative_to(HRMS if base == HRMS else ROOT))


def test_no_statement_names_two_tenant_schemas() -> None:
    bad = [
        f"{s.module}:{s.line} ({s.function}) names {sorted(s.tenant_schemas)}"
        for path, relative in sources()
        for s in python_statements(path, relative)
        if len(s.tenant_schemas) > 1
    ]
    assert bad == []


def test_statements_over_every_schema_are_only_the_listed_maintenance_jobs() -> None:
    found = {
        (relative, function): line
        for path, relative in sources()
        for function, line in _comprehension_statements(path, relative)
    }
    assert {k: v for k, v in found.items() if k not in CROSS_SCHEMA_JOBS} == {}
    assert set(CROSS_SCHEMA_JOBS) <= set(found), "a listed job no longer exists: drop it from CROSS_SCHEMA_JOBS"


def test_tenant_statements_join_public_tables_only_as_reference_data() -> None:
    bad = [
        f"{s.module}:{s.line} ({s.function}) joins {sorted(s.tenant_schemas)} with public {sorted(s.public_tables)}"
        for path, relative in sources()
        for s in python_statements(path, relative)
        if s.tenant_schemas and s.public_tables - REFERENCE_DATA
    ]
    assert bad == []
