"""DELETE /documents/{documentId}: soft delete (hidden from reads; the S3 object is kept)."""

from uuid import UUID

from hrms.documents import service
from hrms.http import Response, api, no_content

app = api(permission="documents:write")


@app.delete("/documents/<documentId>")
def delete_document(documentId: UUID) -> Response[None]:
    service.delete_document(app.tenant, app.actor, app.scope, documentId)
    return no_content()


handler = app.handler
