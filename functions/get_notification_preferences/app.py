"""GET /me/notification-preferences: which notification mail the caller gets."""

from hrms.http import Response, api, ok
from hrms.notifications import service
from hrms.notifications.models import NotificationPreferences
from hrms.tenancy import TENANT_ROLES

app = api(roles=TENANT_ROLES)


@app.get("/me/notification-preferences")
def get_notification_preferences() -> Response[NotificationPreferences]:
    return ok(service.get_preferences(app.tenant, app.actor))


handler = app.handler
