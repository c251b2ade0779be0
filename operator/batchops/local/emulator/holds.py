"""Holding jobs at one moment of their life, so a test can act on a job in a known state.

Holds (JSON for the control API, same fields in Python):

    {"holds": [{"jobName": "etl-b-*",     # glob on the job name (array children: the
                                          # parent's name)
                "status": "STARTING"}]}   # SUBMITTED | PENDING | RUNNABLE | STARTING

A job a hold matches stays in that status when its next step comes (Delays.job_step) instead of
moving on; it moves on at once when a later configuration no longer holds it there. Nothing
else changes: CancelJob and TerminateJob act on a held job as on any other, and a held STARTING
job keeps its vCPUs. A job is kept RUNNING by a scenario rule's durationSeconds instead.
Each configuration replaces the previous one; {"holds": []} (and a reset) releases every job.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Final

HOLDABLE: Final = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING")
"""The states a job leaves by the emulator's own step timer."""


@dataclass(frozen=True)
class Hold:
    """Keep jobs named like `job_name` in `status`."""

    job_name: str
    status: str


@dataclass(frozen=True)
class Holds:
    """Every hold in force."""

    holds: tuple[Hold, ...] = ()

    def keeps(self, job_name: str, status: str) -> bool:
        """Whether a job of this name must stay in `status` for now."""
        return any(
            hold.status == status and fnmatch.fnmatchcase(job_name, hold.job_name)
            for hold in self.holds
        )


def parse_holds(raw: list[dict[str, Any]]) -> Holds:
    """Holds from the control API's JSON fields; ValueError when malformed."""
    parsed = []
    for entry in raw:
        unknown = set(entry) - {"jobName", "status"}
        if unknown:
            raise ValueError(f"unknown hold fields: {sorted(unknown)}")
        status = str(entry.get("status", ""))
        if status not in HOLDABLE:
            raise ValueError(
                f"a hold's status must be one of {', '.join(HOLDABLE)}, got {status!r} "
                "(keep a job RUNNING with a scenario rule's durationSeconds)"
            )
        parsed.append(Hold(job_name=str(entry.get("jobName", "*")), status=status))
    return Holds(tuple(parsed))
