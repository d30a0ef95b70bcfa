"""POST /documents: record a document and return a presigned PUT bound to its type and size."""

from hrms.documents import service
from hrms.documents.models import DocumentUpload, NewDocument
from hrms.http import Response, api, created

app = api(permission="documents:write", errors={404: "No such employee (`employeeId`)."})


@app.post("/documents")
def create_document(body: NewDocument) -> Response[DocumentUpload]:
    return created(service.create_document(app.tenant, app.actor, app.scope, body))


handler = app.handler
