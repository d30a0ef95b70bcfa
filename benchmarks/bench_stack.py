"""The embedded stack every benchmark starts for itself: a temporary directory, loopback only, removed after."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def embedded_stack(prefix: str) -> Iterator[Any]:
    """Start PostgreSQL, Valkey, the Mongo-protocol server and moto; their env goes into os.environ."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, tmp, True)
    os.environ["XDG_RUNTIME_DIR"] = str(Path(tmp) / "run")  # private (0700), inside the temporary directory
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700)

    from hrms_tools.local.stack import EmbeddedStack

    stack = EmbeddedStack(Path(tmp) / "hrms", fresh=True)
    try:
        os.environ.update(stack.start())
        yield stack
    finally:
        from hrms.db.postgres import close_pool

        close_pool()
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
