"""POST /auth/password: replace the (temporary) password."""

from hrms.auth import login as session
from hrms.auth.models import PasswordChangeIn
from hrms.http import Response, api, no_content
from hrms.tenancy import TENANT_ROLES

app = api(roles=TENANT_ROLES, allow_temporary_password=True)


@app.post("/auth/password")
def change_password(body: PasswordChangeIn) -> Response[None]:
    session.change_password(app.tenant, app.actor, body)
    return no_content()


handler = app.handler
