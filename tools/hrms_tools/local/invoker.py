"""Run template functions in-process like Lambda runs them: warm containers, a pool per function.

- A `Container` is one instance of a function's module (imported once: its cold start, logged with
  the init time) and one worker thread that runs its invocations, one at a time, like a Lambda
  execution environment. Powertools resolvers keep per-request state on the module's `app`, so a
  container never serves two requests at once.
- A `FunctionPool` keeps a function's warm containers and starts another one when all are busy,
  up to the function's ReservedConcurrentExecutions: beyond it a synchronous invoke is throttled
  (`Throttled`, which the gateway answers with 429) and an asynchronous one (schedules) waits.
- Timeout: the caller stops waiting after the function's Timeout (`FunctionTimeout`, 504 at the
  gateway). A Python thread cannot be killed, so the container is discarded and its thread finishes
  (or hangs) on its own; the pool slot is freed at once, as Lambda frees it.
- Environment: everything runs in one process, so per-function differences from the process
  environment reach the function through `hrms.config.settings()` (set per invocation, in the
  container's thread only); see hrms_tools.local.runtime.
"""

from __future__ import annotations

import itertools
import logging
import queue
import sys
import threading
import time
import traceback
import types
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from hrms.redaction import ScrubbingFilter
from hrms_tools.local.schedule import ACCOUNT_ID, REGION
from hrms_tools.local.template import FunctionSpec

log = logging.getLogger("local-runtime")  # not under "hrms": Powertools filters those off the root handlers
log.addFilter(ScrubbingFilter())

INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit
_IMPORT_LOCK = threading.RLock()  # cold starts vs. a layer reload emptying sys.modules


class FunctionTimeout(Exception):
    def __init__(self, function_id: str, timeout_s: float, phase: str = "invoke") -> None:
        super().__init__(f"{function_id} timed out after {timeout_s:g} s ({phase})")
        self.function_id = function_id
        self.timeout_s = timeout_s


class Throttled(Exception):
    def __init__(self, function_id: str, limit: int) -> None:
        super().__init__(f"{function_id} is at its reserved concurrency ({limit})")
        self.function_id = function_id
        self.limit = limit


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and handlers read."""

    function_name: str
    timeout_s: int
    aws_request_id: str
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class PoolStats:
    cold_starts: int = 0
    invocations: int = 0
    throttles: int = 0
    timeouts: int = 0
    peak_concurrency: int = 0
    last_init_ms: float | None = None


@dataclass
class _Job:
    event: Any
    request_id: str | None
    started: threading.Event = field(default_factory=threading.Event)
    result: Future[Any] = field(default_factory=Future)
    deadline: float = 0.0


class Container:
    """One execution environment of a function: its own module instance and worker thread."""

    _ids = itertools.count(1)

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        overrides: Mapping[str, str] | None = None,
        stats: PoolStats | None = None,
        generation: int = 0,
    ) -> None:
        self.spec = spec
        self.number = next(Container._ids)
        self.generation = generation
        self.module_name = f"hrms_function_{spec.logical_id}_{self.number}"
        self.init_ms: float | None = None
        self.alive = True
        self._overrides = dict(overrides or {})
        self._stats = stats or PoolStats()
        self._module: types.ModuleType | None = None
        self._settings: tuple[Any, Any, Any] | None = None  # (config module, base settings, merged settings)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()

    # ------------------------------------------------------------------ cold start

    @property
    def module(self) -> types.ModuleType:
        """The function's module, imported on first use (the cold start)."""
        module = self._module
        if module is None:
            with _IMPORT_LOCK:
                if self._module is None:
                    started = time.perf_counter()
                    self._module = self._import()
                    self.init_ms = (time.perf_counter() - started) * 1000
                    self._stats.cold_starts += 1
                    self._stats.last_init_ms = self.init_ms
                    log.info("cold start %s #%d: init %.1f ms", self.spec.logical_id, self.number, self.init_ms)
                module = self._module
        return module

    def _import(self) -> types.ModuleType:
        """Execute the handler file as a fresh module, from source (a stale .pyc never hides an edit)."""
        path = self.spec.module_file
        module = types.ModuleType(self.module_name)
        module.__file__ = str(path)
        sys.modules[self.module_name] = module  # pydantic resolves annotations through sys.modules
        try:
            code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
            exec(code, module.__dict__)  # noqa: S102 - the function's own code, as Lambda's runtime runs it
            self._prepare_settings()
        except BaseException:
            sys.modules.pop(self.module_name, None)
            raise
        return module

    def _prepare_settings(self) -> None:
        """Validate the function's own settings at cold start (an invalid value fails the init, as in AWS)."""
        if not self._overrides:
            return
        config = sys.modules.get("hrms.config")
        if config is None or not hasattr(config, "function_settings"):
            return
        self._settings = (config, None, None)
        self._function_settings()

    def _function_settings(self) -> Any:
        """This function's settings: the process's, with the function's own variables on top."""
        if self._settings is None:
            return None
        config, base, merged = self._settings
        try:
            current = config._process_settings()
        except Exception:
            return None  # the process has no valid settings: the function meets the same error itself
        if current is not base:
            fields = config.Settings.env_keys()
            values = current.model_dump(by_alias=True)
            values.update({fields[k.upper()]: v for k, v in self._overrides.items() if k.upper() in fields})
            merged = config.Settings.model_validate(values)
            self._settings = (config, current, merged)
        return merged

    # ------------------------------------------------------------------ invocations

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        """Run the handler in this container's thread; FunctionTimeout after the function's Timeout."""
        if not self.alive:
            raise RuntimeError(f"container {self.module_name} was discarded")
        job = _Job(event, request_id)
        self._ensure_thread()
        self._jobs.put(job)
        if not job.started.wait(INIT_TIMEOUT_S):
            self.discard()
            raise FunctionTimeout(self.spec.logical_id, INIT_TIMEOUT_S, "init")
        try:
            return job.result.result(timeout=max(0.0, job.deadline - time.monotonic()))
        except FutureTimeout:
            self.discard()
            raise FunctionTimeout(self.spec.logical_id, self.spec.timeout_s) from None

    def discard(self) -> None:
        """Never use this container again; its thread ends after what it is running now."""
        self.alive = False
        sys.modules.pop(self.module_name, None)
        self._jobs.put(None)

    def _ensure_thread(self) -> None:
        with self._thread_lock:
            if self._thread is None:
                name = f"{self.spec.logical_id}#{self.number}"
                self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        from hrms_tools.local.logs import isolate_log_keys

        while (job := self._jobs.get()) is not None:
            try:
                module = self.module
                handler: Callable[[Any, Any], Any] = getattr(module, self.spec.handler_name)
                isolate_log_keys()
                settings = self._function_settings()
            except BaseException as exc:  # init error: Lambda discards the environment
                self.alive = False
                job.deadline = time.monotonic()
                job.result.set_exception(exc)
                job.started.set()
                continue
            context = LambdaContext(
                self.spec.name,
                self.spec.timeout_s,
                job.request_id or str(uuid.uuid4()),
                memory_limit_in_mb=self.spec.memory_mb,
                log_group_name=f"/aws/lambda/{self.spec.name}",
                log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.number:032x}",
            )
            job.deadline = time.monotonic() + self.spec.timeout_s
            job.started.set()
            config = self._settings[0] if self._settings is not None and settings is not None else None
            token = config.function_settings.set(settings) if config is not None else None
            try:
                job.result.set_result(handler(job.event, context))
            except Exception as exc:  # a handler error: the environment stays warm
                job.result.set_exception(exc)
            except BaseException as exc:  # sys.exit and the like end the runtime process (Runtime.ExitError)
                self.alive = False
                job.result.set_exception(RuntimeError(f"the function exited the runtime: {exc!r}"))
            finally:
                if config is not None:
                    config.function_settings.reset(token)


class FunctionPool:
    """The warm containers of one function (`gateway.containers.get(id)`)."""

    def __init__(self, spec: FunctionSpec, *, overrides: Mapping[str, str] | None = None, cold: bool = False) -> None:
        self.spec = spec
        self.cold = cold
        self.limit = spec.reserved_concurrency
        self.stats = PoolStats()
        self._overrides = dict(overrides or {})
        self._idle: list[Container] = []
        self._busy: set[Container] = set()
        self._generation = 0
        self._changed = threading.Condition()

    @property
    def module(self) -> types.ModuleType:
        """The function's module (a warm container's), for reading what it declares (routes, models)."""
        with self._changed:
            container = self._idle[-1] if self._idle else None
        if container is None:
            container = self._new()
            _ = container.module
            with self._changed:
                self._idle.append(container)
        return container.module

    @property
    def size(self) -> int:
        with self._changed:
            return len(self._idle) + len(self._busy)

    def invoke(self, event: Any, request_id: str | None = None, *, wait: bool = False) -> Any:
        """One invocation: synchronous (`wait=False`: throttled beyond the limit) or asynchronous (waits)."""
        container = self.acquire(wait=wait)
        reusable = False
        try:
            result = container.invoke(event, request_id)
            reusable = True
            return result
        except FunctionTimeout:
            self.stats.timeouts += 1
            raise
        except Exception:
            reusable = True  # the handler raised; the environment is still warm
            raise
        finally:
            self.release(container, reusable=reusable and container.alive)

    def acquire(self, *, wait: bool = False) -> Container:
        with self._changed:
            while self.limit is not None and len(self._busy) >= self.limit:
                if not wait or self.limit == 0:
                    self.stats.throttles += 1
                    raise Throttled(self.spec.logical_id, self.limit)
                self._changed.wait()
            container = None if self.cold else (self._idle.pop() if self._idle else None)
            if container is None:
                container = self._new()
            self._busy.add(container)
            self.stats.invocations += 1
            self.stats.peak_concurrency = max(self.stats.peak_concurrency, len(self._busy))
            return container

    def release(self, container: Container, *, reusable: bool) -> None:
        with self._changed:
            self._busy.discard(container)
            if reusable and not self.cold and container.generation == self._generation:
                self._idle.append(container)
            else:
                container.discard()
            self._changed.notify()

    def reset(self) -> None:
        """Drop every warm container (code changed): the next invocation is a cold start."""
        with self._changed:
            self._generation += 1
            for container in self._idle:
                container.discard()
            self._idle.clear()

    def _new(self) -> Container:
        return Container(self.spec, overrides=self._overrides, stats=self.stats, generation=self._generation)


class Containers:
    """The pools of every function of the template, created on first use."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        *,
        cold: bool = False,
        overrides: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._functions = dict(functions)
        self._cold = cold
        self._overrides = {k: dict(v) for k, v in (overrides or {}).items()}
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()

    def get(self, logical_id: str) -> FunctionPool:
        with self._lock:
            pool = self._pools.get(logical_id)
            if pool is None:
                spec = self._functions[logical_id]
                pool = FunctionPool(spec, overrides=self._overrides.get(logical_id), cold=self._cold)
                self._pools[logical_id] = pool
            return pool

    def pools(self) -> list[FunctionPool]:
        with self._lock:
            return list(self._pools.values())

    def reset(self, logical_ids: Iterable[str] | None = None) -> None:
        """Drop the warm containers of these functions (all when None)."""
        wanted = None if logical_ids is None else set(logical_ids)
        for pool in self.pools():
            if wanted is None or pool.spec.logical_id in wanted:
                pool.reset()


def error_document(error: BaseException, request_id: str) -> dict[str, Any]:
    """The error document Lambda's Python runtime returns for a failed invocation (what `aws lambda invoke`
    writes to its outfile and `sam local invoke` prints): errorMessage, errorType, requestId and stackTrace
    (`traceback.format_list` lines from the function's own code on: the runtime's and its caller's frames
    are left out, as Lambda leaves out its bootstrap's). A timeout is Lambda's `Sandbox.Timedout`."""
    if isinstance(error, FunctionTimeout):
        return {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {error.timeout_s:.2f} seconds",
        }
    frames = traceback.extract_tb(error.__traceback__)
    runtime = [i for i, frame in enumerate(frames) if frame.filename == __file__]  # ends where the code is called
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames[runtime[-1] + 1 :] if runtime else frames),
    }


def import_lock() -> threading.RLock:
    """Held while a container imports its module; a layer reload takes it to empty sys.modules."""
    return _IMPORT_LOCK
