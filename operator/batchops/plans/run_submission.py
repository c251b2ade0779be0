"""Which jobs of a run go to Batch now, and how a run finds its jobs again after a crash.

`plan_submissions` turns the run's DAG and what DescribeJobs reports into SubmitJob actions for
every step whose dependencies allow it; after a restart, `recovery_lookup` -> ListJobs ->
`adopt_found_jobs` finds jobs submitted before the crash, so none is submitted twice.

Job ids reach status once per batch of up to `SUBMISSIONS_PER_WRITE` SubmitJobs, not once per
job. What makes that safe is the write before the batch: it records `submittingSince`, and a
process that finds it set (a crash mid-batch) waits until ListJobs lists every job submitted
since then (`listing_wait`) before it looks, so a job ListJobs does not show yet is never
submitted a second time. Writing each id before the next SubmitJob would not remove that
window (a crash between SubmitJob's reply and the write leaves the same gap, one job wide),
only narrow it; the wait closes it for any batch size.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from batchops.model.keys import PIPELINE_TAG, RUN_TAG, STEP_TAG
from batchops.model.observed import JobStatus, ListedJob, ObservedJob, RunRecord
from batchops.model.pipeline import PipelineSpec, StepSpec
from batchops.model.request_surface import JsonValue, freeze_json
from batchops.plans.dag import BATCH_MAX_DEPENDENCIES, is_operator_gated, topological_order
from batchops.plans.jobdefs import consumable_resource_properties
from batchops.plans.runs import (
    ContainerOverrides,
    RunRef,
    StepDependency,
    SubmitJob,
    TerminateJob,
    stop_job,
)
from batchops.plans.scheduled_time import scheduled_time_overrides

# --- submission ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionPlan:
    """Jobs to submit now, in order, and why every other unsubmitted step waits."""

    submit: tuple[SubmitJob, ...]
    waiting: Mapping[str, str]


def _queue_arn(queue: str, queue_arns: Mapping[str, str]) -> str | None:
    return queue if queue.startswith("arn:") else queue_arns.get(queue)


_NO_RECORD = RunRecord()


def step_queue(step: StepSpec, record: RunRecord) -> str:
    """The queue of the step's current job: its own, or the one a resubmission moved it to."""
    return record.step(step.name).queue or step.queue


def _submit_job(
    spec: PipelineSpec,
    step: StepSpec,
    run: RunRef,
    queue: str,
    job_definition: str,
    depends_on: tuple[StepDependency, ...],
    resubmission: int = 0,
) -> SubmitJob:
    inline = step.inline
    overrides = None
    if not inline and (step.vcpus or step.memory or step.gpus is not None or step.environment):
        overrides = ContainerOverrides(step.vcpus, step.memory, step.gpus, step.environment)
    parameters = MappingProxyType({**spec.parameters, **step.parameters})
    return SubmitJob(
        step=step.name,
        job_name=run.job_name(step.name, resubmission),
        job_queue=queue,
        job_definition=job_definition,
        depends_on=depends_on,
        parameters=parameters,
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
        # A cron run's time reaches an inline step's environment as an override, never through
        # its (shared, content-hashed) job definition: plans/scheduled_time.py.
        overrides=_definition_overrides(step)
        if step.kind == "jobDefinition"
        else scheduled_time_overrides(step, parameters),
    )


def _definition_overrides(step: StepSpec) -> Mapping[str, JsonValue]:
    """A jobDefinition step's SubmitJob overrides: as written, and its resource claims, which
    replace the definition's (SubmitJob.consumableResourcePropertiesOverride)."""
    if not step.consumable_resources:
        return step.batch_fields
    claims = freeze_json(consumable_resource_properties(step))
    return MappingProxyType({**step.batch_fields, "consumableResourcePropertiesOverride": claims})


def plan_submissions(
    spec: PipelineSpec,
    run: RunRef,
    submitted: Mapping[str, str],
    step_states: Mapping[str, JobStatus],
    jobdef_arns: Mapping[str, str],
    queue_arns: Mapping[str, str],
    record: RunRecord = _NO_RECORD,
) -> SubmissionPlan:
    """SubmitJobs for every step that can go now, in topological order. `submitted` maps step ->
    job id, `step_states` step -> last Batch status, `jobdef_arns` step -> job definition,
    `queue_arns` queue name -> ARN. A step with up to 20 dependencies goes as soon as its
    parents are submitted (Batch holds it); a step with more waits until all succeeded.
    `record` says which steps are resubmissions (their job names and queues). Call it only
    while the run is not finished (see `aggregate_status`)."""
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
        wanted_queue = step_queue(step, record)
        queue = _queue_arn(wanted_queue, queue_arns)
        resubmission = record.step(name).resubmission
        job_definition = step.job_definition or jobdef_arns.get(name)
        sequential = step.array_size is not None and step.array_dependency == "SEQUENTIAL"
        own: tuple[StepDependency, ...] = (
            (StepDependency(None, "SEQUENTIAL"),) if sequential else ()
        )
        if failed:
            waiting[name] = f"will not run: dependency {failed[0]} failed"
        elif queue is None:
            waiting[name] = f"waiting for job queue {wanted_queue!r} to be resolved"
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
                submit.append(
                    _submit_job(spec, step, run, queue, job_definition, own, resubmission)
                )
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
            submit.append(
                _submit_job(spec, step, run, queue, job_definition, parents + own, resubmission)
            )
            will_have_id.add(name)
    return SubmissionPlan(tuple(submit), MappingProxyType(waiting))


def submission_batches(plan: SubmissionPlan) -> Iterator[tuple[SubmitJob, ...]]:
    """The plan's SubmitJobs in order, `SUBMISSIONS_PER_WRITE` at a time: each batch's ids
    are written to status together."""
    for start in range(0, len(plan.submit), SUBMISSIONS_PER_WRITE):
        yield plan.submit[start : start + SUBMISSIONS_PER_WRITE]


def submission_waves(
    batch: Sequence[SubmitJob], have_ids: Collection[str]
) -> Iterator[tuple[SubmitJob, ...]]:
    """`batch` in waves whose SubmitJobs may be in flight together: each one's parent steps
    have job ids before its wave starts (in `have_ids`, or from an earlier wave). A chain goes
    one by one; a fan-out's leaves go together once their root has its id."""
    known = set(have_ids)
    pending = list(batch)
    while pending:
        wave = tuple(s for s in pending if all(p in known for p in s.parent_steps))
        if not wave:  # a parent outside the batch without an id: `request` will say which
            wave = (pending[0],)
        placed = {s.step for s in wave}
        known |= placed
        pending = [s for s in pending if s.step not in placed]
        yield wave


SUBMISSIONS_PER_WRITE = 50
"""One second of SubmitJob at AWS's rate quota (50/s per account): a crash loses at most that
many ids to ListJobs recovery, and a 1,000-job fan-out writes its status 21 times, not 1,001."""


# --- recovery after a crash ---------------------------------------------------------------------


LISTING_DELAY = timedelta(seconds=10)
"""How long after SubmitJob a job may still be missing from ListJobs. The Batch API reference
promises ListJobs no read-after-write consistency and names no bound, so this is a margin, not
a quoted figure; the emulator's eventualConsistencySeconds fault reproduces such a gap."""


def listing_wait(noticed_at: datetime, now: datetime) -> float:
    """Seconds before ListJobs may be asked for the jobs of a batch status says was in flight
    (`submittingSince`), counted from when this process `noticed_at` it: by then every SubmitJob
    of that batch had returned, or the process that made them was gone (a pass cut short in
    this process, or a predecessor that crashed)."""
    return max(0.0, (noticed_at + LISTING_DELAY - now).total_seconds())


@dataclass(frozen=True)
class JobLookup:
    """Find jobs named `job_name` with ListJobs(jobQueue=<queue's ARN>, JOB_NAME filter)."""

    step: str
    job_name: str
    queue: str


def recovery_lookup(
    spec: PipelineSpec, run: RunRef, submitted: Mapping[str, str], record: RunRecord = _NO_RECORD
) -> tuple[JobLookup, ...]:
    """ListJobs look-ups for every step without a recorded job id: SubmitJob may have
    succeeded just before a crash, before the id reached the status. Run once per run and
    operator process, before the first submission. A resubmitted step is looked for under its
    resubmission's name, on its new queue and on the step's own."""
    lookups: list[JobLookup] = []
    for step in spec.steps:
        if step.name in submitted:
            continue
        name = run.job_name(step.name, record.step(step.name).resubmission)
        for queue in dict.fromkeys((step_queue(step, record), step.queue)):
            lookups.append(JobLookup(step.name, name, queue))
    return tuple(lookups)


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
