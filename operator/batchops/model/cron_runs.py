"""The runs a CronPipeline created, read from their metadata and status.

A CronPipeline's loop lists its child BatchPipelines and folds them into its own status
(`active`, `lastRun`, `lastSuccessfulTime`, `usage`); unreadable values count as unknown rather
than failing the CronPipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from batchops.model.common import format_time, parse_time
from batchops.model.cron import LastRunStatus, LastRunStep
from batchops.model.keys import SCHEDULED_TIME_ANNOTATION
from batchops.model.observed import FINISHED_PHASES, CapacityUsageEntry, Phase, UsageEntry


@dataclass(frozen=True)
class ChildRun:
    """One BatchPipeline a CronPipeline created, as the handler observed it. A run is active
    until its phase is Succeeded, Failed or Cancelled."""

    name: str
    phase: Phase | None = None
    finished_at: datetime | None = None
    scheduled_time: datetime | None = None
    usage: UsageEntry | None = None
    """The run's `status.usage`, as the run wrote it."""

    @property
    def active(self) -> bool:
        """Whether the run has not finished (no phase yet counts as active)."""
        return self.phase not in FINISHED_PHASES

    @classmethod
    def from_child(
        cls,
        name: str,
        annotations: Mapping[str, str] | None,
        status: Mapping[str, object] | None,
    ) -> ChildRun:
        """Read a child BatchPipeline's metadata.annotations and status; unreadable values
        count as unknown rather than failing the CronPipeline."""
        status = status or {}
        return cls(
            name=name,
            phase=_phase_or_none(status.get("phase")),
            finished_at=_moment_or_none(status.get("finishedAt")),
            scheduled_time=_moment_or_none((annotations or {}).get(SCHEDULED_TIME_ANNOTATION)),
            usage=usage_or_none(status.get("usage")),
        )


_PHASES: Final[tuple[Phase, ...]] = ("Pending", "Running", "Succeeded", "Failed", "Cancelled")


def last_run_summary(name: str, child_status: Mapping[str, object] | None) -> LastRunStatus:
    """`status.lastRun` from a child BatchPipeline's status. Every key is present (None when
    unknown) because a merge patch would otherwise keep the previous run's values."""
    status = child_status or {}
    steps: list[LastRunStep] = []
    raw_steps = status.get("steps")
    for raw in raw_steps if isinstance(raw_steps, list) else []:
        if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
            steps.append(_last_run_step(raw))
    return {
        "name": name,
        "phase": _phase_or_none(status.get("phase")),
        "progress": _str_or_none(status.get("progress")),
        "message": _str_or_none(status.get("message")),
        "startedAt": _time_or_none(status.get("startedAt")),
        "finishedAt": _time_or_none(status.get("finishedAt")),
        "steps": steps,
        "usage": usage_or_none(status.get("usage")),
    }


def _last_run_step(raw: Mapping[str, object]) -> LastRunStep:
    step: LastRunStep = {"name": str(raw["name"])}
    if (status := _str_or_none(raw.get("status"))) is not None:
        step["status"] = status
    if (job_id := _str_or_none(raw.get("jobId"))) is not None:
        step["jobId"] = job_id
    if (reason := _str_or_none(raw.get("statusReason"))) is not None:
        step["statusReason"] = reason
    if (exit_code := _int_or_none(raw.get("exitCode"))) is not None:
        step["exitCode"] = exit_code
    if (started := _time_or_none(raw.get("startedAt"))) is not None:
        step["startedAt"] = started
    if (stopped := _time_or_none(raw.get("stoppedAt"))) is not None:
        step["stoppedAt"] = stopped
    if (wait := _int_or_none(raw.get("queueWaitSeconds"))) is not None:
        step["queueWaitSeconds"] = wait
    return step


def usage_or_none(value: object) -> UsageEntry | None:
    """A run's `status.usage` with only the fields the CRD defines, or None."""
    if not isinstance(value, Mapping):
        return None
    seconds = _resource_seconds(value)
    entry: UsageEntry = {}
    if "vcpuSeconds" in seconds:
        entry["vcpuSeconds"] = seconds["vcpuSeconds"]
    if "memoryGiBSeconds" in seconds:
        entry["memoryGiBSeconds"] = seconds["memoryGiBSeconds"]
    if "gpuSeconds" in seconds:
        entry["gpuSeconds"] = seconds["gpuSeconds"]
    if isinstance(hours := value.get("vcpuHours"), str):
        entry["vcpuHours"] = hours
    if isinstance(spot := value.get("spot"), Mapping):
        entry["spot"] = _resource_seconds(spot)
    if isinstance(on_demand := value.get("onDemand"), Mapping):
        entry["onDemand"] = _resource_seconds(on_demand)
    return entry


def _resource_seconds(raw: Mapping[str, object]) -> CapacityUsageEntry:
    part: CapacityUsageEntry = {}
    if (vcpu := _number_or_none(raw.get("vcpuSeconds"))) is not None:
        part["vcpuSeconds"] = vcpu
    if (memory := _number_or_none(raw.get("memoryGiBSeconds"))) is not None:
        part["memoryGiBSeconds"] = memory
    if (gpu := _number_or_none(raw.get("gpuSeconds"))) is not None:
        part["gpuSeconds"] = gpu
    return part


def _number_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _phase_or_none(value: object) -> Phase | None:
    return next((phase for phase in _PHASES if phase == value), None)


def _moment_or_none(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def _time_or_none(value: object) -> str | None:
    moment = _moment_or_none(value)
    return format_time(moment) if moment is not None else None
