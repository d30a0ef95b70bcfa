"""POST /auth/forgot-password: tenant slug + email -> 202, the same answer after the same time for any
account; an active user gets a reset link by email (rate-limited per account and per tenant)."""

from hrms.auth import forgot
from hrms.auth.models import ForgotPasswordIn, ResetRequested
from hrms.http import NO_STORE, Response, api, ok

app = api(public=True)


@app.post("/auth/forgot-password")
def forgot_password(body: ForgotPasswordIn) -> Response[ResetRequested]:
    return ok(forgot.forgot_password(body), 202, headers=NO_STORE)


handler = app.handler
