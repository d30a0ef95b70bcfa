"""POST /appraisal-forms: a form with dynamic fields (version 1)."""

from hrms.appraisals import service
from hrms.appraisals.models import AppraisalForm, NewAppraisalForm
from hrms.http import Response, api, created

app = api(permission="appraisal-forms:write")


@app.post("/appraisal-forms")
def create_appraisal_form(body: NewAppraisalForm) -> Response[AppraisalForm]:
    return created(service.create_form(app.tenant, app.actor, body))


handler = app.handler
