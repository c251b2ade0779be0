"""Partial resubmission, the one mechanism behind runs that heal: run a set of steps and
everything downstream of them again, in the same run, keeping the jobs of the steps that
succeeded.

Two causes use it. An interruption: a step's job failed because its host went away (a Spot
reclaim) and `retry.onInterruption` has resubmissions left; Batch fails the step's dependents
too, so they go again with it, optionally on another queue. A manual retry: a new value of the
`batchops.io/retry-failed` annotation runs the failed, cancelled and never-run steps of a run
again (a finished run is reopened).

Exactly once holds as for first submissions: a resubmitted step's job has a deterministic name
with the resubmission number (`RunRef.job_name`), and the status naming it is written before
SubmitJob, so a crash in between is found again by ListJobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from batchops.model.observed import ObservedJob, RunRecord, StepStatusEntry
from batchops.model.pipeline import PipelineSpec
from batchops.plans.dag import topological_order
from batchops.plans.history import step_history
from batchops.plans.runs import RunRef

Cause = Literal["interruption", "retry-failed"]


@dataclass(frozen=True)
class Resubmission:
    """Steps whose current job is set aside and that are submitted again."""

    cause: Cause
    steps: tuple[str, ...]
    """In topological order; each gets resubmission number + 1."""
    queues: Mapping[str, str]
    """A new queue for some of them (retry.onInterruption.queue)."""
    interrupted: tuple[str, ...] = ()
    """The steps whose host went away (their interruption count goes up)."""
    token: str | None = None
    """The retry-failed annotation value acted on."""

    @property
    def message(self) -> str:
        """For the event and the run's message."""
        if self.cause == "interruption":
            hosts = ", ".join(self.interrupted)
            again = ", ".join(s for s in self.steps if s not in self.interrupted)
            return f"host lost under {hosts}: resubmitting" + (f" (and {again})" if again else "")
        if not self.steps:
            return "retry-failed: submitting the steps that never ran"
        return "retry-failed: resubmitting " + ", ".join(self.steps)


def downstream(spec: PipelineSpec, names: set[str]) -> set[str]:
    """Every step that depends, directly or not, on one of `names` (not `names` themselves)."""
    children: dict[str, list[str]] = {step.name: [] for step in spec.steps}
    for step in spec.steps:
        for parent in step.depends_on:
            children[parent].append(step.name)
    found: set[str] = set()
    frontier = list(names)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found - names


def _with_downstream(
    spec: PipelineSpec, roots: list[str], observed: Mapping[str, ObservedJob]
) -> tuple[str, ...]:
    # Only steps that have a job to set aside; the others are submitted as usual.
    chosen = set(roots) | {
        name
        for name in downstream(spec, set(roots))
        if name in observed and observed[name].status != "SUCCEEDED"
    }
    return tuple(name for name in topological_order(spec) if name in chosen)


def plan_interruption_resubmission(
    spec: PipelineSpec, observed: Mapping[str, ObservedJob], record: RunRecord
) -> Resubmission | None:
    """The steps to resubmit because their host went away, while resubmissions are left."""
    interrupted: list[str] = []
    queues: dict[str, str] = {}
    for name in topological_order(spec):
        job, step = observed.get(name), spec.step(name)
        policy = step.retry.on_interruption if step.retry is not None else None
        if job is None or policy is None or not job.interrupted:
            continue
        if record.step(name).interruptions >= policy.resubmits:
            continue  # out of resubmissions: the step failed (the message says why)
        interrupted.append(name)
        if policy.queue is not None:
            queues[name] = policy.queue
    if not interrupted:
        return None
    return Resubmission(
        "interruption",
        _with_downstream(spec, interrupted, observed),
        MappingProxyType(queues),
        tuple(interrupted),
    )


def plan_retry_failed(
    spec: PipelineSpec,
    observed: Mapping[str, ObservedJob],
    record: RunRecord,
    token: str | None,
) -> Resubmission | None:
    """For a new retry-failed token: the failed steps and their dependents (their jobs are set
    aside); never-run steps need nothing set aside and run once the run is open again. None
    when the token is not new or nothing is left to run."""
    if token is None or token == record.retry_token:
        return None
    order = topological_order(spec)
    failed = [name for name in order if name in observed and observed[name].status == "FAILED"]
    pending = [name for name in order if name not in observed]
    if not failed and not pending:
        return Resubmission("retry-failed", (), MappingProxyType({}), token=token)
    return Resubmission(
        "retry-failed",
        _with_downstream(spec, failed, observed),
        MappingProxyType({}),
        token=token,
    )


def resubmitted_steps(
    entries: list[StepStatusEntry],
    resubmission: Resubmission,
    record: RunRecord,
    observed: Mapping[str, ObservedJob],
    run: RunRef,
) -> list[StepStatusEntry]:
    """`status.steps` with each resubmitted step's job set aside: its attempts kept in its
    history, its next job named (and queued) for the resubmission, nothing submitted yet."""
    chosen = set(resubmission.steps)
    result: list[StepStatusEntry] = []
    for entry in entries:
        name = entry.get("name", "")
        if name not in chosen:
            result.append(entry)
            continue
        step = record.step(name)
        queue = resubmission.queues.get(name) or step.queue or entry.get("queue", "")
        history = step_history(step, observed.get(name), step.queue or queue)
        number = step.resubmission + 1
        updated: StepStatusEntry = {
            "name": name,
            "status": "WAITING",
            "queue": queue,
            "jobName": run.job_name(name, number),
            "statusReason": f"resubmitted ({resubmission.cause})",
            "resubmission": number,
        }
        interruptions = step.interruptions + (1 if name in resubmission.interrupted else 0)
        if interruptions:
            updated["interruptions"] = interruptions
        if history.entries:
            updated["history"] = [attempt.to_status() for attempt in history.entries]
        if history.dropped:
            updated["historyDropped"] = history.dropped
        result.append(updated)
    return result
