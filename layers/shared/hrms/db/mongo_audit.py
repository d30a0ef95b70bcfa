"""Audited MongoDB writes: the document and its audit row both happen, or neither does.

MongoDB and PostgreSQL share no transaction, so the audit entry travels inside the document write
itself (under `_pendingAudit.<eventId>`: one single-document write, atomic in MongoDB and
DocumentDB alike) and is then delivered to the tenant's `audit_logs` (idempotent by `event_id`,
with any `copies` such as the settings history, idempotent by `_id`) and cleared from the document:

1. a `PendingAudit` hint (tenant, collection, event id) is inserted: where to look if we die;
2. the write, carrying the entry (refused writes - a version conflict, a duplicate key, a value
   BSON cannot hold - write nothing, and the hint is removed);
3. delivery, then the entry and the hint are removed.

If the process dies or PostgreSQL is down after step 2, the request still answers with the
write's result and `deliver_pending` (run by the outbox relay's schedule) finishes step 3 from
the hints. Audit rows therefore appear at least once, exactly once in `audit_logs`; a hint
without its entry in the document (death between 1 and 2) is simply dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from hrms.db.tenant_collection import TENANT, TenantCollection, collection, guarded
from hrms.errors import Conflict, DomainError, Invalid
from hrms.observability import logger
from hrms.request_context import request_id
from hrms.tenancy import Actor, Tenant

PENDING = "_pendingAudit"
HINTS = "PendingAudit"


@dataclass(frozen=True)
class Change:
    """What an audited write changes: one `audit_logs` row, and documents written alongside it."""

    action: str
    entity_type: str
    entity_id: object
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    copies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # collection -> document


def insert(target: TenantCollection, actor: Actor, doc: Mapping[str, Any], change: Change) -> dict[str, Any]:
    """`insert_one(doc)` with its audit."""
    with _pending(target, actor, change) as (event_id, entry):
        stored = target.insert_one({**doc, PENDING: {event_id: entry}})
    _deliver(target, stored["_id"], event_id, entry)
    return _without_pending(stored)


def update(
    target: TenantCollection,
    actor: Actor,
    flt: Mapping[str, Any],
    changes: Mapping[str, Any],
    change: Change,
    *,
    upsert: bool = False,
) -> dict[str, Any] | None:
    """`find_one_and_update(flt, changes)` with its audit; None (and no audit) when nothing matched.
    `changes` is a MongoDB update document; the entry is added to its `$set`."""
    try:
        with _pending(target, actor, change) as (event_id, entry):
            sets = {**changes.get("$set", {}), f"{PENDING}.{event_id}": entry}
            after = target.find_one_and_update(flt, {**changes, "$set": sets}, upsert=upsert)
            if after is None:
                raise _NothingMatched
    except _NothingMatched:
        return None
    _deliver(target, after["_id"], event_id, entry)
    return _without_pending(after)


class _NothingMatched(Exception):
    """A conditional update that matched nothing: no write, so no audit."""


def deliver_pending(older_than_s: float = 60.0, limit: int = 500) -> int:
    """Finish the audits of writes whose request did not (crash, PostgreSQL outage); the hints
    younger than `older_than_s` belong to requests still running. Returns how many were delivered."""
    from hrms.db.mongo import database

    cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
    delivered = 0
    with guarded():
        hints = list(database()[HINTS].find({"at": {"$lt": cutoff}}, sort=[("at", 1)], limit=limit))
    for hint in hints:
        tenant = Tenant(UUID(hint[TENANT]), hint["schema"])
        target = collection(tenant, hint["collection"])
        key = f"{PENDING}.{hint['_id']}"
        doc = target.find_one({key: {"$exists": True}})
        if doc is None:
            collection(tenant, HINTS).delete_many({"_id": hint["_id"]})
            continue
        delivered += _deliver(target, doc["_id"], hint["_id"], doc[PENDING][hint["_id"]])
    return delivered


@contextmanager
def _pending(target: TenantCollection, actor: Actor, change: Change) -> Iterator[tuple[str, dict[str, Any]]]:
    from bson import BSON
    from bson.errors import InvalidDocument

    event_id = str(uuid4())
    entry = _entry(event_id, actor, change)
    try:
        BSON.encode({"entry": entry})  # e.g. an integer beyond int64: refused before anything is written
    except (InvalidDocument, OverflowError) as exc:
        raise Invalid("A value is out of range or cannot be stored.") from exc
    hints = collection(target.tenant, HINTS)
    hints.insert_one(
        {
            "_id": event_id,
            "schema": target.tenant.schema_name,
            "collection": target.raw.name,
            "at": entry["at"],
        }
    )
    try:
        yield event_id, entry
    except BaseException:
        with suppress(DomainError):
            hints.delete_many({"_id": event_id})
        raise


def _entry(event_id: str, actor: Actor, change: Change) -> dict[str, Any]:
    from hrms.db.audit_log import diff

    before, after = diff(_plain(change.before), _plain(change.after))
    return {
        "eventId": event_id,
        "actorId": actor.user_id,
        "actorRole": actor.role,
        "action": change.action,
        "entityType": change.entity_type,
        "entityId": str(change.entity_id),
        "before": before,
        "after": after,
        "at": datetime.now(UTC),
        "requestId": request_id.get(),
        "copies": {name: dict(doc) for name, doc in change.copies.items()},
    }


def _deliver(target: TenantCollection, doc_id: object, event_id: str, entry: Mapping[str, Any]) -> int:
    """The audit row (and copies) of one write, then the entry and hint removed; 0 if it must wait."""
    from hrms.db import audit_log
    from hrms.db.postgres import tenant_tx

    try:
        for name, copy in entry["copies"].items():
            with suppress(Conflict):  # delivered before
                collection(target.tenant, name).insert_one({**copy, "_id": event_id})
        with tenant_tx(target.tenant) as tx:
            audit_log.record_event(tx, entry)
        target.update_one({"_id": doc_id}, {"$unset": {f"{PENDING}.{event_id}": ""}})
        collection(target.tenant, HINTS).delete_many({"_id": event_id})
    except DomainError:
        logger.warning("Audit of a MongoDB write left for the sweep", extra={"event_id": event_id})
        return 0
    return 1


def _plain(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if doc is None else {k: v for k, v in doc.items() if k not in ("_id", TENANT, PENDING)}


def _without_pending(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != PENDING}
