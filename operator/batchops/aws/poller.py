"""The shared job poller: one DescribeJobs sweep for the active jobs of every pipeline.

Owners (pipelines) `track` the job ids they wait on. `JobPoller.poll_once` describes every
tracked id in calls of 100 and reports only the owners whose jobs changed, so only those write a
status patch. A job that reached SUCCEEDED or FAILED is reported once and then forgotten (never
described again, and ignored if its owner tracks it again). Jobs Batch does not return (not
visible yet right after SubmitJob, or past its retention) stay tracked until their owner
untracks them.

`TrackedJobs` is the bookkeeping alone, without I/O; `EventQueueConsumer` feeds it "Batch Job
State Change" events from SQS (EventBridge → SQS), whose detail has the DescribeJobs shape, so
events and polls produce the same change reports.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from batchops.aws.calls import CALLS, CallCounter, invoke

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import JobDetailTypeDef
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef

K = TypeVar("K", bound=Hashable)
"""Who waits on a job, e.g. a BatchPipeline's (namespace, name)."""

FINISHED_STATUSES = frozenset({"SUCCEEDED", "FAILED"})

JOB_STATE_CHANGE = "Batch Job State Change"
"""EventBridge's detail-type for Batch job transitions."""

Fingerprint = tuple[object, ...]


def fingerprint(job: JobDetailTypeDef) -> Fingerprint:
    """What a status patch shows of a job: a change here is worth a write."""
    summary = job.get("arrayProperties", {}).get("statusSummary", {})
    return (
        job["status"],
        job.get("statusReason"),
        len(job.get("attempts", [])),
        job.get("startedAt"),
        job.get("stoppedAt"),
        tuple(sorted(summary.items())),
    )


class TrackedJobs(Generic[K]):
    """Which owner waits on which job, and what was last reported; thread-safe, no I/O."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[K, set[str]] = {}
        self._finished: dict[K, set[str]] = {}
        self._owners: dict[str, set[K]] = {}
        self._reported: dict[str, Fingerprint] = {}

    def track(self, job_ids: Iterable[str], owner: K) -> None:
        """Add job ids to what `owner` waits on (ids it saw finish stay ignored)."""
        with self._lock:
            finished = self._finished.get(owner, set())
            for job_id in job_ids:
                if job_id not in finished:
                    self._active.setdefault(owner, set()).add(job_id)
                    self._owners.setdefault(job_id, set()).add(owner)

    def untrack(self, owner: K) -> None:
        """Forget `owner` and every job only it waited on."""
        with self._lock:
            self._finished.pop(owner, None)
            for job_id in self._active.pop(owner, set()):
                self._drop_owner(job_id, owner)

    def active_ids(self) -> list[str]:
        """Every job id some owner still waits on, sorted (stable DescribeJobs chunks)."""
        with self._lock:
            return sorted(self._owners)

    def owners(self) -> list[K]:
        """Every owner with a job still active."""
        with self._lock:
            return list(self._active)

    def record(self, jobs: Iterable[JobDetailTypeDef]) -> dict[K, list[JobDetailTypeDef]]:
        """Take fresh descriptions; return, per owner, the jobs that changed since last
        reported. Untracked and already-finished jobs are ignored."""
        changes: dict[K, list[JobDetailTypeDef]] = {}
        with self._lock:
            for job in jobs:
                job_id = job["jobId"]
                owners = self._owners.get(job_id)
                if not owners:
                    continue
                seen = fingerprint(job)
                if self._reported.get(job_id) == seen:
                    continue
                self._reported[job_id] = seen
                for owner in owners:
                    changes.setdefault(owner, []).append(job)
                if job["status"] in FINISHED_STATUSES:
                    for owner in list(owners):
                        self._finished.setdefault(owner, set()).add(job_id)
                        self._active[owner].discard(job_id)
                        self._drop_owner(job_id, owner)
        return changes

    def _drop_owner(self, job_id: str, owner: K) -> None:
        owners = self._owners.get(job_id, set())
        owners.discard(owner)
        if not owners:
            self._owners.pop(job_id, None)
            self._reported.pop(job_id, None)
        if owner in self._active and not self._active[owner]:
            del self._active[owner]


class JobPoller(Generic[K]):
    """`TrackedJobs` plus the DescribeJobs call (normally `BatchApi.describe_jobs`, which
    chunks by 100)."""

    def __init__(self, describe: Callable[[Sequence[str]], list[JobDetailTypeDef]]) -> None:
        self._describe = describe
        self.jobs: TrackedJobs[K] = TrackedJobs()

    def track(self, job_ids: Iterable[str], owner: K) -> None:
        """Add job ids to what `owner` waits on."""
        self.jobs.track(job_ids, owner)

    def untrack(self, owner: K) -> None:
        """Stop polling for `owner` (its run settled, or the object is gone)."""
        self.jobs.untrack(owner)

    def poll_once(self) -> dict[K, list[JobDetailTypeDef]]:
        """Describe every tracked job; return only owners whose jobs changed, with those jobs.
        AWS errors propagate (as `AwsError`), leaving the bookkeeping as it was."""
        ids = self.jobs.active_ids()
        return self.jobs.record(self._describe(ids)) if ids else {}


class EventQueueConsumer(Generic[K]):
    """Reads "Batch Job State Change" events from SQS into the same bookkeeping as the poller."""

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        jobs: TrackedJobs[K],
        counter: CallCounter = CALLS,
    ) -> None:
        self._client = client
        self._queue_url = queue_url
        self._jobs = jobs
        self._counter = counter

    def receive_once(self, wait_seconds: int = 20) -> dict[K, list[JobDetailTypeDef]]:
        """One long poll (up to 10 messages): record the job states, delete the messages,
        return the owners whose jobs changed."""
        response = invoke(
            "ReceiveMessage",
            lambda: self._client.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            ),
            self._counter,
        )
        messages = response.get("Messages", [])
        if not messages:
            return {}
        changes = self._jobs.record(
            job for job in (job_of_event(m.get("Body", "")) for m in messages) if job is not None
        )
        # Unparseable and foreign messages are deleted too: they would never parse later.
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if "ReceiptHandle" in m
        ]
        if entries:
            invoke(
                "DeleteMessageBatch",
                lambda: self._client.delete_message_batch(
                    QueueUrl=self._queue_url, Entries=entries
                ),
                self._counter,
            )
        return changes


def job_of_event(body: str) -> JobDetailTypeDef | None:
    """The job in an SQS message body holding a "Batch Job State Change" event (directly from
    EventBridge, or wrapped by SNS), or None for anything else."""
    try:
        event = json.loads(body)
        if isinstance(event, dict) and event.get("Type") == "Notification":
            event = json.loads(event.get("Message", ""))
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(event, dict) or event.get("detail-type") != JOB_STATE_CHANGE:
        return None
    detail = event.get("detail")
    if not (
        isinstance(detail, dict)
        and isinstance(detail.get("jobId"), str)
        and isinstance(detail.get("status"), str)
    ):
        return None
    # EventBridge documents the detail as the DescribeJobs job structure.
    return cast("JobDetailTypeDef", detail)
