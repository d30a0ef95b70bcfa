"""Dependencies run one way: tools -> http -> domains -> stores -> base, and no two packages import
each other, directly or around a loop (grimp reads every import, including those inside functions).

Domains keep each other's caches right and send events through `hrms.db.changes`, which names its
subscribers by module path; the approvals registry names its entity handlers the same way."""

from __future__ import annotations

import functools
from collections import defaultdict

import grimp
import pytest

# Written by hand: the layer of every top-level package and module of `hrms`, highest first.
LAYERS: list[tuple[str, set[str]]] = [
    ("tools", {"openapi"}),
    ("http", {"http"}),
    (
        "domains",
        {
            "appraisals",
            "approvals",
            "audit",
            "auth",
            "backup",
            "dashboards",
            "documents",
            "employees",
            "exports",
            "flags",
            "health",
            "imports",
            "leave",
            "notifications",
            "org",
            "payroll",
            "payslips",
            "settings",
            "tenants",
            "users",
        },
    ),
    ("stores", {"db", "cache", "migrations", "outbox"}),
    (
        "base",
        {
            "aws",
            "config",
            "errors",
            "models",
            "observability",
            "pagination",
            "pii",
            "redaction",
            "request_context",
            "snapstart",
            "tenancy",
        },
    ),
]


@functools.cache
def package_imports() -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) -> the module-level arrows behind it."""
    graph = grimp.build_graph("hrms")
    arrows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if module.count(".") and imported.count("."):
                a, b = module.split(".")[1], imported.split(".")[1]
                if a != b:
                    arrows[(a, b)].append(f"{module} -> {imported}")
    return arrows


def _layer(package: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        if package in members:
            return index
    raise AssertionError(f"hrms.{package} has no layer: add it to LAYERS")


def test_every_package_has_a_layer() -> None:
    packages = {name for pair in package_imports() for name in pair}
    for package in packages:
        _layer(package)


def test_no_package_imports_a_higher_layer() -> None:
    upward = [arrow for (a, b), arrows in package_imports().items() if _layer(b) < _layer(a) for arrow in arrows]
    assert upward == []


def test_no_cycle_between_packages() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for a, b in package_imports():
        edges[a].add(b)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(edges.get(current, ()))
        return False

    loops = sorted(f"{a} -> {b}" for a in list(edges) for b in edges[a] if reaches(b, a))
    assert loops == []  # each arrow here is on a loop back to its importer


@pytest.mark.parametrize(("importer", "imported"), [("db", "audit"), ("db", "dashboards"), ("employees", "org")])
def test_the_arrows_this_layout_removed_stay_removed(importer: str, imported: str) -> None:
    assert (importer, imported) not in package_imports()


def test_the_runtime_never_imports_the_developer_tools() -> None:
    graph = grimp.build_graph("hrms", "hrms_tools")
    into_tools = [
        f"{module} -> {imported}"
        for module in graph.modules
        if module.split(".")[0] == "hrms"
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] == "hrms_tools"
    ]
    assert into_tools == []  # hrms_tools (local runtime, CLI) is not in the Lambda layer
