"""CronPipeline: create one child BatchPipeline per due time, prune history, report the last run
and the running total of what the runs used (`plans.cron_usage`).

A child's name comes from its scheduled time, so creating it twice (an operator restart mid-tick,
a second replica) hits AlreadyExists instead of starting a duplicate run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from batchops.kube import client as kube
from batchops.kube import cron_runs
from batchops.kube import status as conditions
from batchops.model import keys
from batchops.model.common import SpecError, format_time, parse_time
from batchops.model.cron import (
    CronSpec,
    parse_cron_spec,
)
from batchops.model.cron_runs import ChildRun, last_run_summary
from batchops.model.keys import CRON_LABEL
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans import cron_expr, cron_usage, dag
from batchops.plans import schedule as plan
from batchops.reconcile.common import ObjectSnapshot, PassRecorder, Timing


@dataclass(frozen=True)
class CronOutcome:
    """One pass: the status to write and when the next scheduled time is."""

    status: Mapping[str, Any]
    delay: float
    recorder: PassRecorder


class Children:
    """The Kubernetes side of a CronPipeline's runs (a seam for tests)."""

    def list(self, namespace: str, cron: str) -> list[dict[str, Any]]:
        """The BatchPipelines this CronPipeline created."""
        return kube.list_objects(kube.PIPELINE, namespace, f"{CRON_LABEL}={cron}")

    def create(self, namespace: str, body: Mapping[str, Any]) -> bool:
        """Create a run; False if it already exists (already created: never a duplicate)."""
        return cron_runs.create_run(namespace, body)

    def delete(self, namespace: str, name: str) -> None:
        """Delete a run (its finalizer terminates its Batch jobs)."""
        kube.delete_object(kube.PIPELINE, namespace, name)


@dataclass
class CronReconciler:
    """Reconciles one CronPipeline per call."""

    timing: Timing
    children: Children
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def reconcile(self, obj: ObjectSnapshot) -> CronOutcome:
        """Create what is due, apply concurrencyPolicy, prune, and summarise the runs."""
        rec = PassRecorder(obj, self.now)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        status["observedGeneration"] = obj.generation
        try:
            spec = parse_cron_spec(obj.spec)
            schedule = cron_expr.parse_schedule(spec.schedule)
            _check_template(spec)
        except SpecError as exc:
            schedule_fields = ("spec.schedule", "spec.timeZone")
            reason = "InvalidSchedule" if exc.field_path in schedule_fields else "InvalidSpec"
            if obj.status.get("observedGeneration") != obj.generation or not _stalled(obj):
                rec.event("Warning", reason, str(exc))
            rec.condition(conditions.STALLED, True, reason, str(exc))
            rec.condition(conditions.READY, False, reason, str(exc))
            rec.condition(conditions.RECONCILING, False, reason, str(exc))
            return CronOutcome(self._with(status, rec), self.timing.resync, rec)

        now = self.now()
        listed = self.children.list(obj.namespace, obj.name)
        runs = [_child_run(c) for c in listed]
        active = [r.name for r in runs if r.active]
        counted_before = cron_usage.CronUsage.from_status(obj.status.get("usage"))
        status["usage"] = dict(cron_usage.accumulate_usage(counted_before, runs).to_status())

        trigger = keys.trigger_request(obj.annotations)
        if trigger and trigger != status.get("lastTrigger"):
            name = plan.triggered_child_name(obj.name, trigger)
            self._create(obj, spec, name, now, rec, reason="Triggered")
            status["lastTrigger"] = trigger
            runs.append(ChildRun(name=name, scheduled_time=now))

        created = obj.body.get("metadata", {}).get("creationTimestamp")
        anchor = parse_time(created) if isinstance(created, str) else now
        last = status.get("lastScheduleTime")
        tick = plan.plan_tick(
            schedule,
            spec.time_zone,
            anchor,
            parse_time(last) if isinstance(last, str) else None,
            now,
            spec.starting_deadline_seconds,
        )
        if not spec.suspend:
            missed = tick.missed_message()
            if missed:
                rec.event("Warning", "MissedSchedules", missed)
            if tick.run_time is not None:
                runs += self._run_due(obj, spec, tick.run_time, active, rec)
                status["lastScheduleTime"] = format_time(tick.run_time)
            elif tick.new_last_schedule_time is not None:
                status["lastScheduleTime"] = format_time(tick.new_last_schedule_time)
        status["nextScheduleTime"] = None if spec.suspend else format_time(tick.next_time)

        beyond_limits = plan.children_to_prune(
            runs, spec.successful_runs_history_limit, spec.failed_runs_history_limit
        )
        pruned = cron_usage.prunable(beyond_limits, counted_before)
        for name in pruned:
            self.children.delete(obj.namespace, name)
            runs = [r for r in runs if r.name != name]

        status["active"] = list(plan.active_runs(runs))
        status["activeCount"] = len(status["active"])
        previous = status.get("lastSuccessfulTime")
        succeeded = plan.last_successful_time(
            runs, parse_time(previous) if isinstance(previous, str) else None
        )
        status["lastSuccessfulTime"] = format_time(succeeded) if succeeded else None
        latest = plan.most_recent_run(runs)
        if latest is not None:
            child = next((c for c in listed if c["metadata"]["name"] == latest.name), None)
            status["lastRun"] = dict(last_run_summary(latest.name, (child or {}).get("status")))
        _schedule_conditions(rec, spec.suspend, status)
        delay = min(self.timing.resync, max(0.05, tick.seconds_until_next(self.now())))
        if len(pruned) < len(beyond_limits):
            delay = min(delay, self.timing.transition)  # prune once this status is written
        return CronOutcome(self._with(status, rec), delay, rec)

    # -- helpers --------------------------------------------------------------------------------

    def _run_due(
        self,
        obj: ObjectSnapshot,
        spec: CronSpec,
        run_time: datetime,
        active: list[str],
        rec: PassRecorder,
    ) -> list[ChildRun]:
        decision = plan.plan_concurrency(spec.concurrency_policy, active)
        name = plan.child_name(obj.name, run_time)
        if name in active:
            return []  # this very time is already running (created before a restart)
        match decision:
            case plan.Skip(reason=reason):
                rec.event("Normal", "Skipped", f"{format_time(run_time)}: {reason}")
                return []
            case plan.ReplaceThenCreate(children_to_cancel=doomed):
                for old in doomed:
                    self.children.delete(obj.namespace, old)
                rec.event("Normal", "Replaced", "cancelled " + ", ".join(doomed))
        self._create(obj, spec, name, run_time, rec, reason="Scheduled")
        return [ChildRun(name=name, scheduled_time=run_time)]

    def _create(
        self,
        obj: ObjectSnapshot,
        spec: CronSpec,
        name: str,
        scheduled: datetime,
        rec: PassRecorder,
        reason: str,
    ) -> None:
        owner = cron_runs.CronOwner(obj.namespace, obj.name, obj.uid)
        body = cron_runs.run_manifest(owner, spec.template, name, scheduled)
        if self.children.create(obj.namespace, body):
            rec.event("Normal", reason, f"created run {name}")

    def _with(self, status: dict[str, Any], rec: PassRecorder) -> dict[str, Any]:
        return {**status, "conditions": rec.merged_conditions()}


def _child_run(child: Mapping[str, Any]) -> ChildRun:
    meta = child.get("metadata") or {}
    return ChildRun.from_child(meta.get("name", ""), meta.get("annotations"), child.get("status"))


def _schedule_conditions(rec: PassRecorder, suspended: bool, status: Mapping[str, Any]) -> None:
    """The conditions of a valid CronPipeline, read alike by kstatus and the Argo CD health
    check, both from `status.lastRun` as written in this same status: a last run that failed
    or was cancelled is Stalled (kstatus Failed, Argo CD Degraded, as Argo CD's own CronJob
    check treats a failed last Job) until a later run starts; a suspended one is not (Argo CD
    Suspended, kstatus Current). An active run keeps the schedule Current/Healthy: it may run for
    hours and would hold up later sync waves that long. Reconciling is never True: a pass
    creates what is due in one go."""
    next_run = f"next run at {status.get('nextScheduleTime')}"
    message = "suspended" if suspended else next_run
    rec.condition(conditions.READY, True, "Suspended" if suspended else "Scheduled", message)
    rec.condition(conditions.RECONCILING, False, "Scheduled", message)
    last_run = status.get("lastRun") or {}
    outcome = {"Failed": "failed", "Cancelled": "was cancelled"}.get(last_run.get("phase") or "")
    if outcome is None or suspended:
        rec.condition(conditions.STALLED, False, "Scheduled", message)
        return
    detail = f": {last_run['message']}" if last_run.get("message") else ""
    reason = "LastRunFailed" if last_run.get("phase") == "Failed" else "LastRunCancelled"
    why = f"Last run {last_run.get('name')} {outcome}{detail}"
    rec.condition(conditions.STALLED, True, reason, why[:32768])


def _stalled(obj: ObjectSnapshot) -> bool:
    return any(
        c.get("type") == conditions.STALLED and c.get("status") == "True"
        for c in obj.status.get("conditions") or []
    )


def _check_template(spec: CronSpec) -> None:
    """The runs' spec must pass every check a BatchPipeline does before AWS is touched, or
    every scheduled run would fail the same way: SpecError otherwise."""
    problems = dag.validate_dag(parse_pipeline_spec(spec.template.child_spec()))
    if problems:
        raise SpecError("spec.pipelineTemplate.spec.steps", "; ".join(p.message for p in problems))
