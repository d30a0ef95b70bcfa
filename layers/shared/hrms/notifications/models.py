"""Notification preferences on the wire: {"events": {"approval.requested": true, ...}}."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from hrms.models import ApiModel, InputModel

EventName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class NotificationPreferences(ApiModel):
    events: dict[str, bool] = Field(
        description="Every notification event and whether the caller gets its mail; security mail is always true."
    )


class NotificationPreferencesIn(InputModel):
    events: dict[EventName, bool] = Field(
        description="The events to turn on (true) or off (false); events not named keep their setting.",
        max_length=32,
    )
