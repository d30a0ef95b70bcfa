"""DELETE /holidays/{holidayId}: remove a holiday (audited)."""

from uuid import UUID

from hrms.http import Response, api, no_content
from hrms.org import service

app = api(permission="org:write")


@app.delete("/holidays/<holidayId>")
def delete_holiday(holidayId: UUID) -> Response[None]:
    service.delete_holiday(app.tenant, app.actor, holidayId)
    return no_content()


handler = app.handler
