"""`hrms.outbox.consumer.consume` against the real registry: SQS records in Lambda's shape, one outbox
event each, handled for active tenants only, failures reported per record, every log line keyed."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from hrms.db.postgres import transaction
from hrms.observability import logger
from hrms.outbox import EXPORT_REQUESTED, IMPORT_STARTED
from hrms.outbox.consumer import consume
from hrms.outbox.envelope import Envelope
from hrms.tenancy import Tenant

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:hrms-local-ImportQueue"


def envelope(tenant_id: UUID, kind: str = IMPORT_STARTED, **payload: Any) -> Envelope:
    body = payload or {"importId": str(uuid4()), "dryRun": False}
    return Envelope(uuid4(), kind, tenant_id, dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC), body)


def record(body: str, message_id: str | None = None, receives: int = 1) -> dict[str, Any]:
    """One record as Lambda's SQS event source delivers it."""
    return {
        "messageId": message_id or str(uuid4()),
        "receiptHandle": "handle-" + str(uuid4()),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receives),
            "SentTimestamp": "1736935200000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1736935200001",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


class Recorder:
    """Calls to `handle`, and the ones that should fail."""

    def __init__(self, failing: set[UUID] | None = None) -> None:
        self.calls: list[tuple[Tenant, Envelope]] = []
        self.failing = failing or set()

    def __call__(self, tenant: Tenant, envelope: Envelope) -> None:
        self.calls.append((tenant, envelope))
        logger.info("handling")
        if envelope.event_id in self.failing:
            raise RuntimeError("the worker failed")


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """The JSON log lines of the hrms logger while the test runs."""
    lines: list[dict[str, Any]] = []

    class Collect(logging.Handler):
        def emit(self, rec: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(rec)))

    handler = Collect()
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


@pytest.fixture
def t(tenant: Any) -> Tenant:
    return Tenant(tenant.tenant_id, tenant.schema_name)


def test_an_active_tenants_event_is_handled_with_its_tenant_and_keyed_logs(t, logs):
    sent = envelope(t.tenant_id)
    handle = Recorder()
    assert consume(event(record(sent.body())), None, handle) == {"batchItemFailures": []}
    [(tenant, received)] = handle.calls
    assert tenant == t
    assert received == sent
    keyed = [line for line in logs if line["message"] in ("handling", "Outbox event handled")]
    assert len(keyed) == 2
    for line in keyed:
        assert (line["tenant_id"], line["eventId"], line["type"]) == (
            str(t.tenant_id),
            str(sent.event_id),
            IMPORT_STARTED,
        )
    assert all("eventId" not in line for line in logs[logs.index(keyed[-1]) + 1 :])  # keys removed after the record


def test_a_failing_record_is_reported_and_the_others_are_not(t, logs):
    ok, bad = envelope(t.tenant_id), envelope(t.tenant_id, EXPORT_REQUESTED, exportId=str(uuid4()))
    handle = Recorder(failing={bad.event_id})
    response = consume(event(record(ok.body(), "m-ok"), record(bad.body(), "m-bad", receives=2)), None, handle)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    assert [e.event_id for _, e in handle.calls] == [ok.event_id, bad.event_id]
    [failure] = [line for line in logs if line["message"].startswith("Outbox event failed")]
    assert (failure["level"], failure["eventId"], failure["receiveCount"]) == ("ERROR", str(bad.event_id), 2)
    assert "the worker failed" in failure["exception"]


def test_a_batch_that_fails_entirely_is_reported_not_raised(t):
    bad = envelope(t.tenant_id)
    response = consume(event(record(bad.body(), "only")), None, Recorder(failing={bad.event_id}))
    assert response == {"batchItemFailures": [{"itemIdentifier": "only"}]}


@pytest.mark.parametrize("status", ["suspended", "deleted"])
def test_events_of_a_tenant_that_is_not_active_are_dropped_not_retried(t, logs, status):
    with transaction() as conn:
        conn.execute("UPDATE public.tenants SET status = %s WHERE id = %s", (status, t.tenant_id))
    sent = envelope(t.tenant_id)
    handle = Recorder()
    assert consume(event(record(sent.body())), None, handle) == {"batchItemFailures": []}
    assert handle.calls == []
    [dropped] = [line for line in logs if "not active" in line["message"]]
    assert (dropped["tenant_id"], dropped["tenantStatus"], dropped["eventId"]) == (
        str(t.tenant_id),
        status,
        str(sent.event_id),
    )


def test_events_of_an_unknown_tenant_are_dropped(stack, logs):
    sent = envelope(uuid4())
    handle = Recorder()
    assert consume(event(record(sent.body())), None, handle) == {"batchItemFailures": []}
    assert handle.calls == []
    assert [line["tenantStatus"] for line in logs if "not active" in line["message"]] == ["unknown"]


def test_a_body_that_is_no_outbox_event_fails_so_it_reaches_the_dead_letter_queue(t, logs):
    good = envelope(t.tenant_id)
    handle = Recorder()
    response = consume(event(record("not json", "junk"), record(good.body(), "good")), None, handle)
    assert response == {"batchItemFailures": [{"itemIdentifier": "junk"}]}
    assert [e.event_id for _, e in handle.calls] == [good.event_id]
    [refused] = [line for line in logs if line["message"].startswith("Not an outbox event")]
    assert refused["messageId"] == "junk" and refused["level"] == "ERROR"


def test_events_of_a_tenant_whose_writes_are_frozen_wait_for_the_next_delivery(t, logs):
    # GIVEN the tenant frozen by a restore (or a move): its workers must not write what the restore replaces
    with transaction() as conn:
        conn.execute(
            "INSERT INTO public.tenant_write_freezes (tenant_id, operation_id, reason) VALUES (%s, %s, 'restore')",
            (t.tenant_id, uuid4().hex),
        )
    sent, handle = envelope(t.tenant_id), Recorder()
    try:
        response = consume(event(record(sent.body(), "m-frozen")), None, handle)
    finally:
        with transaction() as conn:
            conn.execute("DELETE FROM public.tenant_write_freezes WHERE tenant_id = %s", (t.tenant_id,))
    # THEN the record fails unhandled (SQS delivers it again) ...
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-frozen"}]}
    assert handle.calls == []
    assert any(line["message"].startswith("The tenant's writes are frozen") for line in logs)
    # ... and once the freeze is lifted the same record is handled
    assert consume(event(record(sent.body(), "m-frozen", receives=2)), None, handle) == {"batchItemFailures": []}
    assert [e.event_id for _, e in handle.calls] == [sent.event_id]
