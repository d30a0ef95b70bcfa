"""GET /audit-logs: who changed what, newest first (admin and HR)."""

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.audit.models import AuditEntry
from hrms.audit.service import AuditFilter, list_audit_logs
from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="audit:read")


@app.get("/audit-logs")
def audit_logs(
    entityType: Annotated[str | None, Query(max_length=64)] = None,
    entityId: Annotated[str | None, Query(max_length=64)] = None,
    actorId: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[AuditEntry]]:
    filters = AuditFilter(entityType, entityId, actorId, since, until)
    return ok(list_audit_logs(app.tenant, app.actor, filters, limit, cursor))


handler = app.handler
