"""One run of a BatchPipeline, planned without I/O.

The handler's loop, level-based: read the previous status (`RunRecord.from_status`); if
`needs_new_run`, start one (`make_run_id`, `new_run_status`); after a restart, find jobs already
submitted (`recovery_lookup` -> ListJobs -> `adopt_found_jobs`); resolve job definitions
(`plans.jobdefs.plan_job_definitions`); `aggregate_status` over what DescribeJobs reports; while
the run is not finished, `plan_submissions` and execute its `SubmitJob`s in order, writing each
job id to status as soon as it is known; execute the assessment's `stop` actions (TerminateJob,
asked again on every pass until Batch reports the job finished). A deleted BatchPipeline's
finalizer follows `plan_deletion`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal, TypedDict

from batchops.model.common import (
    Condition,
    ConditionStatus,
    format_time,
    frozen_map,
)
from batchops.model.pipeline import (
    FINISHED_STATUSES,
    ArrayDependency,
    EnvVar,
    JobStatus,
    ListedJob,
    ObservedJob,
    Phase,
    PipelineSpec,
    RetrySpec,
    RunRecord,
    StepSpec,
    StepState,
    StepStatus,
    StepStatusEntry,
    ms_to_datetime,
)
from batchops.plans.dag import BATCH_MAX_DEPENDENCIES, is_operator_gated, topological_order
from batchops.plans.jobdefs import (
    PIPELINE_TAG,
    DeregisterJobDefinition,
    RegisterJobDefinition,
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

RERUN_ANNOTATION: Final = "batchops.io/rerun"
TERMINATE_ANNOTATION: Final = "batchops.io/terminate"
"""A new value stops the current run: phase Cancelled, active jobs terminated."""
STEP_TAG: Final = "batchops.io/step"
RUN_TAG: Final = "batchops.io/run-id"

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
    cut and get a hash of the exact input, so distinct inputs never share a name."""
    return batch_name(f"{pipeline}-{step}", run_id)


@dataclass(frozen=True)
class RunRef:
    """Which run of which BatchPipeline."""

    namespace: str
    pipeline: str
    run_id: str

    def job_name(self, step: str) -> str:
        """The Batch job name of `step` in this run."""
        return job_name(self.pipeline, step, self.run_id)


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
    steps: list[StepStatusEntry]


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
    right after still finds this run (and its job names) on restart."""
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
        "steps": [
            StepStatus(
                name=name,
                status="WAITING",
                queue=spec.step(name).queue,
                job_name=run.job_name(name),
                status_reason="not submitted yet",
            ).to_status()
            for name in topological_order(spec)
        ],
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
        if self.container_overrides is not None:
            request["containerOverrides"] = self.container_overrides.request()
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


PipelineAction = RegisterJobDefinition | DeregisterJobDefinition | SubmitJob | TerminateJob


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


# --- submission ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionPlan:
    """Jobs to submit now, in order, and why every other unsubmitted step waits."""

    submit: tuple[SubmitJob, ...]
    waiting: Mapping[str, str]


def _queue_arn(queue: str, queue_arns: Mapping[str, str]) -> str | None:
    return queue if queue.startswith("arn:") else queue_arns.get(queue)


def _submit_job(
    spec: PipelineSpec,
    step: StepSpec,
    run: RunRef,
    queue: str,
    job_definition: str,
    depends_on: tuple[StepDependency, ...],
) -> SubmitJob:
    inline = step.inline
    overrides = None
    if not inline and (step.vcpus or step.memory or step.gpus is not None or step.environment):
        overrides = ContainerOverrides(step.vcpus, step.memory, step.gpus, step.environment)
    return SubmitJob(
        step=step.name,
        job_name=run.job_name(step.name),
        job_queue=queue,
        job_definition=job_definition,
        depends_on=depends_on,
        parameters=MappingProxyType({**spec.parameters, **step.parameters}),
        array_size=step.array_size,
        # An inline step's retry, timeout and tag propagation live in its job definition.
        retry=None if inline else step.retry,
        timeout_seconds=None if inline else step.timeout_seconds,
        container_overrides=overrides,
        tags=MappingProxyType(
            {
                **step.tags,
                PIPELINE_TAG: f"{run.namespace}/{run.pipeline}",
                STEP_TAG: step.name,
                RUN_TAG: run.run_id,
            }
        ),
        propagate_tags=None if inline else step.propagate_tags,
        share_identifier=step.share_identifier,
        scheduling_priority=step.scheduling_priority,
    )


def plan_submissions(
    spec: PipelineSpec,
    run: RunRef,
    submitted: Mapping[str, str],
    step_states: Mapping[str, JobStatus],
    jobdef_arns: Mapping[str, str],
    queue_arns: Mapping[str, str],
) -> SubmissionPlan:
    """SubmitJobs for every step that can go now, in topological order. `submitted` maps step ->
    job id, `step_states` step -> last Batch status, `jobdef_arns` step -> job definition,
    `queue_arns` queue name -> ARN. A step with up to 20 dependencies goes as soon as its
    parents are submitted (Batch holds it); a step with more waits until all succeeded.
    Call it only while the run is not finished (see `aggregate_status`)."""
    steps = {step.name: step for step in spec.steps}
    order = topological_order(spec)
    if spec.fail_fast and any(step_states.get(name) == "FAILED" for name in steps):
        reason = "not submitted: a step failed and failFast stops the run"
        return SubmissionPlan((), {name: reason for name in order if name not in submitted})
    will_have_id = set(submitted)
    submit: list[SubmitJob] = []
    waiting: dict[str, str] = {}
    for name in order:
        if name in submitted:
            continue
        step = steps[name]
        failed = [dep for dep in step.depends_on if step_states.get(dep) == "FAILED"]
        queue = _queue_arn(step.queue, queue_arns)
        job_definition = step.job_definition or jobdef_arns.get(name)
        sequential = step.array_size is not None and step.array_dependency == "SEQUENTIAL"
        own: tuple[StepDependency, ...] = (
            (StepDependency(None, "SEQUENTIAL"),) if sequential else ()
        )
        if failed:
            waiting[name] = f"will not run: dependency {failed[0]} failed"
        elif queue is None:
            waiting[name] = f"waiting for job queue {step.queue!r} to be resolved"
        elif job_definition is None:
            waiting[name] = "waiting for its job definition to be registered"
        elif is_operator_gated(step):
            # Submitted without dependsOn once every parent succeeded; an N_TO_N array
            # dependency therefore waits for whole parents, not index by index.
            done = sum(1 for dep in step.depends_on if step_states.get(dep) == "SUCCEEDED")
            if done < len(step.depends_on):
                waiting[name] = (
                    f"held by batchops until all {len(step.depends_on)} dependencies succeed "
                    f"({done} so far; Batch holds at most {BATCH_MAX_DEPENDENCIES})"
                )
            else:
                submit.append(_submit_job(spec, step, run, queue, job_definition, own))
                will_have_id.add(name)
        else:
            missing = [dep for dep in step.depends_on if dep not in will_have_id]
            if missing:
                waiting[name] = f"waiting for {missing[0]} to be submitted"
                continue
            parents = tuple(
                StepDependency(
                    dep,
                    "N_TO_N"
                    if step.array_dependency == "N_TO_N" and steps[dep].array_size is not None
                    else None,
                )
                for dep in step.depends_on
            )
            submit.append(_submit_job(spec, step, run, queue, job_definition, parents + own))
            will_have_id.add(name)
    return SubmissionPlan(tuple(submit), MappingProxyType(waiting))


# --- recovery after a crash ---------------------------------------------------------------------


@dataclass(frozen=True)
class JobLookup:
    """Find jobs named `job_name` with ListJobs(jobQueue=<queue's ARN>, JOB_NAME filter)."""

    step: str
    job_name: str
    queue: str


def recovery_lookup(
    spec: PipelineSpec, run: RunRef, submitted: Mapping[str, str]
) -> tuple[JobLookup, ...]:
    """ListJobs look-ups for every step without a recorded job id: SubmitJob may have
    succeeded just before a crash, before the id reached the status. Run once per run and
    operator process, before the first submission."""
    return tuple(
        JobLookup(step.name, run.job_name(step.name), step.queue)
        for step in spec.steps
        if step.name not in submitted
    )


@dataclass(frozen=True)
class Adoption:
    """Which found job counts for each step, and the extra copies to stop."""

    job_ids: Mapping[str, str]
    duplicates: tuple[ListedJob, ...]
    stop: tuple[TerminateJob, ...]


def adopt_found_jobs(lookups: Iterable[JobLookup], found: Iterable[ListedJob]) -> Adoption:
    """Per step, the oldest job with exactly its name counts (the JOB_NAME filter ignores
    case, so the name is compared here); any younger copies are duplicates to stop."""
    step_of = {lookup.job_name: lookup.step for lookup in lookups}
    by_step: dict[str, dict[str, ListedJob]] = {}
    for job in found:
        if job.job_name in step_of:
            by_step.setdefault(step_of[job.job_name], {})[job.job_id] = job
    job_ids: dict[str, str] = {}
    duplicates: list[ListedJob] = []
    stop: list[TerminateJob] = []
    for step, jobs in by_step.items():
        ordered = sorted(
            jobs.values(),
            key=lambda j: (j.created_at if j.created_at is not None else 2**63, j.job_id),
        )
        job_ids[step] = ordered[0].job_id
        for extra in ordered[1:]:
            duplicates.append(extra)
            reason = f"batchops: duplicate of job {ordered[0].job_id} for step {step}"
            action = stop_job(step, extra.job_id, extra.status, reason)
            if action is not None:
                stop.append(action)
    return Adoption(MappingProxyType(job_ids), tuple(duplicates), tuple(stop))


def merge_observations(
    job_ids: Mapping[str, str],
    described: Iterable[ObservedJob],
    recorded: Mapping[str, ObservedJob],
) -> dict[str, ObservedJob]:
    """step -> latest known job: DescribeJobs results where Batch still has the job, else the
    state last written to status (Batch forgets finished jobs after about 7 days)."""
    fresh = {job.job_id: job for job in described}
    result: dict[str, ObservedJob] = {}
    for step, job_id in job_ids.items():
        if job_id in fresh:
            result[step] = fresh[job_id]
        elif step in recorded and recorded[step].job_id == job_id:
            result[step] = recorded[step]
        else:
            result[step] = ObservedJob(job_id=job_id, job_name="", status="SUBMITTED")
    return result


# --- status -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunAssessment:
    """Everything the status of a run says, plus the jobs to stop when it ended early.
    `conditions` carry `now` as transition time: merge them with `kube.status.merge_conditions`,
    which keeps the old time when a status did not change."""

    phase: Phase
    reason: RunReason
    progress: str
    message: str
    duration: str | None
    finished_at: datetime | None
    steps: tuple[StepStatus, ...]
    conditions: tuple[Condition, ...]
    stop: tuple[TerminateJob, ...]
    active_job_ids: tuple[str, ...]

    @property
    def finished(self) -> bool:
        """True once the run has a final phase (its jobs may still be stopping)."""
        return self.phase in ("Succeeded", "Failed", "Cancelled")

    @property
    def settled(self) -> bool:
        """The run is finished and none of its jobs is still active in Batch: polling can stop.
        (A running run with no active job is waiting on the operator itself: a fan-in step
        held until its dependencies succeeded.)"""
        return self.finished and not self.active_job_ids

    def status_fields(self) -> RunStatusFields:
        """Phase, progress, message, duration, finishedAt and steps for a status patch."""
        return {
            "phase": self.phase,
            "progress": self.progress,
            "message": self.message,
            "duration": self.duration,
            "finishedAt": format_time(self.finished_at) if self.finished_at else None,
            "steps": [step.to_status() for step in self.steps],
        }


_ACTIVITY_RANK: Final[Mapping[str, int]] = {
    "RUNNING": 0,
    "STARTING": 1,
    "RUNNABLE": 2,
    "SUBMITTED": 3,
    "PENDING": 4,
}


def human_duration(seconds: float) -> str:
    """Like kubectl's durations: 45s, 3m12s, 25m, 5h3m, 2d4h; coarser as it grows, so a
    running pipeline's status does not change on every poll."""
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    return f"{hours // 24}d"


def queue_wait_seconds(job: ObservedJob, parents: Iterable[ObservedJob]) -> int | None:
    """Seconds between a job becoming runnable (the later of its creation and its parents'
    stop) and its first attempt starting: the time spent waiting for capacity."""
    if job.first_started_at is None or job.created_at is None:
        return None
    ready = max([job.created_at, *(p.stopped_at for p in parents if p.stopped_at is not None)])
    return max(0, round((job.first_started_at - ready) / 1000))


def _failure_detail(job: ObservedJob) -> str:
    detail = job.container_reason or job.status_reason or "no reason given"
    if job.exit_code:
        detail += f" (exit code {job.exit_code})"
    if job.attempts > 1:
        detail += f" after {job.attempts} attempts"
    return detail


def _event_ms(job: ObservedJob) -> int:
    """When a finished job ended, for ordering; 0 if Batch gave no time at all."""
    return job.stopped_at or job.started_at or job.created_at or 0


def run_conditions(
    phase: Phase,
    reason: RunReason,
    message: str,
    settled: bool,
    now: datetime,
    generation: int,
) -> tuple[Condition, ...]:
    """The four conditions of a run in `phase`, so that kstatus (Reconciling/Stalled) and the
    Argo CD health check (phase) read it alike: Pending/Running -> Reconciling=True (InProgress,
    Progressing); Succeeded -> neither (Current, Healthy); Failed/Cancelled -> Stalled=True with
    the run's reason (StepFailed, DeadlineExceeded, Terminated, InvalidSpec: Failed, Degraded).
    Never both abnormal-true conditions at once: kstatus would take whichever is listed first.
    A run that ended while some of its jobs are still being stopped says so in Reconciling's
    reason (StoppingJobs) without being InProgress: its outcome is already decided."""

    def condition(kind: str, status: ConditionStatus, why: str) -> Condition:
        return Condition(kind, status, why, message, now, generation)

    if phase not in ("Succeeded", "Failed", "Cancelled"):
        reconciling = condition("Reconciling", "True", reason)
    else:
        reconciling = condition("Reconciling", "False", reason if settled else "StoppingJobs")
    stalled = phase in ("Failed", "Cancelled")
    return (
        condition("Complete", "True" if phase == "Succeeded" else "False", reason),
        condition("Failed", "True" if phase == "Failed" else "False", reason),
        reconciling,
        condition("Stalled", "True" if stalled else "False", reason),
    )


def _step_states(
    spec: PipelineSpec, order: list[str], observed: Mapping[str, ObservedJob]
) -> tuple[dict[str, StepState], dict[str, str]]:
    """Each step's state: Batch's for submitted steps; for the others FAILED when a
    dependency failed (Batch fails the dependents it holds, the operator the ones it never
    saw), else WAITING. Also the operator's reason for the states it decided."""
    steps = {step.name: step for step in spec.steps}
    states: dict[str, StepState] = {}
    reasons: dict[str, str] = {}
    for name in order:
        job = observed.get(name)
        if job is not None:
            states[name] = job.status
            continue
        failed_parent = next((p for p in steps[name].depends_on if states.get(p) == "FAILED"), None)
        if failed_parent is not None:
            states[name] = "FAILED"
            reasons[name] = f"dependency {failed_parent} failed"
        elif is_operator_gated(steps[name]):
            states[name] = "WAITING"
            reasons[name] = (
                f"held by batchops until all {len(steps[name].depends_on)} dependencies succeed"
            )
        else:
            states[name] = "WAITING"
            reasons[name] = "not submitted yet"
    return states, reasons


@dataclass(frozen=True)
class _Outcome:
    phase: Phase
    reason: RunReason
    finished_at: datetime | None
    first_failure: str | None


def _outcome(
    spec: PipelineSpec,
    order: list[str],
    observed: Mapping[str, ObservedJob],
    states: Mapping[str, StepState],
    now: datetime,
    started_at: datetime | None,
) -> _Outcome:
    """Phase and reason of the run. A finished run's end comes from Batch's timestamps, never
    from `now`, so evaluating it again later gives the same answer."""
    position = {name: index for index, name in enumerate(order)}
    # A job that never started failed because of another (a dependency): the root cause is
    # the earliest job that ran and failed.
    failures = sorted(
        (job.started_at is None, _event_ms(job), position[name], name)
        for name, job in observed.items()
        if job.status == "FAILED" and name in position
    )
    first_failure = failures[0][3] if failures else None
    stopped = [job.stopped_at for job in observed.values() if job.stopped_at is not None]
    deadline_at = (
        started_at + timedelta(seconds=spec.active_deadline_seconds)
        if started_at is not None and spec.active_deadline_seconds is not None
        else None
    )
    if all(states[name] == "SUCCEEDED" for name in order):
        end = ms_to_datetime(max(stopped)) if stopped else now
        return _Outcome("Succeeded", "Succeeded", end, None)
    all_final = all(states[name] in ("SUCCEEDED", "FAILED") for name in order)
    if failures and (spec.fail_fast or all_final):
        # failFast ends the run at the first failure; otherwise when the last job stopped.
        last = max(stopped, default=max(f[1] for f in failures))
        end = ms_to_datetime(min(f[1] for f in failures) if spec.fail_fast else last)
        if deadline_at is None or end <= deadline_at:
            return _Outcome("Failed", "StepFailed", end, first_failure)
        # It ended after the deadline: the deadline stopped it, whatever failed on the way.
        return _Outcome("Failed", "DeadlineExceeded", deadline_at, first_failure)
    if deadline_at is not None and now >= deadline_at:
        return _Outcome("Failed", "DeadlineExceeded", deadline_at, first_failure)
    if observed:
        return _Outcome("Running", "Running", None, first_failure)
    return _Outcome("Pending", "Pending", None, None)


def aggregate_status(
    spec: PipelineSpec,
    steps_observed: Mapping[str, ObservedJob],
    now: datetime,
    started_at: datetime | None,
    *,
    generation: int,
    run: RunRef | None = None,
    terminated_at: datetime | None = None,
) -> RunAssessment:
    """The run's phase, progress, message, per-step status and conditions from the latest
    observed jobs (step -> job; steps not submitted are absent), and the jobs to stop when the
    run failed (failFast, or activeDeadlineSeconds exceeded) or was terminated on request at
    `terminated_at` (Cancelled, unless it had already ended). `run` adds job names to steps
    not submitted yet; `generation` goes into the conditions."""
    order = topological_order(spec)
    states, reasons = _step_states(spec, order, steps_observed)
    outcome = _outcome(spec, order, steps_observed, states, now, started_at)
    if terminated_at is not None and not (
        outcome.phase == "Succeeded"
        and outcome.finished_at is not None
        and outcome.finished_at <= terminated_at
    ):
        # Jobs stopped on request end FAILED in Batch: that is the termination, not a failure.
        # Only a run that had already succeeded when the request came keeps its phase.
        outcome = _Outcome("Cancelled", "Terminated", terminated_at, outcome.first_failure)
    if outcome.phase in ("Failed", "Cancelled"):
        cause = {
            "StepFailed": f"step {outcome.first_failure} failed",
            "DeadlineExceeded": "activeDeadlineSeconds exceeded",
        }.get(outcome.reason, "the run was terminated")
        for name in order:
            if states[name] == "WAITING":
                states[name] = "CANCELLED"
                reasons[name] = f"not submitted: {cause}"
    message = _message(spec, order, steps_observed, states, reasons, outcome)

    stop: list[TerminateJob] = []
    if outcome.phase in ("Failed", "Cancelled"):
        why = f"batchops: {message}"[:1024]
        for name in order:
            job = steps_observed.get(name)
            action = None
            if job is not None:
                action = stop_job(name, job.job_id, job.status, why, repeated=job.stop_requested)
            if action is not None:
                stop.append(action)
    active = tuple(
        steps_observed[name].job_id
        for name in order
        if name in steps_observed and not steps_observed[name].finished
    )
    steps = {step.name: step for step in spec.steps}
    duration = None
    if started_at is not None:
        duration = human_duration(((outcome.finished_at or now) - started_at).total_seconds())
    return RunAssessment(
        phase=outcome.phase,
        reason=outcome.reason,
        progress=f"{sum(1 for n in order if states[n] == 'SUCCEEDED')}/{len(order)}",
        message=message,
        duration=duration,
        finished_at=outcome.finished_at,
        steps=tuple(
            _step_status(steps[name], steps_observed, states[name], reasons.get(name), run)
            for name in order
        ),
        conditions=run_conditions(
            outcome.phase, outcome.reason, message, not active, now, generation
        ),
        stop=tuple(stop),
        active_job_ids=active,
    )


def _message(
    spec: PipelineSpec,
    order: list[str],
    observed: Mapping[str, ObservedJob],
    states: Mapping[str, StepState],
    reasons: Mapping[str, str],
    outcome: _Outcome,
) -> str:
    if outcome.phase == "Succeeded":
        return f"all {len(order)} steps succeeded"
    if outcome.reason == "Terminated":
        return "terminated on request (batchops.io/terminate)"
    if outcome.reason == "DeadlineExceeded":
        return f"activeDeadlineSeconds ({spec.active_deadline_seconds}s) exceeded"
    if outcome.phase == "Failed" and outcome.first_failure is not None:
        name = outcome.first_failure
        return f"{name} failed: {_failure_detail(observed[name])}"
    if outcome.phase == "Pending":
        return f"submitting {len(order)} steps"
    failed_count = sum(1 for name in order if states[name] == "FAILED")
    prefix = f"{failed_count} failed; " if failed_count else ""
    active = sorted(
        (_ACTIVITY_RANK[states[name]], position, name)
        for position, name in enumerate(order)
        if states[name] in _ACTIVITY_RANK
    )
    if active:
        _, _, name = active[0]
        more = f" (+{len(active) - 1} more)" if len(active) > 1 else ""
        return f"{prefix}{name} {states[name]} on {spec.step(name).queue}{more}"
    waiting = [name for name in order if states[name] == "WAITING"]
    if waiting:
        return f"{prefix}{waiting[0]} {reasons[waiting[0]]}"
    return f"{prefix}waiting for Batch"


def _step_status(
    step: StepSpec,
    observed: Mapping[str, ObservedJob],
    state: StepState,
    reason: str | None,
    run: RunRef | None,
) -> StepStatus:
    job = observed.get(step.name)
    if job is None:
        return StepStatus(
            name=step.name,
            status=state,
            queue=step.queue,
            job_name=run.job_name(step.name) if run else None,
            status_reason=reason,
        )
    parents = [observed[dep] for dep in step.depends_on if dep in observed]
    return StepStatus(
        name=step.name,
        status=job.status,
        queue=step.queue,
        job_id=job.job_id,
        job_name=job.job_name or (run.job_name(step.name) if run else None),
        job_arn=job.job_arn,
        job_definition=job.job_definition,
        status_reason=_status_reason(job),
        attempts=job.attempts,
        exit_code=job.exit_code,
        created_at=job.created_at,
        started_at=job.started_at,
        stopped_at=job.stopped_at,
        queue_wait_seconds=queue_wait_seconds(job, parents),
        log_stream=job.log_stream,
        array_status_summary=job.array_status_summary,
    )


def _status_reason(job: ObservedJob) -> str | None:
    """Batch's statusReason; for a failure also the container's reason, which says more
    ("Essential container in task exited" vs "OutOfMemoryError: Container killed ...")."""
    if (
        job.status == "FAILED"
        and job.container_reason
        and job.container_reason != job.status_reason
    ):
        return (
            f"{job.status_reason}: {job.container_reason}"
            if job.status_reason
            else job.container_reason
        )
    return job.status_reason


def invalid_spec_assessment(message: str, now: datetime, *, generation: int) -> RunAssessment:
    """Status for a spec that cannot run (SpecError or DAG problems): Failed with reason
    InvalidSpec, Stalled=True, nothing submitted."""
    return RunAssessment(
        phase="Failed",
        reason="InvalidSpec",
        progress="0/0",
        message=message,
        duration=None,
        finished_at=None,
        steps=(),
        conditions=run_conditions("Failed", "InvalidSpec", message, True, now, generation),
        stop=(),
        active_job_ids=(),
    )


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
