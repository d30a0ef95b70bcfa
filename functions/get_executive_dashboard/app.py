"""GET /dashboards/executive: the tenant at a glance (HR and admins), cached dashboard:{t}:executive."""

from hrms.dashboards import service
from hrms.dashboards.models import ExecutiveDashboard
from hrms.http import Response, api, ok

app = api(permission="executive-dashboard:read")


@app.get("/dashboards/executive")
def get_executive_dashboard() -> Response[ExecutiveDashboard]:
    return ok(service.executive_dashboard(app.tenant, app.actor))


handler = app.handler
