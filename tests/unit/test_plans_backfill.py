"""`batchops backfill`: the due times of an interval, named as the schedule names its runs, and
how many may run at once; and what every run of a CronPipeline is told of its time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from batchops.commands.backfill import parse_moment
from batchops.kube.cron_runs import CronOwner, run_manifest
from batchops.model.cron import ConcurrencyPolicy, parse_cron_spec
from batchops.model.keys import (
    CRON_LABEL,
    SCHEDULED_TIME_ANNOTATION,
    SCHEDULED_TIME_ENV,
    SCHEDULED_TIME_PARAMETER,
)
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.backfill import may_start, plan_backfill
from batchops.plans.cron_expr import parse_schedule
from batchops.plans.run_submission import plan_submissions
from batchops.plans.runs import RunRef
from batchops.plans.schedule import child_name, due_times, plan_tick
from batchops.plans.scheduled_time import scheduled_time_overrides

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# --- due times and names -----------------------------------------------------------------------


def test_seven_daily_due_times_in_a_week_in_the_crons_time_zone() -> None:
    # 02:00 in Seoul is 17:00 UTC the day before.
    plan = plan_backfill(
        "nightly", parse_schedule("0 2 * * *"), SEOUL, utc(11, 20), utc(11, 26, 23, 59), NOW,
        anchor=ANCHOR, limit=100,
    )  # fmt: skip
    assert [run.scheduled_time for run in plan.runs] == [utc(11, d, 17) for d in range(20, 27)]
    assert plan.runs[0].name == f"nightly-{int(utc(11, 20, 17).timestamp())}"
    assert not plan.truncated


def test_the_interval_includes_both_ends() -> None:
    times = list(due_times(parse_schedule("@hourly"), UTC, utc(3, 1, 4), utc(3, 1, 6)))
    assert times == [utc(3, 1, 4), utc(3, 1, 5), utc(3, 1, 6)]


@pytest.mark.parametrize(
    ("schedule", "tz"),
    [
        ("0 2 * * *", SEOUL),
        ("30 2 * * *", NEW_YORK),  # 02:30 does not exist on the spring-forward night
        ("30 1 * * *", NEW_YORK),  # 01:30 happens twice on the fall-back night: runs once
        ("*/20 * * * 1-5", NEW_YORK),
        ("@every 7h", UTC),
    ],
)
def test_every_backfilled_name_is_the_name_the_schedule_gives_that_time(
    schedule: str, tz: ZoneInfo
) -> None:
    # Across both DST changes of 2026 in New York: the schedule's tick for each due time (the
    # one after it, as a tick right after the time would see it) names the same run.
    parsed = parse_schedule(schedule)
    start, end = utc(3, 7), utc(3, 10)
    for window in ((start, end), (utc(10, 31), utc(11, 3))):
        plan = plan_backfill("etl", parsed, tz, *window, NOW, anchor=ANCHOR, limit=None)
        assert plan.runs
        previous = None
        for run in plan.runs:
            now = run.scheduled_time + timedelta(milliseconds=1)
            tick = plan_tick(parsed, tz, ANCHOR, previous, now, None)
            assert tick.run_time == run.scheduled_time
            assert child_name("etl", tick.run_time) == run.name
            previous = run.scheduled_time


def test_times_after_now_are_left_to_the_schedule() -> None:
    plan = plan_backfill(
        "etl", parse_schedule("@daily"), UTC, utc(11, 28), utc(12, 31), NOW,
        anchor=ANCHOR, limit=None,
    )  # fmt: skip
    assert [run.scheduled_time for run in plan.runs] == [utc(11, 28), utc(11, 29), utc(11, 30), NOW]
    assert plan.end == NOW


def test_more_due_times_than_the_limit_are_not_enumerated() -> None:
    # A year of minutes: counted only to the limit, then reported as truncated.
    plan = plan_backfill(
        "etl", parse_schedule("* * * * *"), UTC, utc(1, 1), utc(11, 30), NOW,
        anchor=ANCHOR, limit=100,
    )  # fmt: skip
    assert len(plan.runs) == 100 and plan.truncated


def test_an_interval_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        plan_backfill("etl", parse_schedule("@daily"), UTC, utc(5, 2), utc(5, 1), NOW,
                      anchor=ANCHOR, limit=None)  # fmt: skip


def test_every_schedule_counts_from_the_crons_creation_before_and_after_it() -> None:
    anchor = datetime(2026, 5, 1, 1, 0, 10, tzinfo=UTC)
    schedule = parse_schedule("@every 1h")
    times = list(due_times(schedule, UTC, utc(4, 30, 23), utc(5, 1, 3), anchor=anchor))
    assert times == [anchor + timedelta(hours=h) for h in (-2, -1, 0, 1)]


@pytest.mark.parametrize(
    ("text", "end_of_day", "expected"),
    [
        ("2026-11-20", False, utc(11, 19, 15)),  # midnight in Seoul
        ("2026-11-20", True, utc(11, 20, 15) - timedelta(microseconds=1)),
        ("2026-11-20T02:00:00Z", False, utc(11, 20, 2)),
        ("2026-11-20T02:00:00+09:00", False, utc(11, 19, 17)),
        ("2026-11-20T02:00", False, utc(11, 19, 17)),  # no offset: the cron's zone
    ],
)
def test_backfill_times_are_dates_or_rfc3339(
    text: str, end_of_day: bool, expected: datetime
) -> None:
    assert parse_moment(text, SEOUL, "--from", end_of_day=end_of_day) == expected


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "parallel", "running", "others", "expected"),
    [
        (ConcurrencyPolicy.ALLOW, None, 50, 3, True),
        (ConcurrencyPolicy.FORBID, None, 0, 0, True),
        (ConcurrencyPolicy.FORBID, None, 1, 0, False),
        (ConcurrencyPolicy.FORBID, None, 0, 1, False),  # a scheduled run is active
        (ConcurrencyPolicy.REPLACE, None, 0, 1, False),  # waits, never replaces
        (ConcurrencyPolicy.FORBID, 3, 2, 5, True),  # --parallel overrides the policy
        (ConcurrencyPolicy.ALLOW, 3, 3, 0, False),
    ],
)
def test_may_start_follows_the_policy_unless_parallel_says_otherwise(
    policy: ConcurrencyPolicy, parallel: int | None, running: int, others: int, expected: bool
) -> None:
    assert may_start(policy, parallel, running, others) is expected


# --- the scheduled time in every run -----------------------------------------------------------


def cron_spec(**pipeline: Any) -> Any:
    return parse_cron_spec(
        {
            "schedule": "0 2 * * *",
            "pipelineTemplate": {
                "metadata": {"labels": {"team": "data"}},
                "spec": {
                    "queue": "q",
                    "image": "busybox",
                    "steps": [{"name": "a", "vcpus": 1, "memory": 512,
                               "command": ["run", "Ref::scheduledTime"]}],
                    **pipeline,
                },
            },
        }
    )  # fmt: skip


def test_a_runs_manifest_carries_its_time_as_parameter_annotation_and_label() -> None:
    owner = CronOwner("ns", "nightly", "uid-1")
    body = run_manifest(owner, cron_spec(parameters={"date": "x"}).template, "nightly-1",
                        utc(11, 20, 17))  # fmt: skip
    meta = body["metadata"]
    assert meta["labels"] == {"team": "data", CRON_LABEL: "nightly"}
    assert meta["annotations"] == {SCHEDULED_TIME_ANNOTATION: "2026-11-20T17:00:00Z"}
    assert meta["ownerReferences"][0]["uid"] == "uid-1"
    assert body["spec"]["parameters"] == {
        "date": "x",
        SCHEDULED_TIME_PARAMETER: "2026-11-20T17:00:00Z",
    }


def test_the_crons_time_replaces_a_template_parameter_of_the_same_name() -> None:
    template = cron_spec(parameters={SCHEDULED_TIME_PARAMETER: "stale"}).template
    spec = template.run_spec(utc(11, 20, 17))
    assert spec["parameters"] == {SCHEDULED_TIME_PARAMETER: "2026-11-20T17:00:00Z"}
    assert template.child_spec().get("parameters") == {SCHEDULED_TIME_PARAMETER: "stale"}


def submit_request(raw_spec: dict[str, Any]) -> Any:
    spec = parse_pipeline_spec(raw_spec)
    run = RunRef(namespace="ns", pipeline="nightly-1", run_id="r1")
    plan = plan_submissions(
        spec, run, {}, {}, {s.name: f"arn:jd/{s.name}" for s in spec.steps}, {"q": "arn:q"}
    )
    return plan.submit[0].request({})


def test_an_inline_step_gets_the_time_as_a_submit_override_and_parameter() -> None:
    raw = cron_spec().template.run_spec(utc(11, 20, 17))
    request = submit_request(raw)
    assert request["parameters"] == {SCHEDULED_TIME_PARAMETER: "2026-11-20T17:00:00Z"}
    assert request["containerOverrides"] == {
        "environment": [{"name": SCHEDULED_TIME_ENV, "value": "2026-11-20T17:00:00Z"}]
    }


def test_the_time_never_reaches_the_job_definition_so_every_run_shares_one() -> None:
    from batchops.plans.jobdefs import DefinitionScope, job_definition_request

    template = cron_spec().template
    requests = [
        job_definition_request(
            DefinitionScope("ns"), parse_pipeline_spec(template.run_spec(t)).steps[0]
        )
        for t in (utc(11, 20, 17), utc(11, 21, 17))
    ]
    assert requests[0] == requests[1]


def test_a_pipeline_without_the_parameter_gets_no_override() -> None:
    request = submit_request(cron_spec().template.child_spec())
    assert "containerOverrides" not in request


def test_other_inline_job_types_get_the_variable_in_every_named_container() -> None:
    value = {SCHEDULED_TIME_PARAMETER: "T"}
    env = [{"name": SCHEDULED_TIME_ENV, "value": "T"}]
    ecs = parse_pipeline_spec({"queue": "q", "steps": [{"name": "e", "ecsProperties": {
        "taskProperties": [{"containers": [{"name": "app", "image": "i"},
                                            {"name": "sidecar", "image": "i"}]}]}}]})  # fmt: skip
    assert _thaw(scheduled_time_overrides(ecs.steps[0], value)) == {
        "ecsPropertiesOverride": {"taskProperties": [{"containers": [
            {"name": "app", "environment": env}, {"name": "sidecar", "environment": env}]}]}
    }  # fmt: skip
    eks = parse_pipeline_spec({"queue": "q", "steps": [{"name": "k", "eksProperties": {
        "podProperties": {"containers": [{"image": "i"}]}}}]})  # fmt: skip
    assert _thaw(scheduled_time_overrides(eks.steps[0], value)) == {
        "eksPropertiesOverride": {"podProperties": {"containers": [{"env": env}]}}
    }
    nodes = parse_pipeline_spec({"queue": "q", "steps": [{"name": "m", "nodeProperties": {
        "numNodes": 2, "mainNode": 0, "nodeRangeProperties": [
            {"targetNodes": "0:", "container": {"image": "i", "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"}]}}]}}]})  # fmt: skip
    assert _thaw(scheduled_time_overrides(nodes.steps[0], value)) == {
        "nodeOverrides": {"nodePropertyOverrides": [
            {"targetNodes": "0:", "containerOverrides": {"environment": env}}]}
    }  # fmt: skip


def test_a_job_definition_step_keeps_its_own_overrides() -> None:
    spec = parse_pipeline_spec({"queue": "q", "steps": [{"name": "d", "jobDefinition": "x:1"}]})
    assert scheduled_time_overrides(spec.steps[0], {SCHEDULED_TIME_PARAMETER: "T"}) == {}


def _thaw(value: Any) -> Any:
    if isinstance(value, MappingProxyType | dict):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(v) for v in value]
    return value
