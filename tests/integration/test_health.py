"""GET /health's checks against the real stores, with each store taken down in turn."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hrms.health.checks import check_health
from tests.conftest import _reset_clients

STORES = {"postgres", "mongo", "redis", "s3"}


class Outage:
    """Stops services of the session stack and brings them back, rebuilding cached clients."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.stopped: list[str] = []

    def stop(self, name: str) -> None:
        """Stop a service under a warm container: its clients were made (the stores' credentials read from
        Secrets Manager) before the outage, as when a store fails under a running function. Made afresh
        instead, with moto (Secrets Manager) down, MongoDB and Redis could not even be authenticated to."""
        _reset_clients()
        check_health()  # every client made, with the current settings
        self.stopped.append(name)
        self.stack.stop_service(name)

    def restore(self) -> None:
        while self.stopped:
            name = self.stopped.pop()
            for attempt in range(3):  # a concurrent pytest may briefly re-chmod the shared temp root
                try:
                    self.stack.start_service(name)
                    break
                except Exception:
                    if attempt == 2:
                        raise
                    time.sleep(1)
        os.environ.update(self.stack.env)
        _reset_clients()


@pytest.fixture
def outage(stack: Any, reset_clients: None) -> Iterator[Outage]:
    """Restores every stopped service even when the test fails."""
    current = Outage(stack)
    try:
        yield current
    finally:
        current.restore()


def _assert_all_ok() -> None:
    report = check_health()
    assert report.status == "ok", report
    assert report.http_status == 200
    assert set(report.checks) == STORES
    assert all(check.ok for check in report.checks.values()), report


def test_all_stores_up_is_ok(stack, reset_clients):
    report = check_health()
    assert report.status == "ok"
    assert report.http_status == 200
    assert set(report.checks) == STORES
    for name, check in report.checks.items():
        assert check.ok, name
        assert check.latency_ms >= 0
    body = report.model_dump(mode="json", by_alias=True)
    assert body["checks"]["postgres"]["latencyMs"] >= 0


@pytest.mark.parametrize(("service", "check"), [("redis", "redis"), ("mongo", "mongo"), ("aws", "s3")])
def test_optional_store_down_is_degraded_then_ok_after_restart(outage, service, check):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MONGODB_TIMEOUT_MS", "500")  # give up on a dead Mongo sooner than the 1.5 s default
        outage.stop(service)
        report = check_health()
    assert report.status == "degraded"
    assert report.http_status == 200
    assert report.checks[check].ok is False
    assert report.checks[check].detail.startswith("unavailable")
    assert all(c.ok for name, c in report.checks.items() if name != check), report

    outage.restore()
    _assert_all_ok()


def test_postgres_down_is_down_with_503_then_ok_after_restart(outage, monkeypatch):
    monkeypatch.setenv("PG_CONNECT_TIMEOUT_S", "1")  # fail fast instead of waiting out the pool
    outage.stop("postgres")
    report = check_health()
    assert report.status == "down"
    assert report.http_status == 503
    assert report.checks["postgres"].ok is False
    assert report.checks["postgres"].detail.startswith("unavailable")
    assert all(c.ok for name, c in report.checks.items() if name != "postgres"), report

    outage.restore()
    _assert_all_ok()


def test_each_check_reports_its_own_outage_even_with_two_down(outage):
    outage.stop("redis")
    outage.stop("aws")
    report = check_health()
    assert report.status == "degraded"
    assert {name for name, c in report.checks.items() if not c.ok} == {"redis", "s3"}
    outage.restore()
    _assert_all_ok()
