"""Notifier: the outbox queue's consumer; mails each event's recipients through SES (hrms.notifications.notifier)."""

from typing import Any

from hrms.notifications.notifier import handle
from hrms.outbox.consumer import consume


def handler(event: dict[str, Any], context: Any) -> Any:
    return consume(event, context, handle)
