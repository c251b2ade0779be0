"""How jobs run: the mode, and in simulate mode the scripted outcome of each attempt.

A scenario (JSON for the control API, same fields in Python):

    {"mode": "simulate",                      # or "process"
     "rules": [{"jobName": "etl-b-*",         # glob on the job name (array children: the
                                              # parent's name)
                "attempt": 1,                 # optional: only this attempt (1-based)
                "arrayIndex": 3,              # optional: only this array child
                "durationSeconds": 0.5,       # emulated seconds the attempt runs
                "exitCode": 1}]}              # its exit code (0 succeeds)

The first matching rule wins; an attempt no rule matches runs `Delays.job_duration` (1 s) and
exits 0. In process mode the rules are not used: each attempt runs the container command as a
local process (see runners.py).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

SIMULATE = "simulate"
PROCESS = "process"


@dataclass(frozen=True)
class Rule:
    """The outcome of the attempts one rule matches."""

    job_name: str
    attempt: int | None
    array_index: int | None
    duration_seconds: float | None  # None: the default duration
    exit_code: int

    def matches(self, job_name: str, attempt: int, array_index: int | None) -> bool:
        """Whether this rule decides this attempt."""
        return (
            fnmatch.fnmatchcase(job_name, self.job_name)
            and (self.attempt is None or self.attempt == attempt)
            and (self.array_index is None or self.array_index == array_index)
        )


@dataclass(frozen=True)
class Outcome:
    """What a simulated attempt does."""

    duration_seconds: float
    exit_code: int


@dataclass(frozen=True)
class Scenario:
    """The run mode and the simulate-mode rules."""

    mode: str = SIMULATE
    rules: tuple[Rule, ...] = ()

    def outcome(
        self, job_name: str, attempt: int, array_index: int | None, default_duration: float
    ) -> Outcome:
        """The first matching rule's outcome, or the default (success after the default time)."""
        for rule in self.rules:
            if rule.matches(job_name, attempt, array_index):
                duration = rule.duration_seconds
                return Outcome(default_duration if duration is None else duration, rule.exit_code)
        return Outcome(default_duration, 0)


def parse_scenario(mode: str, rules: list[dict[str, Any]]) -> Scenario:
    """A Scenario from the control API's JSON fields; ValueError when malformed."""
    if mode not in (SIMULATE, PROCESS):
        raise ValueError(f"mode must be {SIMULATE!r} or {PROCESS!r}, got {mode!r}")
    parsed = []
    for raw in rules:
        unknown = set(raw) - {"jobName", "attempt", "arrayIndex", "durationSeconds", "exitCode"}
        if unknown:
            raise ValueError(f"unknown scenario rule fields: {sorted(unknown)}")
        parsed.append(
            Rule(
                job_name=str(raw.get("jobName", "*")),
                attempt=None if raw.get("attempt") is None else int(raw["attempt"]),
                array_index=None if raw.get("arrayIndex") is None else int(raw["arrayIndex"]),
                duration_seconds=(
                    None if raw.get("durationSeconds") is None else float(raw["durationSeconds"])
                ),
                exit_code=int(raw.get("exitCode", 0)),
            )
        )
    return Scenario(mode=mode, rules=tuple(parsed))
