"""Checks on template.yaml that cfn-lint does not make: every function has the shared layer, log retention,
least-privilege policies and (when scheduled) a dead-letter queue, the SnapStart group is wired end to end,
and the stack stays under CloudFormation's 500 resources once SAM has expanded it.

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

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
MAX_RESOURCES = 500  # CloudFormation's limit per stack
DATA_STORE_ACTIONS = ("s3:", "secretsmanager:", "kms:", "dynamodb:")
SCHEDULE_EVENTS = {"Schedule", "ScheduleV2"}
# The latency-critical functions (README "SnapStart"): the authorizer, login, GET /me and the hottest reads.
SNAPSTART_FUNCTIONS = {
    "AuthorizerFunction",
    "LoginFunction",
    "GetMeFunction",
    "ListEmployeesFunction",
    "GetEmployeeFunction",
    "GetLeaveBalancesFunction",
    "ListLeavesFunction",
    "ListApprovalsFunction",
    "GetEmployeeDashboardFunction",
}
SNAPSTART_APPLY_ON = {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}

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
        if "Fn::Split" in resource:  # a list parameter rejoined and split: scoped when what it splits is
            return _scoped(resource["Fn::Split"][1])
        if "Fn::Join" in resource:
            parts = resource["Fn::Join"][1]
            return _scoped(parts) if isinstance(parts, list) else _scoped([parts])
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
                if isinstance(policy, dict) and set(policy) == {"Ref"}:  # the stack's own managed policy
                    if policy["Ref"] == "AWS::NoValue":
                        continue
                    policy = t["Resources"][policy["Ref"]]["Properties"]["PolicyDocument"]
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


def published(t: Template) -> set[str]:
    """The functions SAM publishes versions of (AutoPublishAlias): the SnapStart group."""
    return {lid for lid, props in functions(t).items() if "AutoPublishAlias" in props}


def snapstart_miswired(t: Template) -> list[str]:
    """What breaks SnapStart's wiring: a function of the group whose ApplyOn does not follow the parameter,
    whose version is not replaced when the parameter changes (SAM's version id ignores it), or whose handler
    does not register hrms.snapstart's hooks; SnapStart without a published version; an authorizer that
    invokes a published function's unpublished $LATEST (Api events SAM points at the alias itself)."""
    found = []
    merged, group = functions(t), published(t)
    for lid in sorted(group):
        props = merged[lid]
        if props.get("SnapStart") != {"ApplyOn": SNAPSTART_APPLY_ON}:
            found.append(f"{lid}: SnapStart.ApplyOn does not follow the SnapStart parameter")
        description = props.get("VersionDescription")
        if not (isinstance(description, dict) and (description.get("Fn::If") or [None])[0] == "SnapStartOn"):
            found.append(f"{lid}: switching SnapStart publishes no version (VersionDescription)")
        handler = ROOT / props["CodeUri"] / (props["Handler"].rsplit(".", 1)[0] + ".py")
        if "snapstart.prepare(" not in handler.read_text():
            found.append(f"{lid}: its handler registers no SnapStart hooks")
    unpublished = (lid for lid, props in merged.items() if "SnapStart" in props and lid not in group)
    found += [f"{lid}: SnapStart without AutoPublishAlias" for lid in unpublished]
    for api, props in _of_type(t, "AWS::Serverless::Api").items():
        for name, authorizer in ((props.get("Auth") or {}).get("Authorizers") or {}).items():
            arn = authorizer.get("FunctionArn")
            getatt = arn.get("Fn::GetAtt") if isinstance(arn, dict) else None
            function = str(getatt[0] if getatt else _ref(arn)).removesuffix(".Alias")
            if function in group and arn != {"Ref": f"{function}.Alias"}:
                found.append(f"{api}.{name}: invokes {function} outside its alias")
    return found


_EVENT_RESOURCES = {"Api": 1, "Schedule": 2, "ScheduleV2": 2}  # permission; rule or schedule + permission/role


def estimated_resources(t: Template) -> int:
    """Resources after the SAM transform: each function adds its role, one Lambda permission per Api event,
    a rule and a permission per schedule, an EventInvokeConfig, a version and an alias when published
    (AutoPublishAlias: its events' and authorizer's permissions then name the alias, no more of them); each
    API a deployment, a stage and a permission per Lambda authorizer; anything else is itself.
    Checked against SAM's own transform (the samtranslator of SAM CLI 1.170) when the SnapStart group came in:
    a few resources over, never under."""
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


def test_the_snapstart_group_is_the_latency_critical_functions(template: Template) -> None:
    assert published(template) == SNAPSTART_FUNCTIONS
    assert "SnapStart" in template["Parameters"] and "SnapStartOn" in template["Conditions"]


def test_snapstart_is_wired_from_parameter_to_handler(template: Template) -> None:
    assert snapstart_miswired(template) == []


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


def test_snapstart_miswiring_is_caught(template: Template) -> None:
    resources = template["Resources"]
    del resources["GetMeFunction"]["Properties"]["VersionDescription"]
    resources["LoginFunction"]["Properties"]["SnapStart"] = {"ApplyOn": "PublishedVersions"}
    resources["HealthFunction"]["Properties"]["SnapStart"] = {"ApplyOn": SNAPSTART_APPLY_ON}
    resources["HrmsApi"]["Properties"]["Auth"]["Authorizers"]["TokenAuthorizer"]["FunctionArn"] = {
        "Fn::GetAtt": ["AuthorizerFunction", "Arn"]
    }
    resources["GetOpenApiDocumentFunction"]["Properties"]["AutoPublishAlias"] = "live"  # a handler without hooks
    resources["GetOpenApiDocumentFunction"]["Properties"]["SnapStart"] = {"ApplyOn": SNAPSTART_APPLY_ON}
    resources["GetOpenApiDocumentFunction"]["Properties"]["VersionDescription"] = {"Fn::If": ["SnapStartOn", "a", "b"]}
    assert snapstart_miswired(template) == [
        "GetMeFunction: switching SnapStart publishes no version (VersionDescription)",
        "GetOpenApiDocumentFunction: its handler registers no SnapStart hooks",
        "LoginFunction: SnapStart.ApplyOn does not follow the SnapStart parameter",
        "HealthFunction: SnapStart without AutoPublishAlias",
        "HrmsApi.TokenAuthorizer: invokes AuthorizerFunction outside its alias",
    ]


def test_published_functions_count_their_version_and_alias(template: Template) -> None:
    with_group = estimated_resources(template)
    for lid in SNAPSTART_FUNCTIONS:
        del template["Resources"][lid]["Properties"]["AutoPublishAlias"]
    assert with_group - estimated_resources(template) == 2 * len(SNAPSTART_FUNCTIONS)


def test_a_stack_past_the_resource_limit_is_caught(template: Template) -> None:
    health = template["Resources"]["HealthFunction"]
    for n in range(500 // 3):
        template["Resources"][f"Copy{n}Function"] = copy.deepcopy(health)
    assert estimated_resources(template) >= MAX_RESOURCES
