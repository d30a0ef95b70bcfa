"""EventBridge schedule expressions, the scheduled event shapes, and the scheduler on a test clock."""

from __future__ import annotations

import queue
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hrms_tools.local.schedule import ManualClock, Scheduler, ScheduleSpec, parse_expression


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(expression: str, after: str, count: int = 3, timezone: str | None = None) -> list[str]:
    trigger = parse_expression(expression, timezone, allow_at=True)
    anchor = at = utc(after)
    out = []
    for _ in range(count):
        found = trigger.next_after(at, anchor)
        if found is None:
            break
        out.append(found.strftime("%Y-%m-%dT%H:%M"))
        at = found
    return out


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 10 * * ? *)", "2025-01-01T09:59:30", ["2025-01-01T10:00", "2025-01-02T10:00", "2025-01-03T10:00"]),
        ("cron(0 10 * * ? *)", "2025-01-01T10:00:00", ["2025-01-02T10:00", "2025-01-03T10:00", "2025-01-04T10:00"]),
        ("cron(0/15 * * * ? *)", "2025-01-01T10:07:00", ["2025-01-01T10:15", "2025-01-01T10:30", "2025-01-01T10:45"]),
        ("cron(10-40/10 8 * * ? *)", "2025-01-01T08:15:00", ["2025-01-01T08:20", "2025-01-01T08:30"]),
        # 2025-01-04 is a Saturday.
        ("cron(15 12 ? * MON-FRI *)", "2025-01-04T00:00:00", ["2025-01-06T12:15", "2025-01-07T12:15"]),
        ("cron(0 6,18 ? * SAT,SUN *)", "2025-01-03T00:00:00", ["2025-01-04T06:00", "2025-01-04T18:00"]),
        ("cron(0 9 ? * 2 *)", "2025-01-01T00:00:00", ["2025-01-06T09:00", "2025-01-13T09:00", "2025-01-20T09:00"]),
        ("cron(0 18 L * ? *)", "2024-02-01T00:00:00", ["2024-02-29T18:00", "2024-03-31T18:00", "2024-04-30T18:00"]),
        ("cron(0 9 ? * 6L *)", "2025-01-01T00:00:00", ["2025-01-31T09:00", "2025-02-28T09:00", "2025-03-28T09:00"]),
        ("cron(0 9 ? * MON#1 *)", "2025-01-01T00:00:00", ["2025-01-06T09:00", "2025-02-03T09:00", "2025-03-03T09:00"]),
        # The 15th of June 2025 is a Sunday: the nearest weekday is Monday the 16th.
        ("cron(0 9 15W * ? *)", "2025-06-01T00:00:00", ["2025-06-16T09:00", "2025-07-15T09:00", "2025-08-15T09:00"]),
        ("cron(0 0 1 JAN ? 2030-2031)", "2025-06-01T00:00:00", ["2030-01-01T00:00", "2031-01-01T00:00"]),
        ("cron(5 0 1 1 ? *)", "2025-06-01T00:00:00", ["2026-01-01T00:05", "2027-01-01T00:05", "2028-01-01T00:05"]),
        ("rate(1 hour)", "2025-01-01T10:20:00", ["2025-01-01T11:20", "2025-01-01T12:20", "2025-01-01T13:20"]),
        ("rate(5 minutes)", "2025-01-01T10:20:00", ["2025-01-01T10:25", "2025-01-01T10:30", "2025-01-01T10:35"]),
        ("rate(2 days)", "2025-01-01T10:20:00", ["2025-01-03T10:20", "2025-01-05T10:20", "2025-01-07T10:20"]),
        ("at(2025-03-01T08:00:00)", "2025-01-01T00:00:00", ["2025-03-01T08:00"]),
        ("at(2025-03-01T08:00:00)", "2025-04-01T00:00:00", []),
    ],
)
def test_expression_fires_at(expression: str, after: str, expected: list[str]) -> None:
    assert fires(expression, after, count=len(expected) or 1) == expected


def test_cron_in_a_timezone_fires_at_that_local_time() -> None:
    # 09:00 in Kolkata is 03:30 UTC; 09:00 in London is 09:00 UTC in winter and 08:00 UTC in summer.
    assert fires("cron(0 9 * * ? *)", "2025-01-01T00:00:00", 1, "Asia/Kolkata") == ["2025-01-01T03:30"]
    assert fires("cron(0 9 * * ? *)", "2025-01-01T00:00:00", 1, "Europe/London") == ["2025-01-01T09:00"]
    assert fires("cron(0 9 * * ? *)", "2025-07-01T00:00:00", 1, "Europe/London") == ["2025-07-01T08:00"]


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 10 * * * *)",  # neither day field is '?'
        "cron(0 10 ? * ? *)",  # both are
        "cron(0 10 * * ?)",  # five fields
        "cron(60 10 * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 10 32 * ? *)",
        "cron(0 10 ? * FUNDAY *)",
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(5 seconds)",
        "at(2025-03-01T08:00:00)",  # only EventBridge Scheduler has one-time schedules
        "every day",
    ],
)
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):
        parse_expression(expression)


def test_rule_default_event_is_the_eventbridge_scheduled_event() -> None:
    spec = ScheduleSpec(id="NightlyFunctionNightly", function_id="NightlyFunction", source="aws.events", expression="x")
    event = spec.event(utc("2025-01-01T10:00:00"))
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2025-01-01T10:00:00Z"
    assert event["region"] == "us-east-1"
    assert event["account"] == "123456789012"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/NightlyFunctionNightly"]
    assert event["detail"] == {}
    assert spec.event(utc("2025-01-01T10:00:00"))["id"] != event["id"]


def test_scheduler_default_event_has_a_string_detail_and_the_schedule_arn() -> None:
    spec = ScheduleSpec(id="S", function_id="F", source="aws.scheduler", expression="x", name="nightly", group="ops")
    event = spec.event(utc("2025-01-01T10:00:00"))
    assert event["source"] == "aws.scheduler"
    assert event["detail"] == "{}"
    assert event["resources"] == ["arn:aws:scheduler:us-east-1:123456789012:schedule/ops/nightly"]


def test_input_replaces_the_event_and_input_path_selects_from_it() -> None:
    with_input = ScheduleSpec(id="S", function_id="F", source="aws.events", expression="x", input='{"job": "sweep"}')
    assert with_input.event(utc("2025-01-01T10:00:00")) == {"job": "sweep"}
    with_path = ScheduleSpec(id="S", function_id="F", source="aws.events", expression="x", input_path="$.detail-type")
    assert with_path.event(utc("2025-01-01T10:00:00")) == "Scheduled Event"


def test_start_and_end_dates_bound_the_fires() -> None:
    spec = ScheduleSpec(
        id="S",
        function_id="F",
        source="aws.scheduler",
        expression="cron(0 10 * * ? *)",
        start="2025-01-05T00:00:00Z",
        end="2025-01-06T12:00:00Z",
    )
    first = spec.next_after(utc("2025-01-01T00:00:00"))
    assert first == utc("2025-01-05T10:00:00")
    assert spec.next_after(first) == utc("2025-01-06T10:00:00")
    assert spec.next_after(utc("2025-01-06T10:00:00")) is None


def test_scheduler_fires_within_a_second_of_the_tick_on_a_test_clock() -> None:
    clock = ManualClock(utc("2025-01-01T09:59:58"))
    fired: queue.Queue[tuple[str, Any, datetime, float]] = queue.Queue()
    specs = [
        ScheduleSpec(id="Ten", function_id="F", source="aws.events", expression="cron(0 10 * * ? *)"),
        ScheduleSpec(id="Rate", function_id="G", source="aws.events", expression="rate(1 minute)", input='{"k": 1}'),
        ScheduleSpec(id="Off", function_id="H", source="aws.events", expression="rate(1 minute)", enabled=False),
    ]
    scheduler = Scheduler(specs, lambda spec, event, at: fired.put((spec.id, event, at, time.monotonic())), clock=clock)
    scheduler.start()
    try:
        assert scheduler.next_runs() == {"Ten": utc("2025-01-01T10:00:00"), "Rate": utc("2025-01-01T10:00:58")}
        clock.advance(1.5)  # 09:59:59.5: nothing is due yet
        with pytest.raises(queue.Empty):
            fired.get(timeout=0.3)

        clock.advance(to=utc("2025-01-01T10:00:00"))
        ticked = time.monotonic()
        schedule_id, event, at, when = fired.get(timeout=1)
        assert schedule_id == "Ten" and at == utc("2025-01-01T10:00:00")
        assert when - ticked < 1.0
        assert event["time"] == "2025-01-01T10:00:00Z" and event["detail-type"] == "Scheduled Event"
        assert scheduler.next_runs()["Ten"] == utc("2025-01-02T10:00:00")

        clock.advance(to=utc("2025-01-01T10:00:58"))
        assert fired.get(timeout=1)[:2] == ("Rate", {"k": 1})

        # A machine that slept through several periods fires once, then resumes the period.
        clock.advance(to=utc("2025-01-01T10:10:30"))
        assert fired.get(timeout=1)[0] == "Rate"
        with pytest.raises(queue.Empty):
            fired.get(timeout=0.3)
        assert scheduler.next_runs()["Rate"] == utc("2025-01-01T10:10:58")
    finally:
        scheduler.stop()


def test_stopping_the_scheduler_ends_its_thread() -> None:
    clock = ManualClock(utc("2025-01-01T00:00:00"))
    spec = ScheduleSpec(id="S", function_id="F", source="aws.events", expression="rate(1 day)")
    scheduler = Scheduler([spec], lambda *_: None, clock=clock)
    scheduler.start()
    started = time.monotonic()
    scheduler.stop()
    assert time.monotonic() - started < 1
    assert scheduler._thread is not None and not scheduler._thread.is_alive()
    assert clock.now() + timedelta(days=1) == scheduler.next_runs()["S"]
