"""POST /appraisals/{appraisalId}/submit: draft -> submitted -> reviewed (required answers checked)."""

from uuid import UUID

from hrms.appraisals import service
from hrms.appraisals.models import Appraisal
from hrms.http import Response, api, ok

app = api(permission="appraisals:write")


@app.post("/appraisals/<appraisalId>/submit")
def submit_appraisal(appraisalId: UUID) -> Response[Appraisal]:
    return ok(service.submit_appraisal(app.tenant, app.actor, app.scope, appraisalId))


handler = app.handler
