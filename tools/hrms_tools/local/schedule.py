"""EventBridge schedules for the local runtime: rate/cron/at expressions, the event shapes, a scheduler.

Expressions follow EventBridge: `rate(5 minutes)` (singular unit for 1), the six-field AWS
`cron(Minutes Hours Day-of-month Month Day-of-week Year)` with `, - * / ? L W #` and names
(JAN-DEC, SUN-SAT; day-of-week 1 = Sunday; one of the two day fields must be `?`), and, for
EventBridge Scheduler, `at(2025-01-31T09:00:00)`. Cron and at are evaluated in UTC, or in the
ScheduleV2 `ScheduleExpressionTimezone`. A rate fires one period after the scheduler starts, then
every period (EventBridge anchors a rate at the rule's creation).

The scheduler takes a clock, so tests drive it with `ManualClock` instead of waiting for minutes.
"""

from __future__ import annotations

import calendar
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any, Protocol
from zoneinfo import ZoneInfo

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # the account `sam local` and moto use

_MONTHS = {"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6}
_MONTHS |= {"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_SEARCH_DAYS = 366 * 8  # how far ahead a cron is searched before it is considered never to fire again


class Trigger(Protocol):
    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        """The first fire time strictly after `after` (aware, UTC); `anchor` is when the schedule started."""
        ...


@dataclass(frozen=True)
class Rate:
    period: timedelta

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        if after < anchor:
            return anchor + self.period
        periods = (after - anchor) // self.period + 1
        return anchor + periods * self.period


@dataclass(frozen=True)
class At:
    when: datetime

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        return self.when if self.when > after else None


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_matches: Callable[[date], bool]
    tz: ZoneInfo | None = None

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        local = after.astimezone(self.tz or UTC).replace(second=0, microsecond=0, tzinfo=None)
        start = local + timedelta(minutes=1)
        day = start.date()
        for _ in range(_SEARCH_DAYS):
            if day.year in self.years and day.month in self.months and self.day_matches(day):
                first = (start.hour, start.minute) if day == start.date() else (0, 0)
                for hour in sorted(h for h in self.hours if h >= first[0]):
                    low = first[1] if hour == first[0] else 0
                    minute = next((m for m in sorted(self.minutes) if m >= low), None)
                    if minute is not None:
                        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz or UTC)
                        found = candidate.astimezone(UTC)
                        if found > after:
                            return found
            day += timedelta(days=1)
            if day.year > max(self.years):
                return None
        return None


def parse_expression(expression: str, timezone: str | None = None, *, allow_at: bool = False) -> Trigger:
    """A schedule expression as a Trigger; ValueError says what is wrong with it."""
    text = expression.strip()
    tz = ZoneInfo(timezone) if timezone else None
    if found := _RATE.match(text):
        value, unit = int(found[1]), found[2]
        if value < 1:
            raise ValueError("the rate must be a positive number")
        if (value == 1) != (not unit.endswith("s")):
            raise ValueError(f"use '{unit.rstrip('s')}' for 1 and '{unit.rstrip('s')}s' otherwise")
        seconds = {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
        return Rate(timedelta(seconds=value * seconds))
    if found := _AT.match(text):
        if not allow_at:
            raise ValueError("at() expressions are for EventBridge Scheduler (ScheduleV2) only")
        return At(datetime.fromisoformat(found[1]).replace(tzinfo=tz or UTC).astimezone(UTC))
    if found := _CRON.match(text):
        return _parse_cron(found[1], tz)
    raise ValueError("expected rate(...), cron(...)" + (" or at(...)" if allow_at else ""))


def _parse_cron(body: str, tz: ZoneInfo | None) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ValueError("cron needs 6 fields: minutes hours day-of-month month day-of-week year")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    day_matches = _dom_matcher(dom) if dow == "?" else _dow_matcher(dow)
    return Cron(
        minutes=_values(minute, 0, 59),
        hours=_values(hour, 0, 23),
        months=_values(month, 1, 12, _MONTHS),
        years=_values(year, 1970, 2199),
        day_matches=day_matches,
        tz=tz,
    )


def _values(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """The numbers one cron field selects: `*`, `5`, `1-5`, `MON-FRI`, `0/15`, `10-40/10`, lists of these."""
    out: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _number(step_text, 1, 10_000) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _name_or_number(first, low, high, names), _name_or_number(last, low, high, names)
        else:
            start = _name_or_number(base, low, high, names)
            end = high if step_text else start
        span = list(range(start, end + 1)) if start <= end else [*range(start, high + 1), *range(low, end + 1)]
        out.update(span[::step])
    return frozenset(out)


def _name_or_number(text: str, low: int, high: int, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    return _number(text, low, high)


def _number(text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{text!r} is not a number from {low} to {high}")
    return int(text)


def _aws_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # 1 = Sunday ... 7 = Saturday


def _dom_matcher(text: str) -> Callable[[date], bool]:
    last_day = lambda d: calendar.monthrange(d.year, d.month)[1]  # noqa: E731
    if text == "L":
        return lambda d: d.day == last_day(d)
    if text == "LW":
        return lambda d: d == _nearest_weekday(d, last_day(d))
    if text.endswith("W"):
        wanted = _number(text[:-1], 1, 31)
        return lambda d: d == _nearest_weekday(d, min(wanted, last_day(d)))
    days = _values(text, 1, 31)
    return lambda d: d.day in days


def _nearest_weekday(day: date, target: int) -> date:
    """The weekday nearest to `target` in `day`'s month, never crossing into another month (cron `W`)."""
    wanted = day.replace(day=target)
    if wanted.weekday() == 5:  # Saturday -> Friday, or Monday if that leaves the month
        return wanted - timedelta(days=1) if target > 1 else wanted + timedelta(days=2)
    if wanted.weekday() == 6:  # Sunday -> Monday, or Friday if that leaves the month
        last = calendar.monthrange(day.year, day.month)[1]
        return wanted + timedelta(days=1) if target < last else wanted - timedelta(days=2)
    return wanted


def _dow_matcher(text: str) -> Callable[[date], bool]:
    if text == "L":
        return lambda d: _aws_weekday(d) == 7
    if text.endswith("L"):
        weekday = _name_or_number(text[:-1], 1, 7, _DAYS)
        return lambda d: _aws_weekday(d) == weekday and d.day + 7 > calendar.monthrange(d.year, d.month)[1]
    if "#" in text:
        first, _, nth_text = text.partition("#")
        weekday, nth = _name_or_number(first, 1, 7, _DAYS), _number(nth_text, 1, 5)
        return lambda d: _aws_weekday(d) == weekday and (d.day - 1) // 7 + 1 == nth
    days = _values(text, 1, 7, _DAYS)
    return lambda d: _aws_weekday(d) in days


# ---------------------------------------------------------------------- schedules and their events


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule of the template: a SAM Schedule/ScheduleV2 event, an Events rule or a Scheduler schedule."""

    id: str  # the generated rule's logical id (FunctionId + EventName for SAM events)
    function_id: str
    source: str  # "aws.events" (EventBridge rule) or "aws.scheduler" (EventBridge Scheduler)
    expression: str
    timezone: str | None = None
    input: str | None = None  # constant JSON delivered instead of the default event
    input_path: str | None = None
    enabled: bool = True
    name: str | None = None
    group: str = "default"
    start: Any = None
    end: Any = None

    @cached_property
    def trigger(self) -> Trigger:
        return parse_expression(self.expression, self.timezone, allow_at=self.source == "aws.scheduler")

    def next_after(self, after: datetime, anchor: datetime | None = None) -> datetime | None:
        start, end = _instant(self.start), _instant(self.end)
        if start is not None and after < start:
            after = start - timedelta(microseconds=1)
        found = self.trigger.next_after(after, anchor or after)
        return None if found is None or (end is not None and found > end) else found

    def event(self, when: datetime, *, region: str = REGION, account: str = ACCOUNT_ID) -> Any:
        """What the function receives for a tick at `when`: the Input, or the default scheduled event."""
        if self.input is not None:
            return json.loads(self.input)
        name = self.name or self.id
        if self.source == "aws.scheduler":
            resource = f"arn:aws:scheduler:{region}:{account}:schedule/{self.group}/{name}"
            detail: Any = "{}"  # EventBridge Scheduler sends the detail as a JSON string
        else:
            resource = f"arn:aws:events:{region}:{account}:rule/{name}"
            detail = {}
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": self.source,
            "account": account,
            "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [resource],
            "detail": detail,
        }
        return _json_path(event, self.input_path) if self.input_path else event


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_path(event: dict[str, Any], path: str) -> Any:
    """InputPath for the simple `$.a.b` paths rules use."""
    value: Any = event
    for key in [k for k in path.removeprefix("$").split(".") if k]:
        value = value.get(key) if isinstance(value, dict) else None
    return value


# ---------------------------------------------------------------------- clocks and the scheduler


class Clock(Protocol):
    def now(self) -> datetime: ...

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        """Block until `when` (True) or until `stop` is set (False)."""
        ...


class SystemClock:
    """The real clock; waits wake at least once a second so a changed system time is noticed."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        while not stop.is_set():
            remaining = (when - self.now()).total_seconds()
            if remaining <= 0:
                return True
            stop.wait(min(remaining, 1.0))
        return False


class ManualClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._changed = threading.Condition()

    def now(self) -> datetime:
        with self._changed:
            return self._now

    def advance(self, seconds: float = 0.0, *, to: datetime | None = None) -> None:
        with self._changed:
            self._now = to if to is not None else self._now + timedelta(seconds=seconds)
            self._changed.notify_all()

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        with self._changed:
            while self._now < when:
                if stop.is_set():
                    return False
                self._changed.wait(0.05)
        return not stop.is_set()


Fire = Callable[[ScheduleSpec, Any, datetime], None]


class Scheduler:
    """Fires every enabled schedule on its clock, each tick in its own thread (an asynchronous invoke).

    A tick missed while the machine slept is fired once, not once per missed period.
    """

    def __init__(self, schedules: list[ScheduleSpec], fire: Fire, *, clock: Clock | None = None) -> None:
        self.schedules = [s for s in schedules if s.enabled]
        self.clock: Clock = clock or SystemClock()
        self._fire = fire
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next: dict[str, datetime | None] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        anchor = self.clock.now()
        with self._lock:
            self._next = {s.id: s.next_after(anchor, anchor) for s in self.schedules}
            self._anchor = anchor
        self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def next_runs(self) -> dict[str, datetime | None]:
        with self._lock:
            return dict(self._next)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pending = [t for t in self._next.values() if t is not None]
            if not pending:
                return
            if not self.clock.wait_until(min(pending), self._stop):
                return
            now = self.clock.now()
            for spec in self.schedules:
                with self._lock:
                    at = self._next[spec.id]
                    if at is None or at > now:
                        continue
                    following = spec.next_after(at, self._anchor)
                    while following is not None and following <= now:
                        following = spec.next_after(following, self._anchor)
                    self._next[spec.id] = following
                event = spec.event(at)
                threading.Thread(target=self._fire, args=(spec, event, at), name=f"tick-{spec.id}", daemon=True).start()
