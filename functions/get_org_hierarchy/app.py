"""GET /org/hierarchy: the department tree with headcounts and heads (cached org:{t}:hierarchy)."""

from hrms.http import Response, api, ok
from hrms.org import service
from hrms.org.models import OrgHierarchy

app = api(permission="org:read")


@app.get("/org/hierarchy")
def get_org_hierarchy() -> Response[OrgHierarchy]:
    return ok(service.get_hierarchy(app.tenant, app.actor))


handler = app.handler
