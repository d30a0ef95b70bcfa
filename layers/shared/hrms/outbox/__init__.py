"""The transactional outbox (DESIGN.md 5a): events written in the request's PostgreSQL transaction,
delivered to SQS after it commits. Consumers (notifications, imports, exports, payslips) read the queue.

- `emit(tx, event_type, payload)` (`producer`) inserts a row in the tenant's `outbox` table and makes
  sure the tenant is listed in `public.outbox_pending`, both in the caller's transaction, and registers
  an after-commit publish. A rollback leaves neither row nor message.
- Right after the commit, `publisher.AfterCommitPublish` sends the transaction's rows to the queue
  (SendMessageBatch) and records `published_at`, or `attempts + 1` when SQS refuses or cannot be reached.
- Every minute the sweep (`relay.sweep`, OutboxRelayFunction; locally the runtime's scheduler) visits
  only the tenants listed as pending, delivers rows left behind, purges old published rows and drops
  the tenant from the list once its outbox is drained.

Guarantees: an event is published if and only if its transaction committed, at least once (a message
may be sent twice when a publisher dies between the send and recording it; consumers dedupe on
`eventId`); no ordering (standard queue; a consumer reads the current state when it acts). Payloads
carry ids and codes only (`events`); the message format is in `envelope`.
"""

from hrms.outbox.events import (
    APPROVAL_DECIDED,
    APPROVAL_REQUESTED,
    EXPORT_REQUESTED,
    IMPORT_STARTED,
    PASSWORD_RESET_REQUESTED,
    PAYROLL_PROCESSED,
    PAYSLIP_READY,
)
from hrms.outbox.producer import emit

__all__ = [
    "APPROVAL_DECIDED",
    "APPROVAL_REQUESTED",
    "EXPORT_REQUESTED",
    "IMPORT_STARTED",
    "PASSWORD_RESET_REQUESTED",
    "PAYROLL_PROCESSED",
    "PAYSLIP_READY",
    "emit",
]
