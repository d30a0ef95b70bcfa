"""GET /appraisals/{appraisalId}: one appraisal within the caller's scope."""

from uuid import UUID

from hrms.appraisals import service
from hrms.appraisals.models import Appraisal
from hrms.http import Response, api, ok

app = api(permission="appraisals:read")


@app.get("/appraisals/<appraisalId>")
def get_appraisal(appraisalId: UUID) -> Response[Appraisal]:
    return ok(service.get_appraisal(app.tenant, app.actor, app.scope, appraisalId))


handler = app.handler
