"""The pipeline reconciler's pass decisions, against an in-memory Batch that finishes every job
the moment it is submitted (the fastest Batch there could be)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from batchops.aws.errors import Retryable
from batchops.model.observed import ObservedJob
from batchops.plans import compaction, run_submission
from batchops.reconcile.common import ObjectSnapshot, Timing
from batchops.reconcile.pipeline import PipelineReconciler
from tests.unit.fake_batch import SubmitsOneByOne, pipeline_object


class InstantBatch(SubmitsOneByOne):
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

    def deregister_job_definition(self, arn: str) -> None:
        for definition in self.definitions.values():
            if definition["jobDefinitionArn"] == arn:
                definition["status"] = "INACTIVE"

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
    return pipeline_object("chain", "u-2", {"queue": "q", "image": "busybox", "steps": steps})


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
    return pipeline_object("wide", "u-1", {"queue": "q", "image": "busybox", "steps": steps})


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


class LaggingListing(InstantBatch):
    """Like InstantBatch, but ListJobs lists a job only `lag` after it was submitted, by the
    test's clock (Batch promises ListJobs no read-after-write consistency)."""

    def __init__(self, clock: list[datetime], lag: timedelta) -> None:
        super().__init__()
        self.clock, self.lag = clock, lag
        self.submitted_at: dict[str, datetime] = {}
        self.listings = 0

    def submit_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        response = super().submit_job(request)
        self.submitted_at[response["jobId"]] = self.clock[0]
        return response

    def list_jobs_by_name(self, queue: str, name: str) -> list[Any]:
        self.listings += 1
        listed = self.clock[0] - self.lag
        return [
            job
            for job in super().list_jobs_by_name(queue, name)
            if self.submitted_at[job["jobId"]] <= listed
        ]


def reconciler_at(batch: InstantBatch, clock: list[datetime]) -> PipelineReconciler:
    """A fresh reconciler (a new operator process) reading the time from `clock[0]`."""
    return PipelineReconciler(lambda region: batch, Timing(), None, now=lambda: clock[0])  # type: ignore[arg-type,return-value]


QUEUES = {"q": "arn:aws:batch:us-east-1:123456789012:job-queue/q"}


def test_a_ten_step_chain_is_submitted_between_two_status_writes() -> None:
    batch = InstantBatch()
    written: list[Mapping[str, Any]] = []
    outcome = reconciler_at(batch, [datetime.now(UTC)]).reconcile(
        chain(10), QUEUES, batch.describe, lambda status: written.append(copy.deepcopy(status))
    )
    assert len(batch.jobs) == 10
    # The run's start announces the batch; the pass's own status (the loop writes it) holds
    # all ten ids and says no batch is under way any more.
    assert [w.get("submittingSince") is not None for w in written] == [True]
    assert sum(1 for step in outcome.status["steps"] if step.get("jobId")) == 10
    assert outcome.status["submittingSince"] is None


def test_more_than_a_batch_of_submissions_writes_each_batchs_ids_before_the_next() -> None:
    batch = InstantBatch()
    written: list[Mapping[str, Any]] = []
    width = run_submission.SUBMISSIONS_PER_WRITE + 10
    reconciler_at(batch, [datetime.now(UTC)]).reconcile(
        fan_in(width), QUEUES, batch.describe, lambda status: written.append(copy.deepcopy(status))
    )
    ids = [sum(1 for step in w["steps"] if step.get("jobId")) for w in written]
    assert ids == [0, run_submission.SUBMISSIONS_PER_WRITE]
    assert all(w["submittingSince"] for w in written)
    assert len(batch.jobs) == width + 1  # the fan-in step waits for its parents


class CountedBatch(InstantBatch):
    """InstantBatch that says when `expected` jobs were submitted."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.expected = expected
        self.all_submitted = threading.Event()

    def submit_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        response = super().submit_job(request)
        if len(self.jobs) >= self.expected:
            self.all_submitted.set()
        return response


def test_submission_goes_on_while_a_slow_status_write_is_in_flight() -> None:
    # A big BatchPipeline's status write takes the API server seconds: SubmitJob must not
    # wait for it, and a boundary reached meanwhile is not written at all.
    width = 3 * run_submission.SUBMISSIONS_PER_WRITE - 1  # with `start`: three batches
    batch = CountedBatch(expected=width + 1)
    written: list[Mapping[str, Any]] = []
    in_flight: list[int] = []
    submitted_meanwhile: list[int] = []

    def slow_write(status: Mapping[str, Any]) -> None:
        in_flight.append(1)
        assert len(in_flight) == 1, "two status writes at once"
        if written:  # the first mid-pass write, after the run's start
            batch.all_submitted.wait(timeout=10)
            submitted_meanwhile.append(len(batch.jobs))
        written.append(copy.deepcopy(status))
        in_flight.pop()

    outcome = reconciler_at(batch, [datetime.now(UTC)]).reconcile(
        fan_in(width), QUEUES, batch.describe, slow_write
    )
    assert submitted_meanwhile == [width + 1]
    ids = [sum(1 for step in w["steps"] if step.get("jobId")) for w in written]
    assert ids == [0, run_submission.SUBMISSIONS_PER_WRITE]  # the third boundary was skipped
    assert sum(1 for step in outcome.status["steps"] if step.get("jobId")) == width + 1


def test_a_run_cut_short_mid_batch_waits_for_listjobs_and_submits_nothing_twice() -> None:
    clock = [datetime(2026, 12, 6, 12, 0, tzinfo=UTC)]
    batch = LaggingListing(clock, lag=timedelta(seconds=5))
    obj = chain(3)
    written: list[Mapping[str, Any]] = []
    # The process dies after the SubmitJobs, before the loop writes the pass's status: what
    # the API server keeps is the run's start, which announced the batch.
    reconciler_at(batch, clock).reconcile(
        obj, QUEUES, batch.describe, lambda status: written.append(copy.deepcopy(status))
    )
    assert len(batch.jobs) == 3 and written[-1]["submittingSince"] is not None
    seen = ObjectSnapshot.of({**obj.body, "status": written[-1]})
    restarted = reconciler_at(batch, clock)
    clock[0] += timedelta(seconds=1)  # ListJobs would not list the jobs yet
    waiting = restarted.reconcile(seen, QUEUES, batch.describe, lambda status: None)
    assert (len(batch.jobs), batch.listings) == (3, 0)
    assert 0 < waiting.delay <= run_submission.LISTING_DELAY.total_seconds()
    clock[0] += run_submission.LISTING_DELAY
    done = restarted.reconcile(seen, QUEUES, batch.describe, lambda status: None)
    assert sorted(job["jobName"] for job in batch.jobs.values()) == [
        f"chain-s{i}-{written[0]['runId']}" for i in range(3)
    ]
    assert done.status["phase"] == "Succeeded"
    assert done.status["submittingSince"] is None


def test_a_status_write_that_never_landed_is_looked_for_not_submitted_again() -> None:
    # Same process: the pass submitted the batch, then the API server refused the loop's
    # write of its ids. The next pass is given the run's start (the batch announced) again.
    clock = [datetime(2026, 12, 6, 12, 0, tzinfo=UTC)]
    batch = LaggingListing(clock, lag=timedelta(seconds=5))
    obj = chain(3)
    written: list[Mapping[str, Any]] = []
    reconciler = reconciler_at(batch, clock)
    reconciler.reconcile(
        obj, QUEUES, batch.describe, lambda status: written.append(copy.deepcopy(status))
    )
    stale = ObjectSnapshot.of({**obj.body, "status": written[-1]})
    clock[0] += timedelta(seconds=1)
    reconciler.reconcile(stale, QUEUES, batch.describe, lambda status: None)
    assert len(batch.jobs) == 3
    clock[0] += run_submission.LISTING_DELAY
    done = reconciler.reconcile(stale, QUEUES, batch.describe, lambda status: None)
    assert len(batch.jobs) == 3 and done.status["phase"] == "Succeeded"


class FailingSubmission(LaggingListing):
    """SubmitJob creates the second job, then answers with a 5xx."""

    def submit_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        response = super().submit_job(request)
        if len(self.jobs) == 2 and not getattr(self, "failed", False):
            self.failed = True
            raise Retryable("SubmitJob", "ServerException", "try again", 500)
        return response


def test_a_submitjob_that_failed_after_creating_its_job_is_looked_for_not_repeated() -> None:
    clock = [datetime(2026, 12, 6, 12, 0, tzinfo=UTC)]
    batch = FailingSubmission(clock, lag=timedelta(seconds=5))
    obj = chain(3)
    reconciler = reconciler_at(batch, clock)
    first = reconciler.reconcile(obj, QUEUES, batch.describe, lambda status: None)
    assert len(batch.jobs) == 2 and first.status["submittingSince"]
    clock[0] += timedelta(seconds=1)
    again = ObjectSnapshot.of({**obj.body, "status": first.status})
    reconciler.reconcile(again, QUEUES, batch.describe, lambda status: None)
    assert len(batch.jobs) == 2  # ListJobs would not show s1 yet: wait, don't submit
    clock[0] += run_submission.LISTING_DELAY
    done = reconciler.reconcile(again, QUEUES, batch.describe, lambda status: None)
    names = sorted(job["jobName"] for job in batch.jobs.values())
    assert names == [f"chain-s{i}-{first.status['runId']}" for i in range(3)]
    assert done.status["phase"] == "Succeeded"


class HostLossBatch(InstantBatch):
    """Like InstantBatch, but the first job of step s1 loses its host the moment it runs."""

    def submit_job(self, request: Mapping[str, Any]) -> dict[str, Any]:
        response = super().submit_job(request)
        job = self.jobs[response["jobId"]]
        if "-s1-" in job["jobName"] and not job["jobName"].endswith("-r1"):
            reason = "Host EC2 (instance i-0123456789abcdef0) terminated."
            job.update(status="FAILED", statusReason=reason)
            job["attempts"] = [
                {
                    "startedAt": job["startedAt"],
                    "stoppedAt": job["stoppedAt"],
                    "statusReason": reason,
                    "container": {},
                }
            ]
        return response


def test_a_host_loss_seen_only_after_submitting_is_resubmitted_not_a_failed_run() -> None:
    # The whole chain is submitted in one pass (Batch holds s1 and s2 on their parents); the
    # emulator can end s1 before the pass looks again. That look must see a host loss, not a
    # failed step that ends the run.
    batch = HostLossBatch()
    reconciler = PipelineReconciler(lambda region: batch, Timing(), None)  # type: ignore[arg-type,return-value]
    body = copy.deepcopy(chain(3).body)
    body["spec"]["steps"][1]["retry"] = {"attempts": 2, "onInterruption": {"resubmits": 3}}
    obj = ObjectSnapshot.of(body)
    queues = {"q": "arn:aws:batch:us-east-1:123456789012:job-queue/q"}
    first = reconciler.reconcile(obj, queues, batch.describe, lambda status: None)
    assert first.status["phase"] == "Running"
    steps = {entry["name"]: entry for entry in first.status["steps"]}
    assert steps["s1"]["jobName"].endswith("-r1")
    second = reconciler.reconcile(
        ObjectSnapshot.of({**body, "status": first.status}), queues, batch.describe, lambda s: None
    )
    third = reconciler.reconcile(
        ObjectSnapshot.of({**body, "status": second.status}), queues, batch.describe, lambda s: None
    )
    assert third.status["phase"] == "Succeeded"


def layers_of_gated_steps(parents: int, children: int) -> ObjectSnapshot:
    """`children` steps that each wait on all `parents` (more than Batch's 20 dependencies, so
    the operator holds them and submits them together once the parents succeeded)."""
    first = [f"p{i}" for i in range(parents)]
    steps: list[dict[str, Any]] = [{"name": name} for name in first]
    steps += [{"name": f"c{i:04d}", "dependsOn": first} for i in range(children)]
    defaults = {"command": ["true"], "vcpus": 1, "memory": 128}
    spec = {"queue": "q", "image": "busybox", "defaults": defaults, "steps": steps}
    return pipeline_object("layers", "u-3", spec)


def test_job_ids_written_behind_the_submissions_keep_step_entries_within_the_budget() -> None:
    # The second pass starts with 2,500 full WAITING entries just under the budget; each job id
    # and definition recorded grows its entry by about 100 bytes. The writes between batches
    # must stay within the budget as the pass's own write does, or a 5,000-step run's status
    # outgrows etcd's 1.5 MiB mid-submission.
    batch = InstantBatch()
    obj = layers_of_gated_steps(21, 2500)
    reconciler = reconciler_at(batch, [datetime.now(UTC)])
    first = reconciler.reconcile(obj, QUEUES, batch.describe, lambda status: None)
    assert len(batch.jobs) == 21
    entries = first.status["steps"]
    assert not any(entry.get("compacted") for entry in entries if entry["status"] == "WAITING")
    assert compaction.entry_bytes(entries) > compaction.STEPS_BUDGET_BYTES - 2500 * 100

    written: list[Mapping[str, Any]] = []
    second = reconciler.reconcile(
        ObjectSnapshot.of({**obj.body, "status": first.status}),
        QUEUES,
        batch.describe,
        lambda status: written.append(copy.deepcopy(status)),
    )
    assert len(batch.jobs) == 2521
    assert len(written) >= 2  # ids written behind, between batches
    largest_entry = max(compaction.entry_bytes(entry) for w in written for entry in w["steps"])
    for status in [*written, second.status]:
        steps = status["steps"]
        assert compaction.entry_bytes(steps) <= compaction.STEPS_BUDGET_BYTES + largest_entry
        compacted = [entry for entry in steps if entry.get("compacted")]
        assert (status["compacted"] or {}).get("steps", 0) == len(compacted)
    behind = written[-1]["steps"]
    submitted = [entry for entry in behind if entry.get("jobId")]
    assert any(entry.get("compacted") for entry in submitted)
    assert {entry["status"] for entry in submitted} == {"SUBMITTED", "SUCCEEDED"}
    assert written[-1]["compacted"]["jobDefinitions"]
