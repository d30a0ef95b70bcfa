"""The environment each function gets locally, resolved the way CloudFormation and `sam local` would.

Per function: template Globals variables, then the function's own, then the `--env-vars` file's
"Parameters" section (every function), then its section for that function (by logical id or
FunctionName); unlike `sam local`, the file may also add variables the template does not declare.

Values: literals as CloudFormation turns them into strings (true -> "true"); `!Ref Param` (and
`${Param}` in `!Sub`, `!Join` of those) from `--parameter-overrides`, else the parameter's Default;
pseudo parameters (AWS::Region ...) as below; `!Ref <Queue>` (an AWS::SQS::Queue of the template) to
its queue's URL in the local stack's moto (hrms_tools.local.queues). What cannot be resolved locally - a
parameter with no default and no override, `!Ref` of a resource (a bucket, a secret), `!GetAtt` - is taken
from the local stack's environment (`base_env`), or left unset when the stack has no such variable. So is
a path under /opt, where Lambda mounts layers (PG_BIN_DIR=/opt/bin): nothing is mounted there locally.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hrms_tools.local.queues import local_queue_url
from hrms_tools.local.schedule import ACCOUNT_ID, REGION
from hrms_tools.local.template import Template

STACK_NAME = "hrms-local"


class _Unresolved:
    """A value only AWS knows (a resource's name or ARN, a parameter nobody gave a value)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


_NO_VALUE = object()  # AWS::NoValue: the variable is removed


def parse_parameter_overrides(values: str | Iterable[str] | None) -> dict[str, str]:
    """`Key=Value Key2='a b'` or `ParameterKey=Key,ParameterValue=Value` (SAM CLI's two forms)."""
    if values is None:
        return {}
    texts = [values] if isinstance(values, str) else list(values)
    out: dict[str, str] = {}
    for text in texts:
        for token in shlex.split(text):
            if token.startswith("ParameterKey="):
                found = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", token)
                if not found:
                    raise ValueError(f"expected ParameterKey=Name,ParameterValue=Value, got {token!r}")
                out[found[1]] = found[2]
                continue
            key, sep, value = token.partition("=")
            if not sep or not key:
                raise ValueError(f"expected Name=Value, got {token!r}")
            out[key] = value
    return out


def load_env_vars(path: Path) -> dict[str, dict[str, str]]:
    """SAM's `--env-vars` JSON: {"FunctionLogicalId": {"VAR": "value"}, "Parameters": {"VAR": "value"}}."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise ValueError(f'{path}: expected {{"FunctionLogicalId": {{"VAR": "value"}}, "Parameters": {{...}}}}')
    return {str(section): {str(k): _string(v) for k, v in values.items()} for section, values in doc.items()}


def parameter_values(template: Template, overrides: Mapping[str, str]) -> dict[str, str | None]:
    """Every template parameter's value: the override, else its Default, else None; checked like CloudFormation."""
    unknown = sorted(set(overrides) - set(template.parameters))
    if unknown:
        raise ValueError(f"parameters not in the template: {', '.join(unknown)}")
    values: dict[str, str | None] = {}
    for name, spec in template.parameters.items():
        spec = spec or {}
        raw = overrides.get(name, spec.get("Default"))
        value = None if raw is None else ",".join(map(_string, raw)) if isinstance(raw, list) else _string(raw)
        allowed = spec.get("AllowedValues")
        if value is not None and allowed and value not in [_string(a) for a in allowed]:
            raise ValueError(f"parameter {name}={value!r} is not one of {', '.join(map(_string, allowed))}")
        pattern = spec.get("AllowedPattern")
        if value is not None and pattern and not re.fullmatch(pattern, value):
            raise ValueError(f"parameter {name}={value!r} does not match {pattern}")
        values[name] = value
    return values


def pseudo_parameters(region: str = REGION) -> dict[str, str]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::StackName": STACK_NAME,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


def resolve_value(value: Any, names: Mapping[str, str | None]) -> Any:
    """A template value as a string, `_NO_VALUE`, or `_Unresolved` (names: parameters + pseudo parameters)."""
    if isinstance(value, bool | int | float | str):
        return _string(value)
    if isinstance(value, dict) and len(value) == 1:
        fn, arg = next(iter(value.items()))
        if fn == "Ref":
            if arg == "AWS::NoValue":
                return _NO_VALUE
            if arg in names:
                found = names[arg]
                return found if found is not None else _Unresolved(f"parameter {arg} has no value")
            return _Unresolved(f"{arg} is a resource")
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            local = {**names, **{k: resolve_value(v, names) for k, v in extra.items()}}
            return _substitute(str(text), local)
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            parts = [resolve_value(part, names) for part in arg[1]]
            bad = next((p for p in parts if not isinstance(p, str)), None)
            return bad if bad is not None else str(arg[0]).join(parts)
        return _Unresolved(f"{fn} is only known in AWS")
    return _Unresolved("not a string")


def _substitute(text: str, names: Mapping[str, Any]) -> Any:
    missing: list[str] = []

    def replace(found: re.Match[str]) -> str:
        name = found[1]
        value = names.get(name) if name in names else _Unresolved(f"{name} is a resource")
        if isinstance(value, str):
            return value
        missing.append(name)
        return ""

    result = re.sub(r"\$\{([^}!]+)\}", replace, text).replace("${!", "${")
    return _Unresolved(f"{', '.join(missing)} in !Sub") if missing else result


@dataclass
class Environments:
    """The resolved environment of every function, and what could not be resolved locally."""

    functions: dict[str, dict[str, str]]
    from_stack: dict[str, list[str]] = field(default_factory=dict)  # variable -> functions
    unset: dict[str, list[str]] = field(default_factory=dict)  # variable -> functions
    warnings: list[str] = field(default_factory=list)

    def common(self) -> dict[str, str]:
        """The variables every function has with the same value (they can live in the process environment)."""
        envs = list(self.functions.values())
        if not envs:
            return {}
        first = envs[0]
        return {k: v for k, v in first.items() if all(env.get(k) == v for env in envs[1:])}


def resolve_environments(
    template: Template,
    *,
    overrides: Mapping[str, str] | None = None,
    env_vars: Mapping[str, Mapping[str, str]] | None = None,
    base_env: Mapping[str, str] | None = None,
) -> Environments:
    base = dict(base_env or {})
    params = parameter_values(template, overrides or {})
    names: dict[str, str | None] = {**pseudo_parameters(base.get("AWS_REGION") or REGION), **params}
    endpoint = base.get("AWS_ENDPOINT_URL")
    if endpoint:  # the local stack's moto: the template's queues are there (created by the stack or the pollers)
        names.update({queue_id: local_queue_url(endpoint, queue_id) for queue_id in template.queues})
    env_vars = env_vars or {}
    by_name = {spec.name: fid for fid, spec in template.functions.items()}
    known = set(template.functions) | set(by_name) | {"Parameters"}
    result = Environments(functions={})
    for section in sorted(set(env_vars) - known):
        result.warnings.append(f"--env-vars section {section!r} names no function of the template: ignored")
    for fid, spec in template.functions.items():
        env: dict[str, str] = {}
        for key, raw in spec.environment.items():
            value = resolve_value(raw, names)
            if value is _NO_VALUE:
                continue
            if isinstance(value, str) and (value == "/opt" or value.startswith("/opt/")) and key in base:
                value = _Unresolved("layers are mounted under /opt in AWS only")
            if isinstance(value, _Unresolved):
                if key in base:
                    env[key] = base[key]
                    result.from_stack.setdefault(key, []).append(fid)
                else:
                    result.unset.setdefault(key, []).append(fid)
                continue
            env[key] = value
        for section in ("Parameters", spec.name, fid):
            env.update({str(k): _string(v) for k, v in (env_vars.get(section) or {}).items()})
        result.functions[fid] = env
    for key, fids in result.from_stack.items():
        result.warnings.append(f"{key}: only known in AWS; the local stack's value is used [{_where(fids)}]")
    for key, fids in result.unset.items():
        result.warnings.append(f"{key}: only known in AWS and not set by the local stack: unset [{_where(fids)}]")
    return result


def _where(fids: list[str]) -> str:
    return ", ".join(fids[:3]) + (f" and {len(fids) - 3} more" if len(fids) > 3 else "")


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
