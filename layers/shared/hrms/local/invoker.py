"""Run a template function in-process like a warm Lambda container (`hrms invoke`, the gateway)."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from hrms.local.template import FunctionSpec


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and handlers read."""

    function_name: str
    timeout_s: int
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Container:
    """One function's module, imported once; invocations are serialised like one warm container."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        """The function's module, imported on first use (the cold start)."""
        if self._module is None:
            self._module = self._import()
        return self._module

    def _import(self) -> ModuleType:
        module_name = f"hrms_function_{self.spec.logical_id}"
        spec = importlib.util.spec_from_file_location(module_name, self.spec.module_file)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(self.spec.module_file)
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # pydantic generics resolve their module through sys.modules
        spec.loader.exec_module(module)
        return module

    def invoke(self, event: dict[str, Any], request_id: str | None = None) -> Any:
        with self._lock:
            handler: Callable[[dict[str, Any], Any], Any] = getattr(self.module, self.spec.handler_name)
            context = LambdaContext(self.spec.logical_id, self.spec.timeout_s, request_id or str(uuid.uuid4()))
            return handler(event, context)


class Containers:
    """Lazily created containers, one per function logical id."""

    def __init__(self, functions: dict[str, FunctionSpec]) -> None:
        self._functions = functions
        self._containers: dict[str, Container] = {}
        self._lock = threading.Lock()

    def get(self, logical_id: str) -> Container:
        with self._lock:
            if logical_id not in self._containers:
                self._containers[logical_id] = Container(self._functions[logical_id])
            return self._containers[logical_id]
