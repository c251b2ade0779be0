"""The pipeline reconciler's pass decisions, against an in-memory Batch that finishes every job
the moment it is submitted (the fastest Batch there could be)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from batchops.model.observed import ObservedJob
from batchops.reconcile.common import ObjectSnapshot, Timing
from batchops.reconcile.pipeline import PipelineReconciler


class InstantBatch:
    """Jobs are SUCCEEDED as soon as SubmitJob returns; job definitions register once."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.definitions: dict[str, dict[str, Any]] = {}

    def describe_all_job_definitions(self, status: str = "ACTIVE") -> list[Any]:
        return list(self.definitions.values())

    def register_job_definition(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = request["jobDefinitionName"]
        arn = f"arn:aws:batch:us-east-1:123456789012:job-definition/{name}:1"
        self.definitions[name] = {
            "jobDefinitionName": name,
            "jobDefinitionArn": arn,
            "revision": 1,
            "status": "ACTIVE",
            "tags": dict(request.get("tags", {})),
        }
        return {"jobDefinitionArn": arn, "jobDefinitionName": name, "revision": 1}

    def submit_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        job_id = f"id-{len(self.jobs)}"
        now = int(datetime.now(UTC).timestamp() * 1000)
        self.jobs[job_id] = {
            "jobId": job_id,
            "jobName": request["jobName"],
            "jobQueue": request["jobQueue"],
            "status": "SUCCEEDED",
            "createdAt": now,
            "startedAt": now,
            "stoppedAt": now,
            "attempts": [],
        }
        return {"jobId": job_id, "jobName": request["jobName"]}

    def list_jobs_by_name(self, queue: str, name: str) -> list[Any]:
        return [job for job in self.jobs.values() if job["jobName"] == name]

    def describe(self, ids: Sequence[str]) -> list[ObservedJob]:
        return [ObservedJob.from_describe(self.jobs[i]) for i in ids if i in self.jobs]


def chain(length: int) -> ObjectSnapshot:
    steps: list[dict[str, Any]] = [
        {"name": f"s{i}", "command": ["true"], "vcpus": 1, "memory": 128}
        | ({"dependsOn": [f"s{i - 1}"]} if i else {})
        for i in range(length)
    ]
    body = {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": "chain", "namespace": "ns", "uid": "u-2", "generation": 1},
        "spec": {"queue": "q", "image": "busybox", "steps": steps},
    }
    return ObjectSnapshot.of(body)


def fan_in(width: int) -> ObjectSnapshot:
    steps: list[dict[str, Any]] = [
        {"name": "start", "command": ["true"], "vcpus": 1, "memory": 128}
    ]
    steps += [
        {"name": f"m{i}", "command": ["true"], "vcpus": 1, "memory": 128, "dependsOn": ["start"]}
        for i in range(width)
    ]
    steps.append(
        {
            "name": "end",
            "command": ["true"],
            "vcpus": 1,
            "memory": 128,
            "dependsOn": [f"m{i}" for i in range(width)],
        }
    )
    body = {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": "wide", "namespace": "ns", "uid": "u-1", "generation": 1},
        "spec": {"queue": "q", "image": "busybox", "steps": steps},
    }
    return ObjectSnapshot.of(body)


def test_held_fan_in_step_is_submitted_at_once_when_its_parents_finished_within_the_pass() -> None:
    batch = InstantBatch()
    reconciler = PipelineReconciler(lambda region: batch, Timing(), None)  # type: ignore[arg-type,return-value]
    obj = fan_in(25)
    queues = {"q": "arn:aws:batch:us-east-1:123456789012:job-queue/q"}
    outcome = reconciler.reconcile(obj, queues, batch.describe, lambda status: None)
    # Every parent already succeeded, and nothing left in Batch will wake the loop: the next
    # pass must come now, not after a drift-check interval.
    assert len(batch.jobs) == 26
    assert outcome.status["phase"] == "Running"
    assert outcome.active_job_ids == ()
    assert outcome.delay == 0.0
    second = reconciler.reconcile(
        ObjectSnapshot.of({**obj.body, "status": outcome.status}),
        queues,
        batch.describe,
        lambda status: None,
    )
    assert len(batch.jobs) == 27
    assert second.status["phase"] == "Succeeded"


class ApiServerGone(Exception):
    pass


def test_pass_cut_short_after_a_submit_finds_that_job_before_submitting_again() -> None:
    batch = InstantBatch()
    reconciler = PipelineReconciler(lambda region: batch, Timing(), None)  # type: ignore[arg-type,return-value]
    obj = chain(3)
    queues = {"q": "arn:aws:batch:us-east-1:123456789012:job-queue/q"}
    written: list[Mapping[str, Any]] = []

    def write_until_the_api_server_goes(status: Mapping[str, Any]) -> None:
        if len(written) == 2:  # the run's start and the first job id got through
            raise ApiServerGone
        written.append(copy.deepcopy(dict(status)))

    with pytest.raises(ApiServerGone):
        reconciler.reconcile(obj, queues, batch.describe, write_until_the_api_server_goes)
    assert len(batch.jobs) == 2  # s1 was submitted, its id never reached status
    seen = ObjectSnapshot.of({**obj.body, "status": written[-1]})
    reconciler.reconcile(seen, queues, batch.describe, lambda status: None)
    assert sorted(job["jobName"] for job in batch.jobs.values()) == [
        f"chain-s{i}-{written[0]['runId']}" for i in range(3)
    ]
