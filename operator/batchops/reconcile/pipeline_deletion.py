"""A deleted BatchPipeline's finalizer: stop the run's jobs, then hold the object until Batch
reports them finished (bounded by `Timing.job_stop_wait`, so a deletion never hangs on Batch).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from batchops.aws.batch import BatchApi
from batchops.aws.errors import Retryable, Terminal
from batchops.jobs.describer import JobDescriber
from batchops.kube import status as conditions
from batchops.model.common import SpecError, parse_time
from batchops.model.observed import ObservedJob, RunRecord
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans import run_submission, runs
from batchops.reconcile.common import FinalizeOutcome, ObjectSnapshot, PassRecorder, Timing


def finalize_pipeline(
    obj: ObjectSnapshot,
    batch: Callable[[], BatchApi],
    timing: Timing,
    now: Callable[[], datetime],
    describe_known: JobDescriber,
    describe_fresh: JobDescriber,
) -> FinalizeOutcome:
    """One pass of the finalizer: TerminateJob for every job of the run not known to be
    finished (unless terminateOnDelete is false), then ask Batch afresh whether they all
    are. `done` once Batch reports them finished or forgot them, or after
    `Timing.job_stop_wait` (with a Warning event): a deletion never hangs on Batch.
    `describe_known` may answer from the poller's cache; `describe_fresh` asks Batch."""
    rec = PassRecorder(obj, now)
    status = {k: v for k, v in obj.status.items() if k != "conditions"}
    try:
        spec = parse_pipeline_spec(obj.spec)
    except SpecError:
        return FinalizeOutcome(True, 0, status, rec)
    record = RunRecord.from_status(obj.status)
    if not record.job_ids:
        return FinalizeOutcome(True, 0, status, rec)
    ids = list(record.job_ids.values())
    waited = _deleting_for(obj, now())

    def plan(observed: Mapping[str, ObservedJob]) -> runs.DeletionPlan:
        return runs.plan_deletion(
            spec,
            observed,
            waited_seconds=waited,
            max_wait_seconds=timing.job_stop_wait,
        )

    api = batch()
    try:
        known = describe_known(ids)
    except (Retryable, Terminal):
        known = []  # the status written last stands in: TerminateJob fits any state
    deletion = plan(run_submission.merge_observations(record.job_ids, known, record.jobs))
    failures = []
    for action in deletion.stop:
        try:
            api.terminate_job(action.job_id, action.reason)
        except (Retryable, Terminal) as exc:
            failures.append(f"{action.step}: {exc}")
            continue
        if not action.repeated:
            rec.event("Normal", "JobStopped", f"{action.step}: {action.reason}"[:1024])
    if deletion.stop:
        # Confirm with Batch itself, not a cache: a job it no longer lists is gone.
        try:
            fresh = {job.job_id: job for job in describe_fresh(ids)}
        except (Retryable, Terminal) as exc:
            failures.append(f"DescribeJobs: {exc}")
        else:
            deletion = plan(
                {step: fresh[job_id] for step, job_id in record.job_ids.items() if job_id in fresh}
            )
    if deletion.release:
        if deletion.warning is not None:
            rec.event("Warning", "JobsNotConfirmedStopped", deletion.warning)
        return FinalizeOutcome(True, 0, status, rec)
    active = ", ".join(f"{action.step} ({action.job_id})" for action in deletion.stop)
    message = f"waiting for Batch to report stopped job(s) {active} finished"
    if failures:
        message += "; " + "; ".join(failures)
    rec.condition(conditions.RECONCILING, True, "StoppingJobs", message[:1024])
    delay = timing.retry if failures else timing.transition
    # Setting deletionTimestamp raised metadata.generation: this status describes it.
    status["observedGeneration"] = obj.generation
    return FinalizeOutcome(False, delay, rec.with_conditions(status), rec)


def _deleting_for(obj: ObjectSnapshot, now: datetime) -> float:
    """Seconds since the deletion was requested (metadata.deletionTimestamp)."""
    requested = obj.body.get("metadata", {}).get("deletionTimestamp")
    if not isinstance(requested, str):
        return 0.0
    return max(0.0, (now - parse_time(requested)).total_seconds())
