"""Runs that heal: interrupted steps and manual retries resubmit a set of steps and their
dependents, keep the jobs that succeeded, name every new job deterministically, and keep the
attempt history of the jobs they set aside."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from batchops.model.observed import ObservedJob, RunRecord
from batchops.model.pipeline import PipelineSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.history import MAX_HISTORY, step_history
from batchops.plans.jobdefs import DefinitionScope, job_definition_request
from batchops.plans.resubmission import (
    plan_interruption_resubmission,
    plan_retry_failed,
    resubmitted_steps,
)
from batchops.plans.run_status import aggregate_status
from batchops.plans.run_submission import plan_submissions, recovery_lookup
from batchops.plans.runs import RunRef

HOST_LOSS = "Host EC2 (instance i-0abc) terminated."
RUN = RunRef("ns", "etl", "abc123")
NOW = datetime(2026, 12, 6, tzinfo=UTC)


def chain(**retry: Any) -> PipelineSpec:
    middle: dict[str, Any] = {"name": "b", "dependsOn": ["a"]}
    if retry:
        middle["retry"] = retry
    return parse_pipeline_spec(
        {
            "queue": "spot",
            "image": "busybox",
            "defaults": {"vcpus": 1, "memory": 512},
            "steps": [{"name": "a"}, middle, {"name": "c", "dependsOn": ["b"]}],
        }
    )


def job(job_id: str, status: str, *attempts: Mapping[str, Any]) -> ObservedJob:
    return ObservedJob.from_describe(
        {
            "jobId": job_id,
            "jobName": job_id,
            "status": status,
            "createdAt": 1000,
            "attempts": list(attempts),
            "statusReason": attempts[-1].get("statusReason") if attempts else None,
        }
    )


def attempt(reason: str | None = None, exit_code: int | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"logStreamName": "s/1", "taskArn": "arn:task"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    return {"startedAt": 2000, "stoppedAt": 3000, "statusReason": reason, "container": container}


def reclaimed_middle() -> dict[str, ObservedJob]:
    return {
        "a": job("ja", "SUCCEEDED", attempt(exit_code=0)),
        "b": job("jb", "FAILED", attempt(HOST_LOSS)),
        "c": job("jc", "FAILED"),  # Batch fails the dependents of a failed job
    }


def test_an_interrupted_step_and_its_dependents_are_resubmitted_on_the_fallback_queue() -> None:
    spec = chain(onInterruption={"resubmits": 2, "queue": "ondemand"})
    plan = plan_interruption_resubmission(spec, reclaimed_middle(), RunRecord())
    assert plan is not None
    assert plan.steps == ("b", "c")
    assert plan.interrupted == ("b",)
    assert dict(plan.queues) == {"b": "ondemand"}


def test_an_interruption_without_resubmissions_left_is_the_step_failure_and_says_so() -> None:
    spec = chain(onInterruption={"resubmits": 1})
    status = {"runId": "abc123", "steps": [{"name": "b", "jobId": "jb", "interruptions": 1}]}
    record = RunRecord.from_status(status)
    observed = reclaimed_middle()
    assert plan_interruption_resubmission(spec, observed, record) is None
    assessment = aggregate_status(spec, observed, NOW, NOW, generation=1, run=RUN, record=record)
    assert assessment.phase == "Failed"
    assert "host lost 2 time(s), no resubmission left" in assessment.message


def test_a_plain_failure_is_not_an_interruption() -> None:
    spec = chain(onInterruption={"resubmits": 2})
    observed = {**reclaimed_middle(), "b": job("jb", "FAILED", attempt("Essential container", 1))}
    assert plan_interruption_resubmission(spec, observed, RunRecord()) is None


def test_resubmitted_steps_get_the_next_name_and_keep_the_old_attempts() -> None:
    spec = chain(onInterruption={"resubmits": 2, "queue": "ondemand"})
    observed = reclaimed_middle()
    plan = plan_interruption_resubmission(spec, observed, RunRecord())
    assert plan is not None
    entries: list[Any] = [{"name": n, "jobId": f"j{n}", "queue": "spot"} for n in "abc"]
    record = RunRecord.from_status({"runId": "abc123", "steps": entries})
    steps = {e["name"]: e for e in resubmitted_steps(entries, plan, record, observed, RUN)}
    assert steps["a"] == entries[0]  # the succeeded step keeps its job
    assert "jobId" not in steps["b"]
    assert steps["b"]["jobName"] == RUN.job_name("b", 1) == "etl-b-abc123-r1"
    assert (steps["b"]["queue"], steps["b"]["resubmission"], steps["b"]["interruptions"]) == (
        "ondemand",
        1,
        1,
    )
    assert steps["b"]["history"][0]["interrupted"] is True
    assert steps["b"]["history"][0]["queue"] == "spot"
    assert "interruptions" not in steps["c"]

    # The next submission and a crash recovery use the resubmission's name and queue.
    after = RunRecord.from_status({"runId": "abc123", "steps": list(steps.values())})
    plan_now = plan_submissions(
        spec,
        RUN,
        {"a": "ja"},
        {"a": "SUCCEEDED"},
        {"b": "def:1", "c": "def:1"},
        {"spot": "arn:spot", "ondemand": "arn:ondemand"},
        after,
    )
    submitted = {s.step: s for s in plan_now.submit}
    assert submitted["b"].job_name == "etl-b-abc123-r1"
    assert submitted["b"].job_queue == "arn:ondemand"
    lookups = recovery_lookup(spec, RUN, {"a": "ja"}, after)
    assert {(lk.step, lk.job_name, lk.queue) for lk in lookups if lk.step == "b"} == {
        ("b", "etl-b-abc123-r1", "ondemand"),
        ("b", "etl-b-abc123-r1", "spot"),
    }


def test_retry_failed_resubmits_failed_steps_once_per_token() -> None:
    spec = chain()
    observed = {
        "a": job("ja", "SUCCEEDED", attempt(exit_code=0)),
        "b": job("jb", "FAILED", attempt("Essential container", 1)),
        "c": job("jc", "FAILED"),
    }
    plan = plan_retry_failed(spec, observed, RunRecord(), "t1")
    assert plan is not None and plan.steps == ("b", "c") and plan.token == "t1"
    acted = RunRecord.from_status({"retryToken": "t1"})
    assert plan_retry_failed(spec, observed, acted, "t1") is None
    assert plan_retry_failed(spec, observed, RunRecord(), None) is None


def test_history_is_capped_and_counts_what_it_dropped() -> None:
    old = [{"jobId": f"old{i}", "attempt": 1} for i in range(MAX_HISTORY)]
    record = RunRecord.from_status({"steps": [{"name": "b", "history": old}]}).step("b")
    current = job("jb", "FAILED", attempt("x", 1), attempt("y", 1))
    history = step_history(record, current, "spot")
    assert len(history.entries) == MAX_HISTORY
    assert history.dropped == 2
    assert [a.job_id for a in history.entries[-2:]] == ["jb", "jb"]


def test_on_interruption_makes_batch_exit_at_once_on_a_host_loss() -> None:
    spec = chain(attempts=3, onInterruption={"resubmits": 1})
    strategy = job_definition_request(DefinitionScope("ns"), spec.step("b"))["retryStrategy"]
    assert strategy["evaluateOnExit"][0] == {"action": "EXIT", "onStatusReason": "Host EC2*"}
    assert strategy["attempts"] == 3
