"""Notification preferences: which mail each user gets (GET/PUT /me/notification-preferences).

- The events are `EVENTS`; each is on unless the user turned it off.
- `OPTIONAL` events can be turned off; `ESSENTIAL` (security) mail cannot: a PUT turning one off is a
  422 naming it, and the Notifier sends it whatever is stored.
- A PUT names only the events it changes; an unknown event name is a 422 naming it. Nothing is written
  when the PUT is refused. The change is audited (`notification_preferences.updated`).
"""

from __future__ import annotations

from uuid import UUID

from hrms.db import audit_log
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.errors import Forbidden, Invalid
from hrms.notifications import repo
from hrms.notifications.models import NotificationPreferences, NotificationPreferencesIn
from hrms.tenancy import Actor, Tenant

# Outbox event types (`hrms.outbox.events`), named here rather than imported: the preference routes need
# no outbox (a unit test checks each is registered and has a template).
OPTIONAL = ("approval.requested", "approval.decided", "payslip.ready")
ESSENTIAL = ("password.reset_requested",)
EVENTS = OPTIONAL + ESSENTIAL


def wants(event_type: str, muted: list[str]) -> bool:
    """Whether a user who muted `muted` gets mail of `event_type` (essential mail always goes)."""
    return event_type in ESSENTIAL or event_type not in muted


def get_preferences(tenant: Tenant, actor: Actor) -> NotificationPreferences:
    user_id = _user(actor)
    with tenant_tx(tenant, actor) as tx:
        return _preferences(repo.muted(tx, user_id))


def set_preferences(tenant: Tenant, actor: Actor, body: NotificationPreferencesIn) -> NotificationPreferences:
    problems = [
        {"field": f"body.events.{name}", "type": "unknown_event", "message": f"not one of {', '.join(EVENTS)}"}
        for name in body.events
        if name not in EVENTS
    ] + [
        {"field": f"body.events.{name}", "type": "essential", "message": "security mail cannot be turned off"}
        for name, on in body.events.items()
        if name in ESSENTIAL and not on
    ]
    if problems:
        names = ", ".join(p["field"].removeprefix("body.events.") for p in problems)
        raise Invalid(f"These notification settings cannot be applied: {names}.", errors=problems)
    user_id = _user(actor)
    with tenant_tx(tenant, actor) as tx:
        return _apply(tx, user_id, body.events)


def _apply(tx: TenantTx, user_id: UUID, events: dict[str, bool]) -> NotificationPreferences:
    before = repo.muted(tx, user_id)
    after = sorted(({e for e in before if e in OPTIONAL} - set(events)) | {e for e, on in events.items() if not on})
    if after != sorted(before):
        repo.set_muted(tx, user_id, after)
        audit_log.record(tx, "notification_preferences.updated", "user", user_id, {"muted": before}, {"muted": after})
    return _preferences(after)


def _preferences(muted: list[str]) -> NotificationPreferences:
    return NotificationPreferences(events={event: wants(event, muted) for event in EVENTS})


def _user(actor: Actor) -> UUID:
    user_id = actor.user_uuid
    if user_id is None:
        raise Forbidden("Notification preferences belong to a tenant user.")
    return user_id
