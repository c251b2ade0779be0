"""CronPipeline schedules: parsing, due times across time zones and DST, and the decisions of one
scheduling tick (which time to run, what was missed, concurrency, history pruning).

The grammar is standard 5-field cron as Kubernetes CronJob users know it (robfig/cron's parser,
plus `7` for Sunday): `*`, `?`, lists, ranges, steps, JAN-DEC and SUN-SAT names, the day-of-month
/ day-of-week OR rule, the `@daily`-style macros, and `@every <Go duration>`.

Cron times are wall-clock times in the CronPipeline's time zone; `@every` times are instants
`anchor + k * interval`, independent of any time zone. Everything here is pure: the caller passes
`now` and the anchor (the CronPipeline's creationTimestamp).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Final

from batchops.model.common import SpecError, format_time, parse_time
from batchops.model.cron import (
    SCHEDULED_TIME_ANNOTATION,
    ActiveRunEntry,
    ConcurrencyPolicy,
    LastRunStatus,
    LastRunStep,
)
from batchops.model.pipeline import FINISHED_PHASES, Phase

MISSED_COUNT_CAP: Final = 100
"""Like CronJob's guard: after long downtime a cron schedule's missed times are counted one by
one only up to this many; beyond it the count is reported as "at least" (never iterated)."""

MAX_NAME_LENGTH: Final = 63
"""Child names stay label-safe (63 characters), so they can also be label values."""

MAX_INTERVAL: Final = timedelta(days=3650)

# A cron schedule that has not fired for this long never will (only possible when every matching
# wall time falls into DST gaps); parsing already rejects dates that never occur, like Feb 30.
_HORIZON_YEARS: Final = 10
_MINUTE: Final = timedelta(minutes=1)


class ScheduleError(SpecError):
    """`spec.schedule` cannot be parsed; the message names the field, the value and the range."""

    def __init__(self, message: str, *, field: str | None = None, value: str | None = None) -> None:
        super().__init__("spec.schedule", message)
        self.field = field
        self.value = value


# --- the grammar --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    star_high: int  # `*` covers low..star_high (day-of-week: 0-6, although 7 is accepted)
    accepted: str  # what a value may be, for error messages
    names: Mapping[str, int]


_MONTH_NAMES: Final = (
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
)  # fmt: skip
_WEEKDAY_NAMES: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FIELDS: Final = (
    _Field("minute", 0, 59, 59, "a minute number (0-59)", {}),
    _Field("hour", 0, 23, 23, "an hour number (0-23)", {}),
    _Field("day-of-month", 1, 31, 31, "a day-of-month number (1-31)", {}),
    _Field(
        "month",
        1,
        12,
        12,
        "a month number (1-12) or name (JAN-DEC)",
        {name: i + 1 for i, name in enumerate(_MONTH_NAMES)},
    ),
    _Field(
        "day-of-week",
        0,
        7,
        6,
        "a day-of-week number (0-7, 0 and 7 are Sunday) or name (SUN-SAT)",
        {name: i for i, name in enumerate(_WEEKDAY_NAMES)},
    ),
)
_FIELD_NAMES: Final = " ".join(f.name for f in _FIELDS)

MACROS: Final[Mapping[str, str]] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_EVERY: Final = "@every"
_DAYS_IN_MONTH: Final = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February may have 29

# Go's time.ParseDuration: a sequence of decimal numbers, each with a unit.
_DURATION_PART: Final = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS: Final[Mapping[str, Fraction]] = {
    "ns": Fraction(1, 10**9),
    "us": Fraction(1, 10**6),
    "µs": Fraction(1, 10**6),  # U+00B5 MICRO SIGN
    "μs": Fraction(1, 10**6),  # U+03BC GREEK SMALL LETTER MU
    "ms": Fraction(1, 10**3),
    "s": Fraction(1),
    "m": Fraction(60),
    "h": Fraction(3600),
}


@dataclass(frozen=True)
class CronSchedule:
    """A 5-field cron schedule. Value tuples are sorted; day-of-week uses 0 = Sunday .. 6.

    `*_any` records whether the day field was `*` or `?`: only when both day fields are
    restricted does a day match if EITHER matches (standard cron's OR rule).
    """

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    day_of_month_any: bool
    day_of_week_any: bool

    def matches_day(self, day: date) -> bool:
        """Whether `day` (month included) is a day this schedule runs on."""
        if day.month not in self.months:
            return False
        in_month = day.day in self.days_of_month
        in_week = day.isoweekday() % 7 in self.days_of_week
        if self.day_of_month_any or self.day_of_week_any:
            return in_month and in_week
        return in_month or in_week


@dataclass(frozen=True)
class EverySchedule:
    """`@every <duration>`: instants `anchor + k * interval`, whole seconds, at least 1s."""

    text: str
    interval: timedelta


Schedule = CronSchedule | EverySchedule


def parse_schedule(text: str) -> Schedule:
    """Parse `spec.schedule`; raises ScheduleError naming the field, value and allowed range."""
    stripped = text.strip()
    if not stripped:
        raise ScheduleError("is empty: give 5 cron fields, a macro such as @daily, or @every 1h")
    if stripped.startswith(("TZ=", "CRON_TZ=")):
        raise ScheduleError(
            f"{stripped.split()[0]!r} in the schedule is not supported: set spec.timeZone instead"
        )
    if stripped.startswith("@"):
        keyword, _, rest = stripped.replace("\t", " ").partition(" ")
        if keyword == _EVERY:
            return EverySchedule(text=text, interval=_parse_every(rest.strip()))
        if keyword in MACROS and not rest.strip():
            return _parse_cron_fields(text, MACROS[keyword])
        raise ScheduleError(
            f"unknown schedule {stripped!r}: use one of {', '.join(MACROS)} or @every <duration>",
            value=stripped,
        )
    return _parse_cron_fields(text, stripped)


def _parse_every(duration: str) -> timedelta:
    if not duration:
        raise ScheduleError("@every needs a duration, for example @every 30s, 5m or 1h30m")
    seconds = _parse_go_duration(duration)
    if seconds < 1:
        raise ScheduleError(f"@every {duration}: the interval must be at least 1s", value=duration)
    if seconds.denominator != 1:
        raise ScheduleError(
            f"@every {duration}: the interval must be a whole number of seconds "
            "(Kubernetes timestamps have one-second resolution)",
            value=duration,
        )
    # Compared before building the timedelta, which overflows on absurd durations.
    if seconds > MAX_INTERVAL.total_seconds():
        raise ScheduleError(
            f"@every {duration}: the interval must be at most {MAX_INTERVAL.days} days",
            value=duration,
        )
    return timedelta(seconds=int(seconds))


def _parse_go_duration(text: str) -> Fraction:
    """Seconds in a Go duration (`1h30m`, `90s`, `1.5h`); exact, so no float rounding."""
    total = Fraction(0)
    position = 0
    while position < len(text):
        part = _DURATION_PART.match(text, position)
        if part is None:
            raise ScheduleError(
                f"@every {text}: not a duration such as 30s, 5m or 1h30m "
                "(a number and a unit for each part; units: ns, us, ms, s, m, h)",
                value=text,
            )
        total += Fraction(Decimal(part[1])) * _DURATION_UNITS[part[2]]
        position = part.end()
    return total


def _parse_cron_fields(text: str, fields_text: str) -> CronSchedule:
    fields = fields_text.split()
    if len(fields) != len(_FIELDS):
        extra = " (a seconds or year field is not supported)" if len(fields) > 5 else ""
        raise ScheduleError(
            f"expected 5 fields ({_FIELD_NAMES}), got {len(fields)}{extra}: {fields_text!r}"
        )
    values = [_parse_field(spec, raw) for spec, raw in zip(_FIELDS, fields, strict=True)]
    minutes, hours, days_of_month, months, days_of_week = (v for v, _ in values)
    schedule = CronSchedule(
        text=text,
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days_of_month=frozenset(days_of_month),
        months=frozenset(months),
        days_of_week=frozenset(d % 7 for d in days_of_week),
        day_of_month_any=values[2][1],
        day_of_week_any=values[4][1],
    )
    _check_day_exists(schedule, fields[2], fields[3])
    return schedule


def _parse_field(spec: _Field, raw: str) -> tuple[set[int], bool]:
    """The values of one field, and whether it was `*` / `?` (unrestricted)."""
    values: set[int] = set()
    unrestricted = False
    for item in raw.split(","):
        if not item:
            raise ScheduleError(
                f"{spec.name} field {raw!r}: empty list item", field=spec.name, value=raw
            )
        item_values, item_star = _parse_item(spec, item)
        values |= item_values
        unrestricted |= item_star
    return values, unrestricted


def _parse_item(spec: _Field, item: str) -> tuple[set[int], bool]:
    def fail(problem: str) -> ScheduleError:
        return ScheduleError(f"{spec.name} field {item!r}: {problem}", field=spec.name, value=item)

    range_part, slash, step_part = item.partition("/")
    step = 1
    if slash:
        if not step_part.isascii() or not step_part.isdigit():
            raise fail(f"step {step_part!r} is not a positive number")
        step = int(step_part)
        span = spec.star_high - spec.low
        if step == 0:
            raise fail("step must be at least 1")
        if step > span:
            hint = {"minute": "m", "hour": "h"}.get(spec.name)
            every = f"; for a fixed interval use @every {step}{hint}" if hint else ""
            raise fail(
                f"step {step} is larger than the field's range "
                f"{spec.low}-{spec.star_high}, so it would match one value only{every}"
            )
    if range_part in ("*", "?"):
        start, end = spec.low, spec.star_high
    else:
        low_text, dash, high_text = range_part.partition("-")
        start = _parse_value(spec, low_text, fail)
        # `N/step` means N-max/step, as in robfig/cron (Kubernetes CronJob's parser).
        end = _parse_value(spec, high_text, fail) if dash else (spec.high if slash else start)
        if dash and start > end:
            raise fail(f"range start {low_text} is after its end {high_text}")
    return set(range(start, end + 1, step)), range_part in ("*", "?") and step == 1


def _parse_value(spec: _Field, text: str, fail: Callable[[str], ScheduleError]) -> int:
    if text.isascii() and text.isdigit():
        value = int(text)
    elif text.upper() in spec.names:
        value = spec.names[text.upper()]
    else:
        raise fail(f"{text!r} is not {spec.accepted}")
    if not spec.low <= value <= spec.high:
        raise fail(f"{value} is out of range {spec.low}-{spec.high}")
    return value


def _check_day_exists(schedule: CronSchedule, day_field: str, month_field: str) -> None:
    # With day-of-week `*`, only day-of-month decides: "30 2" (Feb 30) would silently never run.
    if schedule.day_of_month_any or not schedule.day_of_week_any:
        return
    if any(
        day <= _DAYS_IN_MONTH[month - 1]
        for month in schedule.months
        for day in schedule.days_of_month
    ):
        return
    raise ScheduleError(
        f"day-of-month {day_field!r} never occurs in month {month_field!r}, so the schedule "
        "would never run",
        field="day-of-month",
        value=day_field,
    )


# --- due times ----------------------------------------------------------------------------------


def next_after(
    schedule: Schedule, after: datetime, tz: tzinfo, *, anchor: datetime | None = None
) -> datetime:
    """The first scheduled instant strictly after `after`, in UTC.

    Cron fields are wall-clock times in `tz`. A wall time skipped by a spring-forward gap does
    not run (02:30 on the night clocks jump from 02:00 to 03:00 is simply not a time that day);
    a wall time that occurs twice in a fall-back overlap runs once, at its first occurrence.
    `@every` times are `anchor + k * interval` (anchor required), whatever `tz` says.
    """
    _require_aware("after", after)
    if isinstance(schedule, EverySchedule):
        if anchor is None:
            raise ValueError("an @every schedule needs the anchor time (creationTimestamp)")
        _require_aware("anchor", anchor)
        return _every_time(schedule, anchor, (after - anchor) // schedule.interval + 1)
    local = after.astimezone(tz).replace(tzinfo=None)
    candidate = local.replace(second=0, microsecond=0) + _MINUTE
    horizon = local.year + _HORIZON_YEARS
    while True:
        wall = _next_wall_time(schedule, candidate, horizon)
        instant = _first_instant(wall, tz)
        # Inside the second pass of an overlap, earlier wall times map before `after`: skip them.
        if instant is not None and instant > after:
            return instant
        candidate = wall + _MINUTE


def _every_time(schedule: EverySchedule, anchor: datetime, k: int) -> datetime:
    return (anchor + k * schedule.interval).astimezone(UTC)


def _require_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def _first_instant(wall: datetime, tz: tzinfo) -> datetime | None:
    """The UTC instant of a naive wall time in `tz` (its first occurrence), or None in a gap."""
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    # fold=0 resolves a gap time with the offset before the jump; converting back then lands on
    # a different wall time, which is how a skipped time shows itself.
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


def _next_wall_time(schedule: CronSchedule, start: datetime, horizon_year: int) -> datetime:
    """The first naive wall time >= `start` (minute-aligned) matching the fields."""
    t = start
    while t.year <= horizon_year:
        if t.month not in schedule.months:
            t = _first_of_next_matching_month(schedule, t)
            continue
        if not schedule.matches_day(t.date()):
            t = datetime.combine(t.date() + timedelta(days=1), datetime.min.time())
            continue
        hour = _at_or_after(schedule.hours, t.hour)
        if hour is None:
            t = datetime.combine(t.date() + timedelta(days=1), datetime.min.time())
            continue
        if hour != t.hour:
            t = t.replace(hour=hour, minute=0)
        minute = _at_or_after(schedule.minutes, t.minute)
        if minute is None:
            t = t.replace(minute=0) + timedelta(hours=1)
            continue
        return t.replace(minute=minute)
    raise ScheduleError(
        f"{schedule.text!r} has no time in the {_HORIZON_YEARS} years after {start:%Y-%m-%d} "
        "in this time zone (every matching time falls into a DST gap)"
    )


def _previous_wall_time(schedule: CronSchedule, end: datetime, floor: datetime) -> datetime | None:
    """The last naive wall time <= `end` (minute-aligned) matching the fields, not before
    `floor`; None when there is none in between."""
    t = end
    while t >= floor:
        if t.month not in schedule.months:
            t = datetime(t.year, t.month, 1) - _MINUTE
            continue
        if not schedule.matches_day(t.date()):
            t = datetime.combine(t.date(), datetime.min.time()) - _MINUTE
            continue
        hour = _at_or_before(schedule.hours, t.hour)
        if hour is None:
            t = datetime.combine(t.date(), datetime.min.time()) - _MINUTE
            continue
        if hour != t.hour:
            t = t.replace(hour=hour, minute=59)
        minute = _at_or_before(schedule.minutes, t.minute)
        if minute is None:
            t = t.replace(minute=0) - _MINUTE
            continue
        found = t.replace(minute=minute)
        return found if found >= floor else None
    return None


def _first_of_next_matching_month(schedule: CronSchedule, t: datetime) -> datetime:
    """Midnight on the 1st of the first schedule month after `t`'s (non-matching) month."""
    year, month = t.year, t.month
    for _ in range(12):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if month in schedule.months:
            break
    return datetime(year, month, 1)


def _at_or_after(values: tuple[int, ...], value: int) -> int | None:
    index = bisect.bisect_left(values, value)
    return values[index] if index < len(values) else None


def _at_or_before(values: tuple[int, ...], value: int) -> int | None:
    index = bisect.bisect_right(values, value)
    return values[index - 1] if index > 0 else None


def _latest_cron_time(
    schedule: CronSchedule, tz: tzinfo, earliest: datetime, now: datetime
) -> datetime | None:
    """The latest scheduled instant in (earliest, now], searched backwards from `now` so that
    long downtime costs nothing."""
    local_now = now.astimezone(tz)
    end = local_now.replace(tzinfo=None, second=0, microsecond=0)
    if local_now.fold:
        # `now` is in the second pass of an overlap: the rest of the overlap's wall times have
        # first occurrences before `now`, so the search starts at the overlap's end.
        first_offset = local_now.replace(fold=0).utcoffset()
        second_offset = local_now.utcoffset()
        if first_offset is not None and second_offset is not None:
            end += first_offset - second_offset
    floor = earliest.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    while True:
        wall = _previous_wall_time(schedule, end, floor)
        if wall is None:
            return None
        instant = _first_instant(wall, tz)
        if instant is not None and instant <= now:
            return instant if instant > earliest else None
        end = wall - _MINUTE


# --- one scheduling tick ------------------------------------------------------------------------


@dataclass(frozen=True)
class TickPlan:
    """What one tick of a CronPipeline should do.

    `latest_due` is the most recent scheduled time in (lastScheduleTime or creation, now];
    `run_time` is that same time when it should run now (None when nothing is due or it is
    later than startingDeadlineSeconds). `missed` counts the due times NOT run this tick;
    `missed_is_lower_bound` means there may be more (counting stopped after
    MISSED_COUNT_CAP). `next_time` is the next scheduled time after now.
    """

    next_time: datetime
    latest_due: datetime | None = None
    run_time: datetime | None = None
    missed: int = 0
    missed_is_lower_bound: bool = False
    starting_deadline_seconds: int | None = None

    @property
    def deadline_exceeded(self) -> bool:
        """A time was due but is older than startingDeadlineSeconds, so it is skipped."""
        return self.latest_due is not None and self.run_time is None

    @property
    def new_last_schedule_time(self) -> datetime | None:
        """The value for status.lastScheduleTime once this tick is acted on: the run's time, or
        the skipped-as-too-late time (so it is not reported again); None leaves it unchanged."""
        return self.latest_due

    def seconds_until_next(self, now: datetime) -> float:
        """The timer delay until `next_time`, never negative."""
        return max(0.0, (self.next_time - now).total_seconds())

    def missed_message(self) -> str | None:
        """A message for a Warning event about missed times, or None when nothing was missed."""
        if self.missed == 0:
            return None
        count = f"at least {self.missed}" if self.missed_is_lower_bound else str(self.missed)
        plural = "" if self.missed == 1 and not self.missed_is_lower_bound else "s"
        if self.run_time is not None:
            return (
                f"missed {count} scheduled time{plural} (operator down or suspended); "
                f"running only the most recent, {format_time(self.run_time)}"
            )
        assert self.latest_due is not None
        return (
            f"missed {count} scheduled time{plural}; not running the most recent, "
            f"{format_time(self.latest_due)}, because it is more than "
            f"startingDeadlineSeconds ({self.starting_deadline_seconds}s) ago; "
            f"next run at {format_time(self.next_time)}"
        )


def plan_tick(
    schedule: Schedule,
    tz: tzinfo,
    anchor: datetime,
    last_schedule_time: datetime | None,
    now: datetime,
    starting_deadline_seconds: int | None,
) -> TickPlan:
    """Decide one tick: at most one catch-up (the most recent due time, and only if within
    startingDeadlineSeconds of now), how many times were missed, and the next time."""
    for name, moment in (
        ("anchor", anchor),
        ("now", now),
        ("last_schedule_time", last_schedule_time),
    ):
        if moment is not None:
            _require_aware(name, moment)
    earliest = last_schedule_time if last_schedule_time is not None else anchor
    after = max(now, earliest)
    if isinstance(schedule, EverySchedule):
        latest_k = (now - anchor) // schedule.interval
        first_k = (earliest - anchor) // schedule.interval + 1
        due = max(0, latest_k - first_k + 1)
        latest = _every_time(schedule, anchor, latest_k) if due else None
        next_time = _every_time(schedule, anchor, (after - anchor) // schedule.interval + 1)
        capped = False
    else:
        latest = _latest_cron_time(schedule, tz, earliest, now)
        due, capped = _count_cron_times(schedule, tz, earliest, latest) if latest else (0, False)
        next_time = next_after(schedule, after, tz)
    if latest is None:
        return TickPlan(next_time=next_time, starting_deadline_seconds=starting_deadline_seconds)
    on_time = starting_deadline_seconds is None or now - latest <= timedelta(
        seconds=starting_deadline_seconds
    )
    return TickPlan(
        next_time=next_time,
        latest_due=latest,
        run_time=latest if on_time else None,
        missed=due - 1 if on_time else due,
        missed_is_lower_bound=capped,
        starting_deadline_seconds=starting_deadline_seconds,
    )


def _count_cron_times(
    schedule: CronSchedule, tz: tzinfo, earliest: datetime, latest: datetime
) -> tuple[int, bool]:
    """How many scheduled times lie in (earliest, latest], counting at most MISSED_COUNT_CAP + 1;
    the flag says the count stopped early."""
    count, moment = 0, earliest
    while count <= MISSED_COUNT_CAP:
        moment = next_after(schedule, moment, tz)
        if moment > latest:
            return count, False
        count += 1
    return count, True


# --- child runs ---------------------------------------------------------------------------------


def child_name(cron_name: str, scheduled_time: datetime) -> str:
    """`<cron>-<scheduled unix seconds>`, within 63 characters; a longer cron name is cut and
    followed by a hash of the full name, so different CronPipelines never share a child name."""
    _require_aware("scheduled_time", scheduled_time)
    seconds = int(scheduled_time.timestamp())
    if seconds < 0:
        raise ValueError(f"scheduled time before 1970: {scheduled_time!r}")
    return _with_suffix(cron_name, f"-{seconds}")


def triggered_child_name(cron_name: str, trigger_value: str) -> str:
    """The run a `batchops.io/trigger` value starts: named from the value, so handling the same
    value twice (a crash before lastTrigger was written) finds the run instead of repeating it,
    and two values in the same second still get two runs."""
    digest = hashlib.sha256(trigger_value.encode()).hexdigest()[:9]
    return _with_suffix(cron_name, f"-m{digest}")


def _with_suffix(cron_name: str, suffix: str) -> str:
    if len(cron_name) + len(suffix) <= MAX_NAME_LENGTH:
        return cron_name + suffix
    digest = hashlib.sha256(cron_name.encode()).hexdigest()[:8]
    keep = MAX_NAME_LENGTH - len(suffix) - len(digest) - 1
    # Object names end in an alphanumeric character, so a cut at '-' or '.' is trimmed.
    prefix = cron_name[:keep].rstrip("-.")
    return f"{prefix}-{digest}{suffix}"


@dataclass(frozen=True)
class ChildRun:
    """One BatchPipeline a CronPipeline created, as the handler observed it. A run is active
    until its phase is Succeeded, Failed or Cancelled."""

    name: str
    phase: Phase | None = None
    finished_at: datetime | None = None
    scheduled_time: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the run has not finished (no phase yet counts as active)."""
        return self.phase not in FINISHED_PHASES

    @classmethod
    def from_child(
        cls,
        name: str,
        annotations: Mapping[str, str] | None,
        status: Mapping[str, object] | None,
    ) -> ChildRun:
        """Read a child BatchPipeline's metadata.annotations and status; unreadable values
        count as unknown rather than failing the CronPipeline."""
        status = status or {}
        return cls(
            name=name,
            phase=_phase_or_none(status.get("phase")),
            finished_at=_moment_or_none(status.get("finishedAt")),
            scheduled_time=_moment_or_none((annotations or {}).get(SCHEDULED_TIME_ANNOTATION)),
        )


@dataclass(frozen=True)
class Create:
    """Create the child run now."""


@dataclass(frozen=True)
class Skip:
    """Do not create a child for this scheduled time; `reason` is for the event."""

    reason: str


@dataclass(frozen=True)
class ReplaceThenCreate:
    """Cancel (delete) these active runs, then create the new one."""

    children_to_cancel: tuple[str, ...]


ConcurrencyDecision = Create | Skip | ReplaceThenCreate


def plan_concurrency(
    policy: ConcurrencyPolicy, active_children: Sequence[str]
) -> ConcurrencyDecision:
    """Apply concurrencyPolicy to the names of the CronPipeline's still-active runs."""
    if not active_children or policy is ConcurrencyPolicy.ALLOW:
        return Create()
    names = sorted(active_children)
    if policy is ConcurrencyPolicy.FORBID:
        runs = "run is" if len(names) == 1 else "runs are"
        return Skip(
            f"concurrencyPolicy is Forbid and {len(names)} {runs} still active: {', '.join(names)}"
        )
    return ReplaceThenCreate(tuple(names))


def children_to_prune(
    children: Sequence[ChildRun], successful_limit: int, failed_limit: int
) -> list[str]:
    """Names of finished runs beyond the history limits, oldest first. Failed and Cancelled runs
    share the failed limit; active runs are never pruned."""
    succeeded = [c for c in children if c.phase == "Succeeded"]
    failed = [c for c in children if c.phase in ("Failed", "Cancelled")]
    doomed = _oldest_beyond(succeeded, successful_limit) + _oldest_beyond(failed, failed_limit)
    return [c.name for c in sorted(doomed, key=_age_key)]


def _age_key(child: ChildRun) -> tuple[datetime, datetime, str]:
    # Oldest first by finish time; a finished run without one sorts as the oldest.
    floor = datetime.min.replace(tzinfo=UTC)
    return (child.finished_at or floor, child.scheduled_time or floor, child.name)


def _oldest_beyond(children: list[ChildRun], limit: int) -> list[ChildRun]:
    ordered = sorted(children, key=_age_key)
    return ordered[: max(0, len(ordered) - max(0, limit))]


def active_runs(children: Sequence[ChildRun]) -> list[ActiveRunEntry]:
    """`status.active`: the unfinished runs, by scheduled time."""
    active = sorted((c for c in children if c.active), key=lambda c: (_age_key(c)[1], c.name))
    entries: list[ActiveRunEntry] = []
    for child in active:
        entry: ActiveRunEntry = {"name": child.name}
        if child.scheduled_time is not None:
            entry["scheduledTime"] = format_time(child.scheduled_time)
        entries.append(entry)
    return entries


def most_recent_run(children: Sequence[ChildRun]) -> ChildRun | None:
    """The run with the latest scheduled time (the one `status.lastRun` describes)."""
    floor = datetime.min.replace(tzinfo=UTC)
    return max(children, key=lambda c: (c.scheduled_time or floor, c.name), default=None)


def last_successful_time(
    children: Sequence[ChildRun], previous: datetime | None
) -> datetime | None:
    """`status.lastSuccessfulTime`: the latest finish of a Succeeded run, never moving back
    (pruned runs take their times with them)."""
    times = [c.finished_at for c in children if c.phase == "Succeeded" and c.finished_at]
    if previous is not None:
        times.append(previous)
    return max(times, default=None)


_PHASES: Final[tuple[Phase, ...]] = ("Pending", "Running", "Succeeded", "Failed", "Cancelled")


def last_run_summary(name: str, child_status: Mapping[str, object] | None) -> LastRunStatus:
    """`status.lastRun` from a child BatchPipeline's status. Every key is present (None when
    unknown) because a merge patch would otherwise keep the previous run's values."""
    status = child_status or {}
    steps: list[LastRunStep] = []
    raw_steps = status.get("steps")
    for raw in raw_steps if isinstance(raw_steps, list) else []:
        if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
            steps.append(_last_run_step(raw))
    return {
        "name": name,
        "phase": _phase_or_none(status.get("phase")),
        "progress": _str_or_none(status.get("progress")),
        "message": _str_or_none(status.get("message")),
        "startedAt": _time_or_none(status.get("startedAt")),
        "finishedAt": _time_or_none(status.get("finishedAt")),
        "steps": steps,
    }


def _last_run_step(raw: Mapping[str, object]) -> LastRunStep:
    step: LastRunStep = {"name": str(raw["name"])}
    if (status := _str_or_none(raw.get("status"))) is not None:
        step["status"] = status
    if (job_id := _str_or_none(raw.get("jobId"))) is not None:
        step["jobId"] = job_id
    if (reason := _str_or_none(raw.get("statusReason"))) is not None:
        step["statusReason"] = reason
    if (exit_code := _int_or_none(raw.get("exitCode"))) is not None:
        step["exitCode"] = exit_code
    if (started := _time_or_none(raw.get("startedAt"))) is not None:
        step["startedAt"] = started
    if (stopped := _time_or_none(raw.get("stoppedAt"))) is not None:
        step["stoppedAt"] = stopped
    if (wait := _int_or_none(raw.get("queueWaitSeconds"))) is not None:
        step["queueWaitSeconds"] = wait
    return step


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _phase_or_none(value: object) -> Phase | None:
    return next((phase for phase in _PHASES if phase == value), None)


def _moment_or_none(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def _time_or_none(value: object) -> str | None:
    moment = _moment_or_none(value)
    return format_time(moment) if moment is not None else None
