"""Concurrent invocations in one process never share Powertools log keys (tenant_id, request id)."""

from __future__ import annotations

import json
import threading

import pytest

from hrms_tools.local.logs import isolate_log_keys


def test_concurrent_invocations_keep_their_own_log_keys(capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools import Logger

    logger = Logger(service="log-isolation-test")
    isolate_log_keys()
    both_appended = threading.Barrier(2)

    def invocation(tenant: str) -> None:
        logger.append_keys(tenant_id=tenant)
        both_appended.wait()
        logger.info("request")

    threads = [threading.Thread(target=invocation, args=(t,)) for t in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logger.info("outside")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "log-isolation-test" in line]
    assert sorted(line.get("tenant_id") for line in lines if line["message"] == "request") == ["alpha", "beta"]
    assert [line.get("tenant_id") for line in lines if line["message"] == "outside"] == [None]
