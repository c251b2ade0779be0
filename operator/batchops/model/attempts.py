"""Attempts of Batch jobs as a run records them: the history that outlives Batch's retention.

Batch forgets a job about seven days after it ended; the run's status keeps one entry per
attempt of every job a step ran (`status.steps[].history[]`), so the reason, exit code, log
stream and host of each attempt can still be read, and `batchops logs --attempt N` still works,
long after. An attempt whose host went away (a Spot reclaim, a scale-in) is marked
`interrupted`: it says nothing about the job itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypedDict

from batchops.model.common import format_time, parse_time

# "Host EC2 (instance i-0123456789abcdef0) terminated." is the statusReason of an attempt whose
# instance went away (AWS Batch User Guide, "Job states"/"Automated job retries": an instance
# reclaimed by Spot or terminated while the job runs ends the attempt with this reason).
_HOST_LOSS: Final = re.compile(r"^Host EC2 \(instance [^)]*\) terminated\.?$")
HOST_LOSS_PATTERN: Final = "Host EC2*"
"""An `onStatusReason` glob matching the host-loss reason, for retryStrategy.evaluateOnExit."""


def is_host_loss(status_reason: str | None) -> bool:
    """Whether an attempt ended because its host went away, not because of the job."""
    return status_reason is not None and _HOST_LOSS.match(status_reason) is not None


class HistoryEntry(TypedDict, total=False):
    """One `status.steps[].history[]` item, camelCase as the CRD defines it."""

    jobId: str
    attempt: int
    resubmission: int
    queue: str
    createdAt: str
    startedAt: str
    stoppedAt: str
    exitCode: int
    statusReason: str
    logStream: str
    instance: str
    interrupted: bool


def _ms(moment: str | None) -> int | None:
    if moment is None:
        return None
    try:
        return round(parse_time(moment).timestamp() * 1000)
    except ValueError:
        return None


def _time(ms: int | None) -> str | None:
    return None if ms is None else format_time(datetime.fromtimestamp(ms / 1000, tz=UTC))


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt of one Batch job of a step; times in ms since the epoch. `attempt` counts
    within that Batch job (1-based), `resubmission` which of the step's jobs it was (0: the
    first; n: the operator's n-th resubmission)."""

    job_id: str
    attempt: int
    resubmission: int = 0
    queue: str | None = None
    created_at: int | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    exit_code: int | None = None
    status_reason: str | None = None
    log_stream: str | None = None
    instance: str | None = None

    @property
    def interrupted(self) -> bool:
        """The attempt ended because its host went away."""
        return is_host_loss(self.status_reason)

    @property
    def key(self) -> tuple[str, int]:
        """Identifies the attempt across passes."""
        return (self.job_id, self.attempt)

    def to_status(self) -> HistoryEntry:
        """The `history[]` item; unset fields are left out."""
        entry: HistoryEntry = {"jobId": self.job_id, "attempt": self.attempt}
        if self.resubmission:
            entry["resubmission"] = self.resubmission
        if self.queue is not None:
            entry["queue"] = self.queue
        for key, ms in (
            ("createdAt", self.created_at),
            ("startedAt", self.started_at),
            ("stoppedAt", self.stopped_at),
        ):
            text = _time(ms)
            if text is not None:
                entry[key] = text  # type: ignore[literal-required]  # one of the time keys
        if self.exit_code is not None:
            entry["exitCode"] = self.exit_code
        if self.status_reason is not None:
            entry["statusReason"] = self.status_reason
        if self.log_stream is not None:
            entry["logStream"] = self.log_stream
        if self.instance is not None:
            entry["instance"] = self.instance
        if self.interrupted:
            entry["interrupted"] = True
        return entry

    @classmethod
    def from_status(cls, raw: Mapping[str, object]) -> AttemptRecord | None:
        """Parse a `history[]` item (None if it is not one)."""
        job_id, attempt = raw.get("jobId"), raw.get("attempt")
        if not isinstance(job_id, str) or not isinstance(attempt, int):
            return None

        def text(key: str) -> str | None:
            value = raw.get(key)
            return value if isinstance(value, str) and value else None

        def number(key: str) -> int | None:
            value = raw.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            job_id=job_id,
            attempt=attempt,
            resubmission=number("resubmission") or 0,
            queue=text("queue"),
            created_at=_ms(text("createdAt")),
            started_at=_ms(text("startedAt")),
            stopped_at=_ms(text("stoppedAt")),
            exit_code=number("exitCode"),
            status_reason=text("statusReason"),
            log_stream=text("logStream"),
            instance=text("instance"),
        )


def attempts_of_describe(item: Mapping[str, object], running: bool) -> tuple[AttemptRecord, ...]:
    """The attempts of a DescribeJobs item: Batch lists ended ones in `attempts[]`; the one
    STARTING or RUNNING now (`running`) is added from the job's own fields."""
    job_id = item.get("jobId")
    if not isinstance(job_id, str):
        return ()
    created = item.get("createdAt")
    created_at = created if isinstance(created, int) else None
    raw_attempts = item.get("attempts")
    records: list[AttemptRecord] = []
    for index, raw in enumerate(raw_attempts if isinstance(raw_attempts, list) else []):
        attempt = raw if isinstance(raw, Mapping) else {}
        container = attempt.get("container")
        container = container if isinstance(container, Mapping) else {}
        records.append(
            AttemptRecord(
                job_id=job_id,
                attempt=index + 1,
                created_at=created_at,
                started_at=_int(attempt.get("startedAt")),
                stopped_at=_int(attempt.get("stoppedAt")),
                exit_code=_int(container.get("exitCode")),
                status_reason=_str(attempt.get("statusReason")) or _str(container.get("reason")),
                log_stream=_str(container.get("logStreamName")),
                instance=_str(container.get("containerInstanceArn"))
                or _str(container.get("taskArn")),
            )
        )
    if running:
        container = item.get("container")
        container = container if isinstance(container, Mapping) else {}
        records.append(
            AttemptRecord(
                job_id=job_id,
                attempt=len(records) + 1,
                created_at=created_at,
                started_at=_int(item.get("startedAt")),
                log_stream=_str(container.get("logStreamName")),
                instance=_str(container.get("containerInstanceArn"))
                or _str(container.get("taskArn")),
            )
        )
    return tuple(records)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
