"""Checks on template.yaml that cfn-lint does not make: every function has the shared layer, log retention,
least-privilege policies and (when scheduled) a dead-letter queue, and the stack stays under
CloudFormation's 500 resources once SAM has expanded it.

Each rule returns what breaks it; every rule is also run on a deliberately broken copy, so a rule
that silently accepts everything fails here too.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
MAX_RESOURCES = 500  # CloudFormation's limit per stack
DATA_STORE_ACTIONS = ("s3:", "secretsmanager:", "kms:", "dynamodb:")
SCHEDULE_EVENTS = {"Schedule", "ScheduleV2"}

Template = dict[str, Any]


@pytest.fixture(scope="module")
def loaded() -> Template:
    # cfn-lint's loader understands the short intrinsics (!Ref, !Sub, !GetAtt, ...); JSON makes plain dicts.
    return json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))


@pytest.fixture
def template(loaded: Template) -> Template:
    return copy.deepcopy(loaded)


# ------------------------------------------------------------------ reading the template as SAM does


def _merge(globals_value: Any, value: Any) -> Any:
    """SAM's Globals rule: maps merge (the function wins), lists concatenate, anything else is replaced."""
    if isinstance(globals_value, dict) and isinstance(value, dict):
        merged = dict(globals_value)
        for key, item in value.items():
            merged[key] = _merge(globals_value[key], item) if key in globals_value else item
        return merged
    if isinstance(globals_value, list) and isinstance(value, list):
        return [*globals_value, *value]
    return value


def functions(t: Template) -> dict[str, dict[str, Any]]:
    """Every AWS::Serverless::Function's properties with Globals.Function applied."""
    defaults = (t.get("Globals") or {}).get("Function") or {}
    return {
        lid: _merge(defaults, res.get("Properties") or {})
        for lid, res in t["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


def _of_type(t: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {lid: res.get("Properties") or {} for lid, res in t["Resources"].items() if res["Type"] == kind}


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


# ------------------------------------------------------------------ the rules


def without_shared_layer(t: Template) -> list[str]:
    shared = {
        lid for lid, p in _of_type(t, "AWS::Serverless::LayerVersion").items() if p["ContentUri"] == "layers/shared/"
    }
    assert shared, "no layer with ContentUri layers/shared/"
    return [lid for lid, p in functions(t).items() if not shared & {_ref(layer) for layer in p.get("Layers") or []}]


def without_log_retention(t: Template) -> list[str]:
    """A function logs to a group of this template with RetentionInDays: its LoggingConfig.LogGroup (shared
    or its own), or else the default /aws/lambda/<function name> group declared explicitly."""
    groups = _of_type(t, "AWS::Logs::LogGroup")
    retained = {lid for lid, p in groups.items() if "RetentionInDays" in p}
    default_groups = {json.dumps(p.get("LogGroupName"), sort_keys=True) for lid, p in groups.items() if lid in retained}
    missing = []
    for lid, props in functions(t).items():
        group = (props.get("LoggingConfig") or {}).get("LogGroup")
        if group is not None:
            ok = _ref(group) in retained
        else:
            ok = json.dumps({"Fn::Sub": f"/aws/lambda/${{{lid}}}"}, sort_keys=True) in default_groups
        if not ok:
            missing.append(lid)
    return missing


def _scoped(resource: Any) -> bool:
    """A resource names something specific: a reference, or a wildcard only after a reference."""
    if isinstance(resource, list):
        return all(_scoped(r) for r in resource)
    if isinstance(resource, str):
        return "*" not in resource
    if isinstance(resource, dict):
        if "Fn::Sub" in resource:
            text = resource["Fn::Sub"]
            text = text[0] if isinstance(text, list) else text
            return "*" not in text or (text.find("${") != -1 and text.find("${") < text.find("*"))
        if "Fn::If" in resource:
            return _scoped(resource["Fn::If"][1:])
        return any(key in resource for key in ("Ref", "Fn::GetAtt", "Fn::ImportValue"))
    return False


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy["Statement"]
    return statements if isinstance(statements, list) else [statements]


def wildcard_data_store_grants(t: Template) -> list[str]:
    """Policies that reach S3, Secrets Manager, KMS or DynamoDB without naming the resources."""
    found = []
    for lid, props in functions(t).items():
        for entry in props.get("Policies") or []:
            # `!If [condition, policy, other]`: each branch is a policy (or AWS::NoValue)
            branches = entry["Fn::If"][1:] if isinstance(entry, dict) and "Fn::If" in entry else [entry]
            for policy in branches:
                if policy != {"Ref": "AWS::NoValue"}:
                    found.extend(_wildcard_grants(lid, policy))
    return found


def _wildcard_grants(lid: str, policy: Any) -> list[str]:
    """What one policy grants on a data store without naming the resources."""
    found = []
    if isinstance(policy, str):  # an AWS managed policy: never scoped to this stack's stores
        if any(store in policy.lower() for store in ("s3", "secretsmanager", "kms", "dynamodb")):
            found.append(f"{lid}: managed policy {policy}")
    elif "Statement" in policy:
        for st in _statements(policy):
            actions = st.get("Action")
            actions = actions if isinstance(actions, list) else [actions]
            reaches = any(a == "*" or str(a).lower().startswith(DATA_STORE_ACTIONS) for a in actions)
            if st.get("Effect") == "Allow" and reaches and not _scoped(st.get("Resource")):
                found.append(f"{lid}: {actions} on {st.get('Resource')!r}")
    else:  # SAM policy templates: scoped when every parameter is a reference, not a literal wildcard
        for name, parameters in policy.items():
            if not all(_scoped(value) for value in (parameters or {}).values()):
                found.append(f"{lid}: {name} {parameters!r}")
    return found


def scheduled(t: Template) -> dict[str, dict[str, Any]]:
    return {
        lid: p
        for lid, p in functions(t).items()
        if any(e.get("Type") in SCHEDULE_EVENTS for e in (p.get("Events") or {}).values())
    }


def scheduled_without_dlq(t: Template) -> list[str]:
    """A scheduled function keeps what failed: its asynchronous failures (EventInvokeConfig OnFailure or
    DeadLetterQueue) and the events EventBridge could not deliver (each schedule's DeadLetterConfig)."""
    missing = []
    for lid, props in scheduled(t).items():
        on_failure = ((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure")
        if not on_failure and not props.get("DeadLetterQueue"):
            missing.append(f"{lid}: no OnFailure destination or DeadLetterQueue")
        for name, event in props["Events"].items():
            if event.get("Type") in SCHEDULE_EVENTS and not (event.get("Properties") or {}).get("DeadLetterConfig"):
                missing.append(f"{lid}.{name}: no DeadLetterConfig")
    return missing


_EVENT_RESOURCES = {"Api": 1, "Schedule": 2, "ScheduleV2": 2}  # permission; rule or schedule + permission/role


def estimated_resources(t: Template) -> int:
    """Resources after the SAM transform: each function adds its role, one Lambda permission per Api event,
    a rule and a permission per schedule, an EventInvokeConfig, a version and alias when published; each
    API a deployment, a stage and a permission per Lambda authorizer; anything else is itself."""
    count = 0
    merged_functions = functions(t)
    for lid, res in t["Resources"].items():
        props = res.get("Properties") or {}
        if res["Type"] == "AWS::Serverless::Function":
            merged = merged_functions[lid]
            count += 1 + ("Role" not in merged)
            count += sum(_EVENT_RESOURCES.get(e.get("Type"), 2) for e in (merged.get("Events") or {}).values())
            count += "EventInvokeConfig" in merged
            count += 2 * ("AutoPublishAlias" in merged)
        elif res["Type"] == "AWS::Serverless::Api":
            authorizers = ((props.get("Auth") or {}).get("Authorizers") or {}).values()
            count += 3 + sum("FunctionArn" in a for a in authorizers)
        else:
            count += 1
    return count


# ------------------------------------------------------------------ the real template passes


def test_every_function_has_the_shared_layer(template: Template) -> None:
    assert without_shared_layer(template) == []


def test_every_function_logs_to_a_group_with_retention(template: Template) -> None:
    assert without_log_retention(template) == []


def test_no_function_reaches_a_data_store_with_a_wildcard_resource(template: Template) -> None:
    assert wildcard_data_store_grants(template) == []


def test_scheduled_functions_have_dead_letter_queues(template: Template) -> None:
    assert {"BackupFunction", "BackupCleanupFunction"} <= scheduled(template).keys()
    assert scheduled_without_dlq(template) == []


def test_stack_stays_under_the_cloudformation_resource_limit(template: Template) -> None:
    count = estimated_resources(template)
    assert len(functions(template)) * 3 < count < MAX_RESOURCES, (
        f"~{count} resources after the SAM transform; past ~400 move a domain into a nested stack "
        "(AWS::Serverless::Application)"
    )


# ------------------------------------------------------------------ each rule catches its breakage


def test_a_function_without_the_shared_layer_is_caught(template: Template) -> None:
    del template["Globals"]["Function"]["Layers"]
    template["Resources"]["BackupFunction"]["Properties"]["Layers"].append({"Ref": "SharedLayer"})
    missing = without_shared_layer(template)
    assert "HealthFunction" in missing
    assert "BackupFunction" not in missing


def test_a_function_without_log_retention_is_caught(template: Template) -> None:
    group = _ref(template["Globals"]["Function"]["LoggingConfig"]["LogGroup"])
    del template["Resources"][group]["Properties"]["RetentionInDays"]
    assert "HealthFunction" in without_log_retention(template)


def test_a_function_with_its_default_log_group_declared_passes(template: Template) -> None:
    del template["Globals"]["Function"]["LoggingConfig"]["LogGroup"]
    assert "HealthFunction" in without_log_retention(template)
    template["Resources"]["HealthLogGroup"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${HealthFunction}"}, "RetentionInDays": 30},
    }
    assert "HealthFunction" not in without_log_retention(template)


@pytest.mark.parametrize(
    "policy",
    [
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
        {"Statement": {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": {"Fn::Sub": "arn:aws:kms:*"}}},
        {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:dynamodb:*:*:table/*"}]},
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": "*"}},
        "AmazonS3FullAccess",
        {
            "Fn::If": [
                "HasRedisAuth",
                {"Ref": "AWS::NoValue"},
                {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": "*"}},
            ]
        },
    ],
    ids=["s3-star", "kms-sub-star", "all-actions", "policy-template-star", "managed-policy", "conditional-star"],
)
def test_a_wildcard_grant_on_a_data_store_is_caught(template: Template, policy: Any) -> None:
    template["Resources"]["HealthFunction"]["Properties"]["Policies"].append(policy)
    assert [f for f in wildcard_data_store_grants(template) if f.startswith("HealthFunction:")]


def test_a_scoped_grant_after_a_reference_passes(template: Template) -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${BackupBucket.Arn}/x/*"}}
    template["Resources"]["HealthFunction"]["Properties"]["Policies"].append({"Statement": [statement]})
    assert wildcard_data_store_grants(template) == []


def test_a_scheduled_function_without_dead_letter_queues_is_caught(template: Template) -> None:
    props = template["Resources"]["BackupFunction"]["Properties"]
    del props["EventInvokeConfig"]["DestinationConfig"]
    del props["Events"]["Daily"]["Properties"]["DeadLetterConfig"]
    assert scheduled_without_dlq(template) == [
        "BackupFunction: no OnFailure destination or DeadLetterQueue",
        "BackupFunction.Daily: no DeadLetterConfig",
    ]


def test_a_stack_past_the_resource_limit_is_caught(template: Template) -> None:
    health = template["Resources"]["HealthFunction"]
    for n in range(500 // 3):
        template["Resources"][f"Copy{n}Function"] = copy.deepcopy(health)
    assert estimated_resources(template) >= MAX_RESOURCES
