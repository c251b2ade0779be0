"""Big runs: past the budget, step entries are cut to name, status and job id (succeeded steps
first), the run's usage stays whole, and the next pass reads the compacted status back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from batchops.model.observed import (
    JobStatus,
    ObservedJob,
    RunRecord,
    StepStatus,
    job_definitions_in_status,
)
from batchops.plans.compaction import STEPS_BUDGET_BYTES, compact_steps
from batchops.plans.run_status import aggregate_status
from batchops.plans.runs import new_run_status

from .test_plans_runs import RUN, T0, at, job, pipeline, step

FAN_OUT = pipeline(step("start"), *(step(f"leaf{i:04d}", "start") for i in range(999)))


def finished_fan_out(failed: str | None = None) -> dict[str, ObservedJob]:
    """Every step of FAN_OUT ran 10 s and succeeded (`failed` failed), leaves in name order."""
    jobs: dict[str, ObservedJob] = {}
    for index, spec in enumerate(FAN_OUT.steps):
        status: JobStatus = "FAILED" if spec.name == failed else "SUCCEEDED"
        attempt = {
            "startedAt": at(index),
            "stoppedAt": at(index + 10),
            "statusReason": "Essential container in task exited",
            "container": {"exitCode": 1 if status == "FAILED" else 0, "logStreamName": "d/s/x"},
        }
        jobs[spec.name] = job(
            spec.name, status, started=index, stopped=index + 10, attempts=[attempt]
        )
    return jobs


def assess(observed: Mapping[str, ObservedJob], record: RunRecord) -> dict[str, Any]:
    """The status fields of one pass, as JSON would carry them to the API server."""
    assessment = aggregate_status(FAN_OUT, observed, T0, T0, generation=1, run=RUN, record=record)
    fields: dict[str, Any] = json.loads(json.dumps(assessment.status_fields()))
    return fields


def steps_size(status: Mapping[str, Any]) -> int:
    return len(json.dumps(status["steps"], separators=(",", ":")))


def test_a_small_run_keeps_every_entry_whole() -> None:
    spec = pipeline(step("start"), step("b", "start"))
    observed = {"start": finished_fan_out()["start"]}
    status = aggregate_status(spec, observed, T0, T0, generation=1, run=RUN).status_fields()
    assert status["compacted"] is None
    assert "compacted" not in status["steps"][0] and "history" in status["steps"][0]


def test_a_thousand_finished_steps_fit_the_budget_with_the_oldest_compacted() -> None:
    status = assess(finished_fan_out(), RunRecord())
    entries = status["steps"]
    assert len(entries) == 1000
    assert steps_size(status) <= STEPS_BUDGET_BYTES
    compacted = [entry for entry in entries if entry.get("compacted")]
    assert status["compacted"]["steps"] == len(compacted) > 100
    # The first to stop go first; the last ones keep their history for a person to read.
    assert entries[0]["compacted"] and "history" in entries[-1]
    assert set(compacted[0]) == {"name", "status", "jobId", "compacted"}
    assert compacted[0] == {
        "name": "start",
        "status": "SUCCEEDED",
        "jobId": "id-start",
        "compacted": True,
    }


def test_the_run_usage_counts_compacted_steps_once_across_passes() -> None:
    # 1,000 steps of 10 s at 1 vCPU: 10,000 vCPU-seconds whatever is compacted.
    first = assess(finished_fan_out(), RunRecord())
    assert first["usage"]["vcpuSeconds"] == 10_000
    record = RunRecord.from_status(first)
    assert record.step("start").compacted and not record.step("leaf0998").compacted
    # Batch forgot the jobs: the next pass has only what status kept.
    second = assess(record.jobs, record)
    assert second["usage"]["vcpuSeconds"] == 10_000
    assert second["compacted"] == first["compacted"]
    assert [e.get("compacted") for e in second["steps"]] == [
        e.get("compacted") for e in first["steps"]
    ]
    assert second["compacted"]["usage"]["vcpuSeconds"] == sum(
        10 for entry in first["steps"] if entry.get("compacted")
    )


def test_a_failed_step_keeps_its_full_entry_however_big_the_run() -> None:
    status = assess(finished_fan_out(failed="leaf0000"), RunRecord())
    failed = next(entry for entry in status["steps"] if entry["name"] == "leaf0000")
    assert failed["status"] == "FAILED" and not failed.get("compacted")
    assert failed["history"][0]["exitCode"] == 1 and failed["exitCode"] == 1


def test_compacted_jobs_in_flight_keep_their_definition_from_retirement() -> None:
    # Batch explains why they wait (a blocked queue): 1,000 such entries pass the budget.
    reason = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - " + "no Spot capacity in us-east-1a " * 6
    running = {
        spec.name: job(spec.name, "RUNNABLE", created=index, statusReason=reason)
        for index, spec in enumerate(FAN_OUT.steps)
    }
    status = assess(running, RunRecord())
    assert status["compacted"]["steps"] > 0
    assert status["compacted"]["usage"]["vcpuSeconds"] == 0
    definitions = set(job_definitions_in_status(status))
    assert {job.job_definition for job in running.values()} <= definitions


def test_waiting_steps_of_a_new_big_run_are_compacted_without_job_ids() -> None:
    waiting = [StepStatus(f"s{i}", "WAITING", "q", status_reason="x" * 200) for i in range(100)]
    result = compact_steps(waiting, RunRecord(), budget=8 * 1024)
    assert next(s.to_status() for s in result.steps if s.compacted) == {
        "name": "s0",
        "status": "WAITING",
        "compacted": True,
    }
    compacted = result.to_status()
    assert compacted is not None and compacted["usage"]["vcpuSeconds"] == 0
    assert compacted["steps"] == sum(1 for s in result.steps if s.compacted) < 100
    assert "jobDefinitions" not in compacted
    small = new_run_status(
        FAN_OUT, RUN, spec_hash="h", rerun_token=None, started_at=T0, generation=1
    )
    assert small["compacted"] is None  # 1,000 waiting entries fit
