"""A run's timeline for `batchops timeline`: when each step waited for capacity and when it ran,
attempt by attempt, and which chain of steps decided the run's length.

Built from a BatchPipeline's status alone, so it works long after Batch forgot the jobs: the
attempt history the run keeps (`status.steps[].history[]`), or, on objects written before there
was one, each step's own times. Pure: the clock is a parameter, and the chart is laid out here as
cells and strings; `views/timeline_render.py` draws it with rich.

Queue wait means waiting for capacity, as `queueWaitSeconds` means it: a job's first attempt
waits from the later of its submission and its parents' end (a job submitted with `dependsOn`
sits PENDING until then, which is not the queue's doing); a retry waits from the end of the
attempt before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Final, Literal

from batchops.model.attempts import AttemptRecord
from batchops.model.common import parse_time
from batchops.model.pipeline import PipelineSpec
from batchops.plans.dag import topological_order

Outcome = Literal["succeeded", "failed", "interrupted", "cancelled", "running", "queued"]
"""How an attempt ended, or what it is doing now."""


_QUEUED_STATUSES: Final = frozenset({"SUBMITTED", "PENDING", "RUNNABLE", "STARTING"})
_STEP_OUTCOMES: Final[Mapping[str, Outcome]] = {
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
    "RUNNING": "running",
    "STARTING": "queued",
    "RUNNABLE": "queued",
    "PENDING": "queued",
    "SUBMITTED": "queued",
}


# --- the timeline: times in seconds from the run's start ----------------------------------------


@dataclass(frozen=True)
class AttemptSpan:
    """One attempt of one Batch job of a step. Times are seconds from the run's start; `stopped`
    None means still going (drawn to the timeline's end)."""

    attempt: int
    """Within its Batch job, 1-based."""
    resubmission: int
    """0 for the step's first job, n for the operator's n-th resubmission."""
    outcome: Outcome
    ready: float | None = None
    """When it could have started: its queue wait runs from here to `started`."""
    started: float | None = None
    stopped: float | None = None
    job_id: str | None = None
    queue: str | None = None
    exit_code: int | None = None
    reason: str | None = None

    def queue_wait(self, end: float) -> float:
        """Seconds spent waiting for capacity (until `end` while it still waits)."""
        if self.ready is None:
            return 0.0
        until = self.started if self.started is not None else (self.stopped or end)
        return max(0.0, until - self.ready)

    def run_time(self, end: float) -> float:
        """Seconds it ran (until `end` while it still runs)."""
        if self.started is None:
            return 0.0
        return max(0.0, (self.stopped if self.stopped is not None else end) - self.started)

    def finish(self, end: float) -> float | None:
        """When it stopped (`end` while it still goes); None if it never began to wait."""
        if self.stopped is not None:
            return self.stopped
        return end if self.ready is not None or self.started is not None else None


@dataclass(frozen=True)
class StepRow:
    """One step of the run: its attempts in order, and what the chart says beside the bar."""

    name: str
    depends_on: tuple[str, ...] = ()
    status: str | None = None
    attempts: tuple[AttemptSpan, ...] = ()
    array_summary: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    interruptions: int = 0
    history_dropped: int = 0
    from_history: bool = True
    """False when the status had no history and the step's own times stand in for it."""
    reported_attempts: int | None = None
    """`status.steps[].attempts`: the attempts of the current job, history or not."""
    critical: bool = False

    @property
    def resubmissions(self) -> int:
        """How often the operator submitted the step again (interruptions, retry-failed)."""
        return max((a.resubmission for a in self.attempts), default=0)

    def end(self, wall: float) -> float | None:
        """When the step's last attempt stopped (`wall` while it goes); None if it never began."""
        ends = [e for e in (a.finish(wall) for a in self.attempts) if e is not None]
        return max(ends, default=None)

    def queue_wait(self, wall: float) -> float:
        """Seconds its attempts waited for capacity, summed."""
        return sum(a.queue_wait(wall) for a in self.attempts)

    def run_time(self, wall: float) -> float:
        """Seconds its attempts ran, summed."""
        return sum(a.run_time(wall) for a in self.attempts)


@dataclass(frozen=True)
class Timeline:
    """A run laid out in time: `rows` in dependency order, times in seconds from `started_at`."""

    name: str
    phase: str | None
    started_at: datetime | None
    wall_seconds: float
    rows: tuple[StepRow, ...]
    critical_path: tuple[str, ...] = ()
    message: str | None = None

    @property
    def queue_wait_seconds(self) -> float:
        """Every attempt's queue wait, summed (waits of parallel steps overlap in time)."""
        return sum(row.queue_wait(self.wall_seconds) for row in self.rows)

    @property
    def critical_queue_wait_seconds(self) -> float:
        """The queue waits along the critical path: the part of the wall time spent waiting."""
        return sum(row.queue_wait(self.wall_seconds) for row in self.rows if row.critical)

    @property
    def run_seconds(self) -> float:
        """Every attempt's running time, summed."""
        return sum(row.run_time(self.wall_seconds) for row in self.rows)


def build_timeline(
    name: str, spec: PipelineSpec, status: Mapping[str, object] | None, now: datetime
) -> Timeline:
    """The timeline of a BatchPipeline's current run (or a CronPipeline's `status.lastRun`, which
    has the same step entries with fewer fields). `now` ends the bars of a run still going."""
    status = status or {}
    entries = _entries_by_step(status)
    origin = _origin(status, entries.values())
    finished = _moment(status.get("finishedAt"))
    end = finished if finished is not None else now
    wall = max(0.0, (end - origin).total_seconds()) if origin is not None else 0.0

    rows: dict[str, StepRow] = {}
    for step_name in topological_order(spec):
        step = spec.step(step_name)
        parent_stops = [
            stop for dep in step.depends_on if dep in rows for stop in _stops(rows[dep])
        ]
        entry = entries.get(step_name)
        if entry is None or origin is None:
            rows[step_name] = StepRow(step_name, step.depends_on, _text(entry, "status"))
            continue
        rows[step_name] = _row(step_name, step.depends_on, entry, origin, wall, parent_stops)
    if origin is not None and finished is None and wall > 0:
        # A run that has no finish time yet ends where its last attempt does (a finished run
        # written by an older operator, or one read back without `finishedAt`).
        wall = _observed_wall(rows.values(), wall, status.get("phase"))
    path = critical_path(list(rows.values()), wall)
    on_path = set(path)
    ordered = tuple(replace(row, critical=row.name in on_path) for row in rows.values())
    return Timeline(
        name=name,
        phase=_text(status, "phase"),
        started_at=origin,
        wall_seconds=wall,
        rows=ordered,
        critical_path=path,
        message=_text(status, "message"),
    )


def critical_path(rows: Sequence[StepRow], wall: float) -> tuple[str, ...]:
    """The chain of steps that decided the run's length, first to last: from the step that ended
    last, back through the dependency that ended last before it, and so on."""
    ends = {row.name: end for row in rows if (end := row.end(wall)) is not None}
    if not ends:
        return ()
    by_name = {row.name: row for row in rows}
    # Ties go to the later step in dependency order (the one downstream).
    order = {row.name: index for index, row in enumerate(rows)}
    current = max(ends, key=lambda n: (ends[n], order[n]))
    path = [current]
    while True:
        parents = [dep for dep in by_name[current].depends_on if dep in ends]
        if not parents:
            break
        current = max(parents, key=lambda n: (ends[n], order[n]))
        path.append(current)
    return tuple(reversed(path))


def _row(
    name: str,
    depends_on: tuple[str, ...],
    entry: Mapping[str, object],
    origin: datetime,
    wall: float,
    parent_stops: list[float],
) -> StepRow:
    status = _text(entry, "status")
    raw_history = entry.get("history")
    history = [
        (record, item.get("interrupted") is True)
        for item in (raw_history if isinstance(raw_history, list) else [])
        if isinstance(item, Mapping) and (record := AttemptRecord.from_status(item)) is not None
    ]
    if history:
        attempts = _from_history(history, entry, status, origin, wall, parent_stops)
    else:
        attempts = _from_step_fields(entry, status, origin, parent_stops)
    summary = entry.get("arrayStatusSummary")
    return StepRow(
        name=name,
        depends_on=depends_on,
        status=status,
        attempts=attempts,
        array_summary=MappingProxyType(
            {
                str(key): count
                for key, count in (summary.items() if isinstance(summary, Mapping) else ())
                if isinstance(count, int) and not isinstance(count, bool)
            }
        ),
        interruptions=_number(entry, "interruptions") or 0,
        history_dropped=_number(entry, "historyDropped") or 0,
        from_history=bool(history),
        reported_attempts=_number(entry, "attempts"),
    )


def _from_history(
    history: list[tuple[AttemptRecord, bool]],
    entry: Mapping[str, object],
    status: str | None,
    origin: datetime,
    wall: float,
    parent_stops: list[float],
) -> tuple[AttemptSpan, ...]:
    def offset(ms: int | None) -> float | None:
        return None if ms is None else ms / 1000 - origin.timestamp()

    ordered = sorted(history, key=lambda pair: (pair[0].resubmission, pair[0].attempt))
    spans: list[AttemptSpan] = []
    previous: dict[str, float | None] = {}  # job id -> the stop of its latest attempt so far
    for index, (record, flagged) in enumerate(ordered):
        started, stopped = offset(record.started_at), offset(record.stopped_at)
        if record.job_id in previous:
            ready = previous[record.job_id]
        else:
            ready = _first_ready(offset(record.created_at), started, parent_stops)
        previous[record.job_id] = stopped
        last = index == len(ordered) - 1
        interrupted = flagged or record.interrupted
        spans.append(
            AttemptSpan(
                attempt=record.attempt,
                resubmission=record.resubmission,
                outcome=_attempt_outcome(record, interrupted, last, status),
                ready=ready if started is None or ready is None else min(ready, started),
                started=started,
                stopped=stopped,
                job_id=record.job_id,
                queue=record.queue,
                exit_code=record.exit_code,
                reason=record.status_reason,
            )
        )
    return tuple(spans) + _current_job_waiting(entry, status, spans, origin, parent_stops)


def _current_job_waiting(
    entry: Mapping[str, object],
    status: str | None,
    spans: list[AttemptSpan],
    origin: datetime,
    parent_stops: list[float],
) -> tuple[AttemptSpan, ...]:
    """History lists attempts that started; a job still waiting for its next (or first) attempt
    is drawn as waiting from the end of its last attempt (or its submission)."""
    if status not in _QUEUED_STATUSES:
        return ()
    job_id = _text(entry, "jobId")
    own = [span for span in spans if span.job_id == job_id]
    if own and own[-1].stopped is None:
        return ()  # its attempt in progress is in the history already
    if own:
        ready: float | None = own[-1].stopped
        attempt, resubmission = own[-1].attempt + 1, own[-1].resubmission
    else:
        created = _moment(entry.get("createdAt"))
        submitted = (created - origin).total_seconds() if created is not None else None
        ready = _first_ready(submitted, None, parent_stops)
        attempt = 1
        resubmission = max((span.resubmission for span in spans), default=-1) + 1
    if ready is None:
        return ()
    return (
        AttemptSpan(
            attempt=attempt,
            resubmission=resubmission,
            outcome="queued",
            ready=ready,
            job_id=job_id,
            queue=_text(entry, "queue"),
        ),
    )


def _from_step_fields(
    entry: Mapping[str, object], status: str | None, origin: datetime, parent_stops: list[float]
) -> tuple[AttemptSpan, ...]:
    """An object without history: the step's current job as one span. Its `startedAt` may be
    a retry's, so the first start is recovered from `queueWaitSeconds` where it can be."""

    def offset(key: str) -> float | None:
        moment = _moment(entry.get(key))
        return None if moment is None else (moment - origin).total_seconds()

    created, started, stopped = offset("createdAt"), offset("startedAt"), offset("stoppedAt")
    if started is None and (created is None or status not in _QUEUED_STATUSES):
        # Never submitted (WAITING), or stopped before it started (CANCELLED while PENDING on
        # a failed dependency): it never waited for capacity, and nothing says until when.
        return ()
    wait = _number(entry, "queueWaitSeconds")
    ready = _first_ready(created, None, parent_stops)
    if ready is None and started is not None and wait is not None:
        ready = started - wait
    if ready is not None and wait is not None and started is not None:
        started = min(started, ready + wait)
    if ready is not None and started is not None:
        ready = min(ready, started)
    outcome = _STEP_OUTCOMES.get(status or "", "queued")
    if outcome == "queued" and started is not None and stopped is None:
        outcome = "running"
    return (
        AttemptSpan(
            attempt=_number(entry, "attempts") or 1,
            resubmission=_number(entry, "resubmission") or 0,
            outcome=outcome,
            ready=ready,
            started=started,
            stopped=stopped,
            job_id=_text(entry, "jobId"),
            queue=_text(entry, "queue"),
            exit_code=_number(entry, "exitCode"),
            reason=_text(entry, "statusReason"),
        ),
    )


def _first_ready(
    created: float | None, started: float | None, parent_stops: list[float]
) -> float | None:
    """When a job's first attempt could start: the later of its submission and its parents'
    latest stop before it started."""
    bound = started if started is not None else float("inf")
    before = [stop for stop in parent_stops if stop <= bound]
    candidates = [t for t in (created, max(before, default=None)) if t is not None]
    return max(candidates, default=None)


def _attempt_outcome(
    record: AttemptRecord, interrupted: bool, last: bool, status: str | None
) -> Outcome:
    if interrupted:
        return "interrupted"
    if record.stopped_at is None:
        if status in ("FAILED", "CANCELLED"):
            return "cancelled"
        return "running" if record.started_at is not None else "queued"
    if last and status == "SUCCEEDED":
        return "succeeded"
    if last and status == "CANCELLED":
        return "cancelled"
    return "succeeded" if record.exit_code == 0 else "failed"


def _stops(row: StepRow) -> list[float]:
    return [a.stopped for a in row.attempts if a.stopped is not None]


def _observed_wall(rows: Iterable[StepRow], wall: float, phase: object) -> float:
    if phase not in ("Succeeded", "Failed", "Cancelled"):
        return wall
    ends = [a.stopped for row in rows for a in row.attempts if a.stopped is not None]
    return min(wall, max(ends, default=wall))


def _entries_by_step(status: Mapping[str, object]) -> dict[str, Mapping[str, object]]:
    raw = status.get("steps")
    return {
        str(entry["name"]): entry
        for entry in (raw if isinstance(raw, list) else [])
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str)
    }


def _origin(
    status: Mapping[str, object], entries: Iterable[Mapping[str, object]]
) -> datetime | None:
    """The run's start; without `status.startedAt`, its earliest recorded time."""
    started = _moment(status.get("startedAt"))
    if started is not None:
        return started
    moments: list[datetime] = []
    for entry in entries:
        for key in ("createdAt", "startedAt"):
            moment = _moment(entry.get(key))
            if moment is not None:
                moments.append(moment)
    return min(moments, default=None)


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def _text(entry: Mapping[str, object] | None, key: str) -> str | None:
    value = entry.get(key) if entry is not None else None
    return value if isinstance(value, str) and value else None


def _number(entry: Mapping[str, object], key: str) -> int | None:
    value = entry.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
