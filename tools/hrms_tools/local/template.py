"""Read template.yaml the way API Gateway, Lambda and EventBridge would see it, for the local runtime.

Whatever the template asks for that the local runtime does not do is collected in
`Template.warnings` (printed by `hrms dev` at start-up) rather than silently ignored.
"""

from __future__ import annotations

import platform
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from hrms_tools.local.queues import DEFAULT_BATCH_SIZE, DEFAULT_VISIBILITY_S, QueueSpec, SqsSourceSpec
from hrms_tools.local.schedule import ScheduleSpec, parse_expression


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns short-form intrinsics (!Ref, !GetAtt, !Sub ...) into their long form."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)

DEFAULT_TIMEOUT_S = 3  # Lambda's default
DEFAULT_MEMORY_MB = 128
DEFAULT_AUTHORIZER_TTL_S = 300

# Function properties by what the local runtime does with them.
_FUNCTION_SUPPORTED = {
    "CodeUri",
    "Handler",
    "Timeout",
    "Environment",
    "Events",
    "ReservedConcurrentExecutions",
    "MemorySize",
    "Runtime",
    "Layers",
    "FunctionName",
}
_FUNCTION_DEPLOY_ONLY = {  # nothing to emulate: names, packaging and deployment mechanics
    "Description",
    "Tags",
    "PropagateTags",
    "AutoPublishAlias",
    "AutoPublishAliasAllProperties",
    "AutoPublishCodeSha256",
    "VersionDescription",
    "VersionDeletionPolicy",
    "DeploymentPreference",
    "CodeSigningConfigArn",
    "KmsKeyArn",
    "PermissionsBoundary",
    "RuntimeManagementConfig",
    "RolePath",
    "PackageType",
}
_FUNCTION_NOT_EMULATED = {  # reported: behaviour in AWS that the local runtime does not reproduce
    "Policies": "IAM is not enforced locally: every function reaches every local service",
    "Role": "IAM is not enforced locally: every function reaches every local service",
    "VpcConfig": "no network isolation locally",
    "Tracing": "X-Ray is off locally (POWERTOOLS_TRACE_DISABLED)",
    "Architectures": f"functions run on this machine's {platform.machine()} interpreter",
    "LoggingConfig": "logs go to the terminal; log groups, levels and formats are not applied",
    "ProvisionedConcurrencyConfig": "no pre-warmed containers; the first request of each container is a cold start",
    "SnapStart": "no snapshots; cold starts import the module",
    "EphemeralStorage": "the host's temporary directory is used",
    "FileSystemConfigs": "EFS is not mounted",
    "DeadLetterQueue": "asynchronous retries and dead-letter queues are not emulated",
    "EventInvokeConfig": "asynchronous retries and destinations are not emulated",
    "FunctionUrlConfig": "function URLs are not served (only the REST API)",
    "RecursiveLoop": "recursion detection is not emulated",
}
_API_SUPPORTED = {
    "StageName",
    "Cors",
    "Auth",
    "GatewayResponses",
    "BinaryMediaTypes",
    "Variables",
    "Name",
    "Description",
    "Tags",
    "OpenApiVersion",
}
_API_NOT_EMULATED = {
    "MethodSettings": "throttling, caching and logging settings are not applied (only "
    "ReservedConcurrentExecutions limits concurrency)",
    "TracingEnabled": "X-Ray is off locally",
    "CacheClusterEnabled": "the stage cache is not emulated",
    "CacheClusterSize": "the stage cache is not emulated",
    "AccessLogSetting": "access logs go to the terminal in the werkzeug format",
    "Domain": "served on 127.0.0.1, not on a custom domain",
    "EndpointConfiguration": "served on 127.0.0.1",
    "DefinitionBody": "the routes come from the functions' Api events, not from an OpenAPI body",
    "DefinitionUri": "the routes come from the functions' Api events, not from an OpenAPI body",
    "MinimumCompressionSize": "responses are not compressed",
    "Models": "request models are not validated by the gateway",
    "DisableExecuteApiEndpoint": "the local endpoint is always served",
    "CanarySetting": "no canary stages",
}
_STACK_PROVIDED = {
    "AWS::S3::Bucket": "an S3 bucket in moto, named by the local stack",
    "AWS::SecretsManager::Secret": "a Secrets Manager secret in moto, provisioned by the local stack",
}
_HANDLED_RESOURCES = {
    "AWS::Serverless::Function",
    "AWS::Serverless::Api",
    "AWS::Serverless::LayerVersion",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::SQS::Queue",
}
_RESOURCES_NOT_EMULATED = {
    "AWS::SQS::QueuePolicy": "queue policies are not enforced locally",
}
# AWS::SQS::Queue properties: the SQS attribute each one sets on the local queue, or why it is not applied.
_QUEUE_ATTRIBUTES = {
    "VisibilityTimeout": "VisibilityTimeout",
    "MessageRetentionPeriod": "MessageRetentionPeriod",
    "DelaySeconds": "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
    "MaximumMessageSize": "MaximumMessageSize",
}
_QUEUE_DEPLOY_ONLY = {"QueueName", "Tags"}  # the local queue is hrms-local-<LogicalId>
_QUEUE_NOT_EMULATED = {
    "SqsManagedSseEnabled": "messages are not encrypted at rest locally",
    "KmsMasterKeyId": "messages are not encrypted at rest locally",
    "KmsDataKeyReusePeriodSeconds": "messages are not encrypted at rest locally",
    "RedriveAllowPolicy": "which queues may use a dead-letter queue is not enforced locally",
    "FifoQueue": "FIFO queues are not emulated: created as standard queues",
    "ContentBasedDeduplication": "FIFO queues are not emulated: created as standard queues",
    "DeduplicationScope": "FIFO queues are not emulated: created as standard queues",
    "FifoThroughputLimit": "FIFO queues are not emulated: created as standard queues",
}
_SQS_EVENT_SUPPORTED = {
    "Queue",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FunctionResponseTypes",
    "Enabled",
    "ScalingConfig",
}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout_s: int
    environment: dict[str, Any]  # as written in the template (Globals merged), intrinsics unresolved
    memory_mb: int = DEFAULT_MEMORY_MB
    reserved_concurrency: int | None = None
    runtime: str | None = None
    function_name: str | None = None
    layers: tuple[str, ...] = ()

    @property
    def module_file(self) -> Path:
        return self.code_dir / (self.handler.rsplit(".", 1)[0].replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def name(self) -> str:
        """The Lambda function name (FunctionName when the template sets a literal one)."""
        return self.function_name or self.logical_id


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form: /tenants/{tenantId}
    function_id: str
    authorized: bool

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class AuthorizerSpec:
    function_id: str
    header: str
    ttl_s: int
    validation_expression: str | None = None


@dataclass(frozen=True)
class GatewayResponse:
    """An API Gateway gateway response from the template (UNAUTHORIZED, DEFAULT_4XX, ...)."""

    status: int | None
    body: str | None
    headers: dict[str, str]


@dataclass
class Template:
    root: Path
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    authorizer: AuthorizerSpec | None = None
    cors: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    layers: dict[str, Path] = field(default_factory=dict)  # layer logical id -> its content directory
    stage: str = "Prod"
    stage_variables: dict[str, str] | None = None
    binary_media_types: list[str] = field(default_factory=list)
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    queues: dict[str, QueueSpec] = field(default_factory=dict)  # AWS::SQS::Queue logical id -> its spec
    sqs_sources: list[SqsSourceSpec] = field(default_factory=list)  # the functions' SQS events
    warnings: list[str] = field(default_factory=list)
    default_authorizer: str | None = None
    _pending_sqs: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list, repr=False)

    @classmethod
    def load(cls, path: Path) -> Template:
        doc = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        template = cls(root=path.parent, path=path)
        template.parameters = dict(doc.get("Parameters") or {})
        globals_doc = doc.get("Globals") or {}
        globals_fn = globals_doc.get("Function") or {}
        resources = doc.get("Resources") or {}
        notes = _Notes()
        for key in globals_doc:
            if key not in ("Function", "Api"):
                notes.add(f"Globals.{key}: not applied locally", "Globals")
        for name in (globals_fn.keys() - _FUNCTION_SUPPORTED - _FUNCTION_DEPLOY_ONLY) & _FUNCTION_NOT_EMULATED.keys():
            notes.add(f"{name}: {_FUNCTION_NOT_EMULATED[name]}", "Globals")
        apis = [lid for lid, res in resources.items() if res.get("Type") == "AWS::Serverless::Api"]
        if len(apis) > 1:
            notes.add(f"{len(apis)} REST APIs: all routes are served on one port with {apis[0]}'s settings", apis[0])
        for api_id in apis[:1]:
            props = {**(globals_doc.get("Api") or {}), **(resources[api_id].get("Properties") or {})}
            template._add_api(api_id, props, notes)
        for logical_id, resource in resources.items():
            kind = resource.get("Type")
            props = resource.get("Properties") or {}
            if kind == "AWS::Serverless::Function":
                template._add_function(logical_id, props, globals_fn, notes)
            elif kind == "AWS::Serverless::LayerVersion":
                content = props.get("ContentUri")
                if isinstance(content, str):
                    template.layers[logical_id] = (template.root / content).resolve()
                else:
                    notes.add("LayerVersion ContentUri that is not a local directory: not loaded", logical_id)
            elif kind == "AWS::Events::Rule":
                template._add_rule(logical_id, props, notes)
            elif kind == "AWS::Scheduler::Schedule":
                template._add_scheduler_schedule(logical_id, props, notes)
            elif kind == "AWS::SQS::Queue":
                template._add_queue(logical_id, props, notes)
            elif kind in _STACK_PROVIDED:
                notes.add(f"{kind}: not created from the template; {_STACK_PROVIDED[kind]}", logical_id)
            elif kind in _RESOURCES_NOT_EMULATED:
                notes.add(f"{kind}: {_RESOURCES_NOT_EMULATED[kind]}", logical_id)
            elif kind not in _HANDLED_RESOURCES:
                notes.add(f"{kind}: not emulated locally", logical_id)
        template._add_sqs_sources(notes)
        if sys.version_info[:2] != (3, 12):
            runtimes = {fn.runtime for fn in template.functions.values() if fn.runtime}
            here = f"python{sys.version_info.major}.{sys.version_info.minor}"
            for runtime in sorted(runtimes - {here}):
                users = [fid for fid, fn in template.functions.items() if fn.runtime == runtime]
                for fid in users:
                    notes.add(f"Runtime {runtime}: functions run on this interpreter ({here})", fid)
        template.warnings = notes.lines()
        return template

    # ------------------------------------------------------------------ functions

    def _add_function(self, logical_id: str, props: dict[str, Any], globals_fn: dict[str, Any], notes: _Notes) -> None:
        merged = {**globals_fn, **props}
        env = {
            **((globals_fn.get("Environment") or {}).get("Variables") or {}),
            **((props.get("Environment") or {}).get("Variables") or {}),
        }
        for name in props:
            if name in _FUNCTION_NOT_EMULATED:
                notes.add(f"{name}: {_FUNCTION_NOT_EMULATED[name]}", logical_id)
            elif name not in _FUNCTION_SUPPORTED and name not in _FUNCTION_DEPLOY_ONLY:
                notes.add(f"{name}: not supported by the local runtime", logical_id)
        if merged.get("PackageType") == "Image" or "InlineCode" in props or not isinstance(props.get("CodeUri"), str):
            notes.add("only local CodeUri directories can run (no images, inline code or S3 URIs)", logical_id)
            return
        listed = [*(globals_fn.get("Layers") or []), *(props.get("Layers") or [])]  # SAM merges Globals lists
        layers = tuple(ref["Ref"] for ref in listed if isinstance(ref, dict) and isinstance(ref.get("Ref"), str))
        if len(layers) != len(listed):
            notes.add("Layers given as ARNs: not loaded (only layers of this template are)", logical_id)
        reserved = merged.get("ReservedConcurrentExecutions")
        function_name = merged.get("FunctionName")
        spec = FunctionSpec(
            logical_id=logical_id,
            code_dir=self.root / props["CodeUri"],
            handler=str(merged["Handler"]),
            timeout_s=int(merged.get("Timeout", DEFAULT_TIMEOUT_S)),
            environment=env,
            memory_mb=_int(merged.get("MemorySize"), DEFAULT_MEMORY_MB),
            reserved_concurrency=_int(reserved, None) if reserved is not None else None,
            runtime=merged.get("Runtime") if isinstance(merged.get("Runtime"), str) else None,
            function_name=function_name if isinstance(function_name, str) else None,
            layers=layers,
        )
        if spec.runtime and not spec.runtime.startswith("python"):
            notes.add(f"Runtime {spec.runtime}: only Python functions run locally", logical_id)
            return
        if "MemorySize" in merged:
            notes.add("MemorySize: not enforced (only reported in the Lambda context)", logical_id)
        self.functions[logical_id] = spec
        for event_name, event in (props.get("Events") or {}).items():
            self._add_event(logical_id, event_name, event.get("Type"), event.get("Properties") or {}, notes)

    def _add_event(self, function_id: str, name: str, kind: str, props: dict[str, Any], notes: _Notes) -> None:
        where = f"{function_id}.{name}"
        if kind == "Api":
            auth = props.get("Auth") or {}
            authorizer = auth.get("Authorizer")
            authorized = authorizer != "NONE" and self.authorizer is not None
            for key in ("ApiKeyRequired", "AuthorizationScopes", "ResourcePolicy", "InvokeRole"):
                if key in auth:
                    notes.add(f"Api event Auth.{key}: not enforced locally", where)
            if authorizer not in (None, "NONE", "AWS_IAM", self.default_authorizer) and self.authorizer is not None:
                notes.add(f"authorizer {authorizer}: only the default TOKEN authorizer runs", where)
            if authorizer == "AWS_IAM":
                notes.add("AWS_IAM authorization: not enforced locally", where)
                authorized = False
            for key in ("RequestModel", "RequestParameters"):
                if key in props:
                    notes.add(f"Api event {key}: not validated by the gateway", where)
            self.routes.append(Route(str(props["Method"]).upper(), str(props["Path"]), function_id, authorized))
        elif kind in ("Schedule", "ScheduleV2"):
            expression = props.get("Schedule") if kind == "Schedule" else props.get("ScheduleExpression")
            enabled = props.get("Enabled", True) is not False and str(props.get("State", "ENABLED")) != "DISABLED"
            spec = ScheduleSpec(
                id=f"{function_id}{name}",
                function_id=function_id,
                source="aws.events" if kind == "Schedule" else "aws.scheduler",
                expression=str(expression),
                timezone=props.get("ScheduleExpressionTimezone"),
                input=props.get("Input") if isinstance(props.get("Input"), str) else None,
                enabled=enabled,
                name=props.get("Name") if isinstance(props.get("Name"), str) else None,
                group=str(props.get("GroupName") or "default"),
                start=props.get("StartDate"),
                end=props.get("EndDate"),
            )
            self._add_schedule(spec, where, notes)
            for key in ("DeadLetterConfig", "RetryPolicy"):
                if key in props:
                    notes.add(f"{kind} {key}: failed scheduled invocations are logged, not retried", where)
            flexible = (props.get("FlexibleTimeWindow") or {}).get("Mode", "OFF")
            if flexible != "OFF":
                notes.add("FlexibleTimeWindow: fires at the exact tick", where)
        elif kind == "SQS":
            self._pending_sqs.append((function_id, name, props))  # its queue may be declared further down
        elif kind == "EventBridgeRule":
            notes.add(
                "EventBridgeRule (event pattern): no events are generated locally; send one with `hrms invoke --event`",
                where,
            )
        else:
            notes.add(f"{kind} event: not emulated locally; use `hrms invoke --event`", where)

    def _add_rule(self, logical_id: str, props: dict[str, Any], notes: _Notes) -> None:
        expression = props.get("ScheduleExpression")
        if not isinstance(expression, str):
            notes.add("AWS::Events::Rule with an event pattern: no events are generated locally", logical_id)
            return
        for target in props.get("Targets") or []:
            function_id = _function_of(target.get("Arn"))
            if function_id not in self.functions:
                notes.add("AWS::Events::Rule target that is not a function of this template: not fired", logical_id)
                continue
            if "InputTransformer" in target:
                notes.add("InputTransformer: not applied (the default event is sent)", logical_id)
            spec = ScheduleSpec(
                id=logical_id if len(props.get("Targets") or []) == 1 else f"{logical_id}.{target.get('Id')}",
                function_id=function_id,
                source="aws.events",
                expression=expression,
                input=target.get("Input") if isinstance(target.get("Input"), str) else None,
                input_path=target.get("InputPath"),
                enabled=str(props.get("State", "ENABLED")) == "ENABLED",
                name=props.get("Name") if isinstance(props.get("Name"), str) else None,
            )
            self._add_schedule(spec, logical_id, notes)

    def _add_scheduler_schedule(self, logical_id: str, props: dict[str, Any], notes: _Notes) -> None:
        target = props.get("Target") or {}
        function_id = _function_of(target.get("Arn"))
        if function_id not in self.functions:
            notes.add("AWS::Scheduler::Schedule target that is not a function of this template: not fired", logical_id)
            return
        spec = ScheduleSpec(
            id=logical_id,
            function_id=function_id,
            source="aws.scheduler",
            expression=str(props.get("ScheduleExpression")),
            timezone=props.get("ScheduleExpressionTimezone"),
            input=target.get("Input") if isinstance(target.get("Input"), str) else None,
            enabled=str(props.get("State", "ENABLED")) == "ENABLED",
            name=props.get("Name") if isinstance(props.get("Name"), str) else None,
            group=str(props.get("GroupName") or "default"),
            start=props.get("StartDate"),
            end=props.get("EndDate"),
        )
        self._add_schedule(spec, logical_id, notes)

    def _add_schedule(self, spec: ScheduleSpec, where: str, notes: _Notes) -> None:
        try:
            parse_expression(spec.expression, spec.timezone, allow_at=spec.source == "aws.scheduler")
        except ValueError as exc:
            notes.add(f"schedule {spec.expression!r} is invalid ({exc}): it never fires", where)
            return
        self.schedules.append(spec)

    # ------------------------------------------------------------------ queues

    def _add_queue(self, logical_id: str, props: dict[str, Any], notes: _Notes) -> None:
        attributes: dict[str, str] = {}
        for name, value in props.items():
            if name in _QUEUE_ATTRIBUTES:
                if _int(value, None) is None:
                    notes.add(f"{name} that is not a number (an intrinsic?): SQS's default applies", logical_id)
                else:
                    attributes[_QUEUE_ATTRIBUTES[name]] = str(_int(value, None))
            elif name in _QUEUE_NOT_EMULATED:
                notes.add(f"{name}: {_QUEUE_NOT_EMULATED[name]}", logical_id)
            elif name not in _QUEUE_DEPLOY_ONLY and name != "RedrivePolicy":
                notes.add(f"{name}: not supported by the local runtime", logical_id)
        redrive = props.get("RedrivePolicy") or {}
        dead_letter = _function_of(redrive.get("deadLetterTargetArn"))
        if redrive and dead_letter is None:
            notes.add("RedrivePolicy to a queue outside this template: no dead-letter queue locally", logical_id)
        self.queues[logical_id] = QueueSpec(
            logical_id=logical_id,
            attributes=attributes,
            dead_letter_id=dead_letter,
            max_receive_count=_int(redrive.get("maxReceiveCount"), None) if dead_letter else None,
        )

    def _add_sqs_sources(self, notes: _Notes) -> None:
        for function_id, name, props in self._pending_sqs:
            where = f"{function_id}.{name}"
            queue_id = _function_of(props.get("Queue"))
            if queue_id not in self.queues:
                notes.add("SQS event: not emulated locally; use `hrms invoke --event`", where)
                continue
            for key in sorted(set(props) - _SQS_EVENT_SUPPORTED):
                notes.add(f"SQS event {key}: not applied locally", where)
            visibility = int(self.queues[queue_id].attributes.get("VisibilityTimeout", DEFAULT_VISIBILITY_S))
            if visibility < self.functions[function_id].timeout_s:
                notes.add(
                    f"SQS event: {queue_id}'s VisibilityTimeout ({visibility} s) is shorter than the function's "
                    "Timeout: AWS refuses this mapping, and locally a batch may be delivered twice",
                    where,
                )
            scaling = props.get("ScalingConfig") or {}
            self.sqs_sources.append(
                SqsSourceSpec(
                    id=f"{function_id}{name}",
                    function_id=function_id,
                    queue_id=str(queue_id),
                    batch_size=_int(props.get("BatchSize"), DEFAULT_BATCH_SIZE),
                    window_s=_int(props.get("MaximumBatchingWindowInSeconds"), 0),
                    report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    enabled=str(props.get("Enabled", True)).lower() != "false",
                    max_concurrency=_int(scaling.get("MaximumConcurrency"), None),
                )
            )
        self._pending_sqs.clear()

    # ------------------------------------------------------------------ API

    def _add_api(self, api_id: str, props: dict[str, Any], notes: _Notes) -> None:
        self.stage = str(props.get("StageName") or "Prod")
        for name in props:
            if name in _API_NOT_EMULATED:
                notes.add(f"{name}: {_API_NOT_EMULATED[name]}", api_id)
            elif name not in _API_SUPPORTED:
                notes.add(f"{name}: not supported by the local gateway", api_id)
        variables = props.get("Variables")
        if isinstance(variables, dict):
            self.stage_variables = {str(k): str(v) for k, v in variables.items()}
        self.binary_media_types = [str(t).replace("~1", "/") for t in props.get("BinaryMediaTypes") or []]
        auth = props.get("Auth") or {}
        for key in ("ApiKeyRequired", "ResourcePolicy", "UsagePlan", "InvokeRole"):
            if key in auth:
                notes.add(f"Auth.{key}: not enforced locally", api_id)
        default = auth.get("DefaultAuthorizer")
        for name, spec in (auth.get("Authorizers") or {}).items():
            if "UserPoolArn" in spec:
                notes.add(f"Cognito authorizer {name}: not supported locally", api_id)
            elif spec.get("FunctionPayloadType", "TOKEN") != "TOKEN":
                notes.add(f"REQUEST authorizer {name}: not supported locally (only TOKEN)", api_id)
            elif name != default:
                notes.add(f"authorizer {name}: only the default authorizer runs locally", api_id)
        if default and default != "AWS_IAM":
            spec = auth["Authorizers"][default]
            identity = spec.get("Identity") or {}
            if "UserPoolArn" not in spec and spec.get("FunctionPayloadType", "TOKEN") == "TOKEN":
                self.default_authorizer = default
                self.authorizer = AuthorizerSpec(
                    function_id=_function_of(spec.get("FunctionArn")) or "",
                    header=str(identity.get("Header", "Authorization")),
                    ttl_s=_int(identity.get("ReauthorizeEvery"), DEFAULT_AUTHORIZER_TTL_S),
                    validation_expression=identity.get("ValidationExpression"),
                )
        cors = props.get("Cors") or {}
        if isinstance(cors, str):
            cors = {"AllowOrigin": cors}
        self.cors = {key: str(value).strip("'") for key, value in cors.items()}
        for kind, response in (props.get("GatewayResponses") or {}).items():
            templates = response.get("ResponseTemplates") or {}
            headers = ((response.get("ResponseParameters") or {}).get("Headers")) or {}
            self.gateway_responses[str(kind)] = GatewayResponse(
                status=_int(response.get("StatusCode"), None) if response.get("StatusCode") else None,
                body=templates.get("application/json"),
                headers={str(k): str(v).strip("'") for k, v in headers.items()},
            )

    # ------------------------------------------------------------------ routing

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route for a request, its path parameters, and whether the path exists at all."""
        path_exists = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                path_exists = True
                if route.method in (method, "ANY"):
                    return route, found.groupdict(), True
        return None, {}, path_exists


class _Notes:
    """Warnings grouped by message: `Policies: ... (38: AFunction, BFunction, ...)`."""

    def __init__(self) -> None:
        self._where: dict[str, list[str]] = defaultdict(list)

    def add(self, message: str, where: str) -> None:
        if where not in self._where[message]:
            self._where[message].append(where)

    def lines(self) -> list[str]:
        out = []
        for message, where in self._where.items():
            shown = ", ".join(where[:3]) + (f" and {len(where) - 3} more" if len(where) > 3 else "")
            out.append(f"{message} [{shown}]")
        return out


def _function_of(arn: Any) -> str | None:
    """The logical id in `!GetAtt Fn.Arn` / `!Ref Fn`, or `!Ref Fn.Alias` / `!Ref Fn.Version` (SAM's references
    to a function's AutoPublishAlias and its version: locally the function itself). None for anything else."""
    if isinstance(arn, dict):
        if "Fn::GetAtt" in arn:
            target = arn["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
        if isinstance(arn.get("Ref"), str):
            ref = str(arn["Ref"])
            return ref.removesuffix(".Alias").removesuffix(".Version")
    return None


def _int(value: Any, default: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
