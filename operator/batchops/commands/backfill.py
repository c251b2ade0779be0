"""`batchops backfill`: create a CronPipeline's runs for every due time in an interval, as if the
schedule had created them then.

Each run is the one the schedule would have created: the same name (so a later tick of the same
time, or a second backfill, meets AlreadyExists and creates nothing), the same labels, owner and
`batchops.io/scheduled-time`, and its time as the `scheduledTime` parameter. The command applies
the CronPipeline's concurrencyPolicy (or `--parallel N`) by waiting for runs to finish before it
creates more, and returns once every run is created.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import deque
from collections.abc import Collection
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from batchops.commands.objects import ObjectName, UsageError, add_cluster_flags, fetch, resolve
from batchops.commands.types import Subparsers
from batchops.kube.client import (
    CRON_PIPELINE,
    PIPELINE,
    KubeNotFound,
    KubeUnavailable,
    list_objects,
)
from batchops.kube.cron_runs import CronOwner, create_run, run_manifest
from batchops.model.common import SpecError, format_time, parse_time
from batchops.model.cron import CronSpec, parse_cron_spec
from batchops.model.cron_runs import ChildRun
from batchops.model.keys import CRON_LABEL
from batchops.plans.backfill import (
    BackfillPlan,
    BackfillRun,
    concurrency_text,
    may_start,
    plan_backfill,
)
from batchops.plans.cron_expr import parse_schedule

DEFAULT_MAX_RUNS: Final = 100
POLL_SECONDS: Final = 1.0
"""How often the runs being waited for are read again."""
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXIT_INTERRUPTED: Final = 130


def register(subparsers: Subparsers) -> None:
    """Add `backfill` and its flags."""
    parser = subparsers.add_parser(
        "backfill",
        help="create a CronPipeline's runs for every due time in a past interval",
        description="Create the runs a CronPipeline's schedule has (or would have had) for every "
        "due time from --from to --to, named exactly as scheduled runs are, so the schedule "
        "never runs a backfilled time again and a repeated backfill creates only what is "
        "missing. Each run gets its time as the Batch parameter scheduledTime and the "
        "environment variable BATCHOPS_SCHEDULED_TIME.",
        epilog="Times are RFC 3339 (2026-11-20T02:00:00Z) or a date (2026-11-20: from its "
        "start, or with --to to its end, in the CronPipeline's time zone). Due times after now "
        "are left to the schedule. concurrencyPolicy Allow creates every run at once; Forbid "
        "and Replace create one at a time, each after the CronPipeline's other runs have "
        "finished; --parallel N allows N backfilled runs at a time whatever the policy. "
        "Interrupted, the same command continues where it stopped.",
    )
    parser.add_argument("target", metavar="cpl/NAME")
    parser.add_argument("--from", dest="start", required=True, metavar="T1", help="first time")
    parser.add_argument(
        "--to", dest="end", default=None, metavar="T2", help="last time (default: now)"
    )
    parser.add_argument(
        "--parallel",
        type=_positive,
        default=None,
        metavar="N",
        help="at most N backfilled runs at a time, instead of what concurrencyPolicy says",
    )
    parser.add_argument(
        "--max-runs",
        type=_positive,
        default=DEFAULT_MAX_RUNS,
        metavar="N",
        help=f"refuse an interval with more due times than this unless --yes "
        f"(default {DEFAULT_MAX_RUNS})",
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="create them all, however many there are"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list the runs it would create, create none"
    )
    add_cluster_flags(parser)
    parser.set_defaults(handler=_backfill)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _backfill(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    try:
        target = resolve(args, args.target, CRON_PIPELINE)
        cron = fetch(target)
        spec = parse_cron_spec(cron.get("spec") or {})
        schedule = parse_schedule(spec.schedule)
        now = datetime.now(UTC)
        start = parse_moment(args.start, spec.time_zone, "--from", end_of_day=False)
        end = parse_moment(args.end, spec.time_zone, "--to", end_of_day=True) if args.end else now
        anchor = parse_time(cron["metadata"]["creationTimestamp"])
        plan = plan_backfill(
            target.name, schedule, spec.time_zone, start, end, now,
            anchor=anchor, limit=None if args.yes else args.max_runs,
        )  # fmt: skip
    except (UsageError, KubeNotFound, SpecError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KubeUnavailable as exc:
        print(f"error: the API server: {exc}", file=sys.stderr)
        return 1
    tz = spec.time_zone
    interval = f"from {local_time(start, tz)} to {local_time(plan.end, tz)}"
    if plan.truncated:
        print(
            f"error: more than {args.max_runs} due times {interval}; pass --yes to create them "
            "all, or a narrower --from/--to",
            file=sys.stderr,
        )
        return 1
    if not plan.runs:
        console.print(f"no due time {interval}", soft_wrap=True)
        return 0
    count = len(plan.runs)
    console.print(
        f"{count} due time{'s' if count != 1 else ''} {interval}, "
        f"{concurrency_text(spec.concurrency_policy, args.parallel)}",
        soft_wrap=True,
    )
    if args.dry_run:
        for run in plan.runs:
            console.print(f"would create {_run_text(run, tz)}", soft_wrap=True)
        return 0
    owner = CronOwner(target.namespace, target.name, str(cron["metadata"]["uid"]))
    try:
        return _create_runs(console, target, owner, spec, plan, args.parallel)
    except (KubeUnavailable, KubeNotFound) as exc:
        print(f"error: {exc}; run the same command again to continue", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; run the same command again to continue", file=sys.stderr)
        return EXIT_INTERRUPTED


def parse_moment(text: str, tz: tzinfo, flag: str, *, end_of_day: bool) -> datetime:
    """An RFC 3339 time, or a date in `tz`: its first instant, or with `end_of_day` its last; a
    time without an offset is in `tz` too."""
    if _DATE.match(text):
        day = datetime.fromisoformat(text).replace(tzinfo=tz)
        if end_of_day:
            return (day + timedelta(days=1)).astimezone(UTC) - timedelta(microseconds=1)
        return day.astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{flag} {text!r}: expected a date (2026-11-20) or an RFC 3339 time "
            "(2026-11-20T02:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _create_runs(
    console: Console,
    target: ObjectName,
    owner: CronOwner,
    spec: CronSpec,
    plan: BackfillPlan,
    parallel: int | None,
) -> int:
    """Create the plan's runs oldest first, each as soon as the concurrency rule allows."""
    ours = {run.name for run in plan.runs}
    policy = spec.concurrency_policy
    pending = deque(plan.runs)
    running: set[str] = set()  # backfilled runs (created or found) not known to be finished
    created = existed = 0
    waited_for: list[str] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("creating runs", total=len(plan.runs))
        while True:
            active = _unfinished_runs(target)
            running &= active
            others = active - ours
            while pending and may_start(policy, parallel, len(running), len(others)):
                run = pending.popleft()
                body = run_manifest(owner, spec.template, run.name, run.scheduled_time)
                if create_run(target.namespace, body):
                    created += 1
                    running.add(run.name)
                    verb = "created"
                else:
                    existed += 1
                    if run.name in active:
                        running.add(run.name)
                    verb = "exists "
                console.print(f"{verb} {_run_text(run, spec.time_zone)}", soft_wrap=True)
                progress.advance(task)
            if not pending:
                break
            blocking = sorted(running | others)
            if blocking != waited_for:
                waited_for = blocking
                progress.update(task, description=_waiting_text(blocking))
                if not console.is_terminal:
                    console.print(_waiting_text(blocking), soft_wrap=True)
            time.sleep(POLL_SECONDS)
    console.print(f"{len(plan.runs)} runs: {created} created, {existed} existed already")
    return 0


def local_time(moment: datetime, tz: tzinfo) -> str:
    """RFC 3339 in the CronPipeline's time zone (its schedule's wall time), `Z` for UTC."""
    local = moment.astimezone(tz).replace(microsecond=0)
    return format_time(local) if local.utcoffset() == timedelta(0) else local.isoformat()


def _run_text(run: BackfillRun, tz: tzinfo) -> str:
    """`bpl/NAME  scheduledTime=<UTC>`, and the wall time in the cron's zone when it differs."""
    utc = format_time(run.scheduled_time)
    local = local_time(run.scheduled_time, tz)
    return f"bpl/{run.name}  scheduledTime={utc}" + ("" if local == utc else f" ({local})")


def _unfinished_runs(target: ObjectName) -> set[str]:
    """The CronPipeline's runs that have not finished (created by the schedule, a trigger or a
    backfill: all carry its label)."""
    children = list_objects(PIPELINE, target.namespace, f"{CRON_LABEL}={target.name}")
    return {run.name for run in map(_child_run, children) if run.active}


def _child_run(child: dict[str, Any]) -> ChildRun:
    meta = child.get("metadata") or {}
    return ChildRun.from_child(meta.get("name", ""), meta.get("annotations"), child.get("status"))


def _waiting_text(names: Collection[str]) -> str:
    first = min(names)
    more = f" and {len(names) - 1} more" if len(names) > 1 else ""
    return f"waiting for bpl/{first}{more} to finish"
