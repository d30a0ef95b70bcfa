"""What the build tests share: the layers `sam build` produced (`make build`, before the tests run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

BUILD = Path(__file__).resolve().parents[2] / ".aws-sam" / "build"


@pytest.fixture(scope="session")
def built_layers() -> dict[str, Path]:
    """Logical id -> built directory of every AWS::Serverless::LayerVersion of the built template."""
    assert (BUILD / "template.yaml").is_file(), f"{BUILD} is missing: run `make build` (sam build) first"
    template = json.loads(json.dumps(cfn_yaml.load(str(BUILD / "template.yaml"))))
    found = {
        lid: BUILD / res["Properties"]["ContentUri"]
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::LayerVersion"
    }
    for lid, path in found.items():
        assert path.is_dir(), f"{lid} was not built ({path} is missing)"
    return found
