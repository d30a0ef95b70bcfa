"""A fresh moto SQS queue standing in for one of the outbox's queues (OutboxQueue, ImportQueue, ...) in one
test, so every message the test reads is its own."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from hrms import aws
from hrms.config import settings
from hrms.tenancy import Tenant


@dataclass
class Queue:
    sqs: Any
    url: str

    def receive(self, tenant: Tenant | None = None) -> list[dict[str, Any]]:
        """The messages not received before (of one tenant), as {"body": ..., "attributes": ...}."""
        found: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=300
            ).get("Messages", [])
            if not got:
                break
            for message in got:
                attributes = {k: v["StringValue"] for k, v in (message.get("MessageAttributes") or {}).items()}
                found.append({"body": json.loads(message["Body"]), "attributes": attributes})
        return [m for m in found if tenant is None or m["body"]["tenantId"] == str(tenant.tenant_id)]


def use_queue(monkeypatch: pytest.MonkeyPatch, url: str, variable: str = "OUTBOX_QUEUE_URL") -> None:
    """Point the queue variable at `url` (the settings are re-read on their next use)."""
    monkeypatch.setenv(variable, url)
    settings.cache_clear()


@contextmanager
def queue_variable(variable: str, value: str | None) -> Iterator[None]:
    """Set (None: unset) one queue variable for the block, then restore it; settings are re-read each time."""
    previous = os.environ.get(variable)
    _set(variable, value)
    try:
        yield
    finally:
        _set(variable, previous)


def _set(variable: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = value
    settings.cache_clear()


@contextmanager
def fresh_queue(monkeypatch: pytest.MonkeyPatch, variable: str = "OUTBOX_QUEUE_URL") -> Iterator[Queue]:
    """A new queue named by `variable` for the block (nested blocks may replace several variables)."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"outbox-test-{secrets.token_hex(4)}")["QueueUrl"]
    previous = os.environ.get(variable)
    use_queue(monkeypatch, url, variable)
    try:
        yield Queue(sqs, url)
    finally:
        _set(variable, previous)
        sqs.delete_queue(QueueUrl=url)
