"""A run's status from what Batch reports: phase, progress, per-step states, conditions, and the
jobs to stop when the run failed or was terminated (`aggregate_status`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from batchops.model.common import Condition, ConditionStatus, format_time
from batchops.model.observed import (
    CompactedEntry,
    ObservedJob,
    Phase,
    RunRecord,
    StepState,
    StepStatus,
    UsageEntry,
    ms_to_datetime,
)
from batchops.model.pipeline import PipelineSpec, StepSpec
from batchops.plans.compaction import compact_steps
from batchops.plans.dag import is_operator_gated, topological_order
from batchops.plans.history import step_history
from batchops.plans.runs import RunReason, RunRef, RunStatusFields, TerminateJob, stop_job
from batchops.plans.usage import NO_CAPACITY, CapacityKind, step_usage

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
    usage: UsageEntry | None = None
    """What the run's attempts reserved, summed over steps (`plans.usage`)."""
    compacted: CompactedEntry | None = None
    """The steps cut to a short entry to keep the object small (`plans.compaction`)."""

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
        """Phase, progress, message, duration, finishedAt, steps and usage for a status patch."""
        fields: RunStatusFields = {
            "phase": self.phase,
            "progress": self.progress,
            "message": self.message,
            "duration": self.duration,
            "finishedAt": format_time(self.finished_at) if self.finished_at else None,
            "steps": [step.to_status() for step in self.steps],
        }
        if self.usage is not None:
            fields["usage"] = self.usage
        fields["compacted"] = self.compacted
        return fields


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


def _failure_detail(job: ObservedJob, step: StepSpec, record: RunRecord) -> str:
    detail = job.container_reason or job.status_reason or "no reason given"
    if job.exit_code:
        detail += f" (exit code {job.exit_code})"
    if job.attempts > 1:
        detail += f" after {job.attempts} attempts"
    if job.interrupted:
        policy = step.retry.on_interruption if step.retry is not None else None
        detail += (
            f"; host lost {record.step(step.name).interruptions + 1} time(s), no resubmission "
            f"left (retry.onInterruption.resubmits: {policy.resubmits})"
            if policy is not None
            else "; the host went away (retry.onInterruption would resubmit the step)"
        )
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
    record: RunRecord | None = None,
    capacity: Mapping[str, CapacityKind] = NO_CAPACITY,
) -> RunAssessment:
    """The run's phase, progress, message, per-step status and conditions from the latest
    observed jobs (step -> job; steps not submitted are absent), and the jobs to stop when the
    run failed (failFast, or activeDeadlineSeconds exceeded) or was terminated on request at
    `terminated_at` (Cancelled, unless it had already ended). `run` adds job names to steps
    not submitted yet; `generation` goes into the conditions; `record` (the previous status)
    carries resubmissions and attempt history forward; `capacity` (queue -> spot/onDemand)
    splits the usage."""
    record = record if record is not None else RunRecord()
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
    message = _message(spec, order, steps_observed, states, reasons, outcome, record)

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
    compacted = compact_steps(
        [
            _step_status(
                steps[name],
                steps_observed,
                states[name],
                reasons.get(name),
                run,
                record,
                now,
                capacity,
            )
            for name in order
        ],
        record,
    )
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
        steps=compacted.steps,
        conditions=run_conditions(
            outcome.phase, outcome.reason, message, not active, now, generation
        ),
        stop=tuple(stop),
        active_job_ids=active,
        usage=compacted.run_usage.to_status(),
        compacted=compacted.to_status(),
    )


def _message(
    spec: PipelineSpec,
    order: list[str],
    observed: Mapping[str, ObservedJob],
    states: Mapping[str, StepState],
    reasons: Mapping[str, str],
    outcome: _Outcome,
    record: RunRecord,
) -> str:
    if outcome.phase == "Succeeded":
        return f"all {len(order)} steps succeeded"
    if outcome.reason == "Terminated":
        return "terminated on request (batchops.io/terminate)"
    if outcome.reason == "DeadlineExceeded":
        return f"activeDeadlineSeconds ({spec.active_deadline_seconds}s) exceeded"
    if outcome.phase == "Failed" and outcome.first_failure is not None:
        name = outcome.first_failure
        return f"{name} failed: {_failure_detail(observed[name], spec.step(name), record)}"
    if outcome.phase == "Pending":
        return f"submitting {len(order)} steps"
    failed_count = sum(1 for name in order if states[name] == "FAILED")
    prefix = f"{failed_count} failed; " if failed_count else ""
    blocked = [name for name in order if name in observed and observed[name].blocked_reason]
    if blocked:
        # A job that cannot run says so first: nothing else will move until someone acts.
        name = blocked[0]
        queue = record.step(name).queue or spec.step(name).queue
        return f"{prefix}{name} blocked on {queue}: {observed[name].blocked_reason}"
    active = sorted(
        (_ACTIVITY_RANK[states[name]], position, name)
        for position, name in enumerate(order)
        if states[name] in _ACTIVITY_RANK
    )
    if active:
        _, _, name = active[0]
        more = f" (+{len(active) - 1} more)" if len(active) > 1 else ""
        queue = record.step(name).queue or spec.step(name).queue
        return f"{prefix}{name} {states[name]} on {queue}{more}"
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
    record: RunRecord,
    now: datetime,
    capacity: Mapping[str, CapacityKind],
) -> StepStatus:
    job = observed.get(step.name)
    kept = record.step(step.name)
    queue = kept.queue or step.queue
    history = step_history(kept, job, queue)
    usage = step_usage(step, history.entries, round(now.timestamp() * 1000), capacity)
    # No attempt yet (no job, or one not started): nothing used, nothing said.
    used = usage.to_status() if usage is not None and history.entries else None
    if job is None:
        return StepStatus(
            name=step.name,
            status=state,
            queue=queue,
            job_name=run.job_name(step.name, kept.resubmission) if run else None,
            status_reason=reason,
            resubmission=kept.resubmission,
            interruptions=kept.interruptions,
            history=history.entries,
            history_dropped=history.dropped,
            usage=used,
        )
    parents = [observed[dep] for dep in step.depends_on if dep in observed]
    return StepStatus(
        name=step.name,
        status=job.status,
        queue=queue,
        job_id=job.job_id,
        job_name=job.job_name or (run.job_name(step.name, kept.resubmission) if run else None),
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
        resubmission=kept.resubmission,
        interruptions=kept.interruptions,
        history=history.entries,
        history_dropped=history.dropped,
        usage=used,
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
