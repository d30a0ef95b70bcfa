"""The ImportWorker's side of the queue: `handle(tenant, envelope)` for `hrms.outbox.consumer.consume`.

An `import.started` event names the import; the run reads the job's current state (the event's dryRun
is informative: the job row says what was started), so a redelivered or duplicated event does nothing
once the job is taken or finished (`pipeline.run`).
"""

from __future__ import annotations

from uuid import UUID

from hrms.imports import pipeline
from hrms.observability import logger
from hrms.outbox import IMPORT_STARTED
from hrms.outbox.envelope import Envelope
from hrms.tenancy import Tenant


def handle(tenant: Tenant, envelope: Envelope) -> None:
    if envelope.type != IMPORT_STARTED:
        logger.warning("Not an import event; dropped", extra={"type": envelope.type})
        return
    pipeline.run(tenant, UUID(str(envelope.payload["importId"])))
