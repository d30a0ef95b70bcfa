"""POST /auth/password: replace the (temporary) password; every earlier token dies, the answer carries a fresh one."""

from hrms.auth import login as session
from hrms.auth import tokens  # noqa: F401 - every change issues a token: jwt at init, not on the first request
from hrms.auth.models import AccessToken, PasswordChangeIn
from hrms.http import NO_STORE, Response, api, ok
from hrms.tenancy import TENANT_ROLES

app = api(roles=TENANT_ROLES, allow_temporary_password=True)


@app.post("/auth/password")
def change_password(body: PasswordChangeIn) -> Response[AccessToken]:
    return ok(session.change_password(app.tenant, app.actor, body), headers=NO_STORE)


handler = app.handler
