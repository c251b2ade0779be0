"""BatchPipeline: one run of a DAG, submitted exactly once, its job states written back.

A pass: parse and validate (nothing touches AWS for an invalid spec) → start a run if one is due
(its status, with the run id that names every job, is written before any submission) → after a
restart, find jobs submitted before the crash with ListJobs (waiting first if a batch of
submissions was cut short) → register or reuse job definitions → submit whatever may go now,
in batches announced in status before and recorded in status after (run_submission.py says
why that is exactly-once) → fold the latest job states into status → stop jobs of a run that
failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from batchops.aws.batch import BatchApi
from batchops.aws.errors import Retryable, Terminal
from batchops.jobs.blocked import BlockedQueues
from batchops.jobs.catalog import JobDefinitionCatalog
from batchops.jobs.describer import JobDescriber
from batchops.kube import status as conditions
from batchops.model import keys
from batchops.model.account import Target
from batchops.model.common import (
    format_time,
    parse_time,
)
from batchops.model.observed import (
    ListedJob,
    ObservedJob,
    RunRecord,
    job_definitions_in_status,
)
from batchops.model.pipeline import PipelineSpec
from batchops.plans import compaction, dag, resubmission, run_status, run_submission, runs
from batchops.plans.accounts import AccountRefusal, NamespaceUnknown
from batchops.plans.jobdefs import DefinitionScope
from batchops.plans.usage import CapacityKind, Usage
from batchops.reconcile.common import (
    NO_OTHER_TENANTS,
    FinalizeOutcome,
    ObjectSnapshot,
    PassRecorder,
    StatusWriter,
    Tenancy,
    Timing,
    stall_reason,
)
from batchops.reconcile.pipeline_admission import (
    Admission,
    PipelineOutcome,
    admit,
    with_conditions,
)
from batchops.reconcile.pipeline_deletion import finalize_pipeline
from batchops.reconcile.pipeline_jobdefs import resolve_job_definitions, retire_unused_definitions


@dataclass
class PipelineReconciler:
    """Reconciles one BatchPipeline; lives as long as the object's loop in this process."""

    api_for_region: Callable[[Target], BatchApi]
    """The Batch API of an account and region (plans/accounts.py picks the target)."""
    timing: Timing
    region: str | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    observe_submit_latency: Callable[[float], None] = lambda seconds: None
    """Told the seconds from a run's start to each up-front SubmitJob (the metrics module)."""
    catalog_for_region: Callable[[Target], JobDefinitionCatalog] | None = None
    """The operator's shared job definition catalogs; by default this reconciler's own."""
    describers: Callable[[Target], tuple[JobDescriber, JobDescriber]] | None = None
    """(cached, fresh) DescribeJobs where a target's jobs live (the shared job watch's); by
    default the describers each call is given."""
    tenancy: Tenancy = NO_OTHER_TENANTS
    """Which namespaces may use other namespaces' queues by ARN (by default: none)."""
    blocked: BlockedQueues = field(default_factory=BlockedQueues)
    """Where the jobs Batch holds as blocked are reported, for the queues' Blocked condition."""
    queue_capacity: Mapping[str, CapacityKind] = field(default_factory=dict)
    """Queue → spot/onDemand for the usage split; the handler refreshes it before each pass."""
    cluster: Callable[[], str | None] = lambda: None
    """The uid naming this cluster on the job definitions it registers (`DefinitionScope`)."""
    definitions_in_status: Callable[[str], Mapping[str, Collection[str]]] = lambda namespace: {}
    """Pipeline name → the job definitions its status names, for every BatchPipeline of a
    namespace (a kopf index, so a restart knows them): what retirement must keep."""
    _recovered_runs: set[str] = field(default_factory=set)
    _job_definitions: dict[str, dict[str, str]] = field(default_factory=dict)
    _retired_runs: set[str] = field(default_factory=set)
    _listing_noticed: dict[str, datetime] = field(default_factory=dict)
    """Runs whose status says a batch of SubmitJobs was in flight, and when this process first
    saw that: ListJobs is asked for their jobs once `run_submission.listing_wait` allows."""
    _run_started: dict[str, float] = field(default_factory=dict)
    """Monotonic start of the runs this process started (status times have 1 s resolution)."""
    _target: Target = field(default_factory=Target)
    """Where the current pass acts."""

    def __post_init__(self) -> None:
        if self.catalog_for_region is None:
            own: dict[Target, JobDefinitionCatalog] = {}

            def catalog(target: Target) -> JobDefinitionCatalog:
                if target not in own:
                    api = self.api_for_region(target)
                    own[target] = JobDefinitionCatalog(api.describe_all_job_definitions)
                return own[target]

            self.catalog_for_region = catalog

    def reconcile(
        self,
        obj: ObjectSnapshot,
        queue_arns: Mapping[str, str | None],
        describe_jobs: JobDescriber,
        write_status: StatusWriter,
        resource_arns: Mapping[str, str | None] | None = None,
    ) -> PipelineOutcome:
        """`queue_arns` and `resource_arns`: BatchJobQueue and BatchConsumableResource name in
        this namespace → ARN once usable (else None).
        `obj` must include the status `write_status` last wrote (the loop's `OwnWrites`): a
        stale copy would start the run again or forget submitted job ids."""
        try:
            outcome = self._reconcile(
                obj, queue_arns, describe_jobs, write_status, resource_arns or {}
            )
        except BaseException:
            # A pass cut short (the API server went away between a SubmitJob and the status
            # write of its id) may have submitted jobs status does not show: the next pass
            # looks for them with ListJobs before it submits anything.
            self._recovered_runs.clear()
            raise
        return outcome

    def _reconcile(
        self,
        obj: ObjectSnapshot,
        queue_arns: Mapping[str, str | None],
        describe_jobs: JobDescriber,
        write_status: StatusWriter,
        resource_arns: Mapping[str, str | None],
    ) -> PipelineOutcome:
        rec = PassRecorder(obj, self.now)
        record = RunRecord.from_status(obj.status)
        admitted = admit(obj, rec, queue_arns, record, self._admission, resource_arns)
        if isinstance(admitted, PipelineOutcome):
            return admitted
        spec, placement = admitted
        self._target = placement
        if self.describers is not None:
            describe_jobs = self.describers(placement)[0]
        api = self.api_for_region(placement)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        status["observedGeneration"] = obj.generation  # also in the writes mid-pass
        token = keys.rerun_request(obj.annotations)
        digest = runs.spec_hash(obj.spec)
        started_run = False
        if runs.needs_new_run(record, digest, token):
            run_id = runs.make_run_id(obj.uid, obj.generation, token, record.run_id)
            status = dict(
                runs.new_run_status(
                    spec,
                    runs.RunRef(obj.namespace, obj.name, run_id),
                    spec_hash=digest,
                    rerun_token=token,
                    started_at=self.now(),
                    generation=obj.generation,
                )
            )
            # All four conditions: a rerun of a failed run must not keep its Stalled=True.
            status["conditions"] = conditions.merge_conditions(
                obj.status.get("conditions"),
                run_status.run_conditions(
                    "Pending", "Pending", status["message"], False, self.now(), obj.generation
                ),
            )
            # A terminate or retry request made before this run started is not meant for it.
            status["terminateToken"] = keys.terminate_request(obj.annotations)
            status["retryToken"] = keys.retry_failed_request(obj.annotations)
            write_status(status)  # before any submission: the run id names every job
            started_run = True
            self._run_started = {run_id: time.monotonic()}
            self._recovered_runs.add(run_id)  # a brand-new run id has no jobs to find
            rec.event("Normal", "RunStarted", f"run {run_id} started")
            record = RunRecord.from_status(status)
            status.pop("conditions")
        assert record.run_id is not None
        run = runs.RunRef(obj.namespace, obj.name, record.run_id)
        terminated_at = self._terminate_if_requested(obj, record, status, rec)
        arns = {name: arn for name, arn in queue_arns.items() if arn}

        submitted = False
        listing = 0.0  # seconds until a batch cut short may be looked for with ListJobs
        try:
            job_ids = dict(record.job_ids)
            # Look for jobs status may not show: once per run and process, and whenever status
            # says a batch was under way (a crash, a failed SubmitJob, or this process's own
            # end-of-pass write that never landed).
            if not (record.finished or started_run) and (
                run.run_id not in self._recovered_runs or record.submitting_since is not None
            ):
                listing = self._listing_wait(run, record)
                if not listing:
                    job_ids.update(self._recover(spec, run, record, job_ids, arns, api, rec))
            for look in ("before submitting", "after submitting"):
                # Observe, heal, assess. After a submission, once more: a job may have ended
                # meanwhile, and a host loss must be seen as one (resubmitted) before the run
                # could be assessed as failed by it.
                described = describe_jobs(list(job_ids.values())) if job_ids else []
                observed = run_submission.merge_observations(job_ids, described, record.jobs)
                again = (
                    None if obj.deleting else self._plan_resubmission(spec, obj, observed, record)
                )
                if again is not None:
                    record = self._resubmit(again, status, record, observed, run, write_status, rec)
                    if again.cause == "retry-failed":
                        terminated_at = None
                    job_ids = dict(record.job_ids)
                    observed = run_submission.merge_observations(job_ids, described, record.jobs)
                assessment = run_status.aggregate_status(
                    spec,
                    observed,
                    self.now(),
                    record.started_at,
                    generation=obj.generation,
                    run=run,
                    terminated_at=terminated_at,
                    record=record,
                    capacity=self.queue_capacity,
                )
                if look == "after submitting":
                    break
                if assessment.finished or record.finished or obj.deleting or listing:
                    break
                submitted = self._submit(
                    spec,
                    obj,
                    run,
                    job_ids,
                    observed,
                    arns,
                    api,
                    status,
                    write_status,
                    record,
                    announced=started_run,
                )
                if not submitted:
                    break
            for action in assessment.stop:
                api.terminate_job(action.job_id, action.reason)
                if not action.repeated:
                    rec.event("Normal", "JobStopped", f"{action.step}: {action.reason}"[:1024])
        except Retryable as exc:
            if not record.finished:
                # A finished run's outcome stands while its cleanup is retried (kstatus and
                # Argo CD keep reading its phase); an unfinished one is in progress, not stuck.
                rec.condition(conditions.RECONCILING, True, "AwsRetrying", str(exc))
                rec.condition(conditions.STALLED, False, "AwsRetrying", str(exc))
            return PipelineOutcome(
                with_conditions(status, rec, obj), self.timing.retry, rec, tuple(job_ids.values())
            )
        except Terminal as exc:
            reason = stall_reason(exc)
            rec.event("Warning", reason, str(exc))
            rec.condition(conditions.STALLED, True, reason, str(exc))
            rec.condition(conditions.RECONCILING, False, reason, str(exc))
            return PipelineOutcome(
                with_conditions(status, rec, obj), self.timing.resync, rec, tuple(job_ids.values())
            )

        if not listing:
            # Every SubmitJob of this pass has its id in `status`: once the loop writes it, no
            # batch is under way. (If that write never lands, the next pass looks.)
            status["submittingSince"] = None
        blocked_changed = tuple(sorted(self.blocked.observe(observed.values())))
        status.update(assessment.status_fields())
        status["observedGeneration"] = obj.generation
        rec.conditions.extend(assessment.conditions)
        if assessment.finished and not record.finished:
            if assessment.phase == "Succeeded":
                rec.event("Normal", "RunSucceeded", assessment.message[:1024])
            else:
                rec.event("Warning", f"Run{assessment.phase}", assessment.message[:1024])
        if assessment.settled and record.run_id not in self._retired_runs:
            # This pass's own status may not have reached the index yet.
            in_status = self._definitions_in_status(obj.namespace) | set(
                job_definitions_in_status(status)
            )
            try:
                retire_unused_definitions(self._scope(obj), in_status, self._catalog(), api, rec)
            except (Retryable, Terminal) as exc:
                rec.event("Warning", "AwsError", f"deregistering old job definitions: {exc}")
            else:
                self._retired_runs.add(run.run_id)
        expires = runs.ttl_expires_at(spec, assessment.finished_at)
        if assessment.settled and expires is not None and self.now() >= expires:
            return PipelineOutcome(
                with_conditions(status, rec, obj), self.timing.resync, rec, delete_object=True
            )
        if assessment.settled:
            delay = self.timing.resync
            if expires is not None:
                delay = max(0.0, min(delay, (expires - self.now()).total_seconds()))
        elif assessment.finished:
            # Jobs of a stopped run still active: look again soon, and stop them again if
            # Batch still reports them active (level-based, whatever the poller says).
            delay = self.timing.transition
        elif not assessment.active_job_ids:
            # Nothing in Batch will change and wake the loop: only this operator moves the run
            # on (a fan-in step held until its parents succeeded, seen only after submitting).
            delay = 0.0 if submitted else self.timing.transition
        else:
            delay = self.timing.job_poll_backstop
            if spec.active_deadline_seconds is not None and record.started_at is not None:
                # Nothing may change in Batch before the deadline: look again at it.
                deadline = record.started_at + timedelta(seconds=spec.active_deadline_seconds)
                delay = max(0.0, min(delay, (deadline - self.now()).total_seconds() + 0.1))
        if listing:
            delay = min(delay, listing)
        return PipelineOutcome(
            with_conditions(status, rec, obj),
            delay,
            rec,
            assessment.active_job_ids,
            blocked_changed=blocked_changed,
        )

    # -- steps of a pass ----------------------------------------------------------------------

    def _terminate_if_requested(
        self, obj: ObjectSnapshot, record: RunRecord, status: dict[str, Any], rec: PassRecorder
    ) -> datetime | None:
        """A new `batchops.io/terminate` value ends the current run as Cancelled (its active
        jobs are stopped by the pass); on a finished run it is only recorded. Returns when the
        run was terminated, or None."""
        request = keys.terminate_request(obj.annotations)
        if request and request != status.get("terminateToken"):
            status["terminateToken"] = request
            if not record.finished:
                status["terminatedAt"] = format_time(self.now())
                rec.event("Normal", "RunTerminated", f"run {record.run_id} terminated on request")
        terminated = status.get("terminatedAt")
        return parse_time(terminated) if isinstance(terminated, str) else None

    def _recover(
        self,
        spec: PipelineSpec,
        run: runs.RunRef,
        record: RunRecord,
        job_ids: Mapping[str, str],
        queue_arns: Mapping[str, str],
        api: BatchApi,
        rec: PassRecorder,
    ) -> Mapping[str, str]:
        """Jobs SubmitJob created whose ids status does not hold (a crash, a lost write)."""
        lookups = run_submission.recovery_lookup(spec, run, job_ids, record)
        found: list[ListedJob] = []
        for lookup in lookups:
            queue = (
                lookup.queue if lookup.queue.startswith("arn:") else queue_arns.get(lookup.queue)
            )
            if queue is None:
                continue  # a queue not resolved yet has no job of this run
            found += [
                ListedJob.from_summary(item)
                for item in api.list_jobs_by_name(queue, lookup.job_name)
            ]
        adoption = run_submission.adopt_found_jobs(lookups, found)
        for action in adoption.stop:
            api.terminate_job(action.job_id, action.reason)
        if adoption.job_ids:
            rec.event(
                "Normal",
                "JobsRecovered",
                f"found {len(adoption.job_ids)} job(s) submitted before a restart",
            )
        self._recovered_runs.add(run.run_id)
        self._listing_noticed.pop(run.run_id, None)
        return adoption.job_ids

    def _listing_wait(self, run: runs.RunRef, record: RunRecord) -> float:
        """Seconds before recovery may trust ListJobs (0: now): a batch of SubmitJobs cut
        short may have created jobs ListJobs does not list yet."""
        if record.submitting_since is None:
            return 0.0
        noticed = self._listing_noticed.setdefault(run.run_id, self.now())
        return run_submission.listing_wait(noticed, self.now())

    def _submit(
        self,
        spec: PipelineSpec,
        obj: ObjectSnapshot,
        run: runs.RunRef,
        job_ids: dict[str, str],
        observed: Mapping[str, ObservedJob],
        queue_arns: Mapping[str, str],
        api: BatchApi,
        status: dict[str, Any],
        write_status: StatusWriter,
        record: RunRecord,
        *,
        announced: bool,
    ) -> bool:
        """Submit what may go now, in batches: status announces the first batch
        (`submittingSince`, which stays set until the pass's own write) before its first
        SubmitJob; between batches the ids so far are written behind the submissions, one write
        at a time (the last ones: the pass's own write). `announced`: the run's start already
        wrote the first announcement."""
        states = {step: job.status for step, job in observed.items()}
        if len(job_ids) == len(spec.steps):
            return False
        if any(
            claim.arn is None
            for step in spec.steps
            if step.name not in job_ids
            for claim in step.consumable_resources
        ):
            # A claimed BatchConsumableResource went away mid-run: hold the rest of the run
            # (admission says which) rather than submit a job without its claim.
            return False
        definitions = self._resolve_job_definitions(spec, obj, run, api)
        plan = run_submission.plan_submissions(
            spec, run, job_ids, states, definitions, queue_arns, record
        )
        started = self._run_started.get(run.run_id)
        gated = {step.name for step in spec.steps if dag.is_operator_gated(step)}
        batches = list(run_submission.submission_batches(plan))
        if batches and not announced:
            status["submittingSince"] = format_time(self.now())
            write_status(status)  # from here a restart waits until ListJobs lists the batch
        behind = _WritesBehind(write_status)
        try:
            self._submit_batches(batches, job_ids, status, api, behind, started, gated)
        except BaseException:
            behind.join(raise_error=False)  # the pass's own write must come after it
            raise
        behind.join()
        return bool(plan.submit)

    def _submit_batches(
        self,
        batches: list[tuple[runs.SubmitJob, ...]],
        job_ids: dict[str, str],
        status: dict[str, Any],
        api: BatchApi,
        behind: _WritesBehind,
        started: float | None,
        gated: Collection[str],
    ) -> None:
        for index, batch in enumerate(batches):
            if index:
                status["submittingSince"] = format_time(self.now())
                behind.write_if_idle(status)  # the ids so far
            entries = _StepEntries(status)
            for wave in run_submission.submission_waves(batch, job_ids):
                answers = api.submit_jobs([submit.request(job_ids) for submit in wave])
                failed: Exception | None = None
                for submit, answer in zip(wave, answers, strict=True):
                    if isinstance(answer, Exception):
                        failed = failed or answer
                        continue
                    if started is not None and submit.step not in gated:
                        self.observe_submit_latency(time.monotonic() - started)
                    job_ids[submit.step] = answer["jobId"]
                    entries.record_job_id(submit, answer["jobId"])
                if failed is not None:
                    # A SubmitJob that fails may still have created its job (a 5xx, a lost
                    # reply): status keeps `submittingSince`, so the next pass looks before
                    # submitting; the ids of its wave's other calls are kept meanwhile.
                    raise failed

    def _plan_resubmission(
        self,
        spec: PipelineSpec,
        obj: ObjectSnapshot,
        observed: Mapping[str, ObservedJob],
        record: RunRecord,
    ) -> resubmission.Resubmission | None:
        """Steps to run again: after a host loss while the run is on, or on a new retry-failed
        request once it failed or was cancelled (a succeeded run only records the request)."""
        token = keys.retry_failed_request(obj.annotations)
        if not record.finished:
            return resubmission.plan_interruption_resubmission(
                spec, observed, record
            ) or resubmission.plan_retry_failed(spec, observed, record, token)
        if record.phase == "Succeeded":
            return None
        return resubmission.plan_retry_failed(spec, observed, record, token)

    def _resubmit(
        self,
        again: resubmission.Resubmission,
        status: dict[str, Any],
        record: RunRecord,
        observed: Mapping[str, ObservedJob],
        run: runs.RunRef,
        write_status: StatusWriter,
        rec: PassRecorder,
    ) -> RunRecord:
        """Set the steps' jobs aside and name their next ones, durably, before any SubmitJob."""
        status["steps"] = resubmission.resubmitted_steps(
            list(status.get("steps") or []), again, record, observed, run
        )
        if again.token is not None:
            status["retryToken"] = again.token
        if again.cause == "retry-failed" and record.finished:
            status.update(phase="Running", finishedAt=None, terminatedAt=None)
        status["message"] = again.message
        write_status(status)
        rec.event("Normal", "StepsResubmitted", again.message[:1024])
        return RunRecord.from_status(status)

    def _resolve_job_definitions(
        self, spec: PipelineSpec, obj: ObjectSnapshot, run: runs.RunRef, api: BatchApi
    ) -> Mapping[str, str]:
        cached = self._job_definitions.get(run.run_id)
        if cached is not None:
            return cached
        resolved = resolve_job_definitions(spec, obj, self._scope(obj), self._catalog(), api)
        self._job_definitions = {run.run_id: resolved}
        return resolved

    def _catalog(self, target: Target | None = None) -> JobDefinitionCatalog:
        assert self.catalog_for_region is not None  # set by __post_init__
        return self.catalog_for_region(target or self._target)

    def _scope(self, obj: ObjectSnapshot) -> DefinitionScope:
        return DefinitionScope(obj.namespace, self.cluster())

    def _definitions_in_status(self, namespace: str, leaving: str | None = None) -> set[str]:
        return {
            definition
            for pipeline, definitions in self.definitions_in_status(namespace).items()
            if pipeline != leaving
            for definition in definitions
        }

    # -- deletion -----------------------------------------------------------------------------

    def finalize(
        self, obj: ObjectSnapshot, describe_known: JobDescriber, describe_fresh: JobDescriber
    ) -> FinalizeOutcome:
        """One pass of the finalizer (`reconcile/pipeline_deletion.py`)."""
        account_ref, region = obj.spec.get("accountRef"), obj.spec.get("region")
        placement = self.tenancy.place(
            obj.namespace,
            account_ref if isinstance(account_ref, str) else None,
            region if isinstance(region, str) else None,
        )
        if not isinstance(placement, Target):
            # The account is out of reach: nothing of this object can be stopped there.
            rec = PassRecorder(obj, self.now)
            if obj.status.get("runId") and isinstance(placement, AccountRefusal):
                rec.event("Warning", "Released", f"jobs left running: {placement.message}")
            waiting = isinstance(placement, NamespaceUnknown)
            delay = self.timing.transition if waiting else 0
            return FinalizeOutcome(not waiting, delay, dict(obj.status), rec)
        if self.describers is not None:
            describe_known, describe_fresh = self.describers(placement)
        outcome = finalize_pipeline(
            obj,
            lambda: self.api_for_region(placement),
            self.timing,
            self.now,
            describe_known,
            describe_fresh,
        )
        if outcome.done:
            # Its jobs are finished: the definitions only this pipeline used can go with it.
            in_status = self._definitions_in_status(obj.namespace, leaving=obj.name)
            catalog = self._catalog(placement)
            try:
                retire_unused_definitions(
                    self._scope(obj),
                    in_status,
                    catalog,
                    self.api_for_region(placement),
                    outcome.recorder,
                    leaving=obj.name,
                )
            except (Retryable, Terminal) as exc:
                # Not worth holding the deletion: the next run that settles here retires them.
                message = f"deregistering job definitions: {exc}"
                outcome.recorder.event("Warning", "AwsError", message)
            catalog.release((obj.namespace, obj.name))
        return outcome

    @property
    def _admission(self) -> Admission:
        return Admission(self.tenancy, self.api_for_region, self.timing, self.now)

    @property
    def target(self) -> Target:
        """The account and region the last pass acted in (where the run's jobs live)."""
        return self._target


class _WritesBehind:
    """Status writes made while submission goes on, one at a time and in order. Each write of a
    big BatchPipeline costs the API server seconds (it evaluates the CRD's validation rules over
    the whole spec, about 1 ms a step, on every status write), so SubmitJob does not wait for
    them: a write asked for while one is in flight is skipped, and the next one carries its ids.
    `submittingSince` stays set meanwhile, so a crash leaves ListJobs to find the jobs the
    status did not get."""

    def __init__(self, write: StatusWriter) -> None:
        self._write = write
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write_if_idle(self, status: Mapping[str, Any]) -> None:
        """Start writing a copy of `status` unless a write is in flight; raise the error of a
        write that failed."""
        self._raise_error()
        if self._thread is not None and self._thread.is_alive():
            return
        # `_StepEntries` replaces entries, never changes one, so a copy of the list will do.
        snapshot = {**status, "steps": list(status.get("steps") or [])}
        self._thread = threading.Thread(
            target=self._run, args=(snapshot,), name="batchops-status-write", daemon=True
        )
        self._thread.start()

    def join(self, *, raise_error: bool = True) -> None:
        """Wait for the write in flight; raise its error unless told not to."""
        if self._thread is not None:
            self._thread.join()
        if raise_error:
            self._raise_error()

    def _run(self, snapshot: Mapping[str, Any]) -> None:
        try:
            self._write(snapshot)
        except BaseException as exc:  # raised in the pass's thread at its next write or join
            self._error = exc

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error


class _StepEntries:
    """`status.steps` as a new list (the status written before keeps its own), each job id
    recorded in its step's entry as soon as SubmitJob returns it, the list kept within the
    compaction budget (the ids are written behind the submissions, before the pass's own
    write compacts)."""

    def __init__(self, status: dict[str, Any]) -> None:
        self._status = status
        self._entries: list[dict[str, Any]] = list(status.get("steps") or [])
        self._position = {entry.get("name"): i for i, entry in enumerate(self._entries)}
        self._bytes = compaction.entry_bytes(self._entries)
        status["steps"] = self._entries

    def record_job_id(self, submit: runs.SubmitJob, job_id: str) -> None:
        """Mark the step SUBMITTED with its job id and definition (from this write on, the
        status index keeps the definition from being retired). A compacted entry stays short:
        its definition goes to `status.compacted.jobDefinitions`."""
        position = self._position.get(submit.step)
        if position is None:
            position = self._position[submit.step] = len(self._entries)
            self._entries.append({"name": submit.step})
            self._bytes += compaction.entry_bytes(self._entries[-1]) + 1
        before = self._entries[position]
        entry, compacted = compaction.submission_entry(
            before, self._fields(submit, job_id), self._bytes
        )
        self._entries[position] = entry
        self._bytes += compaction.entry_bytes(entry) - compaction.entry_bytes(before)
        if compacted:
            self._count_compacted(submit.job_definition, newly=not before.get("compacted"))

    def _count_compacted(self, definition: str, *, newly: bool) -> None:
        summary = dict(self._status.get("compacted") or {"steps": 0, "usage": Usage().to_status()})
        summary["steps"] += 1 if newly else 0
        named = list(summary.get("jobDefinitions") or [])
        if definition not in named:
            summary["jobDefinitions"] = [*named, definition]
        self._status["compacted"] = summary

    @staticmethod
    def _fields(submit: runs.SubmitJob, job_id: str) -> dict[str, Any]:
        return {
            "jobId": job_id,
            "jobName": submit.job_name,
            "jobDefinition": submit.job_definition,
            "status": "SUBMITTED",
        }
