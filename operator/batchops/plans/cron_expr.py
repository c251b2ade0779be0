"""The CronPipeline schedule grammar: `spec.schedule` text to a parsed schedule.

Standard 5-field cron as Kubernetes CronJob users know it (robfig/cron's parser, plus `7` for
Sunday): `*`, `?`, lists, ranges, steps, JAN-DEC and SUN-SAT names, the day-of-month /
day-of-week OR rule, the `@daily`-style macros, and `@every <Go duration>`. When a parsed
schedule is due lives in `plans/schedule.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Final

from batchops.model.common import SpecError

MAX_INTERVAL: Final = timedelta(days=3650)


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
