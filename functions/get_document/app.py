"""GET /documents/{documentId}: a document's metadata with a short-lived presigned download URL."""

from uuid import UUID

from hrms.documents import service
from hrms.documents.models import Document
from hrms.http import Response, api, ok

app = api(permission="documents:read")


@app.get("/documents/<documentId>")
def get_document(documentId: UUID) -> Response[Document]:
    return ok(service.get_document(app.tenant, app.actor, app.scope, documentId))


handler = app.handler
