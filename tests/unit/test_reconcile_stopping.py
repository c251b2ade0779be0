"""The pipeline reconciler stops a run's job at every moment of the job's life, for each way a
run is stopped (deleting the BatchPipeline, the terminate annotation, failFast), against the
Batch emulator (in-process; no Kubernetes).

The reconciler reads jobs through a cache like the operator's shared poller, refreshed only
when the test says so; the emulator holds the job in the state under test. The sixth moment is
the one between a poll and a state change: the cache says RUNNABLE, Batch says STARTING. In
every case the job is FAILED when the pass returns: before the next poll would come.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from mypy_boto3_batch import BatchClient

from batchops.aws.batch import BatchApi
from batchops.local.emulator import Emulator
from batchops.model.common import format_time
from batchops.model.keys import TERMINATE_ANNOTATION
from batchops.model.observed import ObservedJob
from batchops.reconcile.common import ObjectSnapshot, Timing
from batchops.reconcile.pipeline import PipelineReconciler
from tests.emulator.waits import (
    create_ce,
    create_queue,
    default_account,
    describe_jobs,
    ec2_resources,
    wait_job_status,
)

Path = Literal["delete", "terminate", "failFast"]
STALE = "RUNNABLE, then STARTING unseen"
MOMENTS = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", STALE)


@dataclass
class PollerCache:
    """What the operator's shared poller last saw: jobs are described once, then only when
    `poll` is called (the operator's `_describer` answers from such a cache)."""

    api: BatchApi
    seen: dict[str, ObservedJob] = field(default_factory=dict)

    def describe_fresh(self, job_ids: Sequence[str]) -> list[ObservedJob]:
        found = [ObservedJob.from_describe(item) for item in self.api.describe_jobs(job_ids)]
        self.seen.update({job.job_id: job for job in found})
        return found

    def describe_cached(self, job_ids: Sequence[str]) -> list[ObservedJob]:
        missing = [job_id for job_id in job_ids if job_id not in self.seen]
        if missing:
            self.describe_fresh(missing)
        return [self.seen[job_id] for job_id in job_ids if job_id in self.seen]

    def poll(self) -> None:
        self.describe_fresh(list(self.seen))


def pipeline_body(path: Path) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"name": "victim", "command": ["run"]}]
    if path == "failFast":
        steps.append({"name": "bad", "command": ["fail"]})
    return {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {
            "name": f"stop-{path.lower()}",
            "namespace": "ns",
            "uid": f"uid-{path}",
            "generation": 1,
            "creationTimestamp": format_time(datetime.now(UTC)),
        },
        "spec": {
            "queue": "q",
            "image": "busybox",
            "defaults": {"vcpus": 1, "memory": 128},
            "failFast": True,
            "steps": steps,
        },
    }


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("path", ["delete", "terminate", "failFast"])
def test_stopping_a_run_fails_its_job_within_the_pass_whatever_its_state(
    batch: BatchClient, emulator: Emulator, path: Path, moment: str
) -> None:
    queue_arn = create_queue(
        batch, "q", create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    )
    name = pipeline_body(path)["metadata"]["name"]
    victim_name = f"{name}-victim-*"
    rules: list[dict[str, Any]] = [{"jobName": f"{name}-bad-*", "exitCode": 1}]
    if moment == "RUNNING":
        rules.append({"jobName": victim_name, "durationSeconds": 3600})
    emulator.set_scenario(rules=rules)
    held = "RUNNABLE" if moment == STALE else moment
    if held != "RUNNING":
        emulator.set_holds([{"jobName": victim_name, "status": held}])

    api = BatchApi(batch)
    cache = PollerCache(api)
    reconciler = PipelineReconciler(lambda region: api, Timing(), None)
    body = pipeline_body(path)

    def reconcile() -> dict[str, Any]:
        outcome = reconciler.reconcile(
            ObjectSnapshot.of(body), {"q": queue_arn}, cache.describe_cached, lambda s: None
        )
        status: dict[str, Any] = copy.deepcopy(dict(outcome.status))
        body["status"] = status
        return status

    status = reconcile()  # starts the run and submits its jobs
    ids = {entry["name"]: entry["jobId"] for entry in status["steps"]}
    wait_job_status(batch, ids["victim"], held)
    if path == "failFast":
        wait_job_status(batch, ids["bad"], "FAILED")
    cache.poll()  # the operator has seen the job in the state under test
    assert cache.seen[ids["victim"]].status == held
    if moment == STALE:
        emulator.set_holds([{"jobName": victim_name, "status": "STARTING"}])
        wait_job_status(batch, ids["victim"], "STARTING")  # unseen by the cache

    if path == "delete":
        body["metadata"]["deletionTimestamp"] = format_time(datetime.now(UTC))
        finalized = reconciler.finalize(
            ObjectSnapshot.of(body), cache.describe_cached, cache.describe_fresh
        )
        assert finalized.done, finalized.status
    else:
        if path == "terminate":
            body["metadata"]["annotations"] = {TERMINATE_ANNOTATION: "stop"}
        phase = reconcile()["phase"]
        assert phase == ("Cancelled" if path == "terminate" else "Failed")

    victim = describe_jobs(batch, ids["victim"])[0]
    assert victim["status"] == "FAILED", victim
    assert victim["statusReason"].startswith("batchops:")
