"""Write layers/shared/requirements.txt, what `sam build` installs into the shared layer, from uv.lock
(`python scripts/layer_requirements.py`; `--check` exits 1 when the file or the lock is stale).

uv.lock is the one lock of the project's dependencies: the runtime's (pyproject.toml [project].dependencies),
the tools' (tools/pyproject.toml) and dev's, resolved together by `uv lock` for every platform. The same lock
installs the test virtualenv (`make install`: `uv sync --locked`) and, through this file, the layer, so the
tests run against the versions Lambda gets. The rules of the export, read off the lock alone (no network):

- Start at the workspace member hrms-serverless with no extra: its dependencies, then theirs, following an
  extra where a dependency asks for one (`psycopg[binary]` adds psycopg-binary). The project itself is not
  listed: the layer's hrms package is the source directory sam build copies.
- A dependency whose PEP 508 marker is false in Lambda's python3.12 on arm64 (`LAMBDA` below) is left out,
  so the file has no markers: pip on the build host (x86_64 here) would otherwise evaluate them for itself.
- Where the lock holds two versions of a package (a fork by Python version), the dependency names the one.
- Every pin carries the sha256 of every file the lock knows for it (sdist and all wheels): sam build's pip
  downloads with `--require-hashes` semantics, first the host's files, then Lambda's wheels by version.

The drift check also compares the pins of both pyproject files with what the lock records it was resolved
from (`[package.metadata] requires-dist`): a pin changed without `make lock` fails here and in the unit test.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "uv.lock"
PYPROJECTS = (ROOT / "pyproject.toml", ROOT / "tools" / "pyproject.toml")
REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"
RUNTIME = "hrms-serverless"

# Lambda's python3.12 runtime on arm64 (the shared layer's BuildMethod and BuildArchitecture in template.yaml)
# as PEP 508 markers see it; the patch version is the python3.12 sam build runs (PYENV_VERSION in the Makefile).
LAMBDA: dict[str, str] = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.1",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.12.1",
    "python_version": "3.12",
    "sys_platform": "linux",
    "extra": "",
}

HEADER = """\
# Generated from uv.lock by scripts/layer_requirements.py: do not edit (`make lock` after changing a pin).
# Every package the shared layer's runtime needs in Lambda (python3.12, arm64), transitive ones included, at
# the lock's version, with the hashes of all its files. boto3 comes with the Lambda runtime but is pinned so
# the layer does not drift from what the tests ran against.
"""

Lock = Mapping[str, Any]


@dataclass(frozen=True)
class Locked:
    """One package of the lock, as the layer pins it."""

    name: str
    version: str
    hashes: tuple[str, ...]


def load(path: Path = LOCK) -> Lock:
    return tomllib.loads(path.read_text())


def closure(lock: Lock, root: str, environment: Mapping[str, str], extras: Iterable[str] = ()) -> list[Locked]:
    """Every package the workspace member `root` (with `extras`) needs in `environment`, itself excluded, by name."""
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for package in lock["package"]:
        by_name.setdefault(package["name"], []).append(package)

    def find(dependency: Mapping[str, Any]) -> Mapping[str, Any]:
        candidates = by_name[dependency["name"]]
        if len(candidates) > 1:  # a fork: the dependency says which version
            candidates = [p for p in candidates if p["version"] == dependency.get("version")]
        if len(candidates) != 1:
            raise ValueError(f"uv.lock: cannot tell which {dependency['name']} is meant: {dependency}")
        return candidates[0]

    start = find({"name": root})
    seen: set[tuple[str, str, str]] = set()
    found: dict[str, Mapping[str, Any]] = {}
    todo: list[tuple[Mapping[str, Any], str]] = [(start, ""), *((start, extra) for extra in extras)]
    while todo:
        package, extra = todo.pop()
        key = (package["name"], package["version"], extra)
        if key in seen:
            continue
        seen.add(key)
        if package is not start:
            found[package["name"]] = package
        if extra:
            dependencies = package.get("optional-dependencies", {}).get(extra, [])
        else:
            dependencies = package.get("dependencies", [])
        for dependency in dependencies:
            if "marker" in dependency and not Marker(dependency["marker"]).evaluate(dict(environment)):
                continue
            target = find(dependency)
            todo += [(target, ""), *((target, e) for e in dependency.get("extra", []))]
    return [_locked(found[name]) for name in sorted(found)]


def _locked(package: Mapping[str, Any]) -> Locked:
    files = [package["sdist"]] if "sdist" in package else []
    files += package.get("wheels", [])
    if not files:
        raise ValueError(f"uv.lock: {package['name']} {package['version']} is not from a registry")
    hashes = sorted({file["hash"] for file in files})
    return Locked(package["name"], package["version"], tuple(hashes))


def render(lock: Lock | None = None) -> str:
    pins = closure(load() if lock is None else lock, RUNTIME, LAMBDA)
    lines = [HEADER]
    for pin in pins:
        hashes = " \\\n".join(f"    --hash={digest}" for digest in pin.hashes)
        lines.append(f"{pin.name}=={pin.version} \\\n{hashes}\n")
    return "".join(lines)


def _requirement(requirement: Requirement) -> tuple[str, frozenset[str], str, str]:
    marker = str(requirement.marker) if requirement.marker else ""
    return canonicalize_name(requirement.name), frozenset(requirement.extras), str(requirement.specifier), marker


def _declared(pyproject: Path) -> set[tuple[str, frozenset[str], str, str]]:
    project = tomllib.loads(pyproject.read_text())["project"]
    declared = {_requirement(Requirement(text)) for text in project.get("dependencies", [])}
    for extra, texts in project.get("optional-dependencies", {}).items():
        for text in texts:
            requirement = Requirement(text)
            marker = f"({requirement.marker}) and extra == '{extra}'" if requirement.marker else f"extra == '{extra}'"
            requirement.marker = Marker(marker)
            declared.add(_requirement(requirement))
    return declared


def _resolved_from(lock: Lock, name: str) -> set[tuple[str, frozenset[str], str, str]]:
    (package,) = [p for p in lock["package"] if p["name"] == canonicalize_name(name)] or [{}]
    resolved = set()
    for entry in package.get("metadata", {}).get("requires-dist", []):
        marker = str(Marker(entry["marker"])) if "marker" in entry else ""
        resolved.add((entry["name"], frozenset(entry.get("extras", [])), entry.get("specifier", ""), marker))
    return resolved


def stale_pins(lock: Lock | None = None) -> list[str]:
    """What the pyproject files declare that uv.lock was not resolved from, and the reverse (empty: in step)."""
    lock = load() if lock is None else lock
    problems = []
    for pyproject in PYPROJECTS:
        name = tomllib.loads(pyproject.read_text())["project"]["name"]
        declared, resolved = _declared(pyproject), _resolved_from(lock, name)
        relative = pyproject.relative_to(ROOT)
        problems += [f"{relative} declares {_show(r)}, uv.lock has not" for r in sorted(declared - resolved, key=str)]
        problems += [f"uv.lock has {_show(r)}, {relative} does not" for r in sorted(resolved - declared, key=str)]
    return problems


def _show(requirement: tuple[str, frozenset[str], str, str]) -> str:
    name, extras, specifier, marker = requirement
    extras_text = f"[{','.join(sorted(extras))}]" if extras else ""
    return f"{name}{extras_text}{specifier}" + (f"; {marker}" if marker else "")


def main(argv: list[str]) -> int:
    lock = load()
    problems = stale_pins(lock)
    if problems:
        print("\n".join([*problems, "uv.lock is stale: run `make lock`"]))
        return 1
    text = render(lock)
    if "--check" in argv:
        if REQUIREMENTS.read_text() != text:
            print(f"{REQUIREMENTS.relative_to(ROOT)} differs from uv.lock: run `make lock`")
            return 1
        return 0
    REQUIREMENTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
