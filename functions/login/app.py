"""POST /auth/login: tenant slug + email + password -> access token (same 401 for any mismatch)."""

from hrms import snapstart
from hrms.auth import login as session
from hrms.auth import tokens  # noqa: F401 - every sign-in issues a token: jwt at init, not on the first request
from hrms.auth.models import LoginIn, LoginOut
from hrms.http import NO_STORE, Response, api, ok

app = api(
    public=True,
    errors={
        401: "Unknown tenant, email or password, or an account that cannot sign in: one answer for all (no hint which)."
    },
)


@app.post("/auth/login")
def login(body: LoginIn) -> Response[LoginOut]:
    return ok(session.login(body), headers=NO_STORE)


handler = app.handler
snapstart.prepare(app)  # a SnapStart function (template.yaml): its runtime hooks
