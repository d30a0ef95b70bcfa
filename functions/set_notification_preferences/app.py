"""PUT /me/notification-preferences: turn the caller's non-essential notification mail on or off."""

from hrms.http import Response, api, ok
from hrms.notifications import service
from hrms.notifications.models import NotificationPreferences, NotificationPreferencesIn
from hrms.tenancy import TENANT_ROLES

app = api(
    roles=TENANT_ROLES,
    errors={422: "An unknown event, or security mail (password.reset_requested) turned off: the problem names it."},
)


@app.put("/me/notification-preferences")
def set_notification_preferences(body: NotificationPreferencesIn) -> Response[NotificationPreferences]:
    return ok(service.set_preferences(app.tenant, app.actor, body))


handler = app.handler
