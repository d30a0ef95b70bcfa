"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.http_world import Org, usable


@pytest.fixture
def org(client: httpx.Client, tenant: Any, gateway: Any) -> Iterator[Org]:
    """A tenant with a manager and a report, its users' temporary passwords cleared."""
    usable(tenant, gateway)
    yield Org(client, tenant)
