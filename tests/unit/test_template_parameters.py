"""CloudFormation checks the parameters before it creates anything: every required parameter has a type
CloudFormation validates (AWS::EC2::*::Id, lists of them) or a MinLength and an AllowedPattern with a
ConstraintDescription, defaults match their own patterns, and `Rules` hold the combinations a pattern
cannot see. The patterns are run here on hand-picked values (Python's `re` and CloudFormation's Java
regular expressions agree on the subset they use: classes, groups, alternation, a lookahead), and the
rules on a small evaluator of the rule functions they use.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
VALIDATED_TYPES = ("AWS::EC2::", "List<AWS::EC2::")  # CloudFormation looks these ids up in the account
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hrms/db-AbCdEf"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))


@pytest.fixture(scope="module")
def parameters(template: dict[str, Any]) -> dict[str, Any]:
    return template["Parameters"]


def test_every_required_parameter_is_validated_by_cloudformation(parameters: dict[str, Any]) -> None:
    unchecked = []
    for name, spec in parameters.items():
        if "Default" in spec or spec["Type"].startswith(VALIDATED_TYPES) or "AllowedValues" in spec:
            continue
        if not (spec.get("MinLength", 0) >= 1 and spec.get("AllowedPattern") and spec.get("ConstraintDescription")):
            unchecked.append(name)
    assert unchecked == []


def test_every_string_parameter_is_constrained_and_its_default_passes(parameters: dict[str, Any]) -> None:
    for name, spec in parameters.items():
        if spec["Type"] != "String":
            continue
        assert "AllowedValues" in spec or "AllowedPattern" in spec, name
        if "Default" in spec and "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], spec["Default"]), name


def test_every_parameter_says_what_to_fill_in(parameters: dict[str, Any]) -> None:
    assert [name for name, spec in parameters.items() if not spec.get("Description")] == []


GOOD_AND_BAD = {
    "DatabaseUrl": (
        [
            "postgresql://hrms.proxy-abc.eu-west-1.rds.amazonaws.com:5432/hrms",
            "postgres://db.internal/hrms?connect_timeout=5&sslmode=verify-full",
        ],
        [
            "",
            "postgresql://hrms:secret@proxy.host:5432/hrms",
            "postgresql://proxy.host:5432/hrms?password=secret",
            "postgresql://proxy.host:5432/",
            "mysql://proxy.host:3306/hrms",
            " postgresql://proxy.host/hrms",
        ],
    ),
    "DatabaseSecretArn": (
        [SECRET, "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:rds!cluster-1a2b3c"],
        ["", "hrms/db", "arn:aws:secretsmanager:eu-west-1:12345:secret:x", "arn:aws:ssm:eu-west-1:123456789012:x"],
    ),
    "MongoDbUri": (
        [
            "mongodb://docdb.cluster-x.eu-west-1.docdb.amazonaws.com:27017/?tls=true&replicaSet=rs0&retryWrites=false",
            "mongodb://a.example:27017,b.example:27017/hrms?replicaSet=rs0",
            "mongodb+srv://cluster0.abcde.mongodb.net/?retryWrites=true",
        ],
        [
            "",
            "mongodb://hrms:secret@docdb.example:27017/?tls=true",
            "mongodb://docdb.example:27017/?tls=true&password=secret",
            "http://docdb.example:27017/",
        ],
    ),
    "MongoDbSecretArn": ([SECRET], ["", "mongodb://host/"]),
    "RedisAuthSecretArn": (["", SECRET], ["token", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"]),
    "CellsSecretArn": (["", SECRET], ["hrms/cells", '{"b": "postgresql://h/hrms"}', "arn:aws:ssm:eu-west-1:1:x"]),
    "RedisUrl": (
        ["rediss://master.hrms.abc123.euw1.cache.amazonaws.com:6379/0", "redis://10.0.1.5:6379", "rediss://h"],
        ["", "rediss://:token@master.hrms.cache.amazonaws.com:6379/0", "rediss://h:6379/0?password=x", "valkey://h"],
    ),
    "AlarmEmail": (["", "ops@example.com"], ["ops", "ops@example.com, dev@example.com", "a@b"]),
}


@pytest.mark.parametrize("name", sorted(GOOD_AND_BAD))
def test_the_pattern_accepts_real_values_and_refuses_mistakes(parameters: dict[str, Any], name: str) -> None:
    pattern = parameters[name]["AllowedPattern"]
    minimum = parameters[name].get("MinLength", 0)
    good, bad = GOOD_AND_BAD[name]
    for value in good:
        assert re.fullmatch(pattern, value) and len(value) >= minimum, f"{name} refuses {value!r}"
    for value in bad:
        assert not (re.fullmatch(pattern, value) and len(value) >= minimum), f"{name} accepts {value!r}"


# ------------------------------------------------------------------ Rules


def _evaluate(expression: Any, values: dict[str, Any]) -> Any:
    """The rule functions the template uses, on plain parameter values."""
    if isinstance(expression, str | int):
        return str(expression)
    if isinstance(expression, list):
        return [_evaluate(item, values) for item in expression]
    (function, argument), *_ = expression.items()
    if function == "Ref":
        return values[argument]
    if function == "Fn::Not":
        return not _evaluate(argument[0], values)
    if function == "Fn::Equals":
        left, right = _evaluate(argument, values)
        return left == right
    if function == "Fn::Contains":
        choices, value = _evaluate(argument, values)
        return value in choices
    if function == "Fn::EachMemberEquals":
        members, value = _evaluate(argument, values)
        return all(member == value for member in members)
    if function == "Fn::ValueOfAll":  # the attribute of every parameter of that type: given by the test
        return values[tuple(argument)]
    raise AssertionError(f"{function} is not evaluated here: add it")


def _violations(template: dict[str, Any], given: dict[Any, Any] | None = None) -> list[str]:
    values: dict[Any, Any] = {
        "DatabaseSecretArn": SECRET,
        "MongoDbSecretArn": SECRET.replace("hrms/db", "hrms/mongo"),
        "RedisAuthSecretArn": "",
        "CellsSecretArn": "",
        "CellCredentialsSecretArns": [""],  # a CommaDelimitedList's empty default
        "LoginRateLimitPerIp": "0",
        "VpcId": "vpc-1",
        ("AWS::EC2::Subnet::Id", "VpcId"): ["vpc-1", "vpc-1"],
        **(given or {}),
    }
    failed = []
    for name, rule in template["Rules"].items():
        if "RuleCondition" in rule and not _evaluate(rule["RuleCondition"], values):
            continue
        failed.extend(
            f"{name}: {a['AssertDescription']}" for a in rule["Assertions"] if not _evaluate(a["Assert"], values)
        )
    return failed


def test_the_rules_accept_a_sound_set_of_parameters(template: dict[str, Any]) -> None:
    assert _violations(template) == []
    assert (
        _violations(
            template, {"RedisAuthSecretArn": SECRET.replace("hrms/db", "hrms/redis"), "LoginRateLimitPerIp": "10"}
        )
        == []
    )


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        ({("AWS::EC2::Subnet::Id", "VpcId"): ["vpc-1", "vpc-2"]}, "SubnetsInTheVpc"),
        ({"MongoDbSecretArn": SECRET}, "DistinctSecrets"),
        ({"RedisAuthSecretArn": SECRET}, "DistinctSecrets"),
        ({"CellsSecretArn": SECRET, "CellCredentialsSecretArns": [SECRET + "1"]}, "DistinctSecrets"),
        ({"CellsSecretArn": SECRET.replace("hrms/db", "hrms/cells")}, "CellsHaveCredentials"),
        ({"CellCredentialsSecretArns": [SECRET.replace("hrms/db", "hrms/cell-b")]}, "CellCredentialsOnlyWithCells"),
        ({"LoginRateLimitPerIp": "9"}, "LoginRateLimitAtLeastWafMinimum"),
        ({"LoginRateLimitPerIp": "1"}, "LoginRateLimitAtLeastWafMinimum"),
    ],
    ids=[
        "subnet-elsewhere",
        "db-secret-twice",
        "redis-secret-shared",
        "cells-secret-shared",
        "cells-without-credentials",
        "credentials-without-cells",
        "waf-9",
        "waf-1",
    ],
)
def test_a_bad_combination_fails_its_rule(template: dict[str, Any], given: dict[Any, Any], rule: str) -> None:
    assert [v.split(":")[0] for v in _violations(template, given)] == [rule]


def test_every_rule_explains_itself(template: dict[str, Any]) -> None:
    assert set(template["Rules"]) == {
        "SubnetsInTheVpc",
        "DistinctSecrets",
        "CellsHaveCredentials",
        "CellCredentialsOnlyWithCells",
        "LoginRateLimitAtLeastWafMinimum",
    }
    for rule in template["Rules"].values():
        assert all(assertion.get("AssertDescription") for assertion in rule["Assertions"])
