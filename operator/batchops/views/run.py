"""A pipeline run as the CLI shows it: the steps in dependency order, each with its state.

Built from a parsed spec (the graph) and, for a live object, its `status` (the states). A spec
read from a file has no states; every renderer accepts both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from batchops.model.common import parse_time
from batchops.model.observed import FINISHED_PHASES
from batchops.model.pipeline import PipelineSpec
from batchops.plans.dag import topological_order
from batchops.plans.run_status import human_duration

StateClass = Literal["waiting", "queued", "running", "succeeded", "failed", "cancelled"]
"""A step's state in the few groups a reader tells apart by colour."""

STATE_CLASSES: Final[tuple[StateClass, ...]] = (
    "waiting",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)

_CLASS_OF_STATUS: Final[Mapping[str, StateClass]] = {
    "WAITING": "waiting",
    "SUBMITTED": "waiting",
    "PENDING": "waiting",
    "RUNNABLE": "queued",
    "STARTING": "queued",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
}


@dataclass(frozen=True)
class StepView:
    """One step: its dependencies and, in a live run, what Batch reports of it."""

    name: str
    depends_on: tuple[str, ...] = ()
    status: str | None = None
    """SUBMITTED ... FAILED as Batch says, or the operator's WAITING / CANCELLED; None when the
    graph comes from a spec with no run."""
    duration_seconds: float | None = None
    """Running time: started to stopped, or to now while it runs; None before it starts."""
    attempts: int | None = None
    exit_code: int | None = None
    queue_wait_seconds: int | None = None
    reason: str | None = None

    @property
    def state_class(self) -> StateClass | None:
        """The colour group of the status (None without a status)."""
        return None if self.status is None else _CLASS_OF_STATUS.get(self.status, "waiting")

    @property
    def state_text(self) -> str:
        """`SUCCEEDED 3s`, `FAILED 2s exit 1`, `PENDING`; empty without a status."""
        if self.status is None:
            return ""
        words = [self.status]
        if self.duration_seconds is not None:
            words.append(human_duration(self.duration_seconds))
        if self.status == "FAILED" and self.exit_code is not None:
            words.append(f"exit {self.exit_code}")
        return " ".join(words)


@dataclass(frozen=True)
class RunView:
    """A pipeline's steps in dependency order, and its run's phase when there is one."""

    name: str
    steps: tuple[StepView, ...]
    phase: str | None = None
    progress: str | None = None
    message: str | None = None
    duration_seconds: float | None = None

    @property
    def live(self) -> bool:
        """True when the view carries a run's states (not just a spec)."""
        return self.phase is not None or any(step.status is not None for step in self.steps)

    @property
    def finished(self) -> bool:
        """True once the run is Succeeded, Failed or Cancelled."""
        return self.phase in FINISHED_PHASES

    @property
    def progress_text(self) -> str:
        """The status's `2/3`, or counted from the steps when the status has none yet."""
        if self.progress:
            return self.progress
        done = sum(1 for step in self.steps if step.status == "SUCCEEDED")
        return f"{done}/{len(self.steps)}"


def spec_view(name: str, spec: PipelineSpec) -> RunView:
    """The graph of a spec with no run (a file, or a template)."""
    return RunView(name=name, steps=_ordered_steps(spec, {}, None))


def run_view(
    name: str, spec: PipelineSpec, status: Mapping[str, object] | None, now: datetime
) -> RunView:
    """The graph of a live object with each step's state from `status` (a BatchPipeline's
    status, or a CronPipeline's `status.lastRun`, which has the same step entries). `now` times
    the steps and the run still going."""
    status = status or {}
    entries: dict[str, Mapping[str, object]] = {}
    raw_steps = status.get("steps")
    for entry in raw_steps if isinstance(raw_steps, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            entries[str(entry["name"])] = entry
    phase = _text(status.get("phase"))
    return RunView(
        name=name,
        steps=_ordered_steps(spec, entries, now),
        phase=phase,
        progress=_text(status.get("progress")),
        message=_text(status.get("message")),
        duration_seconds=_elapsed(status.get("startedAt"), status.get("finishedAt"), now),
    )


def _ordered_steps(
    spec: PipelineSpec, entries: Mapping[str, Mapping[str, object]], now: datetime | None
) -> tuple[StepView, ...]:
    steps: list[StepView] = []
    for name in topological_order(spec):
        depends_on = spec.step(name).depends_on
        entry = entries.get(name)
        if entry is None or now is None:
            steps.append(StepView(name, depends_on))
            continue
        steps.append(
            StepView(
                name=name,
                depends_on=depends_on,
                status=_text(entry.get("status")),
                duration_seconds=_elapsed(entry.get("startedAt"), entry.get("stoppedAt"), now),
                attempts=_number(entry.get("attempts")),
                exit_code=_number(entry.get("exitCode")),
                queue_wait_seconds=_number(entry.get("queueWaitSeconds")),
                reason=_text(entry.get("statusReason")),
            )
        )
    return tuple(steps)


def _elapsed(started: object, stopped: object, now: datetime) -> float | None:
    if not isinstance(started, str):
        return None
    end = parse_time(stopped) if isinstance(stopped, str) else now
    return max(0.0, (end - parse_time(started)).total_seconds())


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
