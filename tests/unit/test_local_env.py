"""How the local runtime resolves each function's environment from the template, parameters and --env-vars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hrms_tools.local.env import (
    load_env_vars,
    parameter_values,
    parse_parameter_overrides,
    resolve_environments,
    resolve_value,
)
from hrms_tools.local.template import Template

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  DatabaseUrl: {Type: String}
  Workers: {Type: Number, Default: 4}
  Subnets: {Type: CommaDelimitedList, Default: "a,b"}
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables:
        STAGE: !Ref Stage
        DATABASE_URL: !Ref DatabaseUrl
        BUCKET: !Ref Bucket
        ARN: !GetAtt Bucket.Arn
        NAME: !Sub "hrms-${Stage}-${AWS::Region}"
        BUCKET_URL: !Sub "s3://${Bucket}/x"
        JOINED: !Join ["-", [!Ref Stage, "x", !Ref "AWS::AccountId"]]
        DEBUG: false
        PORT: 8080
        TOOLS: /opt/bin
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  OneFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/one/
      Handler: app.handler
      Environment:
        Variables:
          WORKERS: !Ref Workers
          DEBUG: true
  TwoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/two/
      Handler: app.handler
      FunctionName: hrms-two
"""


@pytest.fixture
def template(tmp_path: Path) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return Template.load(path)


def test_parameter_overrides_in_both_sam_forms() -> None:
    assert parse_parameter_overrides("Stage=prod 'DatabaseUrl=postgresql://h/db?x=1 y'") == {
        "Stage": "prod",
        "DatabaseUrl": "postgresql://h/db?x=1 y",
    }
    assert parse_parameter_overrides(["ParameterKey=Stage,ParameterValue=prod", "Workers=8"]) == {
        "Stage": "prod",
        "Workers": "8",
    }
    assert parse_parameter_overrides(None) == {}
    with pytest.raises(ValueError):
        parse_parameter_overrides("Stage")


def test_parameters_take_overrides_then_defaults_and_are_checked(template: Template) -> None:
    assert parameter_values(template, {}) == {"Stage": "dev", "DatabaseUrl": None, "Workers": "4", "Subnets": "a,b"}
    assert parameter_values(template, {"Stage": "prod"})["Stage"] == "prod"
    with pytest.raises(ValueError, match="not one of"):
        parameter_values(template, {"Stage": "local"})
    with pytest.raises(ValueError, match="not in the template"):
        parameter_values(template, {"Nope": "1"})


def test_intrinsics_resolve_or_say_they_cannot() -> None:
    names = {"Stage": "dev", "Missing": None, "AWS::Region": "us-east-1"}
    assert resolve_value(True, names) == "true"
    assert resolve_value(15, names) == "15"
    assert resolve_value({"Ref": "Stage"}, names) == "dev"
    assert resolve_value({"Fn::Sub": "a-${Stage}-${AWS::Region}-${!Literal}"}, names) == "a-dev-us-east-1-${Literal}"
    assert resolve_value({"Fn::Sub": ["${X}/${Stage}", {"X": "y"}]}, names) == "y/dev"
    assert resolve_value({"Fn::Join": [":", ["a", {"Ref": "Stage"}]]}, names) == "a:dev"
    for unresolvable in (
        {"Ref": "Missing"},
        {"Ref": "SomeBucket"},
        {"Fn::GetAtt": ["SomeBucket", "Arn"]},
        {"Fn::Sub": "${SomeBucket}"},
        {"Fn::Join": ["", [{"Ref": "SomeBucket"}]]},
        {"Fn::ImportValue": "x"},
    ):
        assert not isinstance(resolve_value(unresolvable, names), str), unresolvable


def test_function_environment_precedence_and_what_comes_from_the_stack(template: Template) -> None:
    envs = resolve_environments(
        template,
        overrides={"Stage": "prod"},
        env_vars={
            "Parameters": {"DEBUG": "all", "EXTRA": "1"},
            "OneFunction": {"EXTRA": "one", "PORT": 9090},
            "hrms-two": {"ONLY_TWO": "yes"},  # a section may name the function by FunctionName
        },
        base_env={"BUCKET": "hrms-local-bucket", "TOOLS": "/embedded/pg/bin", "AWS_REGION": "eu-west-1"},
    )
    one, two = envs.functions["OneFunction"], envs.functions["TwoFunction"]
    assert one["STAGE"] == "prod"
    assert one["NAME"] == "hrms-prod-eu-west-1"
    assert one["JOINED"] == "prod-x-123456789012"
    assert one["WORKERS"] == "4"
    assert one["DEBUG"] == "all" and two["DEBUG"] == "all"  # "Parameters" applies to every function
    assert one["EXTRA"] == "one" and two["EXTRA"] == "1"  # the function's own section wins
    assert one["PORT"] == "9090" and two["PORT"] == "8080"
    assert two["ONLY_TWO"] == "yes" and "ONLY_TWO" not in one
    # Resources exist only in AWS: the local stack's value, or unset when it has none.
    assert one["BUCKET"] == "hrms-local-bucket"
    assert one["TOOLS"] == "/embedded/pg/bin"  # nothing is mounted under /opt locally
    for missing in ("DATABASE_URL", "ARN", "BUCKET_URL"):
        assert missing not in one
    assert set(envs.from_stack) == {"BUCKET", "TOOLS"}
    assert set(envs.unset) == {"DATABASE_URL", "ARN", "BUCKET_URL"}
    assert any(w.startswith("DATABASE_URL:") for w in envs.warnings)
    assert envs.common()["STAGE"] == "prod" and "WORKERS" not in envs.common()


def test_env_vars_sections_that_name_no_function_are_reported(template: Template) -> None:
    envs = resolve_environments(template, env_vars={"GhostFunction": {"A": "1"}})
    assert any("GhostFunction" in w for w in envs.warnings)


def test_env_vars_file_format(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"OneFunction": {"A": 1, "B": True}, "Parameters": {"C": "x"}}))
    assert load_env_vars(path) == {"OneFunction": {"A": "1", "B": "true"}, "Parameters": {"C": "x"}}
    path.write_text(json.dumps({"OneFunction": "A=1"}))
    with pytest.raises(ValueError):
        load_env_vars(path)
    with pytest.raises(ValueError):
        load_env_vars(tmp_path / "missing.json")
