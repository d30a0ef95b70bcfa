"""Today as the tenant sees it: the date in its `organization_settings` time zone (UTC when the
setting is missing or not an IANA name). One query; the leave calendar, which also reads the
versioned settings in MongoDB, resolves its own zone (`hrms.leave.repo.calendar`)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg import sql

from hrms.db import rows
from hrms.db.postgres import TenantTx


def zone(tx: TenantTx) -> ZoneInfo:
    query = sql.SQL("SELECT value #>> '{{}}' FROM {} WHERE key = 'timezone'").format(tx.t("organization_settings"))
    name = rows.scalar(tx, query, ())
    try:
        return ZoneInfo(str(name or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def today(tx: TenantTx) -> dt.date:
    return dt.datetime.now(zone(tx)).date()
