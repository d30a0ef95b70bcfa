"""PUT /appraisal-forms/{formId}: a new version of the form; existing appraisals keep theirs."""

from uuid import UUID

from hrms.appraisals import service
from hrms.appraisals.models import AppraisalForm, NewAppraisalForm
from hrms.http import Response, api, ok

app = api(permission="appraisal-forms:write")


@app.put("/appraisal-forms/<formId>")
def update_appraisal_form(formId: UUID, body: NewAppraisalForm) -> Response[AppraisalForm]:
    return ok(service.update_form(app.tenant, app.actor, formId, body))


handler = app.handler
