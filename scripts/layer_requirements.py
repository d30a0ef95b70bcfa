"""Write layers/shared/requirements.txt from pyproject.toml's [project].dependencies, the one list of the
runtime's pins (`python scripts/layer_requirements.py`; `--check` exits 1 when the file differs).

`sam build` installs the shared layer from requirements.txt; pyproject.toml is what the tests run against.
Generating one from the other keeps them equal (tests/unit/test_layer_requirements.py fails on drift).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"
HEADER = """\
# Generated from pyproject.toml [project].dependencies by scripts/layer_requirements.py: do not edit.
# The runtime dependencies of the shared layer (boto3 comes with the Lambda runtime but is pinned so the
# layer does not drift from what the tests ran against).
"""


def render() -> str:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return HEADER + "".join(f"{requirement}\n" for requirement in dependencies)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if REQUIREMENTS.read_text() != text:
            print(f"{REQUIREMENTS.relative_to(ROOT)} differs from pyproject.toml: run {Path(__file__).name}")
            return 1
        return 0
    REQUIREMENTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
