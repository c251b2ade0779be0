"""Cron schedules: grammar, due times across DST, one scheduling tick, child runs."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from batchops.model.common import SpecError
from batchops.model.cron import ConcurrencyPolicy
from batchops.model.cron_runs import ChildRun, last_run_summary
from batchops.model.keys import SCHEDULED_TIME_ANNOTATION
from batchops.plans.cron_expr import (
    MACROS,
    CronSchedule,
    EverySchedule,
    Schedule,
    ScheduleError,
    parse_schedule,
)
from batchops.plans.schedule import (
    MAX_NAME_LENGTH,
    MISSED_COUNT_CAP,
    Create,
    ReplaceThenCreate,
    Skip,
    active_runs,
    child_name,
    children_to_prune,
    last_successful_time,
    most_recent_run,
    next_after,
    plan_concurrency,
    plan_tick,
    triggered_child_name,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SEOUL = ZoneInfo("Asia/Seoul")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def cron(text: str) -> CronSchedule:
    schedule = parse_schedule(text)
    assert isinstance(schedule, CronSchedule)
    return schedule


def times(schedule: Schedule, after: datetime, tz: tzinfo, count: int) -> list[datetime]:
    found = []
    for _ in range(count):
        after = next_after(schedule, after, tz)
        found.append(after)
    return found


def local(moments: list[datetime], tz: ZoneInfo) -> list[str]:
    return [m.astimezone(tz).strftime("%m-%d %H:%M %Z") for m in moments]


# --- grammar ------------------------------------------------------------------------------------


def test_star_covers_every_value_of_each_field() -> None:
    schedule = cron("* * * * *")
    assert schedule.minutes == tuple(range(60))
    assert schedule.hours == tuple(range(24))
    assert schedule.days_of_month == frozenset(range(1, 32))
    assert schedule.months == frozenset(range(1, 13))
    assert schedule.days_of_week == frozenset(range(7))
    assert schedule.day_of_month_any and schedule.day_of_week_any


def test_question_mark_means_the_same_as_star() -> None:
    assert cron("0 0 ? * ?").days_of_week == cron("0 0 * * *").days_of_week
    assert cron("0 0 ? * MON").day_of_month_any


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("5 * * * *", (5,)),
        ("0,15,45 * * * *", (0, 15, 45)),
        ("10-13 * * * *", (10, 11, 12, 13)),
        ("*/15 * * * *", (0, 15, 30, 45)),
        ("1-30/10 * * * *", (1, 11, 21)),
        ("50/5 * * * *", (50, 55)),  # N/step means N-max/step, as in Kubernetes CronJob
        ("0-5,*/20,59 * * * *", (0, 1, 2, 3, 4, 5, 20, 40, 59)),
    ],
)
def test_minute_field_syntax(text: str, minutes: tuple[int, ...]) -> None:
    assert cron(text).minutes == minutes


def test_hour_day_and_month_fields_use_their_own_ranges() -> None:
    schedule = cron("0 */6 1-3,31 */4 *")
    assert schedule.hours == (0, 6, 12, 18)
    assert schedule.days_of_month == frozenset({1, 2, 3, 31})
    assert schedule.months == frozenset({1, 5, 9})


def test_month_and_weekday_names_are_case_insensitive_and_work_in_ranges() -> None:
    schedule = cron("0 9 * jan-Mar,DEC mon-FRI")
    assert schedule.months == frozenset({1, 2, 3, 12})
    assert schedule.days_of_week == frozenset({1, 2, 3, 4, 5})
    assert cron("0 9 * * SUN,sat").days_of_week == frozenset({0, 6})


def test_seven_is_sunday_like_zero() -> None:
    assert cron("0 0 * * 7").days_of_week == frozenset({0})
    assert cron("0 0 * * 5-7").days_of_week == frozenset({5, 6, 0})


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    # Standard cron: "0 0 13 * FRI" runs on every 13th AND on every Friday.
    schedule = cron("0 0 13 * FRI")
    assert schedule.matches_day(date(2026, 5, 13))  # a Wednesday
    assert schedule.matches_day(date(2026, 5, 15))  # a Friday
    assert not schedule.matches_day(date(2026, 5, 14))


def test_only_the_restricted_day_field_counts_when_the_other_is_star() -> None:
    assert not cron("0 0 13 * *").matches_day(date(2026, 5, 15))
    assert cron("0 0 * * FRI").matches_day(date(2026, 5, 15))
    assert not cron("0 0 * * FRI").matches_day(date(2026, 5, 13))


def test_a_stepped_star_restricts_its_day_field() -> None:
    # As in Kubernetes CronJob (robfig/cron), */2 is a restriction, so the OR rule applies.
    schedule = cron("0 0 */2 * MON")
    assert not schedule.day_of_month_any
    assert schedule.matches_day(date(2026, 5, 4))  # Monday the 4th (even)
    assert schedule.matches_day(date(2026, 5, 3))  # Sunday the 3rd (odd day of month)


@pytest.mark.parametrize(("macro", "expansion"), sorted(MACROS.items()))
def test_macros_equal_their_cron_expansion(macro: str, expansion: str) -> None:
    parsed, expected = cron(macro), cron(expansion)
    assert (parsed.minutes, parsed.hours, parsed.days_of_month) == (
        expected.minutes,
        expected.hours,
        expected.days_of_month,
    )
    assert (parsed.months, parsed.days_of_week) == (expected.months, expected.days_of_week)
    assert parsed.text == macro


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("@every 30s", 30),
        ("@every 5m", 300),
        ("@every 1h30m", 5400),
        ("@every 1.5h", 5400),
        ("@every 2000ms", 2),
        ("@every 1h0m0s", 3600),
        ("@every 1s", 1),
        ("@every   90s", 90),
        ("@every 999999us1000ns", 1),
    ],
)
def test_every_takes_go_durations(text: str, seconds: int) -> None:
    schedule = parse_schedule(text)
    assert isinstance(schedule, EverySchedule)
    assert schedule.interval == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("0 25 * * *", "hour", "hour field '25': 25 is out of range 0-23"),
        ("60 * * * *", "minute", "60 is out of range 0-59"),
        ("0 0 0 * *", "day-of-month", "0 is out of range 1-31"),
        ("0 0 * 13 *", "month", "13 is out of range 1-12"),
        ("0 0 * * 8", "day-of-week", "8 is out of range 0-7"),
        ("0 0 * FOO *", "month", "'FOO' is not a month number (1-12) or name (JAN-DEC)"),
        ("0 0 * * MON-XYZ", "day-of-week", "'XYZ' is not a day-of-week number (0-7"),
        ("0 x * * *", "hour", "'x' is not an hour number (0-23)"),
        ("0 JAN * * *", "hour", "'JAN' is not an hour number"),
        ("30-10 * * * *", "minute", "range start 30 is after its end 10"),
        ("*/0 * * * *", "minute", "step must be at least 1"),
        ("*/x * * * *", "minute", "step 'x' is not a positive number"),
        ("*/90 * * * *", "minute", "step 90 is larger than the field's range 0-59"),
        ("0 */24 * * *", "hour", "for a fixed interval use @every 24h"),
        ("1,,2 * * * *", "minute", "empty list item"),
        ("0 0 30 2 *", "day-of-month", "'30' never occurs in month '2'"),
        ("0 0 31 APR,JUN *", "day-of-month", "never occurs"),
    ],
)
def test_invalid_cron_fields_name_the_field_value_and_range(
    text: str, field: str, fragment: str
) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text)
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert caught.value.field_path == "spec.schedule"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("0 2 * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("0 0 2 * * *", "got 6 (a seconds or year field is not supported)"),
        ("@reboot", "unknown schedule '@reboot': use one of @yearly"),
        ("@daily 5", "unknown schedule"),
        ("@DAILY", "unknown schedule"),
        ("@every", "@every needs a duration"),
        ("@every 500ms", "must be at least 1s"),
        ("@every 0s", "must be at least 1s"),
        ("@every 1.5s", "whole number of seconds"),
        ("@every 1d", "not a duration such as 30s"),
        ("@every 10", "not a duration"),
        ("@every -5m", "not a duration"),
        ("@every 99999999h", "at most 3650 days"),
        ("TZ=Asia/Seoul 0 2 * * *", "set spec.timeZone instead"),
        ("CRON_TZ=UTC 0 2 * * *", "set spec.timeZone instead"),
    ],
)
def test_invalid_schedules_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text)
    assert fragment in str(caught.value)


def test_schedule_errors_are_spec_errors_on_the_schedule_field() -> None:
    with pytest.raises(SpecError) as caught:
        parse_schedule("61 * * * *")
    assert str(caught.value).startswith("spec.schedule: minute field '61'")


def test_february_29_is_a_valid_schedule_that_runs_in_leap_years() -> None:
    schedule = cron("0 0 29 2 *")
    assert next_after(schedule, utc(2026, 1, 1), UTC) == utc(2028, 2, 29)


# --- next_after -----------------------------------------------------------------------------


def test_cron_times_are_wall_clock_times_in_the_time_zone() -> None:
    # 02:00 in Seoul (UTC+9, no DST) is 17:00 UTC the day before.
    schedule = cron("0 2 * * *")
    assert times(schedule, utc(2026, 11, 28, 12), SEOUL, 2) == [
        utc(2026, 11, 28, 17),
        utc(2026, 11, 29, 17),
    ]


def test_next_after_is_strictly_after() -> None:
    schedule = cron("*/15 * * * *")
    assert next_after(schedule, utc(2026, 1, 1, 10, 15), UTC) == utc(2026, 1, 1, 10, 30)
    assert next_after(schedule, utc(2026, 1, 1, 10, 14, 59), UTC) == utc(2026, 1, 1, 10, 15)


def test_next_after_rolls_over_months_and_years() -> None:
    schedule = cron("30 4 1 JAN,JUL *")
    assert times(schedule, utc(2026, 8, 1), UTC, 2) == [
        utc(2027, 1, 1, 4, 30),
        utc(2027, 7, 1, 4, 30),
    ]


def test_next_after_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_after(cron("* * * * *"), datetime(2026, 1, 1), UTC)


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # New York jumps 02:00 -> 03:00 on 2026-03-08; Berlin on 2026-03-29.
        (NEW_YORK, utc(2026, 3, 7, 12), ["03-09 02:30 EDT", "03-10 02:30 EDT"]),
        (BERLIN, utc(2026, 3, 28, 12), ["03-30 02:30 CEST", "03-31 02:30 CEST"]),
    ],
)
def test_a_time_in_the_spring_forward_gap_does_not_run(
    tz: ZoneInfo, start: datetime, expected: list[str]
) -> None:
    assert local(times(cron("30 2 * * *"), start, tz, 2), tz) == expected


def test_times_around_the_spring_forward_gap_still_run() -> None:
    assert local(times(cron("0 * * * *"), utc(2026, 3, 8, 5, 30), NEW_YORK, 3), NEW_YORK) == [
        "03-08 01:00 EST",
        "03-08 03:00 EDT",
        "03-08 04:00 EDT",
    ]


@pytest.mark.parametrize(
    ("tz", "schedule", "start", "expected"),
    [
        # New York repeats 01:00-02:00 on 2026-11-01; Berlin repeats 02:00-03:00 on 2026-10-25.
        (NEW_YORK, "30 1 * * *", utc(2026, 10, 31, 12), ["11-01 01:30 EDT", "11-02 01:30 EST"]),
        (BERLIN, "30 2 * * *", utc(2026, 10, 24, 12), ["10-25 02:30 CEST", "10-26 02:30 CET"]),
    ],
)
def test_a_time_repeated_by_fall_back_runs_once_at_its_first_occurrence(
    tz: ZoneInfo, schedule: str, start: datetime, expected: list[str]
) -> None:
    assert local(times(cron(schedule), start, tz, 2), tz) == expected


def test_an_interval_schedule_does_not_run_the_repeated_hour_twice() -> None:
    found = times(cron("*/20 * * * *"), utc(2026, 11, 1, 4, 50), NEW_YORK, 5)
    assert local(found, NEW_YORK) == [
        "11-01 01:00 EDT",
        "11-01 01:20 EDT",
        "11-01 01:40 EDT",
        "11-01 02:00 EST",
        "11-01 02:20 EST",
    ]
    assert found[3] - found[2] == timedelta(minutes=80)


def test_next_after_from_inside_the_second_pass_of_the_overlap() -> None:
    # 06:10 UTC is 01:10 EST, the second 01:10; 01:20 already ran (first pass), so next is 02:00.
    assert next_after(cron("*/20 * * * *"), utc(2026, 11, 1, 6, 10), NEW_YORK) == utc(
        2026, 11, 1, 7
    )


REFERENCE_SCHEDULES = ["*/20 * * * *", "30 1,2 * * *", "0 * * * *", "15 2 * * SUN", "59 23 * * *"]
TRANSITIONS = [
    # (zone, a UTC instant a few hours before a DST change)
    (NEW_YORK, utc(2026, 3, 8, 2)),
    (NEW_YORK, utc(2026, 11, 1, 2)),
    (BERLIN, utc(2026, 3, 28, 22)),
    (BERLIN, utc(2026, 10, 24, 22)),
    (ZoneInfo("Australia/Lord_Howe"), utc(2026, 4, 4, 12)),  # a 30-minute fall-back
    (ZoneInfo("Australia/Lord_Howe"), utc(2026, 10, 3, 12)),  # a 30-minute spring-forward
]


@functools.cache
def reference_times(text: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every UTC minute in (start, end] whose wall time matches and is that wall time's first
    occurrence: the DST rules of next_after, by brute force."""
    schedule = cron(text)
    found, moment = [], start.replace(second=0) + timedelta(minutes=1)
    while moment <= end:
        wall = moment.astimezone(tz)
        if (
            wall.fold == 0
            and wall.minute in schedule.minutes
            and wall.hour in schedule.hours
            and schedule.matches_day(wall.date())
        ):
            found.append(moment)
        moment += timedelta(minutes=1)
    return found


@pytest.mark.parametrize("text", REFERENCE_SCHEDULES)
@pytest.mark.parametrize(("tz", "start"), TRANSITIONS)
def test_next_after_agrees_with_a_minute_by_minute_reference_across_dst(
    text: str, tz: ZoneInfo, start: datetime
) -> None:
    end = start + timedelta(hours=30)
    expected = reference_times(text, tz, start, end)
    found, moment = [], start
    while (moment := next_after(cron(text), moment, tz)) <= end:
        found.append(moment)
    assert local(found, tz) == local(expected, tz)


@pytest.mark.parametrize("text", REFERENCE_SCHEDULES)
@pytest.mark.parametrize(("tz", "start"), TRANSITIONS)
def test_plan_tick_agrees_with_the_reference_at_every_quarter_hour(
    text: str, tz: ZoneInfo, start: datetime
) -> None:
    # Eight days, so that even the weekly schedule's next time is in the reference.
    expected = reference_times(text, tz, start, start + timedelta(days=8))
    for step in range(0, 30 * 4):
        now = start + timedelta(minutes=15 * step, seconds=7)
        plan = plan_tick(cron(text), tz, start, None, now, None)
        due = [t for t in expected if t <= now]
        assert plan.run_time == (due[-1] if due else None), now
        assert plan.missed == max(0, len(due) - 1), now
        assert plan.next_time == next(t for t in expected if t > now), now


def test_every_is_anchored_at_the_anchor_and_ignores_the_time_zone() -> None:
    anchor = utc(2026, 1, 1, 10, 0, 7)
    schedule = parse_schedule("@every 1h")
    for tz in (UTC, NEW_YORK, SEOUL):
        assert next_after(schedule, utc(2026, 1, 1, 12, 30), tz, anchor=anchor) == utc(
            2026, 1, 1, 13, 0, 7
        )
    assert next_after(schedule, utc(2026, 1, 1, 13, 0, 7), UTC, anchor=anchor) == utc(
        2026, 1, 1, 14, 0, 7
    )


def test_every_keeps_its_interval_across_dst() -> None:
    anchor = utc(2026, 3, 8, 5, 30)  # 00:30 EST, before New York's jump
    found = [next_after(parse_schedule("@every 1h"), anchor, NEW_YORK, anchor=anchor)]
    found.append(next_after(parse_schedule("@every 1h"), found[0], NEW_YORK, anchor=anchor))
    assert local(found, NEW_YORK) == ["03-08 01:30 EST", "03-08 03:30 EDT"]


def test_every_needs_an_anchor() -> None:
    with pytest.raises(ValueError, match="anchor"):
        next_after(parse_schedule("@every 5m"), utc(2026, 1, 1), UTC)


# --- plan_tick ------------------------------------------------------------------------------


DAILY_2AM = "0 2 * * *"
CREATED = utc(2026, 11, 1, 0, 0, 0)


def test_nothing_is_due_before_the_first_scheduled_time() -> None:
    plan = plan_tick(cron(DAILY_2AM), UTC, CREATED, None, utc(2026, 11, 1, 1), None)
    assert plan.run_time is None and plan.latest_due is None and plan.missed == 0
    assert plan.next_time == utc(2026, 11, 1, 2)
    assert plan.seconds_until_next(utc(2026, 11, 1, 1)) == 3600
    assert plan.missed_message() is None


def test_a_tick_just_after_the_scheduled_time_runs_it() -> None:
    now = utc(2026, 11, 1, 2, 0, 3)
    plan = plan_tick(cron(DAILY_2AM), UTC, CREATED, None, now, 60)
    assert plan.run_time == utc(2026, 11, 1, 2)
    assert plan.new_last_schedule_time == utc(2026, 11, 1, 2)
    assert (plan.missed, plan.deadline_exceeded) == (0, False)
    assert plan.next_time == utc(2026, 11, 2, 2)


def test_a_time_already_run_is_not_run_again() -> None:
    now = utc(2026, 11, 1, 2, 5)
    plan = plan_tick(cron(DAILY_2AM), UTC, CREATED, utc(2026, 11, 1, 2), now, None)
    assert plan.run_time is None
    assert plan.next_time == utc(2026, 11, 2, 2)


def test_times_before_creation_never_run() -> None:
    created = utc(2026, 11, 1, 2, 30)
    plan = plan_tick(cron(DAILY_2AM), UTC, created, None, utc(2026, 11, 1, 3), None)
    assert plan.run_time is None


def test_after_downtime_only_the_most_recent_missed_time_runs() -> None:
    last = utc(2026, 11, 1, 2)
    now = utc(2026, 11, 5, 9)  # the 2nd, 3rd, 4th and 5th at 02:00 were missed
    plan = plan_tick(cron(DAILY_2AM), UTC, CREATED, last, now, None)
    assert plan.run_time == utc(2026, 11, 5, 2)
    assert (plan.missed, plan.missed_is_lower_bound) == (3, False)
    message = plan.missed_message()
    assert message is not None
    assert "missed 3 scheduled times" in message and "2026-11-05T02:00:00Z" in message


def test_a_missed_time_within_the_starting_deadline_runs() -> None:
    plan = plan_tick(cron(DAILY_2AM), UTC, CREATED, None, utc(2026, 11, 1, 2, 59), 3600)
    assert plan.run_time == utc(2026, 11, 1, 2)


def test_a_missed_time_past_the_starting_deadline_is_skipped_and_reported() -> None:
    last = utc(2026, 11, 1, 2)
    now = utc(2026, 11, 3, 4)
    plan = plan_tick(cron(DAILY_2AM), UTC, CREATED, last, now, 3600)
    assert plan.run_time is None
    assert plan.deadline_exceeded
    assert plan.latest_due == utc(2026, 11, 3, 2)
    assert plan.new_last_schedule_time == utc(2026, 11, 3, 2)  # so it is not reported again
    assert plan.missed == 2
    message = plan.missed_message()
    assert message is not None
    assert "not running the most recent, 2026-11-03T02:00:00Z" in message
    assert "startingDeadlineSeconds (3600s)" in message


def test_missed_cron_times_are_counted_up_to_the_cap_and_reported_as_at_least() -> None:
    now = utc(2026, 12, 1, 0, 0, 30)  # 30 days of every-minute times missed
    plan = plan_tick(cron("* * * * *"), UTC, CREATED, None, now, None)
    assert plan.run_time == utc(2026, 12, 1)
    assert (plan.missed, plan.missed_is_lower_bound) == (MISSED_COUNT_CAP, True)
    message = plan.missed_message()
    assert message is not None and f"at least {MISSED_COUNT_CAP}" in message


def test_every_second_over_30_days_of_downtime_is_computed_not_iterated() -> None:
    # 2.6 million due times: plan_tick must answer arithmetically (a loop would not return
    # before the test timeout), and the count is exact.
    now = CREATED + timedelta(days=30, milliseconds=500)
    plan = plan_tick(parse_schedule("@every 1s"), UTC, CREATED, None, now, None)
    assert plan.run_time == CREATED + timedelta(days=30)
    assert (plan.missed, plan.missed_is_lower_bound) == (30 * 86400 - 1, False)
    assert plan.next_time == CREATED + timedelta(days=30, seconds=1)


def test_every_counts_missed_times_from_the_last_schedule_time() -> None:
    last = CREATED + timedelta(minutes=10)
    now = CREATED + timedelta(minutes=31)
    plan = plan_tick(parse_schedule("@every 5m"), NEW_YORK, CREATED, last, now, 120)
    assert plan.run_time == CREATED + timedelta(minutes=30)
    assert plan.missed == 3  # 15, 20 and 25 minutes


def test_every_past_the_deadline_is_skipped() -> None:
    now = CREATED + timedelta(minutes=9)
    plan = plan_tick(parse_schedule("@every 5m"), UTC, CREATED, None, now, 60)
    assert plan.run_time is None and plan.deadline_exceeded and plan.missed == 1
    assert plan.next_time == CREATED + timedelta(minutes=10)


def test_a_last_schedule_time_ahead_of_the_clock_runs_nothing() -> None:
    # Clock skew between operator replicas: never run a time at or before lastScheduleTime.
    last = utc(2026, 11, 2, 2)
    plan = plan_tick(cron(DAILY_2AM), UTC, CREATED, last, utc(2026, 11, 2, 1, 59), None)
    assert plan.run_time is None
    assert plan.next_time == utc(2026, 11, 3, 2)


def test_tick_in_the_second_pass_of_an_overlap_does_not_rerun_its_times() -> None:
    schedule = cron("*/20 * * * *")
    last = utc(2026, 11, 1, 5, 40)  # 01:40 EDT, the last first-pass time
    plan = plan_tick(schedule, NEW_YORK, CREATED, last, utc(2026, 11, 1, 6, 30), None)
    assert plan.run_time is None
    assert plan.next_time == utc(2026, 11, 1, 7)  # 02:00 EST


def test_tick_in_the_second_pass_of_an_overlap_runs_a_missed_first_pass_time() -> None:
    schedule = cron("*/20 * * * *")
    last = utc(2026, 11, 1, 5, 20)  # 01:20 EDT; 01:40 EDT (05:40 UTC) was missed
    plan = plan_tick(schedule, NEW_YORK, CREATED, last, utc(2026, 11, 1, 6, 30), None)
    assert plan.run_time == utc(2026, 11, 1, 5, 40)
    assert plan.missed == 0


def test_tick_after_a_spring_forward_gap_counts_no_phantom_time() -> None:
    # 02:30 did not exist in New York on 2026-03-08: nothing was missed overnight.
    last = utc(2026, 3, 7, 7, 30)  # 02:30 EST on the 7th
    plan = plan_tick(cron("30 2 * * *"), NEW_YORK, CREATED, last, utc(2026, 3, 8, 12), None)
    assert plan.run_time is None and plan.missed == 0
    assert plan.next_time == utc(2026, 3, 9, 6, 30)


# --- child runs -----------------------------------------------------------------------------


def test_child_name_is_the_cron_name_and_the_scheduled_unix_time() -> None:
    assert child_name("nightly-etl", utc(2026, 11, 28, 17)) == "nightly-etl-1795885200"


def test_child_name_of_a_long_cron_name_is_cut_deterministically_within_63() -> None:
    long_a = "a" * 60 + "-x"
    long_b = "a" * 60 + "-y"
    moment = utc(2026, 11, 28, 17)
    name_a = child_name(long_a, moment)
    assert len(name_a) <= MAX_NAME_LENGTH
    assert name_a == child_name(long_a, moment)
    assert name_a != child_name(long_b, moment)
    assert name_a.endswith("-1795885200") and name_a.startswith("a" * 40)


def test_a_cut_cron_name_never_leaves_a_dash_or_dot_before_the_hash() -> None:
    name = child_name("b" * 42 + "-.c" * 10, utc(2026, 1, 1))
    assert "--" not in name and ".-" not in name
    assert len(name) <= MAX_NAME_LENGTH


def test_child_name_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        child_name("x", datetime(2026, 1, 1))


def test_allow_always_creates() -> None:
    assert plan_concurrency(ConcurrencyPolicy.ALLOW, ["a-1"]) == Create()


@pytest.mark.parametrize("policy", list(ConcurrencyPolicy))
def test_with_no_active_run_every_policy_creates(policy: ConcurrencyPolicy) -> None:
    assert plan_concurrency(policy, []) == Create()


def test_forbid_skips_while_a_run_is_active_and_names_it() -> None:
    decision = plan_concurrency(ConcurrencyPolicy.FORBID, ["etl-200", "etl-100"])
    assert isinstance(decision, Skip)
    assert "Forbid" in decision.reason and "etl-100, etl-200" in decision.reason


def test_replace_cancels_the_active_runs_then_creates() -> None:
    decision = plan_concurrency(ConcurrencyPolicy.REPLACE, ["etl-200", "etl-100"])
    assert decision == ReplaceThenCreate(("etl-100", "etl-200"))


def finished(name: str, phase: str, day: int) -> ChildRun:
    return ChildRun(name, phase, finished_at=utc(2026, 11, day))  # type: ignore[arg-type]


def test_history_beyond_each_limit_is_pruned_oldest_first() -> None:
    children = [
        finished("s1", "Succeeded", 1),
        finished("f2", "Failed", 2),
        finished("s3", "Succeeded", 3),
        finished("s4", "Succeeded", 4),
        finished("c5", "Cancelled", 5),
        finished("s6", "Succeeded", 6),
        ChildRun("r7", "Running"),
        ChildRun("p8", None),
    ]
    assert children_to_prune(children, successful_limit=2, failed_limit=1) == ["s1", "f2", "s3"]


def test_a_zero_limit_prunes_every_finished_run_of_that_kind_but_no_active_one() -> None:
    children = [finished("f1", "Failed", 1), ChildRun("r2", "Running"), ChildRun("p3", "Pending")]
    assert children_to_prune(children, successful_limit=0, failed_limit=0) == ["f1"]


def test_nothing_is_pruned_within_the_limits() -> None:
    children = [finished("s1", "Succeeded", 1), finished("f2", "Failed", 2)]
    assert children_to_prune(children, successful_limit=3, failed_limit=1) == []


def test_active_runs_lists_unfinished_children_by_scheduled_time() -> None:
    children = [
        ChildRun("b", "Running", scheduled_time=utc(2026, 11, 2)),
        ChildRun("a", "Pending", scheduled_time=utc(2026, 11, 3)),
        ChildRun("c", "Succeeded", scheduled_time=utc(2026, 11, 1)),
        ChildRun("d", None),
    ]
    assert active_runs(children) == [
        {"name": "d"},
        {"name": "b", "scheduledTime": "2026-11-02T00:00:00Z"},
        {"name": "a", "scheduledTime": "2026-11-03T00:00:00Z"},
    ]


def test_child_run_is_read_from_the_child_objects_annotation_and_status() -> None:
    child = ChildRun.from_child(
        "etl-1795885200",
        {SCHEDULED_TIME_ANNOTATION: "2026-11-28T17:00:00Z"},
        {"phase": "Succeeded", "finishedAt": "2026-11-28T17:30:00Z"},
    )
    assert child == ChildRun(
        "etl-1795885200", "Succeeded", utc(2026, 11, 28, 17, 30), utc(2026, 11, 28, 17)
    )
    assert not child.active


def test_a_child_without_status_or_with_junk_is_an_active_run_of_unknown_time() -> None:
    assert ChildRun.from_child("x", None, None) == ChildRun("x")
    junk = ChildRun.from_child("x", {SCHEDULED_TIME_ANNOTATION: "soon"}, {"phase": 7})
    assert junk == ChildRun("x") and junk.active


def test_most_recent_run_is_the_latest_scheduled() -> None:
    children = [
        ChildRun("x-200", "Running", scheduled_time=utc(2026, 11, 2)),
        ChildRun("x-300", None, scheduled_time=utc(2026, 11, 3)),
    ]
    recent = most_recent_run(children)
    assert recent is not None and recent.name == "x-300"
    assert most_recent_run([]) is None


def test_last_successful_time_never_moves_back() -> None:
    children = [finished("s1", "Succeeded", 3), finished("f2", "Failed", 9)]
    assert last_successful_time(children, None) == utc(2026, 11, 3)
    assert last_successful_time(children, utc(2026, 11, 5)) == utc(2026, 11, 5)
    assert last_successful_time([], None) is None


def test_last_run_summary_copies_the_run_and_its_steps_job_status() -> None:
    status = {
        "phase": "Running",
        "progress": "1/3",
        "message": "job2 RUNNING on queue-simple",
        "startedAt": "2026-11-28T17:00:02Z",
        "runId": "abc123",
        "usage": {"vcpuSeconds": 240.0, "memoryGiBSeconds": 120.0, "vcpuHours": "0.07", "x": 1},
        "steps": [
            {
                "name": "job1",
                "status": "SUCCEEDED",
                "jobId": "j-1",
                "jobName": "nightly-job1-abc123",
                "exitCode": 0,
                "startedAt": "2026-11-28T17:01:00Z",
                "stoppedAt": "2026-11-28T17:05:00Z",
                "queueWaitSeconds": 58,
            },
            {"name": "job2", "status": "RUNNING", "jobId": "j-2", "statusReason": "Essential"},
            {"name": "job3", "status": "WAITING"},
        ],
    }
    assert last_run_summary("nightly-1795885200", status) == {
        "name": "nightly-1795885200",
        "phase": "Running",
        "progress": "1/3",
        "message": "job2 RUNNING on queue-simple",
        "startedAt": "2026-11-28T17:00:02Z",
        "finishedAt": None,
        "steps": [
            {
                "name": "job1",
                "status": "SUCCEEDED",
                "jobId": "j-1",
                "exitCode": 0,
                "startedAt": "2026-11-28T17:01:00Z",
                "stoppedAt": "2026-11-28T17:05:00Z",
                "queueWaitSeconds": 58,
            },
            {"name": "job2", "status": "RUNNING", "jobId": "j-2", "statusReason": "Essential"},
            {"name": "job3", "status": "WAITING"},
        ],
        "usage": {"vcpuSeconds": 240.0, "memoryGiBSeconds": 120.0, "vcpuHours": "0.07"},
    }


def test_last_run_summary_of_a_new_run_has_every_key_so_a_merge_patch_clears_old_values() -> None:
    assert last_run_summary("x-1", None) == {
        "name": "x-1",
        "phase": None,
        "progress": None,
        "message": None,
        "startedAt": None,
        "finishedAt": None,
        "steps": [],
        "usage": None,
    }


def test_last_run_summary_drops_values_of_the_wrong_shape() -> None:
    status = {
        "phase": "Exploded",
        "progress": 3,
        "startedAt": "yesterday",
        "steps": [
            "junk",
            {"status": "RUNNING"},
            {"name": "a", "exitCode": True, "queueWaitSeconds": "5"},
        ],
    }
    summary = last_run_summary("x-1", status)
    assert (summary["phase"], summary["progress"], summary["startedAt"]) == (None, None, None)
    assert summary["steps"] == [{"name": "a"}]


def test_triggered_run_names_come_from_the_trigger_value() -> None:
    assert triggered_child_name("etl", "1") == triggered_child_name("etl", "1")
    assert triggered_child_name("etl", "1") != triggered_child_name("etl", "2")
    long = triggered_child_name("x" * 52, "now")
    assert len(long) <= 63 and long[-1].isalnum()
