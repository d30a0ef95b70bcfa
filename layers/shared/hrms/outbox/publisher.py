"""Putting outbox rows on the SQS queue (`OUTBOX_QUEUE_URL`): right after a request commits, and for the sweep.

- Rows are sent locked (`store.lock_*`, `FOR UPDATE SKIP LOCKED`), in SendMessageBatch calls of 10,
  and the outcome is recorded in the same transaction: `published_at` for each message SQS accepted,
  `attempts + 1` for each it refused. A call that fails outright (queue unreachable, throttled, access
  denied) fails its batch and ends the delivery; the rows not tried yet are left untouched.
- The after-commit publish (`AfterCommitPublish`, registered by `emit`) uses the quick SQS client
  (no retry, 1 s to connect, 2 s to read), starts no call after `AFTER_COMMIT_BUDGET_S`, and publishes
  at most `AFTER_COMMIT_LIMIT` rows, so a slow queue costs a request a few seconds at most; whatever it
  does not deliver, the sweep does.
- Without a queue configured nothing is sent and the rows wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hrms import aws
from hrms.config import settings
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.observability import logger
from hrms.outbox import store
from hrms.outbox.envelope import Envelope
from hrms.tenancy import Tenant

BATCH = 10  # SendMessageBatch takes at most 10 messages
AFTER_COMMIT_LIMIT = 100  # rows one request publishes itself; the sweep takes any beyond
AFTER_COMMIT_BUDGET_S = 2.0  # no SendMessageBatch call starts later than this after the first


@dataclass
class Delivery:
    published: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    interrupted: bool = False  # a call failed outright, no queue is configured or time ran out: the rest waits


def deliver(
    tx: TenantTx, rows: list[store.OutboxRow], *, quick: bool = False, budget_s: float | None = None
) -> Delivery:
    """Send `rows` (locked in `tx`) and record the outcome in `tx`; no call starts after `budget_s`."""
    delivery = Delivery()
    queue_url = settings().outbox_queue_url
    if not rows:
        return delivery
    if not queue_url:
        delivery.interrupted = True
        return delivery
    from botocore.exceptions import BotoCoreError, ClientError

    sqs = aws.client("sqs", quick=quick)
    stop_at = None if budget_s is None else time.monotonic() + budget_s
    for chunk in _chunks(rows):
        if stop_at is not None and time.monotonic() > stop_at:
            delivery.interrupted = True
            break
        try:
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=[_entry(tx.tenant, row) for row in chunk])
        except (BotoCoreError, ClientError) as exc:
            delivery.failed += [row.id for row in chunk]
            delivery.interrupted = True
            _log_failure(tx.tenant, len(chunk), type(exc).__name__, str(exc))
            break
        sent = {int(entry["Id"]) for entry in response.get("Successful", [])}
        delivery.published += [row.id for row in chunk if row.id in sent]
        refused = [row.id for row in chunk if row.id not in sent]
        if refused:
            delivery.failed += refused
            codes = sorted({str(entry.get("Code")) for entry in response.get("Failed", [])})
            _log_failure(tx.tenant, len(refused), "SendMessageBatch refused entries", ", ".join(codes))
    store.mark_published(tx, delivery.published)
    store.mark_failed(tx, delivery.failed)
    return delivery


@dataclass
class AfterCommitPublish:
    """The after-commit callback of one transaction: publish the outbox rows it wrote."""

    tenant: Tenant
    ids: list[int] = field(default_factory=list)

    def __call__(self) -> None:
        if not settings().outbox_queue_url:
            return
        with tenant_tx(self.tenant) as tx:
            rows = store.lock_by_ids(tx, self.ids[:AFTER_COMMIT_LIMIT])
            deliver(tx, rows, quick=True, budget_s=AFTER_COMMIT_BUDGET_S)


def _entry(tenant: Tenant, row: store.OutboxRow) -> dict[str, Any]:
    envelope = Envelope.from_row(tenant.tenant_id, row)
    return {"Id": str(row.id), "MessageBody": envelope.body(), "MessageAttributes": envelope.attributes()}


def _chunks(rows: list[store.OutboxRow]) -> Iterator[list[store.OutboxRow]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _log_failure(tenant: Tenant, count: int, error: str, detail: str) -> None:
    logger.warning(
        "Outbox events not published; the sweep retries them",
        extra={"tenant_id": str(tenant.tenant_id), "events": count, "error": error, "detail": detail[:300]},
    )
