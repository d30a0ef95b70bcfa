"""Read template.yaml the way API Gateway and Lambda would see it, for the local runtime."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml


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


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout_s: int
    environment: dict[str, Any]

    @property
    def module_file(self) -> Path:
        return self.code_dir / (self.handler.rsplit(".", 1)[0].replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


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


@dataclass
class Template:
    root: Path
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    authorizer: AuthorizerSpec | None = None
    cors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Template:
        doc = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        template = cls(root=path.parent)
        globals_fn = (doc.get("Globals") or {}).get("Function", {})
        resources = doc.get("Resources", {})
        for logical_id, resource in resources.items():
            if resource.get("Type") == "AWS::Serverless::Function":
                template._add_function(logical_id, resource.get("Properties", {}), globals_fn)
            elif resource.get("Type") == "AWS::Serverless::Api":
                template._add_api(resource.get("Properties", {}))
        return template

    def _add_function(self, logical_id: str, props: dict[str, Any], globals_fn: dict[str, Any]) -> None:
        env = {
            **globals_fn.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        self.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=self.root / props["CodeUri"],
            handler=props["Handler"],
            timeout_s=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            environment=env,
        )
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "Api":
                ev = event["Properties"]
                authorized = (ev.get("Auth") or {}).get("Authorizer") != "NONE"
                self.routes.append(Route(ev["Method"].upper(), ev["Path"], logical_id, authorized))

    def _add_api(self, props: dict[str, Any]) -> None:
        auth = props.get("Auth") or {}
        default = auth.get("DefaultAuthorizer")
        if default:
            spec = auth["Authorizers"][default]
            identity = spec.get("Identity") or {}
            self.authorizer = AuthorizerSpec(
                function_id=spec["FunctionArn"]["Fn::GetAtt"][0],
                header=identity.get("Header", "Authorization"),
                ttl_s=int(identity.get("ReauthorizeEvery", 300)),
            )
        cors = props.get("Cors") or {}
        self.cors = {key: str(value).strip("'") for key, value in cors.items()}

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
