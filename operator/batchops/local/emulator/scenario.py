"""How jobs run: the mode, and in simulate mode the scripted outcome of each attempt.

A scenario (JSON for the control API, same fields in Python):

    {"mode": "simulate",                      # or "process"
     "rules": [{"jobName": "etl-b-*",         # glob on the job name (array children: the
                                              # parent's name)
                "attempt": 1,                 # optional: only this attempt (1-based)
                "arrayIndex": 3,              # optional: only this array child
                "durationSeconds": 0.5,       # emulated seconds the attempt runs
                "exitCode": 1,                # its exit code (0 succeeds; absent: 0); null: the
                                              # container never reports one, as after a host
                                              # loss: the attempt fails and shows no exitCode
                "statusReason": "..."}]}      # optional: the attempt's statusReason (and the
                                              # job's, if the attempt ends it) instead of
                                              # "Essential container in task exited"

A Spot reclaim of a job's first attempt, as Batch reports one:

    {"jobName": "etl-b*", "attempt": 1, "exitCode": null,
     "statusReason": "Host EC2 (instance i-0abc) terminated."}

The attempt fails with that statusReason and neither its container nor the job shows an exit
code, so retryStrategy.evaluateOnExit sees what it would see in Batch: `onStatusReason:
"Host EC2*"` matches (AWS CDK's Reason.SPOT_INSTANCE_RECLAIMED is that pattern), `onExitCode`
patterns other than "*" do not. Batch's text is "Host EC2 (instance <id>) terminated." (attempt
statusReasons of reclaimed jobs in awslabs/ec2-spot-workshops, rendering-with-batch), and such
an attempt has no exit code ("Failed jobs do not have an exit code in Batch if the job failed
for infrastructural or reasons internal to AWS ... a job that fails because its EC2 instance is
shutdown in the middle of it will not have an exit code", nextstrain/cli#145). Whether its
container has a `reason` is not documented; the emulator shows none.

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
RULE_FIELDS = frozenset(
    {"jobName", "attempt", "arrayIndex", "durationSeconds", "exitCode", "statusReason"}
)


@dataclass(frozen=True)
class Rule:
    """The outcome of the attempts one rule matches."""

    job_name: str
    attempt: int | None
    array_index: int | None
    duration_seconds: float | None  # None: the default duration
    exit_code: int | None  # None: no exit code (a host loss); the attempt fails
    status_reason: str | None = None  # None: Batch's usual reason for an exit

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
    exit_code: int | None
    status_reason: str | None = None


@dataclass(frozen=True)
class Scenario:
    """The run mode and the simulate-mode rules."""

    mode: str = SIMULATE
    rules: tuple[Rule, ...] = ()

    def outcome(
        self, job_name: str, attempt: int, array_index: int | None, default_duration: float
    ) -> Outcome:
        """The first matching rule's outcome, or the default (success after the default time)."""
        rule = self._rule_for(job_name, attempt, array_index)
        if rule is None:
            return Outcome(default_duration, 0)
        duration = default_duration if rule.duration_seconds is None else rule.duration_seconds
        return Outcome(duration, rule.exit_code, rule.status_reason)

    def status_reason(self, job_name: str, attempt: int, array_index: int | None) -> str | None:
        """The statusReason a simulated attempt ends with, if a rule scripts one (never in
        process mode)."""
        if self.mode != SIMULATE:
            return None
        rule = self._rule_for(job_name, attempt, array_index)
        return None if rule is None else rule.status_reason

    def _rule_for(self, job_name: str, attempt: int, array_index: int | None) -> Rule | None:
        return next((r for r in self.rules if r.matches(job_name, attempt, array_index)), None)


def parse_scenario(mode: str, rules: list[dict[str, Any]]) -> Scenario:
    """A Scenario from the control API's JSON fields; ValueError when malformed."""
    if mode not in (SIMULATE, PROCESS):
        raise ValueError(f"mode must be {SIMULATE!r} or {PROCESS!r}, got {mode!r}")
    return Scenario(mode=mode, rules=tuple(_parse_rule(raw) for raw in rules))


def _parse_rule(raw: dict[str, Any]) -> Rule:
    unknown = set(raw) - RULE_FIELDS
    if unknown:
        raise ValueError(f"unknown scenario rule fields: {sorted(unknown)}")
    reason = raw.get("statusReason")
    if reason is not None and (not isinstance(reason, str) or not reason):
        raise ValueError(f"statusReason must be a non-empty string, got {reason!r}")
    return Rule(
        job_name=str(raw.get("jobName", "*")),
        attempt=None if raw.get("attempt") is None else int(raw["attempt"]),
        array_index=None if raw.get("arrayIndex") is None else int(raw["arrayIndex"]),
        duration_seconds=(
            None if raw.get("durationSeconds") is None else float(raw["durationSeconds"])
        ),
        # An absent exitCode is a success; an explicit null is no exit code at all.
        exit_code=None if raw.get("exitCode", 0) is None else int(raw.get("exitCode", 0)),
        status_reason=reason,
    )
