"""`emit`: write an event in the caller's transaction; it is published once that transaction commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hrms.db.changes import Change
from hrms.db.postgres import TenantTx
from hrms.outbox import store
from hrms.outbox.events import payload_of
from hrms.outbox.publisher import AfterCommitPublish


def emit(tx: TenantTx, event_type: str, payload: Mapping[str, Any]) -> int:
    """Add an event of a registered type (`hrms.outbox.events`) to the tenant's outbox in `tx`, and
    return its outbox id. Nothing leaves before `tx` commits, and nothing at all if it rolls back.
    ValueError (before any write) if the type is unknown or the payload breaks the ids-only rule."""
    body = payload_of(event_type, payload)
    outbox_id = store.insert(tx, event_type, body)
    _publication(tx).ids.append(outbox_id)
    return outbox_id


def _publication(tx: TenantTx) -> AfterCommitPublish:
    """The transaction's after-commit publish, registered (with the sweep's marker) on its first event."""
    for callback in tx.after_commit:
        if isinstance(callback, AfterCommitPublish):
            return callback
    store.hold_marker(tx)
    publication = AfterCommitPublish(tx.tenant)
    tx.call_after_commit(publication)
    return publication


def on_change(tx: TenantTx, change: Change) -> None:
    """Subscriber of `hrms.db.changes`: a change that names an event puts it in the outbox."""
    if change.event is not None:
        emit(tx, change.event, change.payload)
