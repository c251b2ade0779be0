"""BatchPipeline: one run of a DAG, submitted exactly once, its job states written back.

A pass: parse and validate (nothing touches AWS for an invalid spec) → start a run if one is due
(its status, with the run id that names every job, is written before any submission) → after a
restart, find jobs submitted before the crash with ListJobs → register or reuse job
definitions → submit whatever may go now, writing each job id to status as soon as SubmitJob
returns → fold the latest job states into status → stop jobs of a run that failed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
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
    SpecError,
    format_time,
    parse_time,
    placeholder_message,
    placeholder_paths,
)
from batchops.model.observed import ListedJob, ObservedJob, RunRecord
from batchops.model.pipeline import PipelineSpec, parse_pipeline_spec
from batchops.plans import dag, resubmission, run_status, run_submission, runs
from batchops.plans.accounts import AccountRefusal, NamespaceUnknown
from batchops.plans.ownership import Owner
from batchops.reconcile.common import (
    NO_OTHER_TENANTS,
    FinalizeOutcome,
    ObjectSnapshot,
    PassRecorder,
    Tenancy,
    Timing,
    cross_namespace_message,
    stall_reason,
)
from batchops.reconcile.pipeline_deletion import finalize_pipeline
from batchops.reconcile.pipeline_jobdefs import resolve_job_definitions, retire_old_definitions

StatusWriter = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class PipelineOutcome:
    """One pass: the status to write, when to look again, the jobs to keep polling."""

    status: Mapping[str, Any]
    delay: float
    recorder: PassRecorder
    active_job_ids: tuple[str, ...] = ()
    delete_object: bool = False
    blocked_changed: tuple[str, ...] = ()
    """Job queue ARNs that became blocked or moved again: their loops should look now."""


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
    _recovered_runs: set[str] = field(default_factory=set)
    _written: Mapping[str, Any] | None = None
    """The status this process last wrote: kopf's view of the object can lag behind it."""
    _job_definitions: dict[str, dict[str, str]] = field(default_factory=dict)
    _retired_runs: set[str] = field(default_factory=set)
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
    ) -> PipelineOutcome:
        """`queue_arns`: BatchJobQueue name in this namespace → ARN once Ready (else None)."""
        obj = self._read_own_writes(obj)

        def write(status: Mapping[str, Any]) -> None:
            write_status(status)
            self._written = dict(status)

        try:
            outcome = self._reconcile(obj, queue_arns, describe_jobs, write)
        except BaseException:
            # A pass cut short (the API server went away between a SubmitJob and the status
            # write of its id) may have submitted jobs status does not show: the next pass
            # looks for them with ListJobs before it submits anything.
            self._recovered_runs.clear()
            raise
        self._written = outcome.status
        return outcome

    def _read_own_writes(self, obj: ObjectSnapshot) -> ObjectSnapshot:
        """Use the status we wrote last when the watched copy has not caught up with it: a
        stale copy would start the run again (same run id) or forget submitted job ids."""
        written = self._written
        if written is None:
            return obj

        def job_ids(status: Mapping[str, Any]) -> int:
            return sum(1 for entry in status.get("steps") or [] if entry.get("jobId"))

        seen = obj.status
        behind = seen.get("runId") != written.get("runId") and written.get("runId") is not None
        same_run_fewer_ids = seen.get("runId") == written.get("runId") and job_ids(seen) < job_ids(
            written
        )
        if not (behind and not _is_newer_run(seen, written)) and not same_run_fewer_ids:
            return obj
        return dataclasses.replace(obj, status=written)

    def _reconcile(
        self,
        obj: ObjectSnapshot,
        queue_arns: Mapping[str, str | None],
        describe_jobs: JobDescriber,
        write_status: StatusWriter,
    ) -> PipelineOutcome:
        rec = PassRecorder(obj, self.now)
        try:
            spec = parse_pipeline_spec(obj.spec)
        except SpecError as exc:
            return self._invalid(obj, rec, str(exc))
        placeholders = placeholder_paths(obj.spec)
        if placeholders:
            return self._invalid(obj, rec, placeholder_message(placeholders))
        problems = dag.validate_dag(spec)
        if problems:
            return self._invalid(obj, rec, "; ".join(p.message for p in problems))
        placement = self.tenancy.place(obj.namespace, spec.account_ref, spec.region)
        if not isinstance(placement, Target):
            return self._refused(obj, rec, placement)
        self._target = placement
        if self.describers is not None:
            describe_jobs = self.describers(placement)[0]
        unresolved = _unresolved_queues(spec, queue_arns)
        record = RunRecord.from_status(obj.status)
        if unresolved and not record.job_ids:
            missing = [q for q in unresolved if q not in queue_arns]
            if missing and self._age(obj) > self.timing.reference_grace:
                return self._invalid(
                    obj,
                    rec,
                    "no BatchJobQueue named "
                    + ", ".join(sorted(missing))
                    + f" in namespace {obj.namespace}",
                )
            return self._waiting(obj, rec, "waiting for job queue " + ", ".join(unresolved))
        if not record.job_ids:
            crossing = self.tenancy.crossing_references(placement, _queue_links(spec, queue_arns))
            if crossing:
                return self._invalid(obj, rec, "; ".join(crossing))
            foreign = self._foreign_queues(obj, spec)
            if foreign:
                return self._invalid(obj, rec, cross_namespace_message("job queues", foreign))

        api = self.api_for_region(placement)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        status["observedGeneration"] = obj.generation  # also in the writes mid-pass
        token = keys.rerun_request(obj.annotations)
        digest = runs.spec_hash(obj.spec)
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
        try:
            job_ids = dict(record.job_ids)
            if not record.finished:
                job_ids.update(self._recover(spec, run, record, job_ids, arns, api, rec))
            described = describe_jobs(list(job_ids.values())) if job_ids else []
            observed = run_submission.merge_observations(job_ids, described, record.jobs)
            again = None if obj.deleting else self._plan_resubmission(spec, obj, observed, record)
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
            )
            if not assessment.finished and not record.finished and not obj.deleting:
                submitted = self._submit(
                    spec, obj, run, job_ids, observed, arns, api, status, write_status, record
                )
                if submitted:
                    described = describe_jobs(list(job_ids.values()))
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
                    )
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
                self._with(status, rec, obj), self.timing.retry, rec, tuple(job_ids.values())
            )
        except Terminal as exc:
            reason = stall_reason(exc)
            rec.event("Warning", reason, str(exc))
            rec.condition(conditions.STALLED, True, reason, str(exc))
            rec.condition(conditions.RECONCILING, False, reason, str(exc))
            return PipelineOutcome(
                self._with(status, rec, obj), self.timing.resync, rec, tuple(job_ids.values())
            )

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
            try:
                retire_old_definitions(spec, obj, observed, self._catalog(), api, rec)
            except (Retryable, Terminal) as exc:
                rec.event("Warning", "AwsError", f"deregistering old job definitions: {exc}")
            else:
                self._retired_runs.add(run.run_id)
        expires = runs.ttl_expires_at(spec, assessment.finished_at)
        if assessment.settled and expires is not None and self.now() >= expires:
            return PipelineOutcome(
                self._with(status, rec, obj), self.timing.resync, rec, delete_object=True
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
        return PipelineOutcome(
            self._with(status, rec, obj),
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
        """Once per run and process: jobs SubmitJob created before a crash hid their ids."""
        if run.run_id in self._recovered_runs:
            return {}
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
        return adoption.job_ids

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
    ) -> bool:
        states = {step: job.status for step, job in observed.items()}
        if len(job_ids) == len(spec.steps):
            return False
        definitions = self._resolve_job_definitions(spec, obj, run, api)
        plan = run_submission.plan_submissions(
            spec, run, job_ids, states, definitions, queue_arns, record
        )
        started = self._run_started.get(run.run_id)
        gated = {step.name for step in spec.steps if dag.is_operator_gated(step)}
        for submit in plan.submit:
            response = api.submit_job(submit.request(job_ids))
            if started is not None and submit.step not in gated:
                self.observe_submit_latency(time.monotonic() - started)
            job_ids[submit.step] = response["jobId"]
            _record_job_id(status, submit.step, response["jobId"], submit.job_name)
            write_status(status)  # the id is durable before the next SubmitJob
        return bool(plan.submit)

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
        resolved = resolve_job_definitions(spec, obj, self._catalog(), api)
        self._job_definitions = {run.run_id: resolved}
        return resolved

    def _catalog(self) -> JobDefinitionCatalog:
        assert self.catalog_for_region is not None  # set by __post_init__
        return self.catalog_for_region(self._target)

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
        return finalize_pipeline(
            obj,
            lambda: self.api_for_region(placement),
            self.timing,
            self.now,
            describe_known,
            describe_fresh,
        )

    # -- helpers ------------------------------------------------------------------------------

    def _invalid(self, obj: ObjectSnapshot, rec: PassRecorder, message: str) -> PipelineOutcome:
        assessment = run_status.invalid_spec_assessment(
            message, self.now(), generation=obj.generation
        )
        status = {k: v for k, v in obj.status.items() if k != "conditions"}
        status.update(
            phase="Failed",
            message=message,
            progress=assessment.progress,
            observedGeneration=obj.generation,
        )
        rec.conditions.extend(assessment.conditions)
        if obj.status.get("message") != message:
            rec.event("Warning", "InvalidSpec", message[:1024])
        return PipelineOutcome(self._with(status, rec, obj), self.timing.resync, rec)

    def _foreign_queues(self, obj: ObjectSnapshot, spec: PipelineSpec) -> list[tuple[str, Owner]]:
        """Queues named by ARN that another namespace's BatchJobQueue owns (checked before a
        run submits anything, so no job of this namespace lands on another tenant's queue)."""
        api = self.api_for_region(self._target)

        def tags_of(arn: str) -> Mapping[str, str]:
            described = api.describe_job_queue(arn)
            return described.get("tags", {}) if described else {}

        arns = (step.queue for step in spec.steps if step.queue.startswith("arn:"))
        return self.tenancy.foreign_references(obj.namespace, arns, tags_of)

    @property
    def target(self) -> Target:
        """The account and region the last pass acted in (where the run's jobs live)."""
        return self._target

    def _refused(
        self, obj: ObjectSnapshot, rec: PassRecorder, refusal: AccountRefusal | NamespaceUnknown
    ) -> PipelineOutcome:
        """The namespace may not use the account it asks for: Failed and Stalled with the
        refusal's reason, nothing sent to AWS (a later pass starts the run once allowed)."""
        if isinstance(refusal, NamespaceUnknown):
            return self._waiting(obj, rec, refusal.message)
        status = {k: v for k, v in obj.status.items() if k != "conditions"}
        status.update(phase="Failed", message=refusal.message, observedGeneration=obj.generation)
        now, generation = self.now(), obj.generation
        for kind, value in (
            (conditions.COMPLETE, False),
            (conditions.FAILED, True),
            (conditions.RECONCILING, False),
            (conditions.STALLED, True),
        ):
            rec.conditions.append(
                conditions.condition(kind, value, refusal.reason, refusal.message, generation, now)
            )
        if not obj.has_condition_reason(refusal.reason):
            rec.event("Warning", refusal.reason, refusal.message[:1024])
        return PipelineOutcome(self._with(status, rec, obj), self.timing.resync, rec)

    def _waiting(self, obj: ObjectSnapshot, rec: PassRecorder, message: str) -> PipelineOutcome:
        status = {k: v for k, v in obj.status.items() if k != "conditions"}
        status.update(phase="Pending", message=message, observedGeneration=obj.generation)
        rec.condition(conditions.RECONCILING, True, "WaitingForQueue", message)
        rec.condition(conditions.STALLED, False, "WaitingForQueue", message)
        return PipelineOutcome(self._with(status, rec, obj), self.timing.transition, rec)

    def _age(self, obj: ObjectSnapshot) -> float:
        created = obj.body.get("metadata", {}).get("creationTimestamp")
        if not isinstance(created, str):
            return 0.0
        return (self.now() - parse_time(created)).total_seconds()

    @staticmethod
    def _with(status: Mapping[str, Any], rec: PassRecorder, obj: ObjectSnapshot) -> dict[str, Any]:
        # Every status a pass writes says which generation it describes (kstatus and Argo CD
        # call an object InProgress/Progressing until it matches metadata.generation).
        return {
            **status,
            "observedGeneration": obj.generation,
            "conditions": rec.merged_conditions(),
        }


def _is_newer_run(seen: Mapping[str, Any], written: Mapping[str, Any]) -> bool:
    """Whether the watched status describes a run started after the one we wrote (another
    replica or a newer process took over): then the watched copy wins."""
    seen_start, written_start = seen.get("startedAt"), written.get("startedAt")
    return bool(seen_start and written_start and str(seen_start) > str(written_start))


def _queue_links(spec: PipelineSpec, queue_arns: Mapping[str, str | None]) -> dict[str, str]:
    """spec.steps[i].queue -> the queue's ARN, for the check that no step's queue is in another
    account or region than the pipeline."""
    links = {}
    for index, step in enumerate(spec.steps):
        arn = step.queue if step.queue.startswith("arn:") else queue_arns.get(step.queue)
        if arn:
            links[f"spec.steps[{index}].queue ({step.queue})"] = arn
    return links


def _unresolved_queues(spec: PipelineSpec, queue_arns: Mapping[str, str | None]) -> list[str]:
    queues = {step.queue for step in spec.steps} | {
        step.retry.on_interruption.queue
        for step in spec.steps
        if step.retry is not None
        and step.retry.on_interruption is not None
        and step.retry.on_interruption.queue is not None
    }
    names = {queue for queue in queues if not queue.startswith("arn:")}
    return sorted(name for name in names if not queue_arns.get(name))


def _record_job_id(status: dict[str, Any], step: str, job_id: str, job_name: str) -> None:
    entries: list[dict[str, Any]] = [dict(e) for e in status.get("steps") or []]
    for index, entry in enumerate(entries):
        if entry.get("name") == step:
            entries[index] = {
                **entry,
                "jobId": job_id,
                "jobName": job_name,
                "status": "SUBMITTED",
                "statusReason": None,
            }
            break
    else:
        entries.append({"name": step, "jobId": job_id, "jobName": job_name, "status": "SUBMITTED"})
    status["steps"] = entries
