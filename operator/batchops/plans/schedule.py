"""CronPipeline schedules: due times across time zones and DST, and the decisions of one
scheduling tick (which time to run, what was missed, concurrency, history pruning).

Cron times are wall-clock times in the CronPipeline's time zone; `@every` times are instants
`anchor + k * interval`, independent of any time zone. Everything here is pure: the caller passes
`now` and the anchor (the CronPipeline's creationTimestamp). The grammar that turns
`spec.schedule` into a `Schedule` is `plans/cron_expr.py`; the child runs are read by
`model/cron_runs.py`.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

from batchops.model.common import format_time
from batchops.model.cron import ActiveRunEntry, ConcurrencyPolicy
from batchops.model.cron_runs import ChildRun
from batchops.plans.cron_expr import CronSchedule, EverySchedule, Schedule, ScheduleError

MISSED_COUNT_CAP: Final = 100
"""Like CronJob's guard: after long downtime a cron schedule's missed times are counted one by
one only up to this many; beyond it the count is reported as "at least" (never iterated)."""

MAX_NAME_LENGTH: Final = 63
"""Child names stay label-safe (63 characters), so they can also be label values."""

# A cron schedule that has not fired for this long never will (only possible when every matching
# wall time falls into DST gaps); parsing already rejects dates that never occur, like Feb 30.
_HORIZON_YEARS: Final = 10
_MINUTE: Final = timedelta(minutes=1)
_TICK: Final = timedelta(microseconds=1)


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


def due_times(
    schedule: Schedule,
    tz: tzinfo,
    start: datetime,
    end: datetime,
    *,
    anchor: datetime | None = None,
) -> Iterator[datetime]:
    """Every scheduled instant in [start, end], oldest first, as `next_after` finds them (so a
    backfill and the schedule agree on every time); lazily, so a wide interval costs only what
    is read."""
    _require_aware("start", start)
    _require_aware("end", end)
    moment = next_after(schedule, start - _TICK, tz, anchor=anchor)
    while moment <= end:
        yield moment
        moment = next_after(schedule, moment, tz, anchor=anchor)


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
