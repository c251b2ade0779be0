"""One run of a BatchPipeline, planned without I/O: its identity, its actions, its deletion.

The handler's loop, level-based: read the previous status (`RunRecord.from_status`); if
`needs_new_run`, start one (`make_run_id`, `new_run_status`); after a restart, find jobs already
submitted (`run_submission.recovery_lookup` -> ListJobs -> `adopt_found_jobs`); resolve job
definitions (`plans.jobdefs.plan_job_definitions`); `run_status.aggregate_status` over what
DescribeJobs reports; while the run is not finished, `run_submission.plan_submissions` and
execute its `SubmitJob`s in order, writing each job id to status as soon as it is known; execute
the assessment's `stop` actions (TerminateJob, asked again on every pass until Batch reports the
job finished). A deleted BatchPipeline's finalizer follows `plan_deletion`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from batchops.model.common import format_time, frozen_map
from batchops.model.observed import (
    FINISHED_STATUSES,
    CompactedEntry,
    JobStatus,
    ObservedJob,
    Phase,
    RunRecord,
    StepStatus,
    StepStatusEntry,
    UsageEntry,
)
from batchops.model.pipeline import ArrayDependency, EnvVar, PipelineSpec, RetrySpec
from batchops.model.request_surface import JsonValue, thaw_json
from batchops.plans.compaction import compact_steps
from batchops.plans.dag import topological_order
from batchops.plans.jobdefs import (
    batch_name,
    resource_requirements,
    retry_strategy,
)

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ContainerOverridesTypeDef,
        JobDependencyTypeDef,
        SubmitJobRequestTypeDef,
    )

RunReason = Literal[
    "Pending",
    "Running",
    "Succeeded",
    "StepFailed",
    "DeadlineExceeded",
    "Terminated",
    "InvalidSpec",
]


# --- run identity -------------------------------------------------------------------------------


def make_run_id(
    uid: str, generation: int, rerun_token: str | None, previous_run_id: str | None
) -> str:
    """A short id for a new run, the same however often it is recomputed. The uid keeps
    same-named pipelines (other namespaces, deleted and recreated) apart; the previous run id
    keeps a rerun token that returns to an old value from reusing that old run's job names."""
    seed = "\0".join([uid, str(generation), rerun_token or "", previous_run_id or ""])
    return hashlib.sha256(seed.encode()).hexdigest()[:10]


def spec_hash(raw_spec: Mapping[str, object]) -> str:
    """Short hash of the raw spec as canonical JSON (key order does not matter)."""
    canonical = json.dumps(raw_spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def needs_new_run(record: RunRecord, spec_hash: str, rerun_token: str | None) -> bool:
    """Whether to start a run now: none yet, or the last one finished and since then the spec
    changed or the `batchops.io/rerun` annotation got a new value. A run in progress is never
    replaced; a change made meanwhile starts the next run when it finishes."""
    if record.run_id is None or record.spec_hash is None:
        return True
    if not record.finished:
        return False
    return record.spec_hash != spec_hash or (record.rerun_token or "") != (rerun_token or "")


def job_name(pipeline: str, step: str, run_id: str) -> str:
    """`<pipeline>-<step>-<run id>` within Batch's 128 characters; too long or unsafe names are
    cut and get a hash of the exact input, so distinct inputs never share a name. `run_id` may
    carry a resubmission suffix (`RunRef.job_name`)."""
    return batch_name(f"{pipeline}-{step}", run_id)


@dataclass(frozen=True)
class RunRef:
    """Which run of which BatchPipeline."""

    namespace: str
    pipeline: str
    run_id: str

    def job_name(self, step: str, resubmission: int = 0) -> str:
        """The Batch job name of `step` in this run; its n-th resubmission's ends `-r<n>`."""
        tail = self.run_id if not resubmission else f"{self.run_id}-r{resubmission}"
        return job_name(self.pipeline, step, tail)


class RunStatusFields(TypedDict, total=False):
    """The `.status` fields the run planner owns (conditions are merged by the kube helper)."""

    phase: Phase
    progress: str
    message: str
    duration: str | None
    startedAt: str
    finishedAt: str | None
    runId: str
    rerunToken: str | None
    specHash: str
    observedGeneration: int
    submittingSince: str | None
    steps: list[StepStatusEntry]
    usage: UsageEntry
    compacted: CompactedEntry | None


def new_run_status(
    spec: PipelineSpec,
    run: RunRef,
    *,
    spec_hash: str,
    rerun_token: str | None,
    started_at: datetime,
    generation: int,
) -> RunStatusFields:
    """The status patch that starts a run; write it before submitting anything, so a crash
    right after still finds this run (and its job names) on restart. It announces the run's
    first batch of submissions (`run_submission.recovery_wait`)."""
    queues = {step.name: step.queue for step in spec.steps}
    waiting = compact_steps(
        [
            StepStatus(
                name=name,
                status="WAITING",
                queue=queues[name],
                job_name=run.job_name(name),
                status_reason="not submitted yet",
            )
            for name in topological_order(spec)
        ],
        RunRecord(),
    )
    return {
        "phase": "Pending",
        "progress": f"0/{len(spec.steps)}",
        "message": f"starting run {run.run_id}",
        "duration": None,
        "startedAt": format_time(started_at),
        "finishedAt": None,
        "runId": run.run_id,
        "rerunToken": rerun_token,
        "specHash": spec_hash,
        "observedGeneration": generation,
        "submittingSince": format_time(started_at),
        "steps": [step.to_status() for step in waiting.steps],
        "compacted": waiting.to_status(),
    }


# --- actions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepDependency:
    """One SubmitJob `dependsOn` entry, by step; `step` None is an array job's own
    SEQUENTIAL dependency (its children run one after another)."""

    step: str | None
    type: ArrayDependency | None = None


@dataclass(frozen=True)
class ContainerOverrides:
    """Submit-time overrides for a `jobDefinition:` step."""

    vcpus: float | None = None
    memory: int | None = None
    gpus: int | None = None
    environment: tuple[EnvVar, ...] = ()

    def request(self) -> ContainerOverridesTypeDef:
        """The SubmitJob `containerOverrides` value."""
        overrides: ContainerOverridesTypeDef = {}
        requirements = resource_requirements(self.vcpus, self.memory, self.gpus)
        if requirements:
            overrides["resourceRequirements"] = requirements
        if self.environment:
            overrides["environment"] = [
                {"name": v.name, "value": v.value} for v in self.environment
            ]
        return overrides


@dataclass(frozen=True)
class SubmitJob:
    """Action: submit one step. `request(job_ids)` fills `dependsOn` with the job ids of the
    parent steps, which an earlier SubmitJob of the same plan may only just have produced."""

    step: str
    job_name: str
    job_queue: str
    job_definition: str
    depends_on: tuple[StepDependency, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))
    array_size: int | None = None
    retry: RetrySpec | None = None
    timeout_seconds: int | None = None
    container_overrides: ContainerOverrides | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))
    propagate_tags: bool | None = None
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    overrides: Mapping[str, JsonValue] = field(default_factory=lambda: MappingProxyType({}))
    """The step's SubmitJob overrides as written (containerOverrides, nodeOverrides, ...)."""

    @property
    def parent_steps(self) -> tuple[str, ...]:
        """Steps whose job ids `request` needs."""
        return tuple(dep.step for dep in self.depends_on if dep.step is not None)

    def request(self, job_ids: Mapping[str, str]) -> SubmitJobRequestTypeDef:
        """SubmitJob kwargs; KeyError if a parent step has no job id yet."""
        request: SubmitJobRequestTypeDef = {
            "jobName": self.job_name,
            "jobQueue": self.job_queue,
            "jobDefinition": self.job_definition,
        }
        dependencies: list[JobDependencyTypeDef] = []
        for dep in self.depends_on:
            entry: JobDependencyTypeDef = {}
            if dep.step is not None:
                if dep.step not in job_ids:
                    raise KeyError(f"parent step {dep.step!r} of {self.step!r} has no job id yet")
                entry["jobId"] = job_ids[dep.step]
            if dep.type is not None:
                entry["type"] = dep.type
            dependencies.append(entry)
        if dependencies:
            request["dependsOn"] = dependencies
        if self.parameters:
            request["parameters"] = dict(self.parameters)
        if self.array_size is not None:
            request["arrayProperties"] = {"size": self.array_size}
        if self.retry is not None:
            request["retryStrategy"] = retry_strategy(self.retry)
        if self.timeout_seconds is not None:
            request["timeout"] = {"attemptDurationSeconds": self.timeout_seconds}
        # Shaped as botocore's model says: the CRD schema of these fields is generated from it.
        written: Any = {name: thaw_json(value) for name, value in self.overrides.items()}
        if self.container_overrides is not None:
            written["containerOverrides"] = {
                **written.get("containerOverrides", {}),
                **self.container_overrides.request(),
            }
        request.update(written)
        if self.tags:
            request["tags"] = dict(self.tags)
        if self.propagate_tags is not None:
            request["propagateTags"] = self.propagate_tags
        if self.share_identifier is not None:
            request["shareIdentifier"] = self.share_identifier
        if self.scheduling_priority is not None:
            request["schedulingPriorityOverride"] = self.scheduling_priority
        return request


@dataclass(frozen=True)
class TerminateJob:
    """Action: TerminateJob, for any job that must not run (failFast, the deadline, a
    terminate request, deletion, a duplicate). Batch cancels a job that has not started and
    terminates one that has ("Jobs that are in the STARTING or RUNNING state are terminated,
    which causes them to transition to FAILED. Jobs that have not progressed to the STARTING
    state are cancelled." https://docs.aws.amazon.com/batch/latest/APIReference/API_TerminateJob.html),
    whereas CancelJob is silently ignored once a job is STARTING or RUNNING
    (https://docs.aws.amazon.com/batch/latest/APIReference/API_CancelJob.html). So no status,
    which may be seconds old, decides how to stop a job. `repeated`: Batch already reported
    a stop request for it (isCancelled/isTerminated); the call only confirms it."""

    step: str
    job_id: str
    reason: str
    repeated: bool = False


def stop_job(
    step: str, job_id: str, status: JobStatus | None, reason: str, *, repeated: bool = False
) -> TerminateJob | None:
    """TerminateJob for a job not known to be finished, whatever state it was last seen in (a
    stale status must not matter); None once it is SUCCEEDED or FAILED, which Batch never
    changes. Level-based: every pass that still sees the job active asks again, until Batch
    reports it finished."""
    if status in FINISHED_STATUSES:
        return None
    return TerminateJob(step, job_id, reason, repeated=repeated)


# --- deletion -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeletionPlan:
    """One pass of a deleted BatchPipeline's finalizer: the jobs to stop, and whether the
    object may go."""

    stop: tuple[TerminateJob, ...]
    release: bool
    """No job of the run is active any more (or none is stopped on delete), or the wait for
    Batch to confirm it ran out."""
    warning: str | None = None
    """Why the object goes although Batch has not reported every job finished."""


def plan_deletion(
    spec: PipelineSpec,
    steps_observed: Mapping[str, ObservedJob],
    *,
    waited_seconds: float,
    max_wait_seconds: float,
) -> DeletionPlan:
    """TerminateJob for every job of the run not known to be finished (none with
    terminateOnDelete: false); `steps_observed` leaves out jobs Batch no longer knows. The
    finalizer is held until Batch reports them all finished, but at most `max_wait_seconds`
    after the deletion was requested: then the object goes with a warning, never hangs."""
    if not spec.terminate_on_delete:
        return DeletionPlan((), release=True)
    reason = "batchops: BatchPipeline deleted"
    actions = (
        stop_job(name, job.job_id, job.status, reason, repeated=job.stop_requested)
        for name, job in steps_observed.items()
    )
    stop = tuple(action for action in actions if action is not None)
    if not stop:
        return DeletionPlan((), release=True)
    if waited_seconds >= max_wait_seconds:
        jobs = ", ".join(f"{action.step} ({action.job_id})" for action in stop)
        warning = (
            f"Batch has not reported job(s) {jobs} finished {max_wait_seconds:g}s after "
            "TerminateJob; the BatchPipeline is deleted anyway: check them in AWS"
        )
        return DeletionPlan(stop, release=True, warning=warning[:1024])
    return DeletionPlan(stop, release=False)


def ttl_expires_at(spec: PipelineSpec, finished_at: datetime | None) -> datetime | None:
    """When a finished run's BatchPipeline should be deleted (ttlSecondsAfterFinished)."""
    if finished_at is None or spec.ttl_seconds_after_finished is None:
        return None
    return finished_at + timedelta(seconds=spec.ttl_seconds_after_finished)
