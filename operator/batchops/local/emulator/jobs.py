"""Jobs as data: the job record, its attempts, what DescribeJobs and ListJobs show of it.

The transitions live in scheduler.py; this module only holds and renders state.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from batchops.local.emulator import account, errors
from batchops.local.emulator.clock import Timer
from batchops.local.emulator.jobdefs import JobDefinition
from batchops.local.emulator.paging import page
from batchops.local.emulator.wire import JsonObject

STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
TERMINAL = frozenset({"SUCCEEDED", "FAILED"})
NOT_STARTED = frozenset({"SUBMITTED", "PENDING", "RUNNABLE"})
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def job_arn(job_id: str) -> str:
    """The ARN of a job."""
    return f"arn:{account.PARTITION}:batch:{account.REGION}:{account.ACCOUNT_ID}:job/{job_id}"


@dataclass(frozen=True)
class Dependency:
    """One dependsOn entry as submitted."""

    job_id: str | None
    type: str | None  # N_TO_N, SEQUENTIAL or None

    def describe(self) -> JsonObject:
        """The JobDependency shape."""
        shown: JsonObject = {}
        if self.job_id is not None:
            shown["jobId"] = self.job_id
        if self.type is not None:
            shown["type"] = self.type
        return shown


@dataclass(eq=False)
class Attempt:
    """One attempt of a job (an ECS task in real Batch)."""

    number: int
    task_arn: str
    container_instance_arn: str | None  # None on Fargate: its tasks run on no container instance
    network_interfaces: list[JsonObject] = field(default_factory=list)  # Fargate's task ENI
    log_stream_name: str | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    exit_code: int | None = None
    reason: str | None = None  # the container's reason, e.g. why it could not start
    status_reason: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the attempt has stopped (only ended attempts are listed in `attempts[]`)."""
        return self.stopped_at is not None

    def describe(self) -> JsonObject:
        """The AttemptDetail shape."""
        container: JsonObject = {"taskArn": self.task_arn}
        container.update(self.placement())
        if self.exit_code is not None:
            container["exitCode"] = self.exit_code
        if self.reason is not None:
            container["reason"] = self.reason
        if self.log_stream_name is not None:
            container["logStreamName"] = self.log_stream_name
        shown: JsonObject = {"container": container}
        if self.started_at is not None:
            shown["startedAt"] = self.started_at
        if self.stopped_at is not None:
            shown["stoppedAt"] = self.stopped_at
        if self.status_reason is not None:
            shown["statusReason"] = self.status_reason
        return shown

    def placement(self) -> JsonObject:
        """Where the attempt's task runs: its container instance (EC2) or its network interface
        (Fargate), as both AttemptContainerDetail and ContainerDetail show it."""
        shown: JsonObject = {"networkInterfaces": copy.deepcopy(self.network_interfaces)}
        if self.container_instance_arn is not None:
            shown["containerInstanceArn"] = self.container_instance_arn
        return shown


def new_attempt(number: int, ecs_cluster_arn: str, fargate: bool) -> Attempt:
    """A fresh attempt, its ECS task in the compute environment's ECS cluster.

    ECS's long ARN format names the cluster in task and container instance ARNs
    (task/<cluster-name>/<task-id>, container-instance/<cluster-name>/<id>):
    https://docs.aws.amazon.com/AmazonECS/latest/userguide/ecs-resource-ids.html.
    A Fargate task runs on no container instance and gets its own elastic network interface
    (awsvpc mode); botocore's NetworkInterface shape is attachmentId, privateIpv4Address and an
    optional ipv6Address. EC2 jobs use bridge networking, so their list stays empty, as in the
    job state change example of
    https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html.
    """
    prefix, cluster = ecs_cluster_arn.split(":cluster/", 1)
    task_id = uuid.uuid4().hex
    if fargate:
        host = uuid.uuid4().bytes
        return Attempt(
            number=number,
            task_arn=f"{prefix}:task/{cluster}/{task_id}",
            container_instance_arn=None,
            network_interfaces=[
                {
                    "attachmentId": str(uuid.uuid4()),
                    "privateIpv4Address": f"172.31.{host[0]}.{host[1] % 250 + 4}",
                }
            ],
        )
    return Attempt(
        number=number,
        task_arn=f"{prefix}:task/{cluster}/{task_id}",
        container_instance_arn=f"{prefix}:container-instance/{cluster}/{uuid.uuid4().hex}",
    )


@dataclass(eq=False)
class Job:
    """One job: a plain job, an array parent, or an array child."""

    id: str
    name: str
    queue_arn: str
    queue_name: str
    definition: JobDefinition
    container: JsonObject  # the effective container: definition, overrides, parameters applied
    vcpus: float
    parameters: dict[str, str]
    depends_on: list[Dependency]
    retry_strategy: JsonObject | None
    timeout: JsonObject | None
    tags: dict[str, str]
    propagate_tags: bool
    created_at: int
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    status: str = "SUBMITTED"
    status_reason: str | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    array_size: int | None = None
    array_index: int | None = None
    parent: Job | None = None
    children: list[Job] = field(default_factory=list)
    waits_for: list[Job] = field(default_factory=list)
    dependents: list[Job] = field(default_factory=list)
    cancel_reason: str | None = None  # CancelJob while PENDING: applied once dependencies end
    is_cancelled: bool = False
    is_terminated: bool = False
    placed_on: str | None = None  # ARN of the compute environment holding its vCPUs
    timer: Timer | None = None  # the pending step of the state machine
    timeout_timer: Timer | None = None
    summary_updated_at: int | None = None

    @property
    def arn(self) -> str:
        """The job's ARN."""
        return job_arn(self.id)

    @property
    def is_array_parent(self) -> bool:
        """Whether this is the parent of an array job."""
        return self.array_size is not None

    @property
    def is_terminal(self) -> bool:
        """SUCCEEDED or FAILED."""
        return self.status in TERMINAL

    @property
    def current_attempt(self) -> Attempt | None:
        """The latest attempt, if any."""
        return self.attempts[-1] if self.attempts else None

    @property
    def ended_attempts(self) -> list[Attempt]:
        """The attempts DescribeJobs lists: those that ended.

        AttemptDetail's startedAt/stoppedAt are the attempt's RUNNING -> terminal window
        (https://docs.aws.amazon.com/batch/latest/APIReference/API_AttemptDetail.html), and
        AWS's example state change event of an unfinished job shows `"attempts": []`
        (https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html): the attempt
        in progress shows only in the job's `container`.
        """
        return [attempt for attempt in self.attempts if attempt.ended]

    @property
    def max_attempts(self) -> int:
        """retryStrategy.attempts (1 without a retry strategy)."""
        return int((self.retry_strategy or {}).get("attempts") or 1)

    def describe(self, tags: dict[str, str]) -> JsonObject:
        """The JobDetail shape DescribeJobs returns (and events carry as detail)."""
        detail: JsonObject = {
            "jobArn": self.arn,
            "jobName": self.name,
            "jobId": self.id,
            "jobQueue": self.queue_arn,
            "status": self.status,
            "attempts": [attempt.describe() for attempt in self.ended_attempts],
            "createdAt": self.created_at,
            "dependsOn": [dependency.describe() for dependency in self.depends_on],
            "jobDefinition": self.definition.arn,
            "parameters": dict(self.parameters),
            "container": self._container_detail(),
            "tags": tags,
            "propagateTags": self.propagate_tags,
            "platformCapabilities": list(self.definition.platform_capabilities),
            "isCancelled": self.is_cancelled,
            "isTerminated": self.is_terminated,
        }
        optional: JsonObject = {
            "statusReason": self.status_reason,
            "startedAt": self.started_at,
            "stoppedAt": self.stopped_at,
            "retryStrategy": copy.deepcopy(self.retry_strategy),
            "timeout": copy.deepcopy(self.timeout),
            "shareIdentifier": self.share_identifier,
            "schedulingPriority": self.scheduling_priority,
            "arrayProperties": self._array_detail(),
        }
        detail.update({key: value for key, value in optional.items() if value is not None})
        return detail

    def summarize(self) -> JsonObject:
        """The JobSummary shape ListJobs returns."""
        summary: JsonObject = {
            "jobArn": self.arn,
            "jobId": self.id,
            "jobName": self.name,
            "createdAt": self.created_at,
            "status": self.status,
            "jobDefinition": self.definition.arn,
        }
        attempt = self.current_attempt
        container: JsonObject = {}
        if attempt is not None and attempt.exit_code is not None:
            container["exitCode"] = attempt.exit_code
        if attempt is not None and attempt.reason is not None:
            container["reason"] = attempt.reason
        optional: JsonObject = {
            "statusReason": self.status_reason,
            "startedAt": self.started_at,
            "stoppedAt": self.stopped_at,
            "container": container or None,
            # ArrayPropertiesSummary: size and statusSummary "returned for parent array jobs",
            # index for children:
            # https://docs.aws.amazon.com/batch/latest/APIReference/API_ArrayPropertiesSummary.html
            "arrayProperties": self._array_detail(),
        }
        summary.update({key: value for key, value in optional.items() if value is not None})
        return summary

    def _container_detail(self) -> JsonObject:
        detail = copy.deepcopy(self.container)
        attempt = self.current_attempt
        detail.setdefault("networkInterfaces", [])
        if attempt is not None:
            detail["taskArn"] = attempt.task_arn
            detail.update(attempt.placement())
            if attempt.log_stream_name is not None:
                detail["logStreamName"] = attempt.log_stream_name
            if attempt.exit_code is not None:
                detail["exitCode"] = attempt.exit_code
            if attempt.reason is not None:
                detail["reason"] = attempt.reason
        return detail

    def _array_detail(self) -> JsonObject | None:
        if self.array_index is not None:
            return {"index": self.array_index}
        if self.array_size is None:
            return None
        summary = dict.fromkeys(STATUSES, 0)
        for child in self.children:
            summary[child.status] += 1
        detail: JsonObject = {"size": self.array_size, "statusSummary": summary}
        if self.summary_updated_at is not None:
            detail["statusSummaryLastUpdatedAt"] = self.summary_updated_at
        return detail


@dataclass(frozen=True)
class JobQuery:
    """What ListJobs asks for, parsed."""

    status: str | None
    filter_name: str | None
    filter_values: tuple[str, ...]
    max_results: int | None
    next_token: str | None


def list_job_summaries(jobs: Iterable[Job], query: JobQuery) -> JsonObject:
    """ListJobs over the candidate jobs (a queue's jobs, or an array's children).

    Without a filter only jobs in `status` (default RUNNING) are listed; with one, jobStatus is
    ignored and the newest jobs come first, as the API reference says.
    """
    if query.filter_name is None:
        status = query.status or "RUNNING"
        if status not in STATUSES:
            raise errors.invalid_parameter(f"Invalid job status {status}")
        selected = [job for job in jobs if job.status == status]
        default_max = 1000
    else:
        selected = [job for job in jobs if _matches_filter(job, query)]
        selected.sort(key=lambda job: job.created_at, reverse=True)
        default_max = 100
    items, token = page(selected, query.max_results, query.next_token, default_max)
    result: JsonObject = {"jobSummaryList": [job.summarize() for job in items]}
    if token:
        result["nextToken"] = token
    return result


def _matches_filter(job: Job, query: JobQuery) -> bool:
    if query.filter_name == "JOB_NAME":
        return any(_name_matches(job.name, value) for value in query.filter_values)
    if query.filter_name == "JOB_DEFINITION":
        return any(_definition_matches(job.definition, value) for value in query.filter_values)
    if query.filter_name in ("AFTER_CREATED_AT", "BEFORE_CREATED_AT"):
        bound = int(query.filter_values[0])
        after = query.filter_name == "AFTER_CREATED_AT"
        return job.created_at > bound if after else job.created_at < bound
    if query.filter_name == "SHARE_IDENTIFIER":
        return job.share_identifier in query.filter_values and (
            query.status is None or job.status == query.status
        )
    raise errors.invalid_parameter(f"Invalid filter name {query.filter_name}")


def _name_matches(name: str, value: str) -> bool:
    # JOB_NAME is case-insensitive; a trailing * matches any name starting with what precedes it.
    if value.endswith("*"):
        return name.lower().startswith(value[:-1].lower())
    return name.lower() == value.lower()


def _definition_matches(definition: JobDefinition, value: str) -> bool:
    # JOB_DEFINITION is case-sensitive: a name (any revision), name:revision, an ARN, or a
    # name prefix ending in *.
    if value.endswith("*"):
        return definition.name.startswith(value[:-1])
    return value in (definition.name, f"{definition.name}:{definition.revision}", definition.arn)
