"""Typed wrappers for exactly the AWS Batch calls the operator makes.

Every method translates botocore errors into `Retryable` / `Terminal` and counts the call per
operation and outcome. Describe calls return None / [] for missing resources (Batch answers
an unknown name with an empty list, not an error).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from batchops.aws.errors import Retryable, translate
from batchops.aws.ratelimit import SUBMIT_JOB_RATE, TokenBucket

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentDetailTypeDef,
        CreateComputeEnvironmentRequestTypeDef,
        CreateJobQueueRequestTypeDef,
        JobDefinitionTypeDef,
        JobDetailTypeDef,
        JobQueueDetailTypeDef,
        JobSummaryTypeDef,
        RegisterJobDefinitionRequestTypeDef,
        RegisterJobDefinitionResponseTypeDef,
        SubmitJobRequestTypeDef,
        SubmitJobResponseTypeDef,
        UpdateComputeEnvironmentRequestTypeDef,
        UpdateJobQueueRequestTypeDef,
    )

T = TypeVar("T")

DESCRIBE_JOBS_MAX_IDS = 100
"""DescribeJobs accepts at most 100 job ids per call."""

_ALL_JOB_STATUSES = (
    "SUBMITTED",
    "PENDING",
    "RUNNABLE",
    "STARTING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
)


class CallCounter:
    """AWS calls per (operation, outcome): success, throttled, error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, operation: str, outcome: str) -> None:
        """Count one call."""
        with self._lock:
            self._counts[(operation, outcome)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        """A copy of the counts."""
        with self._lock:
            return dict(self._counts)


COUNTER = CallCounter()
_submit_bucket = TokenBucket(SUBMIT_JOB_RATE, burst=SUBMIT_JOB_RATE)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BatchApi:
    """One region's Batch client with error translation, counting and the SubmitJob limit."""

    def __init__(self, client: Any, counter: CallCounter = COUNTER) -> None:
        self._client = client
        self._counter = counter

    def _call(self, operation: str, method: Callable[..., T], **kwargs: Any) -> T:
        try:
            result = method(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            error = translate(exc, operation)
            throttled = isinstance(error, Retryable) and "Throttl" in error.code + error.message
            throttled |= error.code == "TooManyRequestsException"
            self._counter.add(operation, "throttled" if throttled else "error")
            raise error from exc
        self._counter.add(operation, "success")
        return result

    # -- compute environments -------------------------------------------------------------------

    def describe_compute_environment(self, name: str) -> ComputeEnvironmentDetailTypeDef | None:
        """One compute environment by name or ARN, or None."""
        response = self._call(
            "DescribeComputeEnvironments",
            self._client.describe_compute_environments,
            computeEnvironments=[name],
        )
        items: list[ComputeEnvironmentDetailTypeDef] = response["computeEnvironments"]
        return items[0] if items else None

    def create_compute_environment(self, request: CreateComputeEnvironmentRequestTypeDef) -> str:
        """Create; returns the ARN."""
        response = self._call(
            "CreateComputeEnvironment", self._client.create_compute_environment, **request
        )
        return str(response["computeEnvironmentArn"])

    def update_compute_environment(self, request: UpdateComputeEnvironmentRequestTypeDef) -> None:
        """UpdateComputeEnvironment with the planned arguments."""
        self._call("UpdateComputeEnvironment", self._client.update_compute_environment, **request)

    def delete_compute_environment(self, name: str) -> None:
        """DeleteComputeEnvironment (AWS requires DISABLED and no queue using it)."""
        self._call(
            "DeleteComputeEnvironment",
            self._client.delete_compute_environment,
            computeEnvironment=name,
        )

    # -- job queues -----------------------------------------------------------------------------

    def describe_job_queue(self, name: str) -> JobQueueDetailTypeDef | None:
        """One job queue by name or ARN, or None."""
        response = self._call(
            "DescribeJobQueues", self._client.describe_job_queues, jobQueues=[name]
        )
        items: list[JobQueueDetailTypeDef] = response["jobQueues"]
        return items[0] if items else None

    def queues_using(self, compute_environment_arn: str) -> list[JobQueueDetailTypeDef]:
        """Every job queue of the region whose computeEnvironmentOrder lists the CE."""
        queues: list[JobQueueDetailTypeDef] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"nextToken": token} if token else {}
            response = self._call("DescribeJobQueues", self._client.describe_job_queues, **kwargs)
            queues += [
                q
                for q in response["jobQueues"]
                if any(
                    o["computeEnvironment"] == compute_environment_arn
                    for o in q.get("computeEnvironmentOrder", [])
                )
            ]
            token = response.get("nextToken")
            if not token:
                return queues

    def create_job_queue(self, request: CreateJobQueueRequestTypeDef) -> str:
        """Create; returns the ARN."""
        response = self._call("CreateJobQueue", self._client.create_job_queue, **request)
        return str(response["jobQueueArn"])

    def update_job_queue(self, request: UpdateJobQueueRequestTypeDef) -> None:
        """UpdateJobQueue with the planned arguments."""
        self._call("UpdateJobQueue", self._client.update_job_queue, **request)

    def delete_job_queue(self, name: str) -> None:
        """DeleteJobQueue (AWS requires DISABLED)."""
        self._call("DeleteJobQueue", self._client.delete_job_queue, jobQueue=name)

    # -- tags -----------------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        """Add or overwrite tags."""
        self._call("TagResource", self._client.tag_resource, resourceArn=arn, tags=tags)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        """Remove tags by key."""
        self._call("UntagResource", self._client.untag_resource, resourceArn=arn, tagKeys=keys)

    # -- job definitions ------------------------------------------------------------------------

    def describe_job_definitions(self, name: str) -> list[JobDefinitionTypeDef]:
        """Every ACTIVE revision of one job definition name."""
        found: list[JobDefinitionTypeDef] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"jobDefinitionName": name, "status": "ACTIVE"}
            if token:
                kwargs["nextToken"] = token
            response = self._call(
                "DescribeJobDefinitions", self._client.describe_job_definitions, **kwargs
            )
            found += response["jobDefinitions"]
            token = response.get("nextToken")
            if not token:
                return found

    def register_job_definition(
        self, request: RegisterJobDefinitionRequestTypeDef
    ) -> RegisterJobDefinitionResponseTypeDef:
        """Register a new revision."""
        response: RegisterJobDefinitionResponseTypeDef = self._call(
            "RegisterJobDefinition", self._client.register_job_definition, **request
        )
        return response

    def deregister_job_definition(self, arn: str) -> None:
        """Mark a revision INACTIVE."""
        self._call(
            "DeregisterJobDefinition", self._client.deregister_job_definition, jobDefinition=arn
        )

    # -- jobs -----------------------------------------------------------------------------------

    def submit_job(self, request: SubmitJobRequestTypeDef) -> SubmitJobResponseTypeDef:
        """SubmitJob, paced by the account-wide token bucket."""
        _submit_bucket.acquire()
        response: SubmitJobResponseTypeDef = self._call(
            "SubmitJob", self._client.submit_job, **request
        )
        return response

    def describe_jobs(self, job_ids: Sequence[str]) -> list[JobDetailTypeDef]:
        """DescribeJobs in calls of at most 100 ids; jobs Batch forgot are simply absent."""
        jobs: list[JobDetailTypeDef] = []
        for chunk in chunks(job_ids, DESCRIBE_JOBS_MAX_IDS):
            response = self._call("DescribeJobs", self._client.describe_jobs, jobs=list(chunk))
            jobs += response["jobs"]
        return jobs

    def list_jobs_by_name(self, queue: str, job_name: str) -> list[JobSummaryTypeDef]:
        """Jobs of any status in `queue` named `job_name` (JOB_NAME filter, all pages).

        With a filter, ListJobs ignores jobStatus and returns jobs of every status."""
        found: list[JobSummaryTypeDef] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "jobQueue": queue,
                "filters": [{"name": "JOB_NAME", "values": [job_name]}],
            }
            if token:
                kwargs["nextToken"] = token
            response = self._call("ListJobs", self._client.list_jobs, **kwargs)
            found += response["jobSummaryList"]
            token = response.get("nextToken")
            if not token:
                return found

    def cancel_job(self, job_id: str, reason: str) -> None:
        """CancelJob: a job not yet STARTING fails with the reason."""
        self._call("CancelJob", self._client.cancel_job, jobId=job_id, reason=reason)

    def terminate_job(self, job_id: str, reason: str) -> None:
        """TerminateJob: a STARTING or RUNNING job is stopped and fails with the reason."""
        self._call("TerminateJob", self._client.terminate_job, jobId=job_id, reason=reason)
