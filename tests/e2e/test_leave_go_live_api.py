"""Going live with leave through the local gateway (#16): balance adjustments (opening balances and
corrections) and an April-start tenant whose rollover the template's hourly schedule fires on
1 April in the tenant's zone, not on 1 January (the scheduler driven by a fixed clock).

The world (`Org`): a manager and their report hired 2024-01-01, whose 2024 balances were set as opening
balances (annual 18, sick 12, casual 6) through the adjustments route itself.
"""

from __future__ import annotations

import queue
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from psycopg import sql

from hrms.db.postgres import transaction
from hrms_tools.local.schedule import ManualClock, Scheduler
from tests.e2e.http_world import Org

PROBLEM = "application/problem+json"


def adjustments_path(employee_id: str) -> str:
    return f"/employees/{employee_id}/leave-balances/adjustments"


def adjustment_count(org: Org) -> int:
    return int(org.sql("SELECT count(*) AS n FROM {}", "leave_balance_adjustments")[0]["n"])


def annual(org: Org, employee_id: str, year: int) -> dict[str, Any]:
    response = org.call("GET", f"/employees/{employee_id}/leave-balances", params={"year": year})
    assert response.status_code == 200, response.text
    return next(b for b in response.json() if b["code"] == "annual")


def test_hr_corrects_a_balance_and_everyone_sees_the_adjustments(org: Org) -> None:
    body = {"leaveTypeId": org.types["annual"], "year": 2024, "days": 2.5, "reason": "Missed in the old tool"}
    response = org.call("POST", adjustments_path(org.employee), org.hr_token, json=body)
    assert response.status_code == 201, response.text
    after = response.json()
    assert (after["year"], after["allocated"], after["adjusted"], after["available"]) == (2024, 0, 20.5, 20.5)
    assert [(a["days"], a["kind"], a["reason"]) for a in after["adjustments"]] == [
        (18, "correction", "Opening balance"),
        (2.5, "correction", "Missed in the old tool"),
    ]
    mine = org.call("GET", f"/employees/{org.employee}/leave-balances", org.employee_token, params={"year": 2024})
    listed = next(b for b in mine.json() if b["code"] == "annual")
    assert listed["adjusted"] == 20.5 and len(listed["adjustments"]) == 2  # the employee sees their own
    audit = org.call("GET", "/audit-logs", params={"entityId": org.employee, "limit": 200}).json()["items"]
    assert [e["action"] for e in audit].count("leave_balance.adjusted") == 4  # 3 openings + this one


def test_adjustments_are_refused_with_a_reason_and_write_nothing(org: Org) -> None:
    before = adjustment_count(org)
    good = {"leaveTypeId": org.types["annual"], "year": 2024, "days": 1, "reason": "x"}
    path = adjustments_path(org.employee)
    cases = [
        (org.employee_token, path, good, 403),  # employees hold no leave-balances:adjust
        (org.manager_token, adjustments_path(org.manager), good, 403),
        (org.hr_token, path, {**good, "days": 0.3}, 422),  # half-day steps only
        (org.hr_token, path, {**good, "days": 0}, 422),
        (org.hr_token, path, {k: v for k, v in good.items() if k != "reason"}, 422),
        (org.hr_token, path, {**good, "reason": "   "}, 422),
        (org.hr_token, path, {**good, "days": "lots"}, 422),
        (org.hr_token, path, {**good, "year": 2023}, 422),  # before the joining date
        (org.hr_token, path, {**good, "days": -19}, 422),  # below what is used or pending (18 + 0 left)
        (org.hr_token, path, {**good, "leaveTypeId": str(uuid4())}, 422),
        (org.hr_token, adjustments_path(str(uuid4())), good, 404),
    ]
    for token, target, body, status in cases:
        response = org.call("POST", target, token, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    assert adjustment_count(org) == before


def test_nobody_adjusts_their_own_balance_through_the_api(org: Org) -> None:
    hr_employee = org.hire()
    hr_self = org.token(hr_employee, "hr_manager")
    body = {"leaveTypeId": org.types["annual"], "year": 2024, "days": 5, "reason": "Mine"}
    response = org.call("POST", adjustments_path(hr_employee), hr_self, json=body)
    assert response.status_code == 403
    assert response.json()["rule"] == "own-balance"


def test_an_april_tenant_is_rolled_over_on_1_april_in_its_zone_by_the_hourly_schedule(org: Org, gateway: Any) -> None:
    version = org.call("GET", "/settings").json()["version"]
    settings = {"settings": {"leaveYearStartMonth": 4}, "expectedVersion": version}
    assert org.call("PUT", "/settings", json=settings).status_code == 200
    [hourly] = [s for s in gateway.template.schedules if s.function_id == "LeaveRolloverFunction"]
    assert hourly.expression == "cron(5 * * * ? *)"
    clock = ManualClock(datetime(2024, 12, 31, 19, 0, tzinfo=UTC))
    results: queue.Queue[Any] = queue.Queue()
    scheduler = Scheduler(
        [hourly], lambda spec, event, at: results.put(gateway.runtime.fire(spec, event, at)), clock=clock
    )
    scheduler.start()
    try:
        tick(clock, results, datetime(2024, 12, 31, 20, 5, tzinfo=UTC))  # 1 January, 01:35 in Kolkata
        assert opened(org) == [(2024, "2024-04-01", "2025-03-31")]  # the first check opens the current year
        for moment in (datetime(2025, 1, 1, 0, 5, tzinfo=UTC), datetime(2025, 3, 31, 18, 5, tzinfo=UTC)):
            tick(clock, results, moment)  # 1 January; 23:35 on 31 March in Kolkata: nothing for this tenant
        assert opened(org) == [(2024, "2024-04-01", "2025-03-31")]
        tick(clock, results, datetime(2025, 3, 31, 19, 5, tzinfo=UTC))  # 00:35 on 1 April in Kolkata
        assert opened(org)[-1] == (2025, "2025-04-01", "2026-03-31")
    finally:
        scheduler.stop()
    new_year = annual(org, org.employee, 2025)
    assert (new_year["allocated"], new_year["carriedForward"]) == (18, 5)  # 18 unused in 2024, capped at 5


def tick(clock: ManualClock, results: queue.Queue[Any], at: datetime) -> None:
    clock.advance(to=at)
    result = results.get(timeout=120)
    assert isinstance(result, dict) and "opened" in result, result


def opened(org: Org) -> list[tuple[int, str, str]]:
    with transaction() as conn:
        rows = conn.execute(
            sql.SQL("SELECT year, first_day, last_day FROM {} ORDER BY year").format(
                sql.Identifier(org.tenant.schema_name, "leave_years")
            )
        ).fetchall()
    return [(r["year"], r["first_day"].isoformat(), r["last_day"].isoformat()) for r in rows]
