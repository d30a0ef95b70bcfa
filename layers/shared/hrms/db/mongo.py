"""pymongo client factory (one per container) with short timeouts so an outage fails fast."""

from __future__ import annotations

from functools import cache
from typing import Any

from hrms.config import settings


@cache
def client() -> Any:
    from pymongo import MongoClient

    from hrms.observability import trace_library

    trace_library("pymongo")  # registers a command listener: before the client exists
    cfg = settings()
    timeout = cfg.mongodb_timeout_ms
    return MongoClient(
        cfg.mongodb_uri,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        socketTimeoutMS=max(timeout, 5_000),
        maxPoolSize=4,
        tz_aware=True,
        uuidRepresentation="standard",
    )


def database() -> Any:
    return client()[settings().mongodb_database]


def close_client() -> None:
    if client.cache_info().currsize:
        client().close()
        client.cache_clear()
