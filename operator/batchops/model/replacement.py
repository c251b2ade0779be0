"""A blue/green replacement's progress, as persisted in a BatchComputeEnvironment's
`status.replacement` so that a restarted operator resumes it where it stood."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from batchops.model.common import FieldError, FieldReader, format_time


class ReplacementPhase(StrEnum):
    """Where a blue/green replacement stands, as shown in `status.replacement.phase`."""

    IN_PROGRESS = "InProgress"
    STALLED = "Stalled"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"

    @property
    def active(self) -> bool:
        """The replacement still owns the object: the next reconcile must resume it."""
        return self in (ReplacementPhase.IN_PROGRESS, ReplacementPhase.STALLED)


class ReplacementStatusDict(TypedDict, total=False):
    """`status.replacement` as stored on the object."""

    phase: str
    step: str
    successorName: str
    successorArn: str
    previousName: str
    previousArn: str
    startedAt: str
    message: str


@dataclass(frozen=True)
class ReplacementProgress:
    """A blue/green replacement's progress, persisted in status so a restart resumes it."""

    phase: ReplacementPhase
    step: str
    successor_name: str
    previous_name: str
    started_at: datetime
    message: str
    successor_arn: str | None = None
    previous_arn: str | None = None

    def to_status(self) -> ReplacementStatusDict:
        """The JSON shape for `status.replacement`."""
        out: ReplacementStatusDict = {
            "phase": self.phase.value,
            "step": self.step,
            "successorName": self.successor_name,
            "previousName": self.previous_name,
            "startedAt": format_time(self.started_at),
            "message": self.message,
        }
        if self.successor_arn:
            out["successorArn"] = self.successor_arn
        if self.previous_arn:
            out["previousArn"] = self.previous_arn
        return out

    @classmethod
    def from_status(cls, raw: Mapping[str, object]) -> ReplacementProgress:
        """Read `status.replacement`; a malformed record raises FieldError."""
        reader = FieldReader(raw, "status.replacement", error=FieldError)
        started_at = reader.opt_time("startedAt")
        if started_at is None:
            raise reader.fail("startedAt", "is required")
        return cls(
            phase=ReplacementPhase(reader.enum("phase", [p.value for p in ReplacementPhase])),
            step=reader.req_str("step"),
            successor_name=reader.req_str("successorName"),
            previous_name=reader.req_str("previousName"),
            started_at=started_at,
            message=reader.opt_str("message") or "",
            successor_arn=reader.opt_str("successorArn"),
            previous_arn=reader.opt_str("previousArn"),
        )
