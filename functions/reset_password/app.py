"""POST /auth/reset-password: a mailed reset token + a new password -> 204; the token is spent and every
earlier token of the user stops working."""

from hrms.auth import reset
from hrms.auth.models import ResetPasswordIn
from hrms.http import Response, api, no_content

app = api(
    public=True,
    errors={400: "The token is unknown, used, expired, revoked or not of an active account: one answer for all."},
)


@app.post("/auth/reset-password")
def reset_password(body: ResetPasswordIn) -> Response[None]:
    reset.reset_password(body)
    return no_content()


handler = app.handler
