"""`batchops backfill` against the real control plane and the emulator: the runs of past due
times, their scheduled time reaching the jobs, the schedule creating nothing for a time already
backfilled, and concurrencyPolicy Forbid running one backfilled run at a time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from batchops.local.emulator import Emulator
from batchops.model.common import format_time, parse_time
from tests.conftest import Kubectl, batchops, events_of
from tests.e2e.builders import step
from tests.e2e.test_cron import cron, cron_status, runs_of
from tests.waits import wait_for


def phases(kubectl: Kubectl, namespace: str, name: str) -> list[str | None]:
    return [(r.get("status") or {}).get("phase") for r in runs_of(kubectl, namespace, name)]


def test_backfill_of_seven_daily_times_creates_seven_runs_and_the_schedule_adds_none(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any, cli_env: dict[str, str]
) -> None:
    # A daily schedule whose time today is the next whole minute: created suspended, it has
    # not run when that minute passes, so the backfill covers it, then the resumed schedule's
    # catch-up tick for the same minute must find the run already there.
    soon = datetime.now(UTC) + timedelta(seconds=5)
    today = soon.replace(second=0, microsecond=0) + timedelta(minutes=1)
    command = ["sh", "-c", 'echo "$BATCHOPS_SCHEDULED_TIME" "$1"', "sh", "Ref::scheduledTime"]
    kubectl.apply(
        cron("daily", f"{today.minute} {today.hour} * * *", [step("load", command=command)],
             suspend=True, successfulRunsHistoryLimit=10),
        namespace,
    )  # fmt: skip
    wait_for(
        lambda: datetime.now(UTC) > today + timedelta(seconds=1),
        timeout=90,
        interval=0.5,
        message="today's due time to pass",
    )
    first = today - timedelta(days=6)
    args = ("backfill", "cpl/daily", "-n", namespace, "--from", format_time(first),
            "--to", format_time(today))  # fmt: skip
    backfilled = batchops(*args, env=cli_env)
    assert backfilled.returncode == 0, backfilled.stdout + backfilled.stderr
    lines = backfilled.stdout.splitlines()
    assert lines[0].startswith("7 due times from ")
    assert lines[0].endswith("all at once (concurrencyPolicy Allow)")
    assert sum(line.startswith("created bpl/daily-") for line in lines) == 7
    assert lines[-1] == "7 runs: 7 created, 0 existed already"

    wait_for(
        lambda: phases(kubectl, namespace, "daily") == ["Succeeded"] * 7,
        timeout=120,
        message="seven backfilled runs to succeed",
    )
    runs = runs_of(kubectl, namespace, "daily")
    expected = {format_time(first + timedelta(days=d)) for d in range(7)}
    for run in runs:
        scheduled = run["metadata"]["annotations"]["batchops.io/scheduled-time"]
        assert run["metadata"]["name"] == f"daily-{int(parse_time(scheduled).timestamp())}"
        assert run["spec"]["parameters"] == {"scheduledTime": scheduled}
        (job,) = batch.describe_jobs(jobs=[run["status"]["steps"][0]["jobId"]])["jobs"]
        # What reached SubmitJob: the parameter, substituted into the command, and the variable.
        assert job["parameters"]["scheduledTime"] == scheduled
        assert job["container"]["command"][-1] == scheduled
        environment = {e["name"]: e["value"] for e in job["container"]["environment"]}
        assert environment["BATCHOPS_SCHEDULED_TIME"] == scheduled
        expected.discard(scheduled)
    assert expected == set()
    # The time is an override, not part of the job definition: every run's definition has the
    # same content (runs registering at the same moment may each add a revision of it).
    arns = sorted({job_definition_of(batch, run) for run in runs})
    definitions = batch.describe_job_definitions(jobDefinitions=arns)["jobDefinitions"]
    assert len({d["tags"]["batchops.io/content-hash"] for d in definitions}) == 1
    assert not any(
        e["name"] == "BATCHOPS_SCHEDULED_TIME"
        for d in definitions
        for e in d["containerProperties"].get("environment", [])
    )

    drawn = batchops("timeline", "cpl/daily", "-n", namespace, env=cli_env)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.startswith(f"{runs[-1]['metadata']['name']}  Succeeded")
    assert "*load │" in drawn.stdout

    again = batchops(*args, env=cli_env)
    assert again.stdout.splitlines()[-1] == "7 runs: 0 created, 7 existed already"

    kubectl.run(
        "patch", "cpl/daily", "-n", namespace, "--type=merge", "-p", '{"spec":{"suspend":false}}'
    )
    wait_for(
        lambda: (
            cron_status(kubectl, namespace, "daily").get("lastScheduleTime") == format_time(today)
        ),
        timeout=30,
        message="the schedule's tick for today's (backfilled) time",
    )
    assert len(runs_of(kubectl, namespace, "daily")) == 7
    created = [e for e in events_of(kubectl, namespace, "daily") if e["reason"] == "Scheduled"]
    assert created == [], "the schedule created a run for a time the backfill had covered"


def job_definition_of(batch: Any, run: dict[str, Any]) -> str:
    (job,) = batch.describe_jobs(jobs=[run["status"]["steps"][0]["jobId"]])["jobs"]
    return str(job["jobDefinition"])


def test_backfill_with_forbid_runs_one_at_a_time(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, cli_env: dict[str, str]
) -> None:
    # Each run takes about 2 s (40 s at the tests' emulator speed).
    emulator.set_scenario(rules=[{"jobName": "*", "durationSeconds": 40, "exitCode": 0}])
    kubectl.apply(
        cron("hourly", "0 * * * *", [step("a")], concurrencyPolicy="Forbid", suspend=True),
        namespace,
    )
    last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    backfilled = batchops(
        "backfill", "cpl/hourly", "-n", namespace,
        "--from", format_time(last - timedelta(hours=2)), "--to", format_time(last),
        env=cli_env, timeout=120,
    )  # fmt: skip
    assert backfilled.returncode == 0, backfilled.stdout + backfilled.stderr
    assert "one at a time (concurrencyPolicy Forbid)" in backfilled.stdout
    assert "waiting for bpl/hourly-" in backfilled.stdout
    wait_for(
        lambda: phases(kubectl, namespace, "hourly") == ["Succeeded"] * 3,
        timeout=60,
        message="the three runs to succeed",
    )
    runs = runs_of(kubectl, namespace, "hourly")  # by name: oldest scheduled time first
    for earlier, later in itertools.pairwise(runs):
        assert later["metadata"]["creationTimestamp"] >= earlier["status"]["finishedAt"]


def test_backfill_refuses_more_runs_than_max_runs_without_yes(
    kubectl: Kubectl, namespace: str, queue: str, cli_env: dict[str, str]
) -> None:
    kubectl.apply(cron("minutely", "* * * * *", [step("a")], suspend=True), namespace)
    now = datetime.now(UTC)
    refused = batchops(
        "backfill", "cpl/minutely", "-n", namespace, "--from", format_time(now - timedelta(days=1)),
        "--max-runs", "10", env=cli_env,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "more than 10 due times" in refused.stderr and "--yes" in refused.stderr
    assert runs_of(kubectl, namespace, "minutely") == []
