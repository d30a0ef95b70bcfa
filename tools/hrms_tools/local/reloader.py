"""Hot reload: an edit under a function's CodeUri or a layer's ContentUri applies to the next request.

Polling file stat()s, no watcher thread: before each request the gateway asks about the routed
function (its directory: a few files, ~10 µs) and, at most every `interval_s`, about the layers
(the hrms layer: ~90 files, ~0.5 ms). Changes:
- a function's files: only that function's warm containers are dropped; its next request is a
  cold start that executes the edited source;
- a layer's files: every module imported from the layer is dropped from sys.modules (except the
  local runtime's own: hrms_tools.local, hrms_tools.cli, and their parent packages), the clients the old
  modules cached (PostgreSQL pool, Redis, MongoDB) are closed, the .pyc of each changed file is
  removed (its mtime may be in the same second as the cached one), and every container is dropped:
  the next request of each function re-imports the layer;
- template.yaml: reported once (routes, settings and schedules need a restart).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hrms_tools.local.invoker import Containers, import_lock, log
from hrms_tools.local.template import Template

# Clients the layer caches at module level (functools.cache factories) and how to close them.
_CLIENT_CLOSERS = (
    ("hrms.db.postgres", "close_pool"),
    ("hrms.db.mongo", "close_client"),
    ("hrms.cache.client", "close_client"),
)

Snapshot = dict[str, tuple[int, int]]  # path -> (mtime_ns, size)


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """mtime and size of every file under the roots (no __pycache__, no .pyc)."""
    found: Snapshot = {}
    stack = [str(root) for root in roots]
    while stack:
        directory = stack.pop()
        try:
            entries = os.scandir(directory)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__" and not entry.name.startswith("."):
                            stack.append(entry.path)
                    elif not entry.name.endswith((".pyc", "~")):
                        stat = entry.stat()
                        found[entry.path] = (stat.st_mtime_ns, stat.st_size)
                except OSError:
                    continue
    return found


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


class Reloader:
    def __init__(
        self,
        template: Template,
        containers: Containers,
        *,
        interval_s: float = 0.1,
        on_reload: Callable[[], None] | None = None,
    ) -> None:
        self.template = template
        self.containers = containers
        self.interval_s = interval_s
        self.on_reload = on_reload
        self.reloads: list[tuple[str, list[str]]] = []  # (function id or "layer", changed files), newest last
        self._lock = threading.Lock()
        used = {layer for spec in template.functions.values() for layer in spec.layers}
        self.layer_dirs = [path for lid, path in template.layers.items() if lid in used]
        self._layers = snapshot(self.layer_dirs)
        self._layers_checked = time.monotonic()
        self._functions = {fid: snapshot([spec.code_dir]) for fid, spec in template.functions.items()}
        self._template_mtime = _mtime(template.path)
        self._template_reported = False

    def check(self, function_ids: Iterable[str]) -> None:
        """Apply what changed since the last check, before a request to these functions."""
        with self._lock:
            now = time.monotonic()
            if now - self._layers_checked >= self.interval_s:
                self._layers_checked = now
                self._check_layers()
                self._check_template()
            for function_id in function_ids:
                self._check_function(function_id)

    def _check_function(self, function_id: str) -> None:
        spec = self.template.functions[function_id]
        current = snapshot([spec.code_dir])
        before = self._functions.get(function_id)
        self._functions[function_id] = current
        if before is None or before == current:
            return
        changed = changed_files(before, current)
        self.containers.reset([function_id])
        self.reloads.append((function_id, changed))
        log.info("reload %s: %s changed", function_id, ", ".join(_short(p) for p in changed))
        if self.on_reload:
            self.on_reload()

    def _check_layers(self) -> None:
        current = snapshot(self.layer_dirs)
        if current == self._layers:
            return
        changed = changed_files(self._layers, current)
        self._layers = current
        dropped = self._purge_layer_modules(changed)
        self.containers.reset()
        self.reloads.append(("layer", changed))
        log.info(
            "reload layer: %s changed; %d modules dropped, every function re-imports it",
            ", ".join(_short(p) for p in changed),
            dropped,
        )
        if self.on_reload:
            self.on_reload()

    def _purge_layer_modules(self, changed: list[str]) -> int:
        for path in changed:
            if path.endswith(".py"):
                with contextlib.suppress(OSError):
                    os.unlink(importlib.util.cache_from_source(path))
        roots = tuple(os.path.realpath(d) + os.sep for d in self.layer_dirs)
        with import_lock():
            doomed = {}
            for name, module in list(sys.modules.items()):
                file = getattr(module, "__file__", None)
                real = os.path.realpath(file) if isinstance(file, str) else ""
                if real.startswith(roots):  # the runtime itself (hrms_tools) lives outside the layers
                    doomed[name] = module
            for module_name, closer in _CLIENT_CLOSERS:
                old = doomed.get(module_name)
                if old is not None:
                    try:
                        getattr(old, closer)()
                    except Exception:
                        log.warning("could not close %s.%s during a reload", module_name, closer, exc_info=True)
            for name in doomed:
                sys.modules.pop(name, None)
            importlib.invalidate_caches()
        return len(doomed)

    def _check_template(self) -> None:
        mtime = _mtime(self.template.path)
        if mtime != self._template_mtime and not self._template_reported:
            self._template_reported = True
            log.warning("%s changed: restart `hrms dev` to apply routes, settings and schedules", self.template.path)


def _mtime(path: Path | None) -> int | None:
    try:
        return path.stat().st_mtime_ns if path else None
    except OSError:
        return None


def _short(path: str) -> str:
    return os.path.relpath(path)
