"""The local stack keeps the data stores' credentials where AWS keeps them, in Secrets Manager (moto), and
the clients read them from there: Valkey refuses the functions' commands without the secret's user."""

from __future__ import annotations

import os
from typing import Any

import pytest
import redis

from hrms.cache.client import redis_client
from hrms.config import settings
from hrms.db import mongo
from hrms.errors import DependencyDown
from hrms_tools.local.stack import MONGODB_SECRET_ID, REDIS_AUTH_SECRET_ID


def test_the_stack_names_secrets_not_credentials(stack: Any) -> None:
    env = stack.env
    assert (env["MONGODB_SECRET_ID"], env["REDIS_AUTH_SECRET_ID"]) == (MONGODB_SECRET_ID, REDIS_AUTH_SECRET_ID)
    assert stack.redis_password() not in "".join(env.values())


def test_redis_needs_the_secrets_user(stack: Any, reset_clients: None) -> None:
    anonymous = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=1)
    try:
        assert anonymous.ping()  # the readiness probe's one command
        with pytest.raises(redis.exceptions.NoPermissionError):
            anonymous.get("hrms:probe")
    finally:
        anonymous.close()
    client = redis_client()
    client.set("hrms:probe", "ok", ex=10)
    assert client.get("hrms:probe") == "ok"
    assert client.acl_whoami() == "hrms"


def test_the_mongodb_connection_comes_from_its_secret(stack: Any, reset_clients: None, monkeypatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")  # nothing listens there: the secret's URI wins
    settings.cache_clear()
    assert mongo.database().command("ping")["ok"] == 1.0


def test_without_secrets_manager_a_new_mongodb_client_is_a_dependency_outage(stack: Any, reset_clients: None) -> None:
    stack.stop_service("aws")
    try:
        with pytest.raises(DependencyDown, match="MongoDB is unavailable"):
            mongo.client()
    finally:
        stack.start_service("aws")
