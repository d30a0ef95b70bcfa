"""GET /admin/backups: backups in S3, newest first, by kind, tenant, cell and date (platform admin).

`cell` selects that cell's full backups (with `tenantId` or kind `schema` it is a 422).
"""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.backup import service
from hrms.backup.keys import Kind
from hrms.backup.models import CELL_PATTERN, BackupInfo
from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.tenancy import PLATFORM_ADMIN

app = api(roles={PLATFORM_ADMIN}, errors={404: "No such tenant (`tenantId`)."})


@app.get("/admin/backups")
def list_backups(
    kind: Annotated[Kind | None, Query()] = None,
    tenant_id: Annotated[UUID | None, Query(alias="tenantId")] = None,
    since: Annotated[datetime | None, Query(description="Taken at or after (ISO 8601; UTC if no offset)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    cell: Annotated[str | None, Query(pattern=CELL_PATTERN, description="Only this cell's full backups")] = None,
) -> Response[Page[BackupInfo]]:
    return ok(service.list_backups(kind, tenant_id, since, limit, cursor, cell=cell))


handler = app.handler
