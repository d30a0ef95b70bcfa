"""GET /documents: the documents the caller may see; `expiresBefore` lists those expiring by a date."""

from datetime import date
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.documents import service
from hrms.documents.models import Document
from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

app = api(permission="documents:read")


@app.get("/documents")
def list_documents(
    employeeId: UUID | None = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    expiresBefore: date | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[Document]]:
    return ok(
        service.list_documents(
            app.tenant,
            app.actor,
            app.scope,
            employee_id=employeeId,
            category=category,
            expires_before=expiresBefore,
            limit=limit,
            cursor=cursor,
        )
    )


handler = app.handler
