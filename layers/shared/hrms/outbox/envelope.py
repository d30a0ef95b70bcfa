"""One outbox event as an SQS message, and back.

Body (JSON, camelCase like the API):
    {"eventId": "<uuid>", "type": "approval.requested", "tenantId": "<uuid>",
     "occurredAt": "2025-01-15T10:00:00.123Z", "payload": {...ids and codes...}}
Message attributes `eventType` and `tenantId` (String) repeat the type and the tenant, so a consumer or
a subscription filter can route without parsing the body.

`eventId` is the dedupe key: delivery is at least once (a message may arrive twice, e.g. when the
relay is cut off between the send and recording it), so a consumer records the ids it has acted on
(per tenant, for longer than the outbox's retention) and skips repeats. It is a random uuid kept in
the row, not the row id, so it stays unique when a tenant schema is restored from a backup.
`occurredAt` is the commit's transaction time. Messages are not ordered (a standard queue, and the
after-commit publish and the sweep interleave): a consumer reads the current state when it acts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from uuid import UUID

from hrms.outbox.events import Scalar, event_type
from hrms.outbox.store import OutboxRow

ATTRIBUTE_TYPE = "eventType"
ATTRIBUTE_TENANT = "tenantId"


@dataclass(frozen=True)
class Envelope:
    event_id: UUID
    type: str
    tenant_id: UUID
    occurred_at: dt.datetime
    payload: dict[str, Scalar]

    @classmethod
    def from_row(cls, tenant_id: UUID, row: OutboxRow) -> Envelope:
        """The envelope of an outbox row."""
        return cls(row.event_id, row.event_type, tenant_id, row.created_at, dict(row.payload))

    def body(self) -> str:
        occurred = self.occurred_at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return json.dumps(
            {
                "eventId": str(self.event_id),
                "type": self.type,
                "tenantId": str(self.tenant_id),
                "occurredAt": occurred,
                "payload": self.payload,
            },
            separators=(",", ":"),
        )

    def attributes(self) -> dict[str, dict[str, str]]:
        return {
            ATTRIBUTE_TYPE: {"DataType": "String", "StringValue": self.type},
            ATTRIBUTE_TENANT: {"DataType": "String", "StringValue": str(self.tenant_id)},
        }

    @classmethod
    def parse(cls, body: str) -> Envelope:
        """A message body back into an envelope (for consumers); ValueError if it is not one, or if its
        type is not registered."""
        try:
            doc = json.loads(body)
            found = cls(
                event_id=UUID(doc["eventId"]),
                type=event_type(doc["type"]).name,
                tenant_id=UUID(doc["tenantId"]),
                occurred_at=dt.datetime.fromisoformat(doc["occurredAt"].replace("Z", "+00:00")),
                payload=doc["payload"],
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an outbox event: {exc!r}") from exc
        if not isinstance(found.payload, dict):
            raise ValueError("not an outbox event: the payload is not an object")
        return found
