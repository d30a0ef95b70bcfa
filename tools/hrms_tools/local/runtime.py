"""The local runtime: template + options -> per-function environments, container pools, hot reload,
and the pollers of the template's SQS event sources (`runtime.queues`, started by `hrms dev` and the
e2e gateway fixture; hrms_tools.local.queues).

Environment, in one process. Every function's environment is resolved (hrms_tools.local.env). What all
functions share is meant to live in the process environment (`hrms dev` and `hrms invoke` put it
there with `LocalRuntime.for_process`); what differs per function (e.g. MIGRATION_WORKERS, or a
variable `--env-vars` sets for one function) reaches that function through its own
`hrms.config.settings()`, validated at its cold start and set per invocation in its container's
thread only, so concurrent invocations of different functions never race on os.environ.
Two limits, reported at start-up: a per-function variable that is not an hrms.config setting
cannot be given to one function only (code reads os.environ directly: set it for all functions),
and the clients (PostgreSQL pool, Redis, MongoDB, boto3) are per process, so per-function
connection settings are not honoured.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hrms_tools.local.env import Environments, resolve_environments
from hrms_tools.local.invoker import Containers, FunctionTimeout, Throttled, log
from hrms_tools.local.queues import QueuePollers, SqsSourceSpec
from hrms_tools.local.reloader import Reloader
from hrms_tools.local.schedule import ScheduleSpec
from hrms_tools.local.template import Template

_CLIENT_PREFIXES = ("DATABASE_", "PG_POOL_", "PG_CONNECT_", "PG_STATEMENT_", "REDIS_", "MONGODB_", "AWS_")


@dataclass(frozen=True)
class RuntimeOptions:
    cold: bool = False  # a fresh import of the function module for every request
    hot_reload: bool = False  # `hrms dev` turns it on; tests keep one stable runtime
    reload_interval_s: float = 0.1  # how often the layers are stat()ed (a function's own dir: every request)
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    env_vars: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class LocalRuntime:
    def __init__(
        self, template: Template, options: RuntimeOptions | None = None, *, environments: Environments | None = None
    ) -> None:
        self.template = template
        self.options = options or RuntimeOptions()
        self.environments = environments or resolve_environments(
            template,
            overrides=self.options.parameter_overrides,
            env_vars=self.options.env_vars,
            base_env=os.environ,
        )
        self.overrides = {
            fid: {k: v for k, v in env.items() if os.environ.get(k) != v}
            for fid, env in self.environments.functions.items()
        }
        self.containers = Containers(template.functions, cold=self.options.cold, overrides=self.overrides)
        self.reloader = (
            Reloader(template, self.containers, interval_s=self.options.reload_interval_s)
            if self.options.hot_reload
            else None
        )
        self.warnings = [*template.warnings, *self.environments.warnings, *self._override_warnings()]
        reserved = {fid: spec.reserved_concurrency for fid, spec in template.functions.items()}
        self.queues = QueuePollers(template.queues, template.sqs_sources, self.deliver, reserved=reserved)
        for directory in template.layers.values():  # a Python layer's content is on sys.path (/opt/python)
            if str(directory) not in sys.path:
                sys.path.append(str(directory))

    @classmethod
    def for_process(
        cls, template: Template, options: RuntimeOptions | None = None, *, function_id: str | None = None
    ) -> LocalRuntime:
        """Resolve the environments, then put the shared part (or all of one function's) in os.environ."""
        options = options or RuntimeOptions()
        envs = resolve_environments(
            template, overrides=options.parameter_overrides, env_vars=options.env_vars, base_env=os.environ
        )
        os.environ.update(envs.functions[function_id] if function_id else envs.common())
        config = sys.modules.get("hrms.config")
        if config is not None:
            config.settings.cache_clear()
        return cls(template, options, environments=envs)

    def _override_warnings(self) -> list[str]:
        try:
            from hrms.config import Settings

            fields = {
                (info.alias if isinstance(info.alias, str) else name).upper()
                for name, info in Settings.model_fields.items()
            }
        except ImportError:
            fields = set()
        not_applied: dict[str, list[str]] = {}
        shared_clients: dict[str, list[str]] = {}
        for fid, delta in self.overrides.items():
            for key in delta:
                if key.upper() not in fields:
                    not_applied.setdefault(key, []).append(fid)
                elif key.upper().startswith(_CLIENT_PREFIXES):
                    shared_clients.setdefault(key, []).append(fid)
        lines = [
            f"{key}: differs from the process environment, and only hrms.config settings can differ per "
            f"function in one process: not applied [{_where(fids)}]"
            for key, fids in not_applied.items()
        ]
        lines += [
            f"{key}: clients are shared by every function in one process; whichever function connects first "
            f"decides [{_where(fids)}]"
            for key, fids in shared_clients.items()
        ]
        return lines

    def check_reload(self, *function_ids: str) -> None:
        if self.reloader is not None:
            self.reloader.check(function_ids)

    def fire(self, spec: ScheduleSpec, event: Any, at: datetime) -> Any:
        """An EventBridge tick: an asynchronous invoke (waits for a container rather than being throttled)."""
        self.check_reload(spec.function_id)
        try:
            result = self.containers.get(spec.function_id).invoke(event, wait=True)
        except (FunctionTimeout, Throttled) as exc:
            log.error("schedule %s (%s) at %s: %s", spec.id, spec.expression, at.isoformat(), exc)
            return None
        except Exception as exc:
            log.error("schedule %s (%s) at %s failed: %r", spec.id, spec.expression, at.isoformat(), exc)
            return None
        log.info("schedule %s (%s) at %s -> %s", spec.id, spec.expression, at.isoformat(), _brief(result))
        return result

    def deliver(self, source: SqsSourceSpec, event: Any) -> Any:
        """A batch of an SQS event source: a synchronous invoke that waits for a free container (Lambda's
        pollers back off at the reserved concurrency); the function's error or timeout is raised."""
        self.check_reload(source.function_id)
        return self.containers.get(source.function_id).invoke(event, wait=True)


def _where(fids: list[str]) -> str:
    return ", ".join(fids[:3]) + (f" and {len(fids) - 3} more" if len(fids) > 3 else "")


def _brief(result: Any) -> str:
    text = repr(result)
    return text if len(text) <= 200 else text[:197] + "..."
