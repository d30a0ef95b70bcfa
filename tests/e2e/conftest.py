"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.http_world import Org, usable


@pytest.fixture(scope="package")
def gateway(gateway: Any) -> Iterator[Any]:
    """The session's local gateway, with the template's SQS event sources polled while the e2e tests run,
    so a request that queues work (an import, an export) is picked up by its worker through the real
    queue (`gateway.runtime.queues.drain()` waits for it). Stopped after the last e2e test: later tests
    publishing to the same queues are not raced by a worker."""
    gateway.runtime.queues.start(os.environ)
    yield gateway
    gateway.runtime.queues.stop()


@pytest.fixture
def org(client: httpx.Client, tenant: Any, gateway: Any) -> Iterator[Org]:
    """A tenant with a manager and a report, its users' temporary passwords cleared."""
    usable(tenant, gateway)
    yield Org(client, tenant)
