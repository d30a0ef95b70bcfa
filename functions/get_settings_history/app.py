"""GET /settings/history: every version of the settings, newest first, with who changed what."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from hrms.http import Response, api, ok
from hrms.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from hrms.settings import service
from hrms.settings.models import SettingsChange

app = api(permission="settings:read")


@app.get("/settings/history")
def settings_history(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[SettingsChange]]:
    return ok(service.settings_history(app.tenant, limit, cursor))


handler = app.handler
