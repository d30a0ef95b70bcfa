"""Audit log query and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hrms.models import ApiModel


class AuditEntry(ApiModel):
    id: int
    occurred_at: datetime
    actor_id: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
