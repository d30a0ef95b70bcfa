"""POST /holidays: a holiday (one per date; the same date again is a 409)."""

from hrms.http import Response, api, created
from hrms.org import service
from hrms.org.models import Holiday, NewHoliday

app = api(permission="org:write", errors={409: "The date already has a holiday."})


@app.post("/holidays")
def create_holiday(body: NewHoliday) -> Response[Holiday]:
    return created(service.create_holiday(app.tenant, app.actor, body))


handler = app.handler
