"""Putting outbox rows on their SQS queues: right after a request commits, and for the sweep.

- Each row goes to the queue its event type names (`EventType.queue`, an `hrms.config` setting:
  OUTBOX_QUEUE_URL for the approval events, IMPORT_QUEUE_URL for import.started, ...); the rows of
  one delivery are grouped per queue.
- Rows are sent locked (`store.lock_*`, `FOR UPDATE SKIP LOCKED`), in SendMessageBatch calls of 10,
  and the outcome is recorded in the same transaction: `published_at` for each message SQS accepted,
  `attempts + 1` for each it refused. A call that fails outright (queue unreachable, throttled, access
  denied) fails its batch, ends the delivery to that queue (its rows not tried yet are left untouched;
  the other queues are still tried) and marks the delivery interrupted.
- The after-commit publish (`AfterCommitPublish`, registered by `emit`) uses the quick SQS client
  (no retry, 1 s to connect, 2 s to read), starts no call after `AFTER_COMMIT_BUDGET_S`, and publishes
  at most `AFTER_COMMIT_LIMIT` rows, so a slow queue costs a request a few seconds at most; whatever it
  does not deliver, the sweep does.
- A row whose queue is not configured (or whose type is no longer registered) is not sent: it waits
  in the table (`Delivery.waiting`) until its queue is set, like every row when no queue is.
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
from hrms.outbox.events import REGISTRY
from hrms.tenancy import Tenant

BATCH = 10  # SendMessageBatch takes at most 10 messages
AFTER_COMMIT_LIMIT = 100  # rows one request publishes itself; the sweep takes any beyond
AFTER_COMMIT_BUDGET_S = 2.0  # no SendMessageBatch call starts later than this after the first


@dataclass
class Delivery:
    published: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # rows whose queue is not configured: not sent
    interrupted: bool = False  # a call failed outright or time ran out: the rest waits


def deliver(
    tx: TenantTx, rows: list[store.OutboxRow], *, quick: bool = False, budget_s: float | None = None
) -> Delivery:
    """Send `rows` (locked in `tx`) to their queues and record the outcome in `tx`; no call starts after
    `budget_s`."""
    delivery = Delivery()
    by_queue: dict[str, list[store.OutboxRow]] = {}
    for row in rows:
        url = queue_url(row.event_type)
        if url:
            by_queue.setdefault(url, []).append(row)
        else:
            delivery.waiting.append(row.id)
    if by_queue:
        stop_at = None if budget_s is None else time.monotonic() + budget_s
        sqs = aws.client("sqs", quick=quick)
        for url, queued in by_queue.items():
            _send(sqs, url, tx.tenant, queued, delivery, stop_at)
    store.mark_published(tx, delivery.published)
    store.mark_failed(tx, delivery.failed)
    return delivery


def queue_url(event_type: str) -> str | None:
    """The URL of the queue events of this type go to; None when it is not configured (or the type is
    no longer registered: its rows wait rather than fail the tenant's sweep)."""
    kind = REGISTRY.get(event_type)
    if kind is None:
        logger.warning("Outbox row of an unregistered event type; it waits", extra={"type": event_type})
        return None
    url = getattr(settings(), kind.queue)
    return str(url) if url else None


def unconfigured_queues() -> list[str]:
    """The queue settings some registered event type names that are not set (their events wait)."""
    return sorted({kind.queue for kind in REGISTRY.values() if not getattr(settings(), kind.queue)})


def _send(
    sqs: Any, url: str, tenant: Tenant, rows: list[store.OutboxRow], delivery: Delivery, stop_at: float | None
) -> None:
    """SendMessageBatch calls of `rows` to one queue; the outcome goes into `delivery`."""
    from botocore.exceptions import BotoCoreError, ClientError

    for chunk in _chunks(rows):
        if stop_at is not None and time.monotonic() > stop_at:
            delivery.interrupted = True
            return
        try:
            response = sqs.send_message_batch(QueueUrl=url, Entries=[_entry(tenant, row) for row in chunk])
        except (BotoCoreError, ClientError) as exc:
            delivery.failed += [row.id for row in chunk]
            delivery.interrupted = True
            _log_failure(tenant, url, len(chunk), type(exc).__name__, str(exc))
            return
        sent = {int(entry["Id"]) for entry in response.get("Successful", [])}
        delivery.published += [row.id for row in chunk if row.id in sent]
        refused = [row.id for row in chunk if row.id not in sent]
        if refused:
            delivery.failed += refused
            codes = sorted({str(entry.get("Code")) for entry in response.get("Failed", [])})
            _log_failure(tenant, url, len(refused), "SendMessageBatch refused entries", ", ".join(codes))


@dataclass
class AfterCommitPublish:
    """The after-commit callback of one transaction: publish the outbox rows it wrote."""

    tenant: Tenant
    ids: list[int] = field(default_factory=list)

    def __call__(self) -> None:
        if not any(getattr(settings(), kind.queue) for kind in REGISTRY.values()):
            return  # no queue at all: nothing could be sent, so no transaction is opened
        with tenant_tx(self.tenant) as tx:
            rows = store.lock_by_ids(tx, self.ids[:AFTER_COMMIT_LIMIT])
            deliver(tx, rows, quick=True, budget_s=AFTER_COMMIT_BUDGET_S)


def _entry(tenant: Tenant, row: store.OutboxRow) -> dict[str, Any]:
    envelope = Envelope.from_row(tenant.tenant_id, row)
    return {"Id": str(row.id), "MessageBody": envelope.body(), "MessageAttributes": envelope.attributes()}


def _chunks(rows: list[store.OutboxRow]) -> Iterator[list[store.OutboxRow]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _log_failure(tenant: Tenant, url: str, count: int, error: str, detail: str) -> None:
    queue = url.rstrip("/").rsplit("/", 1)[-1]
    logger.warning(
        "Outbox events not published; the sweep retries them",
        extra={
            "tenant_id": str(tenant.tenant_id),
            "queue": queue,
            "events": count,
            "error": error,
            "detail": detail[:300],
        },
    )
