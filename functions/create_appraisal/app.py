"""POST /appraisals: a draft appraisal of an employee in the caller's scope, against a form's latest version."""

from hrms.appraisals import service
from hrms.appraisals.models import Appraisal, NewAppraisal
from hrms.http import Response, api, created

app = api(
    permission="appraisals:write",
    errors={404: "No such employee (`employeeId`) or form (`formId`) within the caller's scope."},
)


@app.post("/appraisals")
def create_appraisal(body: NewAppraisal) -> Response[Appraisal]:
    return created(service.create_appraisal(app.tenant, app.actor, app.scope, body))


handler = app.handler
