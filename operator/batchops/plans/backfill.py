"""`batchops backfill`: the runs a CronPipeline should have had over an interval, named as its
schedule names them, and how many of them may run at once.

A backfilled run is the scheduled run of its time: same due time (`schedule.due_times`, the
schedule's own arithmetic), same name (`schedule.child_name`). Whichever of the two comes second
is refused by the API server (AlreadyExists), so a time never runs twice, and a backfill that
stopped half-way can simply be run again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, tzinfo

from batchops.model.cron import ConcurrencyPolicy
from batchops.plans.cron_expr import Schedule
from batchops.plans.schedule import child_name, due_times


@dataclass(frozen=True)
class BackfillRun:
    """One run to create: its name and the due time it stands for."""

    name: str
    scheduled_time: datetime


@dataclass(frozen=True)
class BackfillPlan:
    """The runs of an interval, oldest first. `truncated`: the interval holds more due times
    than the limit asked for; `end` is the interval's end, cut at now."""

    runs: tuple[BackfillRun, ...]
    truncated: bool
    end: datetime


def plan_backfill(
    cron_name: str,
    schedule: Schedule,
    tz: tzinfo,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    anchor: datetime,
    limit: int | None,
) -> BackfillPlan:
    """Every due time in [start, min(end, now)] as a run named like the scheduled one; at most
    `limit` of them (None: all). Times after now are left to the schedule: a backfill never
    runs a day early. `anchor` is the CronPipeline's creationTimestamp (`@every` counts from
    it)."""
    if end < start:
        raise ValueError(f"the interval ends ({end.isoformat()}) before it starts")
    until = min(end, now)
    times = due_times(schedule, tz, start, until, anchor=anchor)
    taken = list(times if limit is None else itertools.islice(times, limit + 1))
    truncated = limit is not None and len(taken) > limit
    runs = tuple(BackfillRun(child_name(cron_name, t), t) for t in taken[:limit])
    return BackfillPlan(runs, truncated, until)


def may_start(
    policy: ConcurrencyPolicy, parallel: int | None, running: int, others_running: int
) -> bool:
    """Whether one more backfilled run may be created now. `running`: backfilled runs not yet
    finished; `others_running`: the CronPipeline's other unfinished runs (scheduled, triggered).

    `--parallel N` caps the backfill's own runs at N, whatever the policy. Without it, Allow
    creates them all at once; Forbid and Replace run one at a time and wait for the
    CronPipeline's other runs too: a backfill waits where the schedule would skip, and never
    replaces (which would cancel the runs it is creating)."""
    if parallel is not None:
        return running < parallel
    if policy is ConcurrencyPolicy.ALLOW:
        return True
    return running + others_running == 0


def concurrency_text(policy: ConcurrencyPolicy, parallel: int | None) -> str:
    """How the runs will be spread out, in words, for the command's first line."""
    if parallel is not None:
        return f"at most {parallel} at a time (--parallel)"
    if policy is ConcurrencyPolicy.ALLOW:
        return "all at once (concurrencyPolicy Allow)"
    return f"one at a time (concurrencyPolicy {policy.value})"
