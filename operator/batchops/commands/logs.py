"""`batchops logs`: a pipeline step's output, read from its CloudWatch Logs stream.

The stream comes from the step's `status.steps[].logStream` (the latest attempt) or, with
`--attempt N`, from the step's attempt history (`status.steps[].history[]`, which outlives
Batch's retention; N counts every attempt of every job the step ran), falling back to
DescribeJobs for objects written before the history existed. `-f` follows the stream until
the step finishes, moving to the new stream when Batch retries the step.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from batchops.aws.batch import BatchApi
from batchops.aws.errors import AwsError, NotFound
from batchops.aws.logs import BATCH_LOG_GROUP, LogsApi
from batchops.aws.session import AwsSettings, client_for
from batchops.commands.objects import (
    ObjectName,
    UsageError,
    add_aws_flags,
    add_cluster_flags,
    fetch,
    resolve,
)
from batchops.commands.types import Subparsers
from batchops.kube.client import PIPELINE, KubeNotFound

_FINISHED_STEP_STATUSES: Final = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
_FOLLOW_INTERVAL_SECONDS: Final = 1.0
"""CloudWatch Logs has no push for GetLogEvents: a followed stream is read this often."""


def register(subparsers: Subparsers) -> None:
    """Add `logs` and its flags."""
    parser = subparsers.add_parser(
        "logs", help="print a pipeline step's output from CloudWatch Logs (-f to follow)"
    )
    parser.add_argument("target", metavar="bpl/NAME")
    parser.add_argument(
        "step", nargs="?", default=None, help="the step (may be left out for one-step pipelines)"
    )
    parser.add_argument(
        "-f", "--follow", action="store_true", help="keep printing until the step finishes"
    )
    parser.add_argument(
        "--attempt",
        type=int,
        default=None,
        help="this attempt (1-based, over every job the step ran) instead of the latest",
    )
    parser.add_argument("--log-group", default=BATCH_LOG_GROUP)
    add_cluster_flags(parser)
    add_aws_flags(parser)
    parser.set_defaults(handler=_logs)


@dataclass(frozen=True)
class _Step:
    """What the pipeline's status says of one step."""

    name: str
    status: str
    job_id: str | None
    log_stream: str | None
    history: tuple[Mapping[str, Any], ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in _FINISHED_STEP_STATUSES


def _logs(args: argparse.Namespace) -> int:
    try:
        target = resolve(args, args.target, PIPELINE)
        step_name = _choose_step(target, args.step)
        settings = AwsSettings(region=args.region, endpoint_url=args.aws_endpoint_url)
        if args.attempt is not None:
            stream = _attempt_stream(
                BatchApi(client_for("batch", settings)), _read_step(target, step_name), args.attempt
            )
            _print_stream(LogsApi(client_for("logs", settings)), args.log_group, stream)
            return 0
        _print_step(LogsApi(client_for("logs", settings)), args.log_group, target, step_name,
                    follow=args.follow)  # fmt: skip
        return 0
    except (UsageError, KubeNotFound, AwsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _steps_of(body: Mapping[str, Any]) -> dict[str, _Step]:
    steps: dict[str, _Step] = {}
    for raw in (body.get("spec") or {}).get("steps") or []:
        steps[str(raw.get("name"))] = _Step(str(raw.get("name")), "", None, None)
    for entry in (body.get("status") or {}).get("steps") or []:
        name = str(entry.get("name"))
        history = entry.get("history")
        steps[name] = _Step(
            name,
            entry.get("status", ""),
            entry.get("jobId"),
            entry.get("logStream"),
            tuple(h for h in history if isinstance(h, Mapping))
            if isinstance(history, list)
            else (),
        )
    return steps


def _choose_step(target: ObjectName, requested: str | None) -> str:
    steps = _steps_of(fetch(target))
    if requested is None and len(steps) == 1:
        return next(iter(steps))
    if requested in steps:
        return requested
    listing = ", ".join(steps)
    if requested is None:
        raise UsageError(f"{target} has {len(steps)} steps; name one of: {listing}")
    raise UsageError(f"{target} has no step {requested!r}; its steps: {listing}")


def _read_step(target: ObjectName, name: str) -> _Step:
    return _steps_of(fetch(target))[name]


def _attempt_stream(batch: BatchApi, step: _Step, attempt: int) -> str:
    """The log stream of one attempt: from the step's history, else as DescribeJobs reports it
    (finished attempts are in `attempts[]`; the one running now is the job's own container)."""
    if step.history:
        if not 1 <= attempt <= len(step.history):
            raise UsageError(
                f"step {step.name} has no attempt {attempt} ({len(step.history)} so far)"
            )
        recorded = step.history[attempt - 1].get("logStream")
        if not isinstance(recorded, str) or not recorded:
            raise UsageError(f"step {step.name}: attempt {attempt} has no log stream")
        return recorded
    if step.job_id is None:
        raise UsageError(f"step {step.name} has not been submitted yet")
    jobs = batch.describe_jobs([step.job_id])
    if not jobs:
        raise UsageError(f"Batch no longer knows job {step.job_id} (kept about 7 days)")
    job = jobs[0]
    ended = job.get("attempts", [])
    streams = [entry.get("container", {}).get("logStreamName") for entry in ended]
    if 1 <= attempt <= len(ended):
        stream = streams[attempt - 1]
    elif attempt == len(ended) + 1 and job["status"] in ("STARTING", "RUNNING"):
        # The attempt in progress is not in `attempts[]` (AttemptDetail covers RUNNING ->
        # terminal); its stream is the job's container's, once it reached RUNNING. Until then
        # the container may still name the previous attempt's stream.
        stream = job.get("container", {}).get("logStreamName")
        if stream is None or stream in streams:
            raise UsageError(
                f"step {step.name}: attempt {attempt} is {job['status']} and has no log stream yet"
            )
    else:
        so_far = len(ended) + (1 if job["status"] in ("STARTING", "RUNNING") else 0)
        raise UsageError(f"step {step.name} has no attempt {attempt} ({so_far} so far)")
    if stream is None:
        raise UsageError(f"step {step.name}: attempt {attempt} has no log stream")
    return stream


def _print_stream(logs: LogsApi, group: str, stream: str) -> None:
    token: str | None = None
    while True:
        page = logs.get_log_lines(group, stream, next_token=token)
        for line in page.lines:
            print(line.message, flush=True)
        if page.at_end:
            return
        token = page.next_token


def _print_step(logs: LogsApi, group: str, target: ObjectName, name: str, follow: bool) -> None:
    """The step's latest stream; following, until the step finished and its stream is read
    to the end."""
    step = _read_step(target, name)
    stream, token = step.log_stream, None
    finishing = False
    while True:
        if stream is None and not follow:
            state = step.status or "not submitted"
            raise UsageError(f"step {name} has no log stream yet ({state}); -f waits for it")
        at_end = True
        if stream is not None:
            try:
                page = logs.get_log_lines(group, stream, next_token=token)
            except NotFound:
                if not follow:
                    raise
            else:
                for line in page.lines:
                    print(line.message, flush=True)
                token, at_end = page.next_token, page.at_end
        if not at_end:
            continue
        if not follow or finishing:
            return
        time.sleep(_FOLLOW_INTERVAL_SECONDS)
        step = _read_step(target, name)
        # A finished step's stream gets one more read, for lines written as it stopped.
        finishing = step.finished
        if step.log_stream != stream:
            if stream is not None:
                print(f"--- {name}: next attempt, stream {step.log_stream}", file=sys.stderr)
            stream, token = step.log_stream, None
