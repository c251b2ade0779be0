"""Properties of CronPipeline parsing and schedules.

Parsing only fails with the declared errors; the next due time of a valid schedule is strictly
after the given instant, matches the schedule, and no matching time was skipped in between;
`@every` times are exactly one interval apart, on the anchor's grid.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from batchops.model.common import FieldError
from batchops.model.cron import CRON_FIELDS, parse_cron_spec
from batchops.plans.cron_expr import CronSchedule, EverySchedule, ScheduleError, parse_schedule
from batchops.plans.schedule import next_after
from tests.unit.strategies import (
    Document,
    cron_schedule_texts,
    cron_specs,
    every_texts,
    instants,
    json_documents,
    mutated,
    schedule_like_texts,
    time_zones,
)

_SCAN_LIMIT = timedelta(days=1)


# --- 1. bad input ------------------------------------------------------------------------------

cron_shaped_documents = st.dictionaries(
    st.sampled_from(sorted(CRON_FIELDS)), json_documents(8), max_size=5
)


@settings(max_examples=80)
@given(
    st.one_of(
        st.dictionaries(st.text(max_size=8), json_documents(), max_size=4),
        cron_shaped_documents,
        cron_specs(),
        mutated(cron_specs()),
    )
)
def test_cron_parser_only_raises_field_errors_that_name_the_field(raw: Document) -> None:
    """Arbitrary and near-valid CronPipeline specs parse or raise FieldError naming the field,
    and the schedule of a parsed spec parses or raises ScheduleError, as the reconciler expects."""
    try:
        spec = parse_cron_spec(raw)
    except FieldError as exc:
        event("outcome: FieldError")
        assert exc.field_path.startswith("spec"), exc.field_path
        assert str(exc).startswith(f"{exc.field_path}: ")
        return
    event("outcome: parsed")
    try:
        parse_schedule(spec.schedule)
    except ScheduleError as exc:
        assert exc.field_path == "spec.schedule"


@settings(max_examples=200)
@given(schedule_like_texts)
def test_schedule_parser_only_raises_schedule_errors(text: str) -> None:
    """Any text either parses as a schedule or raises ScheduleError for spec.schedule."""
    try:
        schedule = parse_schedule(text)
    except ScheduleError as exc:
        event("outcome: ScheduleError")
        assert exc.field_path == "spec.schedule"
        assert exc.message
    else:
        event("outcome: parsed")
        assert schedule.text == text


# --- 6. due times ------------------------------------------------------------------------------


def parsed(text: str) -> CronSchedule | EverySchedule:
    try:
        return parse_schedule(text)
    except ScheduleError:
        assume(False)
        raise


def matches(schedule: CronSchedule, local: datetime) -> bool:
    """Whether a local wall time is one of the schedule's times (to the minute)."""
    return (
        local.second == 0
        and local.microsecond == 0
        and local.minute in schedule.minutes
        and local.hour in schedule.hours
        and schedule.matches_day(local.date())
    )


def first_occurrence_matches(schedule: CronSchedule, instant: datetime, tz: tzinfo) -> bool:
    """Whether `instant` is a scheduled time: its wall time matches and it is that wall time's
    first occurrence (the second pass of a fall-back overlap does not run again)."""
    local = instant.astimezone(tz)
    return matches(schedule, local) and local.fold == 0


@settings(max_examples=120)
@given(text=cron_schedule_texts, after=instants, tz=time_zones)
def test_next_time_is_strictly_later_matches_the_schedule_and_skips_nothing(
    text: str, after: datetime, tz: tzinfo
) -> None:
    """next_after returns a UTC instant strictly after its argument that the schedule matches
    (cron: the wall time in the zone, at its first occurrence); when the wait is under a day,
    no matching minute lies in between. Only a DST zone may have no time at all (every match
    in a gap), and then the declared error is raised."""
    schedule = parsed(text)
    assert isinstance(schedule, CronSchedule)
    try:
        result = next_after(schedule, after, tz)
    except ScheduleError:
        assert isinstance(tz, ZoneInfo)
        return
    assert result > after
    assert result.utcoffset() == timedelta(0)
    assert first_occurrence_matches(schedule, result, tz), (result, result.astimezone(tz))
    if result - after <= _SCAN_LIMIT:
        minute = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while minute < result:
            assert not first_occurrence_matches(schedule, minute, tz), minute
            minute += timedelta(minutes=1)


@settings(max_examples=200)
@given(text=every_texts, after=instants, anchor=instants, tz=time_zones)
def test_every_times_are_exactly_one_interval_apart_on_the_anchor_grid(
    text: str, after: datetime, anchor: datetime, tz: tzinfo
) -> None:
    """For `@every`, the next time is the first point of `anchor + k * interval` strictly after
    the argument (whatever the zone), and the one after it is exactly one interval later."""
    schedule = parsed(text)
    assert isinstance(schedule, EverySchedule)
    first = next_after(schedule, after, tz, anchor=anchor)
    assert after < first <= after + schedule.interval
    assert (first - anchor) % schedule.interval == timedelta(0)
    second = next_after(schedule, first, tz, anchor=anchor)
    assert second - first == schedule.interval
    assert first.astimezone(UTC) == first
