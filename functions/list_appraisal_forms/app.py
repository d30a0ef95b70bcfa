"""GET /appraisal-forms: the latest version of every appraisal form (optionally of one cycle)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.appraisals import service
from hrms.appraisals.models import AppraisalForm
from hrms.http import Response, api, ok
from hrms.pagination import Page

app = api(permission="appraisal-forms:read")


@app.get("/appraisal-forms")
def list_appraisal_forms(cycle: Annotated[str | None, Query(max_length=64)] = None) -> Response[Page[AppraisalForm]]:
    return ok(service.list_forms(app.tenant, cycle))


handler = app.handler
