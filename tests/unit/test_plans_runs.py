"""The run planner: job names, run ids, submissions, recovery and status aggregation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from batchops.model.observed import JobStatus, ListedJob, ObservedJob, RunRecord, datetime_to_ms
from batchops.model.pipeline import PipelineSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.run_status import (
    aggregate_status,
    human_duration,
    invalid_spec_assessment,
    queue_wait_seconds,
)
from batchops.plans.run_submission import (
    JobLookup,
    adopt_found_jobs,
    merge_observations,
    plan_submissions,
    recovery_lookup,
    submission_waves,
)
from batchops.plans.runs import (
    DeletionPlan,
    RunRef,
    SubmitJob,
    TerminateJob,
    job_name,
    make_run_id,
    needs_new_run,
    new_run_status,
    plan_deletion,
    ttl_expires_at,
)

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import SubmitJobRequestTypeDef

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "manifests" / "examples" / "03-walkthrough-pipeline.yaml"
)
T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
RUN = RunRef("default", "nightly-etl", "abc123def0")
QUEUES = {
    "queue-72": "arn:aws:batch:us-east-1:123456789012:job-queue/queue-72",
    "queue-simple": "arn:aws:batch:us-east-1:123456789012:job-queue/queue-simple",
    "q": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
}
BATCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def walkthrough() -> PipelineSpec:
    document = yaml.safe_load(EXAMPLE.read_text())
    return parse_pipeline_spec(document["spec"])


def pipeline(*steps: Mapping[str, object], **fields: object) -> PipelineSpec:
    return parse_pipeline_spec(
        {
            "queue": "q",
            "image": "img",
            "defaults": {"vcpus": 1, "memory": 1024},
            "steps": list(steps),
            **fields,
        }
    )


def step(name: str, *deps: str, **extra: object) -> dict[str, object]:
    return {"name": name, **({"dependsOn": list(deps)} if deps else {}), **extra}


def jobdefs(spec: PipelineSpec) -> dict[str, str]:
    return {
        s.name: f"arn:aws:batch:us-east-1:123456789012:job-definition/default_p_{s.name}:1"
        for s in spec.steps
    }


def at(seconds: float) -> int:
    """Batch's milliseconds timestamp `seconds` after T0."""
    return datetime_to_ms(T0 + timedelta(seconds=seconds))


def job(
    step_name: str,
    status: JobStatus,
    *,
    created: float = 0,
    started: float | None = None,
    stopped: float | None = None,
    **extra: object,
) -> ObservedJob:
    """An ObservedJob parsed from a DescribeJobs item, like the poller produces."""
    item: dict[str, object] = {
        "jobId": f"id-{step_name}",
        "jobName": RUN.job_name(step_name),
        "jobArn": f"arn:aws:batch:us-east-1:123456789012:job/id-{step_name}",
        "jobQueue": QUEUES["q"],
        "status": status,
        "createdAt": at(created),
        "jobDefinition": f"arn:aws:batch:us-east-1:123456789012:job-definition/d_{step_name}:1",
        **extra,
    }
    if started is not None:
        item["startedAt"] = at(started)
    if stopped is not None:
        item["stoppedAt"] = at(stopped)
    return ObservedJob.from_describe(item)


# --- names and run ids --------------------------------------------------------------------------


def test_job_name_is_pipeline_step_and_run_id() -> None:
    assert job_name("nightly-etl", "job1", "abc123def0") == "nightly-etl-job1-abc123def0"
    assert RUN.job_name("job2") == "nightly-etl-job2-abc123def0"


def test_long_job_names_are_cut_to_128_with_a_hash_and_keep_the_run_id() -> None:
    name = job_name("p" * 253, "s" * 63, "abc123def0")
    assert len(name) == 128
    assert BATCH_NAME.match(name)
    assert name.endswith("-abc123def0")
    assert name == job_name("p" * 253, "s" * 63, "abc123def0")
    assert name != job_name("p" * 253, "s" * 62 + "t", "abc123def0")


def test_names_with_characters_batch_rejects_are_made_valid_without_colliding() -> None:
    dotted = job_name("nightly.etl", "job1", "r1")
    assert BATCH_NAME.match(dotted)
    assert dotted != job_name("nightly-etl", "job1", "r1")


def test_run_id_is_deterministic_and_depends_on_every_input() -> None:
    base = make_run_id("uid-1", 1, None, None)
    assert base == make_run_id("uid-1", 1, None, None)
    assert re.fullmatch(r"[0-9a-f]{10}", base)
    others = {
        make_run_id("uid-2", 1, None, None),
        make_run_id("uid-1", 2, None, None),
        make_run_id("uid-1", 1, "2026-11-28", None),
        make_run_id("uid-1", 1, None, base),
    }
    assert base not in others and len(others) == 4


def test_a_rerun_token_that_returns_to_an_old_value_still_gets_a_new_run_id() -> None:
    first = make_run_id("uid", 1, "a", None)
    second = make_run_id("uid", 1, "b", first)
    third = make_run_id("uid", 1, "a", second)
    assert len({first, second, third}) == 3


def test_first_reconcile_starts_a_run() -> None:
    assert needs_new_run(RunRecord.from_status(None), "h1", None)


def test_a_running_run_is_never_replaced() -> None:
    record = RunRecord(run_id="r1", phase="Running", spec_hash="h1")
    assert not needs_new_run(record, "h2", "new-token")


def test_a_finished_run_reruns_on_spec_change_or_new_rerun_token_only() -> None:
    record = RunRecord(run_id="r1", phase="Succeeded", spec_hash="h1", rerun_token="t1")
    assert not needs_new_run(record, "h1", "t1")
    assert needs_new_run(record, "h2", "t1")
    assert needs_new_run(record, "h1", "t2")
    assert not needs_new_run(RunRecord(run_id="r", phase="Failed", spec_hash="h"), "h", None)


def test_new_run_status_lists_every_step_waiting_with_its_job_name() -> None:
    spec = walkthrough()
    status = new_run_status(
        spec, RUN, spec_hash="h1", rerun_token=None, started_at=T0, generation=3
    )
    assert status["phase"] == "Pending"
    assert status["progress"] == "0/3"
    assert status["finishedAt"] is None  # a merge patch must clear the last run's value
    assert status["startedAt"] == "2026-11-28T01:00:00Z"
    assert [(s["name"], s["status"], s["jobName"]) for s in status["steps"]] == [
        ("job1", "WAITING", "nightly-etl-job1-abc123def0"),
        ("job2", "WAITING", "nightly-etl-job2-abc123def0"),
        ("job3", "WAITING", "nightly-etl-job3-abc123def0"),
    ]


# --- submissions --------------------------------------------------------------------------------


def submit_all(plan_submit: tuple[SubmitJob, ...]) -> list[SubmitJobRequestTypeDef]:
    """Execute a plan like the handler does: each request sees the ids of earlier ones."""
    ids: dict[str, str] = {}
    requests: list[SubmitJobRequestTypeDef] = []
    for action in plan_submit:
        requests.append(action.request(ids))
        ids[action.step] = f"id-{action.step}"
    return requests


def test_walkthrough_chain_is_submitted_up_front_with_native_dependencies() -> None:
    spec = walkthrough()
    plan = plan_submissions(spec, RUN, {}, {}, jobdefs(spec), QUEUES)
    assert plan.waiting == {}
    requests = submit_all(plan.submit)
    assert [r["jobName"] for r in requests] == [
        "nightly-etl-job1-abc123def0",
        "nightly-etl-job2-abc123def0",
        "nightly-etl-job3-abc123def0",
    ]
    assert [r["jobQueue"] for r in requests] == [
        QUEUES["queue-72"],
        QUEUES["queue-simple"],
        QUEUES["queue-72"],
    ]
    assert [r.get("dependsOn") for r in requests] == [
        None,
        [{"jobId": "id-job1"}],
        [{"jobId": "id-job2"}],
    ]
    assert all(r["parameters"] == {"date": "2026-11-28"} for r in requests)
    assert requests[0]["tags"] == {
        "batchops.io/pipeline": "default/nightly-etl",
        "batchops.io/step": "job1",
        "batchops.io/run-id": "abc123def0",
    }
    # An inline step's container, retry and timeout live in its job definition.
    assert not {"containerOverrides", "retryStrategy", "timeout"} & set(requests[0])


def test_steps_with_job_ids_are_not_submitted_again() -> None:
    spec = walkthrough()
    submitted = {"job1": "id-job1", "job2": "id-job2"}
    plan = plan_submissions(spec, RUN, submitted, {"job1": "RUNNING"}, jobdefs(spec), QUEUES)
    assert [a.step for a in plan.submit] == ["job3"]
    assert plan.submit[0].request(submitted)["dependsOn"] == [{"jobId": "id-job2"}]


def test_request_without_a_parent_id_fails_loudly() -> None:
    spec = walkthrough()
    plan = plan_submissions(spec, RUN, {}, {}, jobdefs(spec), QUEUES)
    with pytest.raises(KeyError):
        plan.submit[1].request({})


def test_unresolved_queue_or_definition_holds_the_step_and_its_dependents() -> None:
    spec = walkthrough()
    definitions = jobdefs(spec)
    del definitions["job1"]
    queues = {"queue-72": QUEUES["queue-72"]}
    plan = plan_submissions(spec, RUN, {}, {}, definitions, queues)
    assert plan.submit == ()
    assert plan.waiting == {
        "job1": "waiting for its job definition to be registered",
        "job2": "waiting for job queue 'queue-simple' to be resolved",
        "job3": "waiting for job2 to be submitted",
    }


def test_queue_given_as_arn_is_used_as_is() -> None:
    arn = "arn:aws:batch:eu-west-1:123456789012:job-queue/elsewhere"
    spec = pipeline(step("a", queue=arn))
    plan = plan_submissions(spec, RUN, {}, {}, jobdefs(spec), {})
    assert plan.submit[0].job_queue == arn


def test_diamond_join_depends_on_both_branches() -> None:
    spec = pipeline(step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c"))
    requests = submit_all(plan_submissions(spec, RUN, {}, {}, jobdefs(spec), QUEUES).submit)
    assert [r["jobName"].rsplit("-", 1)[0] for r in requests] == [
        "nightly-etl-a",
        "nightly-etl-b",
        "nightly-etl-c",
        "nightly-etl-d",
    ]
    assert requests[3]["dependsOn"] == [{"jobId": "id-b"}, {"jobId": "id-c"}]


def fan_in() -> PipelineSpec:
    parents = [f"p{i}" for i in range(25)]
    return pipeline(*(step(p) for p in parents), step("join", *parents), step("after", "join"))


def test_fan_in_of_25_is_held_until_every_dependency_succeeded() -> None:
    spec = fan_in()
    first = plan_submissions(spec, RUN, {}, {}, jobdefs(spec), QUEUES)
    assert [a.step for a in first.submit] == [f"p{i}" for i in range(25)]
    assert first.waiting["join"] == (
        "held by batchops until all 25 dependencies succeed (0 so far; Batch holds at most 20)"
    )
    assert first.waiting["after"] == "waiting for join to be submitted"

    submitted = {f"p{i}": f"id-p{i}" for i in range(25)}
    states: dict[str, JobStatus] = {f"p{i}": "SUCCEEDED" for i in range(24)}
    states["p24"] = "RUNNING"
    almost = plan_submissions(spec, RUN, submitted, states, jobdefs(spec), QUEUES)
    assert almost.submit == ()
    assert "(24 so far" in almost.waiting["join"]

    states["p24"] = "SUCCEEDED"
    ready = plan_submissions(spec, RUN, submitted, states, jobdefs(spec), QUEUES)
    requests = submit_all(ready.submit)
    assert [r["jobName"] for r in requests] == [RUN.job_name("join"), RUN.job_name("after")]
    assert "dependsOn" not in requests[0]
    assert requests[1]["dependsOn"] == [{"jobId": "id-join"}]


def test_array_steps_get_size_and_n_to_n_or_sequential_dependencies() -> None:
    spec = pipeline(
        step("split", arraySize=10),
        step("work", "split", arraySize=10, arrayDependency="N_TO_N"),
        step("merge", "work"),
        step("ordered", arraySize=3, arrayDependency="SEQUENTIAL"),
    )
    requests = submit_all(plan_submissions(spec, RUN, {}, {}, jobdefs(spec), QUEUES).submit)
    by_step = {r["tags"]["batchops.io/step"]: r for r in requests}
    assert by_step["split"]["arrayProperties"] == {"size": 10}
    assert by_step["work"]["dependsOn"] == [{"jobId": "id-split", "type": "N_TO_N"}]
    assert by_step["merge"]["dependsOn"] == [{"jobId": "id-work"}]
    assert by_step["ordered"]["dependsOn"] == [{"type": "SEQUENTIAL"}]


def test_job_definition_step_gets_overrides_only_for_what_it_sets() -> None:
    spec = pipeline(
        step(
            "ext",
            jobDefinition="shared:3",
            vcpus=4,
            environment=[{"name": "MODE", "value": "fast"}],
            retry={"attempts": 2},
            timeoutSeconds=600,
            propagateTags=True,
            shareIdentifier="teamA",
            schedulingPriority=7,
        ),
        step("bare", jobDefinition="arn:aws:batch:us-east-1:123456789012:job-definition/x:1"),
    )
    ext, bare = submit_all(plan_submissions(spec, RUN, {}, {}, {}, QUEUES).submit)
    assert ext["jobDefinition"] == "shared:3"
    assert ext["containerOverrides"] == {
        "resourceRequirements": [{"type": "VCPU", "value": "4"}],
        "environment": [{"name": "MODE", "value": "fast"}],
    }
    assert ext["retryStrategy"] == {"attempts": 2}
    assert ext["timeout"] == {"attemptDurationSeconds": 600}
    assert ext["propagateTags"] is True
    assert ext["shareIdentifier"] == "teamA"
    assert ext["schedulingPriorityOverride"] == 7
    # defaults' vcpus/memory are for inline containers; they never resize a given definition
    assert not {"containerOverrides", "retryStrategy", "timeout"} & set(bare)


def test_step_parameters_win_over_run_parameters() -> None:
    spec = pipeline(
        step("a", parameters={"date": "fixed", "mode": "x"}), parameters={"date": "2026-11-28"}
    )
    request = plan_submissions(spec, RUN, {}, {}, jobdefs(spec), QUEUES).submit[0].request({})
    assert request["parameters"] == {"date": "fixed", "mode": "x"}


def test_fail_fast_stops_every_further_submission() -> None:
    spec = fan_in()
    submitted = {f"p{i}": f"id-p{i}" for i in range(25)}
    states: dict[str, JobStatus] = {f"p{i}": "SUCCEEDED" for i in range(25)}
    states["p3"] = "FAILED"
    plan = plan_submissions(spec, RUN, submitted, states, jobdefs(spec), QUEUES)
    assert plan.submit == ()
    assert set(plan.waiting) == {"join", "after"}


def test_without_fail_fast_independent_steps_go_on_and_dependents_of_a_failure_do_not() -> None:
    spec = pipeline(step("a"), step("b"), step("c", "a"), step("d", "b"), failFast=False)
    plan = plan_submissions(
        spec, RUN, {"a": "id-a", "b": "id-b"}, {"a": "FAILED"}, jobdefs(spec), QUEUES
    )
    assert [a.step for a in plan.submit] == ["d"]
    assert plan.waiting == {"c": "will not run: dependency a failed"}


# --- recovery -----------------------------------------------------------------------------------


def test_recovery_looks_up_only_steps_without_a_job_id() -> None:
    lookups = recovery_lookup(walkthrough(), RUN, {"job1": "id-job1"})
    assert lookups == (
        JobLookup("job2", "nightly-etl-job2-abc123def0", "queue-simple"),
        JobLookup("job3", "nightly-etl-job3-abc123def0", "queue-72"),
    )


def test_recovery_with_nothing_found_adopts_nothing() -> None:
    adoption = adopt_found_jobs(recovery_lookup(walkthrough(), RUN, {}), [])
    assert adoption.job_ids == {} and adoption.duplicates == () and adoption.stop == ()


def test_recovery_adopts_the_one_job_found() -> None:
    lookups = recovery_lookup(walkthrough(), RUN, {})
    found = [ListedJob(RUN.job_name("job1"), "j-1", at(5), "RUNNING")]
    adoption = adopt_found_jobs(lookups, found)
    assert adoption.job_ids == {"job1": "j-1"}
    assert adoption.stop == ()


def test_recovery_with_two_copies_keeps_the_oldest_and_stops_the_other() -> None:
    lookups = recovery_lookup(walkthrough(), RUN, {})
    found = [
        ListedJob(RUN.job_name("job1"), "young", at(9), "RUNNABLE"),
        ListedJob(RUN.job_name("job1"), "old", at(5), "RUNNING"),
        ListedJob(RUN.job_name("job2"), "j2-old", at(1), "PENDING"),
        ListedJob(RUN.job_name("job2"), "j2-young", at(2), "RUNNING"),
        ListedJob(RUN.job_name("job3"), "j3-old", at(1)),
        ListedJob(RUN.job_name("job3"), "j3-done", at(2), "SUCCEEDED"),
        ListedJob(RUN.job_name("job3").upper(), "other-case", at(0), "RUNNING"),
    ]
    adoption = adopt_found_jobs(lookups, found)
    assert adoption.job_ids == {"job1": "old", "job2": "j2-old", "job3": "j3-old"}
    assert [d.job_id for d in adoption.duplicates] == ["young", "j2-young", "j3-done"]
    assert [(type(a), a.job_id) for a in adoption.stop] == [
        (TerminateJob, "young"),
        (TerminateJob, "j2-young"),
    ]


def test_observations_fall_back_to_the_status_record_when_batch_forgot_the_job() -> None:
    fresh = job("job1", "RUNNING")
    recorded = {"job2": job("job2", "SUCCEEDED", stopped=50)}
    merged = merge_observations(
        {"job1": "id-job1", "job2": "id-job2", "job3": "id-job3"}, [fresh], recorded
    )
    assert merged["job1"] is fresh
    assert merged["job2"] is recorded["job2"]
    assert merged["job3"].status == "SUBMITTED"  # just submitted, not yet visible


# --- status -------------------------------------------------------------------------------------


def test_walkthrough_status_follows_the_chain_to_success() -> None:
    spec = walkthrough()
    pending = aggregate_status(spec, {}, T0, T0, generation=3, run=RUN)
    assert (pending.phase, pending.progress) == ("Pending", "0/3")

    running = aggregate_status(
        spec,
        {"job1": job("job1", "RUNNING", started=40)},
        T0 + timedelta(seconds=60),
        T0,
        generation=3,
        run=RUN,
    )
    assert running.phase == "Running"
    assert running.progress == "0/3"
    assert running.message == "job1 RUNNING on queue-72"
    assert running.duration == "60s"
    assert [s.status for s in running.steps] == ["RUNNING", "WAITING", "WAITING"]
    reconciling = {c.type: (c.status, c.reason) for c in running.conditions}
    assert reconciling == {
        "Complete": ("False", "Running"),
        "Failed": ("False", "Running"),
        "Reconciling": ("True", "Running"),
        "Stalled": ("False", "Running"),
    }

    observed = {
        "job1": job("job1", "SUCCEEDED", started=40, stopped=100),
        "job2": job("job2", "RUNNABLE", created=1),
        "job3": job("job3", "PENDING", created=2),
    }
    middle = aggregate_status(spec, observed, T0 + timedelta(seconds=110), T0, generation=3)
    assert middle.progress == "1/3"
    assert middle.message == "job2 RUNNABLE on queue-simple (+1 more)"

    observed = {
        "job1": job("job1", "SUCCEEDED", started=40, stopped=100),
        "job2": job("job2", "SUCCEEDED", created=1, started=130, stopped=200),
        "job3": job("job3", "SUCCEEDED", created=2, started=260, stopped=1000),
    }
    done = aggregate_status(spec, observed, T0 + timedelta(seconds=2000), T0, generation=3)
    assert (done.phase, done.progress, done.message) == (
        "Succeeded",
        "3/3",
        "all 3 steps succeeded",
    )
    assert done.finished_at == T0 + timedelta(seconds=1000)
    assert done.duration == "16m"
    assert done.settled and done.stop == ()
    assert [s.queue_wait_seconds for s in done.steps] == [40, 30, 60]
    conditions = {c.type: c.status for c in done.conditions}
    assert conditions == {
        "Complete": "True",
        "Failed": "False",
        "Reconciling": "False",
        "Stalled": "False",
    }
    assert all(c.observed_generation == 3 for c in done.conditions)


def test_queue_wait_counts_from_the_later_of_creation_and_parents_stopping() -> None:
    parent = job("job1", "SUCCEEDED", started=10, stopped=100)
    child = job("job2", "RUNNING", created=1, started=130)
    assert queue_wait_seconds(child, [parent]) == 30
    assert queue_wait_seconds(job("late", "RUNNING", created=200, started=230), [parent]) == 30
    assert queue_wait_seconds(job("job3", "RUNNABLE", created=2), [parent]) is None


def test_queue_wait_uses_the_first_attempt_of_a_retried_job() -> None:
    retried = job(
        "job1",
        "RUNNING",
        started=300,
        attempts=[{"startedAt": at(20), "stoppedAt": at(200)}],
    )
    assert queue_wait_seconds(retried, []) == 20


def test_retry_attempts_and_exit_codes_reach_the_status() -> None:
    spec = walkthrough()
    failed = job(
        "job1",
        "FAILED",
        started=10,
        stopped=90,
        statusReason="Essential container in task exited",
        container={"exitCode": 3, "logStreamName": "job1/default/abc"},
        attempts=[
            {"container": {"exitCode": 1}, "startedAt": at(5)},
            {"container": {"exitCode": 2}},
            {"container": {"exitCode": 3, "reason": "OutOfMemoryError: killed"}},
        ],
    )
    result = aggregate_status(spec, {"job1": failed}, T0 + timedelta(seconds=95), T0, generation=1)
    entry = result.steps[0].to_status()
    assert entry["attempts"] == 3
    assert entry["exitCode"] == 3
    assert entry["logStream"] == "job1/default/abc"
    assert entry["statusReason"] == "Essential container in task exited: OutOfMemoryError: killed"
    assert result.phase == "Failed"
    assert result.message == "job1 failed: OutOfMemoryError: killed (exit code 3) after 3 attempts"


def diamond_spec(**fields: object) -> PipelineSpec:
    return pipeline(step("a"), step("b"), step("c", "a"), step("d", "b"), **fields)


def test_fail_fast_fails_the_run_and_stops_every_unfinished_job() -> None:
    observed = {
        "a": job("a", "FAILED", started=5, stopped=20, statusReason="boom"),
        "b": job("b", "RUNNING", started=5),
        "c": job("c", "PENDING"),
    }
    result = aggregate_status(
        diamond_spec(), observed, T0 + timedelta(seconds=30), T0, generation=1
    )
    assert (result.phase, result.reason) == ("Failed", "StepFailed")
    assert result.message == "a failed: boom"
    assert result.finished_at == T0 + timedelta(seconds=20)
    assert [(type(a), a.step) for a in result.stop] == [(TerminateJob, "b"), (TerminateJob, "c")]
    assert {s.name: s.status for s in result.steps}["d"] == "CANCELLED"
    assert not result.settled
    # The outcome is decided (Stalled, for kstatus as for Argo CD) while the jobs are stopped.
    conditions = {c.type: (c.status, c.reason) for c in result.conditions}
    assert conditions["Reconciling"] == ("False", "StoppingJobs")
    assert conditions["Stalled"] == ("True", "StepFailed")


def test_jobs_still_active_after_a_stop_request_are_stopped_again() -> None:
    # Level-based: Batch still reports the job active, so the pass asks again (a CancelJob
    # someone sent to a job that had started, or a TerminateJob not yet carried out).
    observed = {
        "a": job("a", "FAILED", stopped=20),
        "b": job("b", "RUNNING", isTerminated=True),
        "c": job("c", "RUNNING", isCancelled=True),
    }
    result = aggregate_status(
        diamond_spec(), observed, T0 + timedelta(seconds=30), T0, generation=1
    )
    assert [(a.step, a.repeated) for a in result.stop] == [("b", True), ("c", True)]
    assert result.active_job_ids == ("id-b", "id-c")


def test_without_fail_fast_other_branches_finish_before_the_run_fails() -> None:
    spec = diamond_spec(failFast=False)
    observed = {
        "a": job("a", "FAILED", stopped=20, statusReason="boom"),
        "b": job("b", "RUNNING", started=5),
        "c": job("c", "PENDING"),
    }
    running = aggregate_status(spec, observed, T0 + timedelta(seconds=30), T0, generation=1)
    assert running.phase == "Running"
    assert running.stop == ()
    assert running.message == "1 failed; b RUNNING on q (+1 more)"

    observed = {
        "a": job("a", "FAILED", stopped=20, statusReason="boom"),
        "b": job("b", "SUCCEEDED", started=5, stopped=300),
        "c": job("c", "FAILED", stopped=21, statusReason="Dependent Job failed"),
        "d": job("d", "SUCCEEDED", started=310, stopped=400),
    }
    done = aggregate_status(spec, observed, T0 + timedelta(seconds=500), T0, generation=1)
    assert (done.phase, done.reason, done.progress) == ("Failed", "StepFailed", "2/4")
    assert done.message == "a failed: boom"
    assert done.finished_at == T0 + timedelta(seconds=400)


def test_dependents_the_operator_holds_are_failed_when_a_dependency_fails() -> None:
    spec = parse_pipeline_spec(
        {
            "queue": "q",
            "image": "img",
            "failFast": False,
            "defaults": {"vcpus": 1, "memory": 1024},
            "steps": [
                *(step(f"p{i}") for i in range(25)),
                step("join", *(f"p{i}" for i in range(25))),
                step("after", "join"),
            ],
        }
    )
    observed = {f"p{i}": job(f"p{i}", "SUCCEEDED", stopped=10 + i) for i in range(25)}
    observed["p3"] = job("p3", "FAILED", stopped=5, statusReason="boom")
    result = aggregate_status(spec, observed, T0 + timedelta(seconds=60), T0, generation=1)
    statuses = {s.name: (s.status, s.status_reason, s.job_id) for s in result.steps}
    assert statuses["join"] == ("FAILED", "dependency p3 failed", None)
    assert statuses["after"] == ("FAILED", "dependency join failed", None)
    assert (result.phase, result.progress) == ("Failed", "24/27")


def test_deadline_exceeded_fails_the_run_and_stays_that_way() -> None:
    spec = pipeline(step("a"), step("b", "a"), activeDeadlineSeconds=600)
    running = {"a": job("a", "RUNNING", started=10), "b": job("b", "PENDING")}
    before = aggregate_status(spec, running, T0 + timedelta(seconds=599), T0, generation=1)
    assert before.phase == "Running"

    after = aggregate_status(spec, running, T0 + timedelta(seconds=601), T0, generation=1)
    assert (after.phase, after.reason) == ("Failed", "DeadlineExceeded")
    assert after.message == "activeDeadlineSeconds (600s) exceeded"
    assert after.finished_at == T0 + timedelta(seconds=600)
    assert [(type(a), a.step) for a in after.stop] == [(TerminateJob, "a"), (TerminateJob, "b")]

    stopped = {
        "a": job("a", "FAILED", started=10, stopped=610, statusReason="Terminated"),
        "b": job("b", "FAILED", stopped=611, statusReason="Dependent Job failed"),
    }
    later = aggregate_status(spec, stopped, T0 + timedelta(hours=5), T0, generation=1)
    assert (later.phase, later.reason, later.finished_at) == (
        "Failed",
        "DeadlineExceeded",
        T0 + timedelta(seconds=600),
    )
    assert later.duration == "10m"


def test_a_finished_run_looks_the_same_whenever_it_is_evaluated() -> None:
    spec = walkthrough()
    observed = {
        name: job(name, "SUCCEEDED", created=i, started=10 * i + 5, stopped=10 * i + 9)
        for i, name in enumerate(["job1", "job2", "job3"])
    }
    soon = aggregate_status(spec, observed, T0 + timedelta(minutes=1), T0, generation=1)
    much_later = aggregate_status(spec, observed, T0 + timedelta(days=3), T0, generation=1)
    assert soon.status_fields() == much_later.status_fields()


def test_array_job_status_summary_is_recorded() -> None:
    spec = pipeline(step("split", arraySize=4))
    observed = {
        "split": job(
            "split",
            "RUNNING",
            arrayProperties={"size": 4, "statusSummary": {"RUNNING": 1, "SUCCEEDED": 3}},
        )
    }
    result = aggregate_status(spec, observed, T0, T0, generation=1)
    assert result.steps[0].to_status()["arrayStatusSummary"] == {"RUNNING": 1, "SUCCEEDED": 3}


def test_invalid_spec_stalls_the_pipeline() -> None:
    result = invalid_spec_assessment("spec.steps[0].image: no image", T0, generation=2)
    assert (result.phase, result.reason) == ("Failed", "InvalidSpec")
    conditions = {c.type: (c.status, c.reason) for c in result.conditions}
    assert conditions["Stalled"] == ("True", "InvalidSpec")
    assert conditions["Failed"] == ("True", "InvalidSpec")
    assert conditions["Reconciling"] == ("False", "InvalidSpec")


def test_deleting_a_running_pipeline_stops_its_jobs_unless_told_not_to() -> None:
    observed = {
        "a": job("a", "SUCCEEDED"),
        "b": job("b", "RUNNING"),
        "c": job("c", "RUNNABLE"),
    }
    deletion = plan_deletion(diamond_spec(), observed, waited_seconds=0, max_wait_seconds=120)
    assert [(type(a), a.step) for a in deletion.stop] == [(TerminateJob, "b"), (TerminateJob, "c")]
    assert not deletion.release
    kept = plan_deletion(
        diamond_spec(terminateOnDelete=False), observed, waited_seconds=0, max_wait_seconds=120
    )
    assert kept == DeletionPlan((), release=True)


def test_deletion_releases_the_finalizer_once_every_job_finished_or_is_gone() -> None:
    # Jobs Batch no longer lists are left out of `steps_observed` by the caller.
    observed = {"a": job("a", "SUCCEEDED"), "b": job("b", "FAILED", isTerminated=True)}
    deletion = plan_deletion(diamond_spec(), observed, waited_seconds=3, max_wait_seconds=120)
    assert deletion == DeletionPlan((), release=True)


def test_deletion_waits_for_batch_at_most_the_bound_then_warns() -> None:
    observed = {"b": job("b", "RUNNING", isTerminated=True)}
    waiting = plan_deletion(diamond_spec(), observed, waited_seconds=119, max_wait_seconds=120)
    assert not waiting.release and waiting.warning is None
    given_up = plan_deletion(diamond_spec(), observed, waited_seconds=120, max_wait_seconds=120)
    assert given_up.release
    assert given_up.warning is not None and "b (id-b)" in given_up.warning
    assert [a.step for a in given_up.stop] == ["b"]  # one last request on the way out


def test_ttl_counts_from_the_finish_time() -> None:
    spec = pipeline(step("a"), ttlSecondsAfterFinished=3600)
    assert ttl_expires_at(spec, T0) == T0 + timedelta(hours=1)
    assert ttl_expires_at(spec, None) is None
    assert ttl_expires_at(pipeline(step("a")), T0) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (119, "119s"),
        (192, "3m12s"),
        (540, "9m"),
        (1500, "25m"),
        (3 * 3600 + 180, "3h3m"),
        (20 * 3600, "20h"),
        (2 * 86400 + 4 * 3600, "2d4h"),
        (30 * 86400, "30d"),
    ],
)
def test_durations_read_like_kubectl(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_terminated_run_is_cancelled_and_stops_its_active_jobs_even_once_batch_says_failed() -> (
    None
):
    spec = walkthrough()
    terminated = T0 + timedelta(seconds=50)
    running = {"job1": job("job1", "RUNNING", started=40)}
    first = aggregate_status(spec, running, terminated, T0, generation=1, terminated_at=terminated)
    assert (first.phase, first.reason) == ("Cancelled", "Terminated")
    assert [action.job_id for action in first.stop] == [running["job1"].job_id]
    assert {s.name: s.status for s in first.steps}["job3"] == "CANCELLED"
    # Batch reports the terminated job FAILED afterwards: still the termination, not a failure.
    stopped = {"job1": job("job1", "FAILED", started=40, stopped=55)}
    later = aggregate_status(
        spec, stopped, T0 + timedelta(seconds=60), T0, generation=1, terminated_at=terminated
    )
    assert later.phase == "Cancelled" and later.settled
    assert later.message == "terminated on request (batchops.io/terminate)"
    assert {c.type: c.status for c in later.conditions}["Failed"] == "False"


def test_run_that_had_succeeded_before_the_terminate_request_keeps_succeeded() -> None:
    spec = walkthrough()
    observed = {
        name: job(name, "SUCCEEDED", started=10 * i, stopped=10 * i + 5)
        for i, name in enumerate(("job1", "job2", "job3"), start=1)
    }
    late = T0 + timedelta(seconds=100)
    assert aggregate_status(spec, observed, late, T0, generation=1, terminated_at=late).phase == (
        "Succeeded"
    )


def test_submission_waves_send_independent_jobs_together_and_a_chain_one_by_one() -> None:
    spec = pipeline(
        step("root"), step("a", "root"), step("b", "root"), step("c", "a"), step("d", "c", "b")
    )
    plan = plan_submissions(spec, RUN, {}, {}, jobdefs(spec), QUEUES)
    waves = [[s.step for s in wave] for wave in submission_waves(plan.submit, set())]
    assert waves == [["root"], ["a", "b"], ["c"], ["d"]]
    # Parents submitted before (ids in status) do not hold a wave back.
    later = plan_submissions(spec, RUN, {"root": "id-root"}, {}, jobdefs(spec), QUEUES)
    assert [[s.step for s in w] for w in submission_waves(later.submit, {"root"})] == [
        ["a", "b"],
        ["c"],
        ["d"],
    ]


def test_only_steps_whose_job_started_carry_usage() -> None:
    # 19 of a 20-step chain's steps wait on their parent; a zero usage on each of them took room
    # in every copy of the object (etcd, each watcher, the operator's own) and said nothing.
    spec = pipeline(step("a"), step("b", "a"), step("c", "b"))
    observed = {
        "a": job("a", "RUNNING", started=0),
        "b": job("b", "PENDING"),
    }
    status = aggregate_status(spec, observed, T0 + timedelta(seconds=60), T0, generation=1, run=RUN)
    usage = {entry.name: entry.usage for entry in status.steps}
    assert usage["b"] is None and usage["c"] is None
    assert usage["a"] is not None and usage["a"]["vcpuSeconds"] == 60
    assert status.usage is not None and status.usage["vcpuSeconds"] == 60
