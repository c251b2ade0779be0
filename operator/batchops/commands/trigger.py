"""`batchops trigger` runs a CronPipeline now; `batchops rerun` runs a finished BatchPipeline
again; `batchops retry` runs the failed steps of a failed run again. Each only sets the
annotation the operator acts on, as `kubectl annotate` would."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from batchops.commands.objects import ObjectName, UsageError, add_cluster_flags, fetch, resolve
from batchops.commands.types import Subparsers
from batchops.kube.client import CRON_PIPELINE, PIPELINE, KubeNotFound, patch_object
from batchops.model.keys import RERUN_ANNOTATION, RETRY_FAILED_ANNOTATION, TRIGGER_ANNOTATION
from batchops.model.observed import FINISHED_PHASES
from batchops.plans.schedule import triggered_child_name


def register(subparsers: Subparsers) -> None:
    """Add `trigger`, `rerun` and `retry`."""
    trigger = subparsers.add_parser(
        "trigger", help="run a CronPipeline now (sets batchops.io/trigger); prints the run's name"
    )
    trigger.add_argument("target", metavar="cpl/NAME")
    trigger.add_argument(
        "-o",
        "--output",
        choices=["name"],
        default=None,
        help="name: print only bpl/RUN, for scripts",
    )
    add_cluster_flags(trigger)
    trigger.set_defaults(handler=_trigger)

    rerun = subparsers.add_parser(
        "rerun", help="run a BatchPipeline again without a spec change (sets batchops.io/rerun)"
    )
    rerun.add_argument("target", metavar="bpl/NAME")
    add_cluster_flags(rerun)
    rerun.set_defaults(handler=_rerun)

    retry = subparsers.add_parser(
        "retry",
        help="run the failed, cancelled and never-run steps of a failed BatchPipeline again in "
        "the same run, keeping the jobs that succeeded (sets batchops.io/retry-failed)",
    )
    retry.add_argument("target", metavar="bpl/NAME")
    add_cluster_flags(retry)
    retry.set_defaults(handler=_retry)


def fresh_token(now: datetime) -> str:
    """A new annotation value: the time to the microsecond, so two requests never repeat one
    (the operator acts on a value it has not seen) and the value says when it was asked for."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _trigger(args: argparse.Namespace) -> int:
    try:
        target = resolve(args, args.target, CRON_PIPELINE)
        token = fresh_token(datetime.now(UTC))
        _annotate(target, TRIGGER_ANNOTATION, token)
    except (UsageError, KubeNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    run = f"bpl/{triggered_child_name(target.name, token)}"
    if args.output == "name":
        print(run)
    else:
        print(f"{target} triggered ({TRIGGER_ANNOTATION}={token}); its run: {run}")
    return 0


def _request_on_pipeline(
    args: argparse.Namespace, annotation: str
) -> tuple[ObjectName, str, str | None]:
    """Set `annotation` to a fresh value on the BatchPipeline named in `args`; returns it,
    the value, and the run's phase before the request."""
    target = resolve(args, args.target, PIPELINE)
    phase = (fetch(target).get("status") or {}).get("phase")
    token = fresh_token(datetime.now(UTC))
    _annotate(target, annotation, token)
    return target, token, phase


def _rerun(args: argparse.Namespace) -> int:
    try:
        target, token, phase = _request_on_pipeline(args, RERUN_ANNOTATION)
    except (UsageError, KubeNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{target} rerun requested ({RERUN_ANNOTATION}={token})")
    if phase is not None and phase not in FINISHED_PHASES:
        # The operator never replaces a run in progress (plans.runs.needs_new_run).
        print(f"the current run is {phase}; the new run starts when it finishes")
    return 0


def _retry(args: argparse.Namespace) -> int:
    try:
        target, token, phase = _request_on_pipeline(args, RETRY_FAILED_ANNOTATION)
    except (UsageError, KubeNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{target} retry of its failed steps requested ({RETRY_FAILED_ANNOTATION}={token})")
    if phase == "Succeeded":
        print("the run succeeded: there is nothing to retry (use rerun for a new run)")
    return 0


def _annotate(target: ObjectName, key: str, value: str) -> None:
    patch = {"metadata": {"annotations": {key: value}}}
    patch_object(target.kind, target.namespace, target.name, patch)
