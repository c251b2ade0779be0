"""A step's attempt history: the entries kept for its earlier jobs plus the attempts of its
current one, capped so a step retried without end cannot grow its status without bound."""

from __future__ import annotations

import dataclasses
from typing import Final

from batchops.model.attempts import AttemptRecord
from batchops.model.observed import ObservedJob, StepRecord

MAX_HISTORY: Final = 20
"""Entries kept per step (the oldest go first; `historyDropped` counts them)."""


@dataclasses.dataclass(frozen=True)
class StepHistory:
    """The history to write for one step."""

    entries: tuple[AttemptRecord, ...]
    dropped: int


def step_history(record: StepRecord, job: ObservedJob | None, queue: str) -> StepHistory:
    """`record`'s entries with the current job's attempts (as DescribeJobs reports them now)
    in place of the ones written before; a job Batch no longer reports keeps what status
    said of it."""
    current = tuple(
        dataclasses.replace(attempt, resubmission=record.resubmission, queue=queue)
        for attempt in (job.attempt_records if job is not None else ())
    )
    if current:
        assert job is not None
        kept = tuple(a for a in record.history if a.job_id != job.job_id) + current
    else:
        kept = record.history
    dropped = max(0, len(kept) - MAX_HISTORY)
    return StepHistory(kept[dropped:], record.history_dropped + dropped)
