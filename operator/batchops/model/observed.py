"""What the operator observes of a run: Batch's jobs and job definitions as DescribeJobs and
ListJobs report them, and the run's own status record (which stands in for DescribeJobs once
Batch has forgotten a job). Parsed once, at the boundary, into immutable values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Literal, NotRequired, TypedDict, TypeGuard

from batchops.model.attempts import AttemptRecord, HistoryEntry, attempts_of_describe
from batchops.model.common import format_time, frozen_map, parse_time, shared_str

JobStatus = Literal[
    "SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"
]
JOB_STATUSES: Final[tuple[JobStatus, ...]] = (
    "SUBMITTED",
    "PENDING",
    "RUNNABLE",
    "STARTING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
)
NOT_STARTED_STATUSES: Final[frozenset[JobStatus]] = frozenset({"SUBMITTED", "PENDING", "RUNNABLE"})
STARTED_STATUSES: Final[frozenset[JobStatus]] = frozenset({"STARTING", "RUNNING"})
FINISHED_STATUSES: Final[frozenset[JobStatus]] = frozenset({"SUCCEEDED", "FAILED"})

# Statuses the operator reports for steps Batch does not know (yet, or ever).
StepState = JobStatus | Literal["WAITING", "CANCELLED"]

# A RUNNABLE job that cannot run says why with one of these (AWS Batch User Guide, "Job queue
# blocked": MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE, MISCONFIGURATION:
# JOB_RESOURCE_REQUIREMENT, CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY, ...).
BLOCKED_REASON_PREFIXES: Final = ("MISCONFIGURATION:", "CAPACITY:")

Phase = Literal["Pending", "Running", "Succeeded", "Failed", "Cancelled"]
FINISHED_PHASES: Final[frozenset[Phase]] = frozenset({"Succeeded", "Failed", "Cancelled"})


# --- time ---------------------------------------------------------------------------------------


def ms_to_datetime(ms: int) -> datetime:
    """A Batch timestamp (milliseconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def datetime_to_ms(moment: datetime) -> int:
    """An aware datetime as Batch's milliseconds since the epoch."""
    return round(moment.timestamp() * 1000)


# --- observed Batch state -----------------------------------------------------------------------


def _is_job_status(value: object) -> TypeGuard[JobStatus]:
    return value in JOB_STATUSES


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _shared_str(value: object) -> str | None:
    """`_opt_str`, shared (`shared_str`): a queue ARN, job definition ARN or status reason is
    the same for thousands of jobs, and the job watch keeps one record per tracked job. A
    job's own id, ARN and log stream are not: sharing them would only grow the interpreter's
    table of shared strings (by 1.9 MB for 2,000 jobs when it doubled, by tracemalloc)."""
    text = _opt_str(value)
    return shared_str(text) if text is not None else None


_CANONICAL_STATUSES: Final[Mapping[str, JobStatus]] = {status: status for status in JOB_STATUSES}
"""Each status as one shared string, rather than one string per parsed job."""

_NO_ARRAY_SUMMARY: Final[Mapping[str, int]] = MappingProxyType({})
"""Every job that is not an array job shares this empty summary."""


_CONTAINER_FIELDS: Final = dict.fromkeys(
    ("exitCode", "reason", "logStreamName", "containerInstanceArn", "taskArn"), True
)
_JOB_FIELDS = ("jobId", "jobName", "status", "jobArn", "jobQueue", "jobDefinition", "statusReason")
_TIME_FIELDS = ("createdAt", "startedAt", "stoppedAt", "isCancelled", "isTerminated")
DESCRIBE_JOBS_FIELDS: Final[Mapping[str, Any]] = {
    **dict.fromkeys(_JOB_FIELDS + _TIME_FIELDS, True),
    "container": _CONTAINER_FIELDS,
    "attempts": {
        **dict.fromkeys(("startedAt", "stoppedAt", "statusReason"), True),
        "container": _CONTAINER_FIELDS,
    },
    "arrayProperties": {"size": True, "statusSummary": True},
}
"""Every member of a DescribeJobs item `ObservedJob.from_describe` (with attempts_of_describe)
reads, and none other: the poller has AWS's answers trimmed to these before botocore parses
them (aws/projection.py), as parsing whole job details was most of its CPU. A field read there
must be listed here; a test parses a full item both ways."""


@dataclass(frozen=True, slots=True)
class ObservedJob:
    """What Batch reports about one job (a DescribeJobs item); times in ms since the epoch.
    Slotted, with shared strings where jobs repeat them: the job watch keeps one per tracked
    job (tens of thousands), so every field costs memory at scale."""

    job_id: str
    job_name: str
    status: JobStatus
    job_arn: str | None = None
    job_queue: str | None = None
    job_definition: str | None = None
    status_reason: str | None = None
    container_reason: str | None = None
    attempts: int = 0
    exit_code: int | None = None
    created_at: int | None = None
    started_at: int | None = None
    first_started_at: int | None = None
    stopped_at: int | None = None
    log_stream: str | None = None
    array_size: int | None = None
    array_status_summary: Mapping[str, int] = field(default_factory=lambda: _NO_ARRAY_SUMMARY)
    stop_requested: bool = False
    """CancelJob or TerminateJob was already accepted for this job (isCancelled/isTerminated)."""
    attempt_records: tuple[AttemptRecord, ...] = ()
    """Each attempt as DescribeJobs reports it (empty when the job is known from status only)."""

    @property
    def blocked_reason(self) -> str | None:
        """Why a RUNNABLE job cannot run, when Batch says its queue is blocked."""
        reason = self.status_reason
        if self.status == "RUNNABLE" and reason and reason.startswith(BLOCKED_REASON_PREFIXES):
            return reason
        return None

    @property
    def interrupted(self) -> bool:
        """A finished job whose last attempt ended because its host went away."""
        return (
            self.status == "FAILED"
            and bool(self.attempt_records)
            and self.attempt_records[-1].interrupted
        )

    @property
    def finished(self) -> bool:
        """SUCCEEDED or FAILED: Batch will not change this job any more."""
        return self.status in FINISHED_STATUSES

    @property
    def ended_attempts(self) -> int:
        """Attempts that have stopped: `attempts` less the one STARTING or RUNNING now."""
        return max(0, self.attempts - (1 if self.status in STARTED_STATUSES else 0))

    @classmethod
    def from_describe(cls, item: Mapping[str, object]) -> ObservedJob:
        """Parse one `jobs[]` item of a DescribeJobs response (ValueError if it is not one)."""
        job_id, job_name, status = item.get("jobId"), item.get("jobName"), item.get("status")
        if not isinstance(job_id, str) or not isinstance(job_name, str):
            raise ValueError("a DescribeJobs item needs jobId and jobName")
        if not _is_job_status(status):
            raise ValueError(f"unknown Batch job status {status!r}")
        container = _mapping(item.get("container"))
        attempts_raw = item.get("attempts")
        attempts = [_mapping(a) for a in attempts_raw] if isinstance(attempts_raw, list) else []
        last_container = _mapping(attempts[-1].get("container")) if attempts else {}
        attempt_starts = [s for s in (_opt_int(a.get("startedAt")) for a in attempts) if s]
        started_at = _opt_int(item.get("startedAt"))
        array = _mapping(item.get("arrayProperties"))
        summary = {
            str(key): count
            for key, count in _mapping(array.get("statusSummary")).items()
            if isinstance(count, int)
        }
        exit_code = _opt_int(container.get("exitCode"))
        if exit_code is None:
            exit_code = _opt_int(last_container.get("exitCode"))
        return cls(
            job_id=job_id,
            job_name=job_name,
            status=_CANONICAL_STATUSES[status],
            job_arn=_opt_str(item.get("jobArn")),
            job_queue=_shared_str(item.get("jobQueue")),
            job_definition=_shared_str(item.get("jobDefinition")),
            status_reason=_shared_str(item.get("statusReason")),
            container_reason=_shared_str(container.get("reason"))
            or _shared_str(last_container.get("reason")),
            # Batch lists ended attempts only (AttemptDetail.startedAt/stoppedAt are the
            # RUNNING -> terminal window); the one STARTING or RUNNING now counts too.
            attempts=len(attempts) + (1 if status in STARTED_STATUSES else 0),
            exit_code=exit_code,
            created_at=_opt_int(item.get("createdAt")),
            started_at=started_at,
            first_started_at=min(attempt_starts) if attempt_starts else started_at,
            stopped_at=_opt_int(item.get("stoppedAt")),
            log_stream=_opt_str(container.get("logStreamName"))
            or _opt_str(last_container.get("logStreamName")),
            array_size=_opt_int(array.get("size")),
            array_status_summary=MappingProxyType(summary) if summary else _NO_ARRAY_SUMMARY,
            stop_requested=item.get("isCancelled") is True or item.get("isTerminated") is True,
            attempt_records=attempts_of_describe(item, status in STARTED_STATUSES),
        )


@dataclass(frozen=True)
class ListedJob:
    """One ListJobs summary, as recovery after a crash sees it."""

    job_name: str
    job_id: str
    created_at: int | None = None
    status: JobStatus | None = None

    @classmethod
    def from_summary(cls, item: Mapping[str, object]) -> ListedJob:
        """Parse one `jobSummaryList[]` item of a ListJobs response."""
        job_id, job_name, status = item.get("jobId"), item.get("jobName"), item.get("status")
        if not isinstance(job_id, str) or not isinstance(job_name, str):
            raise ValueError("a ListJobs item needs jobId and jobName")
        return cls(
            job_name=job_name,
            job_id=job_id,
            created_at=_opt_int(item.get("createdAt")),
            status=status if _is_job_status(status) else None,
        )


@dataclass(frozen=True)
class ObservedJobDefinition:
    """One revision from DescribeJobDefinitions."""

    name: str
    arn: str
    revision: int
    status: str
    tags: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))

    @property
    def active(self) -> bool:
        """ACTIVE revisions can be submitted; INACTIVE ones are deregistered."""
        return self.status == "ACTIVE"

    @classmethod
    def from_describe(cls, item: Mapping[str, object]) -> ObservedJobDefinition:
        """Parse one `jobDefinitions[]` item of a DescribeJobDefinitions response."""
        name, arn, revision = (
            item.get("jobDefinitionName"),
            item.get("jobDefinitionArn"),
            item.get("revision"),
        )
        if not isinstance(name, str) or not isinstance(arn, str) or not isinstance(revision, int):
            raise ValueError("a job definition needs jobDefinitionName, jobDefinitionArn, revision")
        tags = {str(k): v for k, v in _mapping(item.get("tags")).items() if isinstance(v, str)}
        return cls(name, arn, revision, str(item.get("status", "ACTIVE")), frozen_map(tags))


# --- the status record --------------------------------------------------------------------------


class CapacityUsageEntry(TypedDict, total=False):
    """`usage.spot` / `usage.onDemand`: the part of the resource-seconds that ran on capacity of
    that kind (as the attempt's queue's compute environments say)."""

    vcpuSeconds: float
    memoryGiBSeconds: float
    gpuSeconds: float


class UsageEntry(TypedDict, total=False):
    """`status.usage` and `status.steps[].usage`: resource-seconds reserved by attempts."""

    vcpuSeconds: float
    memoryGiBSeconds: float
    gpuSeconds: float
    vcpuHours: str
    """vcpuSeconds / 3600 with two decimals, for the printer column."""
    spot: CapacityUsageEntry
    onDemand: CapacityUsageEntry


class StepStatusEntry(TypedDict, total=False):
    """One `status.steps[]` item, camelCase as the CRD defines it."""

    name: str
    compacted: bool
    jobId: str
    jobName: str
    jobArn: str
    queue: str
    jobDefinition: str
    status: str
    statusReason: str
    attempts: int
    exitCode: int
    createdAt: str
    startedAt: str
    stoppedAt: str
    queueWaitSeconds: int
    logStream: str
    arrayStatusSummary: dict[str, int]
    resubmission: int
    interruptions: int
    history: list[HistoryEntry]
    historyDropped: int
    usage: UsageEntry


class CompactedEntry(TypedDict):
    """`status.compacted`: how many steps are cut to a short entry, what the succeeded ones of
    them used, and the job definitions their entries no longer name (`plans.compaction`)."""

    steps: int
    usage: UsageEntry
    jobDefinitions: NotRequired[list[str]]


@dataclass(frozen=True)
class StepStatus:
    """The status record of one step: Batch's view plus the operator's (WAITING, CANCELLED)."""

    name: str
    status: StepState
    queue: str
    job_id: str | None = None
    job_name: str | None = None
    job_arn: str | None = None
    job_definition: str | None = None
    status_reason: str | None = None
    attempts: int | None = None
    exit_code: int | None = None
    created_at: int | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    queue_wait_seconds: int | None = None
    log_stream: str | None = None
    array_status_summary: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    resubmission: int = 0
    """Which of the step's Batch jobs this is: 0 the first, n the operator's n-th resubmission."""
    interruptions: int = 0
    """Times the step was resubmitted because its host went away (retry.onInterruption)."""
    history: tuple[AttemptRecord, ...] = ()
    history_dropped: int = 0
    """Oldest history entries dropped past the cap."""
    usage: UsageEntry | None = None
    """Resource-seconds the step's attempts reserved (`plans.usage`)."""
    compacted: bool = False
    """Only name, status and job id are kept (`plans.compaction`)."""

    def compact(self) -> StepStatus:
        """This step cut to what the run engine needs of it: name, status and job id."""
        return StepStatus(self.name, self.status, self.queue, job_id=self.job_id, compacted=True)

    def to_status(self) -> StepStatusEntry:
        """The `status.steps[]` item; unset fields are left out."""
        if self.compacted:
            entry: StepStatusEntry = {"name": self.name, "status": self.status, "compacted": True}
            if self.job_id is not None:
                entry["jobId"] = self.job_id
            return entry
        entry = {"name": self.name, "status": self.status, "queue": self.queue}
        if self.job_id is not None:
            entry["jobId"] = self.job_id
        if self.job_name is not None:
            entry["jobName"] = self.job_name
        if self.job_arn is not None:
            entry["jobArn"] = self.job_arn
        if self.job_definition is not None:
            entry["jobDefinition"] = self.job_definition
        if self.status_reason is not None:
            entry["statusReason"] = self.status_reason
        if self.attempts is not None:
            entry["attempts"] = self.attempts
        if self.exit_code is not None:
            entry["exitCode"] = self.exit_code
        if self.created_at is not None:
            entry["createdAt"] = format_time(ms_to_datetime(self.created_at))
        if self.started_at is not None:
            entry["startedAt"] = format_time(ms_to_datetime(self.started_at))
        if self.stopped_at is not None:
            entry["stoppedAt"] = format_time(ms_to_datetime(self.stopped_at))
        if self.queue_wait_seconds is not None:
            entry["queueWaitSeconds"] = self.queue_wait_seconds
        if self.log_stream is not None:
            entry["logStream"] = self.log_stream
        if self.array_status_summary:
            entry["arrayStatusSummary"] = dict(self.array_status_summary)
        if self.resubmission:
            entry["resubmission"] = self.resubmission
        if self.interruptions:
            entry["interruptions"] = self.interruptions
        if self.history:
            entry["history"] = [attempt.to_status() for attempt in self.history]
        if self.history_dropped:
            entry["historyDropped"] = self.history_dropped
        if self.usage is not None:
            entry["usage"] = self.usage
        return entry


def _opt_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def _time_ms(value: object) -> int | None:
    moment = _opt_time(value)
    return datetime_to_ms(moment) if moment is not None else None


@dataclass(frozen=True)
class RunRecord:
    """The previous status of a BatchPipeline, parsed: which run it describes and its jobs."""

    run_id: str | None = None
    phase: Phase | None = None
    spec_hash: str | None = None
    rerun_token: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    job_ids: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))
    jobs: Mapping[str, ObservedJob] = field(default_factory=lambda: MappingProxyType({}))
    steps: Mapping[str, StepRecord] = field(default_factory=lambda: MappingProxyType({}))
    """What status keeps of each step beyond its current job: resubmissions and history."""
    retry_token: str | None = None
    """The `batchops.io/retry-failed` value last acted on."""
    submitting_since: datetime | None = None
    """When a batch of SubmitJobs began whose job ids status does not hold yet (None: none)."""
    compacted_usage: Mapping[str, object] | None = None
    """What the succeeded steps compacted so far used (`status.compacted.usage`, read by
    `plans.usage`)."""
    compacted_job_definitions: tuple[str, ...] = ()
    """The job definitions of compacted steps (`status.compacted.jobDefinitions`)."""

    @property
    def finished(self) -> bool:
        """True once the run reached Succeeded, Failed or Cancelled."""
        return self.phase in FINISHED_PHASES

    def step(self, name: str) -> StepRecord:
        """The record of one step (empty for a step status does not list)."""
        return self.steps.get(name, _NO_STEP_RECORD)

    @classmethod
    def from_status(cls, status: Mapping[str, object] | None) -> RunRecord:
        """Parse `.status`; `jobs` rebuilds each submitted step's last known Batch state, which
        stands in for DescribeJobs once Batch has forgotten the job (about 7 days)."""
        status = status or {}
        phase = status.get("phase")
        job_ids: dict[str, str] = {}
        jobs: dict[str, ObservedJob] = {}
        records: dict[str, StepRecord] = {}
        steps = status.get("steps")
        for raw in steps if isinstance(steps, list) else []:
            entry = _mapping(raw)
            name, job_id = entry.get("name"), entry.get("jobId")
            if isinstance(name, str):
                records[name] = StepRecord.from_status(entry)
            if not isinstance(name, str) or not isinstance(job_id, str):
                continue
            job_ids[name] = job_id
            state = entry.get("status")
            summary = _mapping(entry.get("arrayStatusSummary"))
            started_at = _time_ms(entry.get("startedAt"))
            jobs[name] = ObservedJob(
                job_id=job_id,
                job_name=_opt_str(entry.get("jobName")) or "",
                status=state if _is_job_status(state) else "SUBMITTED",
                job_arn=_opt_str(entry.get("jobArn")),
                job_definition=_opt_str(entry.get("jobDefinition")),
                status_reason=_opt_str(entry.get("statusReason")),
                attempts=_opt_int(entry.get("attempts")) or 0,
                exit_code=_opt_int(entry.get("exitCode")),
                created_at=_time_ms(entry.get("createdAt")),
                started_at=started_at,
                first_started_at=started_at,
                stopped_at=_time_ms(entry.get("stoppedAt")),
                log_stream=_opt_str(entry.get("logStream")),
                array_status_summary=MappingProxyType(
                    {str(k): v for k, v in summary.items() if isinstance(v, int)}
                ),
            )
        started, finished = status.get("startedAt"), status.get("finishedAt")
        compacted = _mapping(status.get("compacted"))
        return cls(
            run_id=_opt_str(status.get("runId")),
            phase=_phase(phase),
            spec_hash=_opt_str(status.get("specHash")),
            rerun_token=_opt_str(status.get("rerunToken")),
            started_at=parse_time(started) if isinstance(started, str) else None,
            finished_at=parse_time(finished) if isinstance(finished, str) else None,
            job_ids=frozen_map(job_ids),
            jobs=MappingProxyType(jobs),
            steps=MappingProxyType(records),
            retry_token=_opt_str(status.get("retryToken")),
            submitting_since=_opt_time(status.get("submittingSince")),
            compacted_usage=_mapping(compacted.get("usage")) or None,
            compacted_job_definitions=_strings(compacted.get("jobDefinitions")),
        )


@dataclass(frozen=True)
class StepRecord:
    """A step's status beyond its current job: which resubmission runs now, on which queue,
    how often the host went away, and the attempt history of all its jobs."""

    resubmission: int = 0
    queue: str | None = None
    interruptions: int = 0
    history: tuple[AttemptRecord, ...] = ()
    history_dropped: int = 0
    compacted: bool = False
    """Status keeps only the step's job id (`plans.compaction`)."""

    @classmethod
    def from_status(cls, entry: Mapping[str, object]) -> StepRecord:
        """Parse the resubmission fields of one `status.steps[]` item."""
        raw_history = entry.get("history")
        history = tuple(
            record
            for record in (
                AttemptRecord.from_status(_mapping(item))
                for item in (raw_history if isinstance(raw_history, list) else [])
            )
            if record is not None
        )
        return cls(
            resubmission=_opt_int(entry.get("resubmission")) or 0,
            queue=_opt_str(entry.get("queue")),
            interruptions=_opt_int(entry.get("interruptions")) or 0,
            history=history,
            history_dropped=_opt_int(entry.get("historyDropped")) or 0,
            compacted=entry.get("compacted") is True,
        )


_NO_STEP_RECORD: Final = StepRecord()


def _phase(value: object) -> Phase | None:
    phases: tuple[Phase, ...] = ("Pending", "Running", "Succeeded", "Failed", "Cancelled")
    for phase in phases:
        if value == phase:
            return phase
    return None


def job_definitions_in_status(status: Mapping[str, object]) -> tuple[str, ...]:
    """The job definitions a BatchPipeline's `status.steps[]` names (shared: thousands of
    pipelines share a few), for the index that keeps them from being retired."""
    steps = status.get("steps")
    named = {
        text
        for entry in (steps if isinstance(steps, list) else ())
        if isinstance(entry, Mapping)
        and (text := _shared_str(entry.get("jobDefinition"))) is not None
    }
    compacted = _strings(_mapping(status.get("compacted")).get("jobDefinitions"))
    return tuple(sorted(named.union(shared_str(text) for text in compacted)))
