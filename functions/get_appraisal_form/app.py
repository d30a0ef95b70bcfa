"""GET /appraisal-forms/{formId}: the latest version of a form, or `version`."""

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.appraisals import service
from hrms.appraisals.models import AppraisalForm
from hrms.http import Response, api, ok

app = api(permission="appraisal-forms:read")


@app.get("/appraisal-forms/<formId>")
def get_appraisal_form(
    formId: UUID, version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> Response[AppraisalForm]:
    return ok(service.get_form(app.tenant, formId, version))


handler = app.handler
