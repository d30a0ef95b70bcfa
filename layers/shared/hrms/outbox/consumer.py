"""The workers' side of the outbox: an SQS event source's batch, one outbox event per record.

    from hrms.outbox.consumer import consume

    def handler(event, context):
        return consume(event, context, handle)  # handle(tenant, envelope) -> None

Per record (Powertools' BatchProcessor, partial batch responses):
- the body is parsed (`Envelope.parse`); a body that is no outbox event fails the record, so it ends
  in the queue's dead-letter queue, where it can be read;
- the tenant is the envelope's, looked up in the public registry: only an `active` tenant's events
  are handled; those of an unknown, suspended or deleted tenant are logged and dropped (deleted from
  the queue, not retried: retrying cannot make them actionable); while the tenant's writes are frozen
  (a restore or a move: `public.tenant_write_freezes` in its cell) the record fails without being
  handled, so a worker writes nothing that the restore would lose or the move leave behind: SQS
  delivers it again after the queue's visibility timeout, longer than such a freeze lasts;
- `handle(tenant, envelope)` runs with tenant_id, eventId and type in every log line; if it raises,
  the record is reported in `batchItemFailures` (the event source mapping needs
  `FunctionResponseTypes: [ReportBatchItemFailures]`): SQS makes it visible again after the queue's
  visibility timeout and moves it to the dead-letter queue after maxReceiveCount receives.
Delivery is at least once, so `handle` must be idempotent: it reads the current state (the import
or export row) and does nothing if the work is already done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from hrms.db import cells
from hrms.db.postgres import transaction
from hrms.errors import WritesFrozen
from hrms.observability import logger
from hrms.outbox.envelope import Envelope
from hrms.outbox.store import registered_tenant, write_freeze
from hrms.tenancy import Tenant

Handle = Callable[[Tenant, Envelope], None]


def consume(event: dict[str, Any], context: Any, handle: Handle) -> PartialItemFailureResponse:
    """Handle every record of an SQS event; the response lists the records that failed."""
    # One processor per call: it keeps the batch's state, and locally several workers share this module.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        _consume_record(record, handle)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


def _consume_record(record: SQSRecord, handle: Handle) -> None:
    receives = int(record.attributes.approximate_receive_count or 0)
    try:
        envelope = Envelope.parse(record.body)
    except ValueError as exc:
        logger.error(
            "Not an outbox event; it goes to the dead-letter queue after its retries",
            extra={"messageId": record.message_id, "receiveCount": receives, "error": str(exc)[:300]},
        )
        raise
    keys = {"tenant_id": str(envelope.tenant_id), "eventId": str(envelope.event_id), "type": envelope.type}
    logger.append_keys(**keys)
    try:
        tenant = _active_tenant(envelope)
        if tenant is None:
            return
        try:
            handle(tenant, envelope)
        except Exception:
            logger.exception("Outbox event failed; SQS delivers it again", extra={"receiveCount": receives})
            raise
        logger.info("Outbox event handled", extra={"receiveCount": receives})
    finally:
        logger.remove_keys(list(keys))


def _active_tenant(envelope: Envelope) -> Tenant | None:
    """The envelope's tenant if it is active; otherwise None, logged (the event is dropped)."""
    with transaction() as conn:
        found = registered_tenant(conn, envelope.tenant_id)
    if found is None or found.status != "active":
        logger.warning(
            "Outbox event of a tenant that is not active; dropped",
            extra={"tenantStatus": found.status if found else "unknown"},
        )
        return None
    with transaction(cells.cell_of(found.tenant_id)) as conn:
        retry_after_s = write_freeze(conn, found.tenant_id)
    if retry_after_s is not None:
        logger.warning("The tenant's writes are frozen (a restore or a move); SQS delivers the event again")
        raise WritesFrozen("The tenant's writes are frozen.", retry_after_s=retry_after_s)
    return Tenant(found.tenant_id, found.schema_name)
