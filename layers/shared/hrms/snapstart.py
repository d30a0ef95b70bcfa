"""Lambda SnapStart runtime hooks of the latency-critical functions (template.yaml's `SnapStart` group).

With SnapStart on, Lambda runs a function's init phase once per published version, snapshots the
initialised microVM, and resumes every new container of that version from the snapshot. So:

Before the snapshot (`before_snapshot`, once per version): import and build what every container would
build the same way, so a restored container has it ready -
- the settings (validated from the environment, which is the version's and the same in each container);
- the modules a first request imports on demand (boto3 and botocore for the Secrets Manager client,
  Powertools Parameters, redis-py), imported, not used: no client is created;
- the resolver's routes (`app`): their validation (the dependants and pydantic TypeAdapters that
  Powertools builds on a route's first request) and the models' schemas, by building the OpenAPI
  document once;
- every pydantic model the function imported: `hrms.models.ApiModel` defers building a model to its first
  use (a cold start builds only those a request uses), and a snapshot should hold them built.
Nothing that must differ between containers or be fresh: no connection is opened, no secret is fetched,
no random state is seeded.

After a restore (`after_restore`, in each restored container before its first request): whatever the
init phase may have cached that belongs to one container goes - the PostgreSQL pool, the MongoDB and Redis
clients, the boto3 clients (and their credentials) and Powertools' cached secrets, each store module having
registered its reset with `on_restore` when it was imported (a Postgres-only function resets no MongoDB
client and imports no pymongo) - and the `random` module, seeded once when it was imported before the
snapshot, is re-seeded from the OS: psycopg_pool's jitter of connection lifetimes, redis-py's retry backoff
and Powertools' log sampling draw from it.
`uuid.uuid4`, `secrets` and `os.urandom` draw from the OS on every call and need nothing.

`snapshot_restore_py` comes with Lambda's Python runtimes (and is the PyPI package snapshot-restore-py, a
dev dependency here). `prepare` registers the hooks with it when it is importable and does nothing
otherwise; without SnapStart, Lambda never calls them. The hooks are plain functions: tests call them.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from typing import Any

# Imported on a first request (lazily, to keep cold imports small); cheap to have in the snapshot.
WARM_IMPORTS = (
    "boto3",
    "botocore.config",
    "aws_lambda_powertools.utilities.parameters",
    "redis",
    "redis.cluster",
)


def prepare(app: Any = None) -> bool:
    """Register this function's hooks (from its handler module, after its routes): `app` is its resolver
    (hrms.http.api), if any. Returns whether the runtime's hook registry was found."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # an interpreter without the runtime's library: nothing will snapshot it
        return False
    register_before_snapshot(before_snapshot, app)
    register_after_restore(after_restore)
    return True


def before_snapshot(app: Any = None) -> None:
    """Import and build what is the same in every container; open, fetch and seed nothing."""
    from hrms.config import settings

    settings()
    for module in WARM_IMPORTS:
        importlib.import_module(module)
    if app is not None:
        app.get_openapi_schema()
    _build_models()


def _build_models() -> None:
    """Build every imported model that `defer_build` left for its first use (hrms.models)."""
    from hrms.models import ApiModel

    pending: list[type[ApiModel]] = [ApiModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__pydantic_complete__:
            model.model_rebuild()


def on_restore(reset: Callable[[], object]) -> None:
    """Have `after_restore` call `reset`: each store module registers, when it is imported, how it lets go of
    what it keeps per container (so a function resets only the stores it imported, and imports no other)."""
    _RESETS.append(reset)


def after_restore() -> None:
    """Forget the per-container state the snapshot may hold and re-seed `random` from the OS."""
    for reset in _RESETS:
        reset()
    random.seed()


_RESETS: list[Callable[[], object]] = []
