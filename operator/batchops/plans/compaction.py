"""Big runs stay under etcd's object size limit: past a budget, step entries are compacted.

A BatchPipeline is one etcd object, and etcd refuses a write past 1.5 MiB (its default
`--max-request-bytes`; the API server then answers "etcdserver: request is too large"). A
finished step's full status entry (job ARN, log stream, attempt history, usage) is about
1.3 KiB, so a run of about 800 steps could no longer write its status. Once `status.steps`
passes `STEPS_BUDGET_BYTES`, entries are cut to name, status and job id (`compacted: true`),
which is all the run engine needs to keep exactly-once: the job id means "submitted", so no
ListJobs look-up and no second SubmitJob, and it stands for the dependency of a step submitted
after it. In this order, until the list fits:

1. succeeded steps, those that stopped first before the others. A succeeded step never changes
   again in its run, so it stays compacted (its history is gone from status) and what it used
   moves into one sum, `status.compacted.usage`, which keeps the run's usage whole;
2. steps not submitted (waiting, or cancelled before they ran);
3. steps in Batch's queue (SUBMITTED, PENDING, RUNNABLE), then those starting or running.

Groups 2 and 3 are recomputed on every pass from what Batch reports, so they are compacted only
while their entry holds nothing Batch does not: no resubmission, interruption or earlier job in
their history. Failed steps always keep their full entries: those are the ones a person reads.
The job definitions of compacted steps are listed once (`status.compacted.jobDefinitions`), so
the definitions index still keeps them from being retired.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from batchops.model.observed import CompactedEntry, RunRecord, StepStatus
from batchops.plans.usage import Usage, total_usage

STEPS_BUDGET_BYTES: Final = 400 * 1024
"""The most `status.steps` may take as JSON before entries are compacted. The rest of etcd's
1.5 MiB is the spec (a 5,000-step spec is about 500 KB with its managedFields when created or
applied server-side), the compacted entries' own floor (about 100 bytes a step) and metadata."""

_ORDER: Final = {
    "SUCCEEDED": 0,
    "WAITING": 1,
    "CANCELLED": 1,
    "SUBMITTED": 2,
    "PENDING": 2,
    "RUNNABLE": 2,
    "STARTING": 3,
    "RUNNING": 3,
}
"""Which entries go first (lower first); a state not listed (FAILED) is never compacted."""


@dataclass(frozen=True)
class CompactedSteps:
    """The step entries to write, the run's usage, and what `status.compacted` says."""

    steps: tuple[StepStatus, ...]
    run_usage: Usage
    """Every step's usage, the compacted succeeded ones' included."""
    carried: Usage
    """What the compacted succeeded steps used (they carry no usage of their own)."""
    job_definitions: tuple[str, ...]
    """The job definitions of compacted steps, which their entries no longer name."""

    def to_status(self) -> CompactedEntry | None:
        """`status.compacted`, or None while no step is."""
        count = sum(1 for step in self.steps if step.compacted)
        if not count:
            return None
        entry: CompactedEntry = {"steps": count, "usage": self.carried.to_status()}
        if self.job_definitions:
            entry["jobDefinitions"] = list(self.job_definitions)
        return entry


def compact_steps(
    steps: Sequence[StepStatus], record: RunRecord, budget: int = STEPS_BUDGET_BYTES
) -> CompactedSteps:
    """Compact what the previous status had compacted of the succeeded steps, then further
    entries in `_ORDER` (ties: earlier stop, then topological position) while the list takes
    more than `budget` bytes as JSON."""
    carried = Usage.from_status(record.compacted_usage) or Usage()
    kept = [_compacted_before(step, record) for step in steps]
    run_usage = carried + total_usage(
        Usage.from_status(step.usage) for step, k in zip(steps, kept, strict=True) if not k
    )
    entries = [step.compact() if k else step for step, k in zip(steps, kept, strict=True)]
    sizes = [_size(step) for step in entries]
    total = sum(sizes) + len(entries) + 1
    if total > budget:
        candidates = sorted(
            (_ORDER[step.status], step.stopped_at or 0, position)
            for position, step in enumerate(entries)
            if not step.compacted and _compactable(step)
        )
        for _, _, position in candidates:
            if total <= budget:
                break
            full = entries[position]
            small = full.compact()
            total -= sizes[position] - _size(small)
            entries[position] = small
            if full.status == "SUCCEEDED":
                carried += Usage.from_status(full.usage) or Usage()
    definitions = sorted(
        {
            full.job_definition
            for full, entry in zip(steps, entries, strict=True)
            if entry.compacted and full.job_definition is not None
        }
        | set(record.compacted_job_definitions)
    )
    return CompactedSteps(tuple(entries), run_usage, carried, tuple(definitions))


def _compacted_before(step: StepStatus, record: RunRecord) -> bool:
    """A succeeded step the previous status had already compacted (its usage is carried)."""
    job = record.jobs.get(step.name)
    return (
        record.step(step.name).compacted
        and job is not None
        and job.status == "SUCCEEDED"
        and step.status == "SUCCEEDED"
    )


def _compactable(step: StepStatus) -> bool:
    if step.status not in _ORDER:
        return False
    if step.status == "SUCCEEDED":
        return step.job_id is not None
    # Recomputed every pass from Batch: only while status holds nothing Batch does not.
    return (
        not step.resubmission
        and not step.interruptions
        and not step.history_dropped
        and all(attempt.job_id == step.job_id for attempt in step.history)
    )


def entry_bytes(entry: object) -> int:
    """What a status value takes as JSON, as the budget counts it."""
    return len(json.dumps(entry, separators=(",", ":"), ensure_ascii=False))


def submission_entry(
    entry: Mapping[str, Any], submitted: Mapping[str, Any], steps_bytes: int
) -> tuple[dict[str, Any], bool]:
    """A step's entry once SubmitJob gave it a job id (`submitted`: jobId, jobName,
    jobDefinition, status), within the budget while the pass goes on: where the full entry
    would take `status.steps` (now `steps_bytes`) past it, it is compacted, as group 3 would
    be, unless it holds what Batch does not (a resubmission's history). True when compacted."""
    if not entry.get("compacted"):
        full = {**entry, **submitted, "statusReason": None}
        if steps_bytes + entry_bytes(full) - entry_bytes(entry) <= STEPS_BUDGET_BYTES or any(
            entry.get(key) for key in ("resubmission", "interruptions", "history", "historyDropped")
        ):
            return full, False
    short = {"name": entry["name"], "status": submitted["status"], "jobId": submitted["jobId"]}
    return {**short, "compacted": True}, True


def _size(step: StepStatus) -> int:
    return entry_bytes(step.to_status())
