"""`batchops watch`: a BatchPipeline run's progress, live, until it ends.

Changes arrive through a Kubernetes watch on the object. On a terminal the table is redrawn in
place on each change; otherwise each change is one line, which suits logs and CI.
Exit code: 0 Succeeded, 1 Failed or Cancelled, 2 timeout, 3 could not watch (a wrong name, a
missing or deleted object, a kubeconfig error), 4 the API server unreachable or refusing: a
script can tell a failed run from a watch that never saw it end.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from batchops.commands.objects import (
    ObjectName,
    UsageError,
    add_cluster_flags,
    fetch,
    resolve,
)
from batchops.commands.types import Subparsers
from batchops.kube.client import PIPELINE, KubeNotFound, KubeUnavailable, watch_object
from batchops.model.common import SpecError
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.views.progress import change_lines, render_table
from batchops.views.run import RunView, run_view

EXIT_SUCCEEDED: Final = 0
EXIT_FAILED: Final = 1
EXIT_TIMEOUT: Final = 2
EXIT_NOT_WATCHED: Final = 3
EXIT_UNREACHABLE: Final = 4
EXIT_CODES_HELP: Final = (
    "exit status: 0 Succeeded, 1 Failed or Cancelled, 2 timeout, 3 could not watch (wrong "
    "name, object missing or deleted, kubeconfig error), 4 API server unreachable or refusing"
)


def register(subparsers: Subparsers) -> None:
    """Add `watch` and its flags."""
    parser = subparsers.add_parser(
        "watch",
        help="show a pipeline run's progress live until it ends (exit 0 Succeeded, 1 Failed, "
        "2 timeout, 3+ could not watch)",
        description="Follow one BatchPipeline run through a Kubernetes watch until it ends.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("target", metavar="bpl/NAME")
    parser.add_argument(
        "--timeout", type=float, default=None, help="give up after this many seconds (exit 2)"
    )
    add_cluster_flags(parser)
    parser.set_defaults(handler=_watch)


def _watch(args: argparse.Namespace) -> int:
    try:
        target = resolve(args, args.target, PIPELINE)
        fetch(target)  # a clear error for a wrong name, before watching
        return follow_run(target, args.timeout, sys.stdout)
    except (UsageError, KubeNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_WATCHED
    except KubeUnavailable as exc:
        print(f"error: the API server: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE


def follow_run(target: ObjectName, timeout: float | None, out: TextIO) -> int:
    """Show the run's progress on `out` until it ends or `timeout` seconds pass."""
    limit = math.inf if timeout is None else timeout
    screen = _Screen(out) if out.isatty() else None
    shown: RunView | None = None
    for body in watch_object(target.kind, target.namespace, target.name, limit):
        view = _view(body)
        if screen:
            screen.draw(render_table(view))
        else:
            for line in change_lines(shown, view):
                print(line, file=out, flush=True)
        shown = view
        if view.finished:
            if not screen:
                print("", *render_table(view), sep="\n", file=out, flush=True)
            return EXIT_SUCCEEDED if view.phase == "Succeeded" else EXIT_FAILED
    print(f"timed out after {limit:g}s; {target} is still running", file=sys.stderr)
    return EXIT_TIMEOUT


def _view(body: Mapping[str, Any]) -> RunView:
    name = str(body["metadata"]["name"])
    status = body.get("status") or {}
    try:
        return run_view(
            name, parse_pipeline_spec(body.get("spec") or {}), status, datetime.now(UTC)
        )
    except (SpecError, ValueError):
        # An invalid spec (the run's message says why) has no steps to show, but a phase.
        return RunView(
            name=name,
            steps=(),
            phase=status.get("phase"),
            progress=status.get("progress"),
            message=status.get("message"),
        )


class _Screen:
    """Redraws a block of lines in place with ANSI cursor movement."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._height = 0

    def draw(self, lines: list[str]) -> None:
        width = shutil.get_terminal_size().columns
        # Cut to the terminal's width: a wrapped line would throw off the cursor arithmetic.
        text = "\n".join(line[: width - 1] for line in lines)
        up = f"\x1b[{self._height}F" if self._height else ""
        self._out.write(f"{up}\x1b[J{text}\n")
        self._out.flush()
        self._height = len(lines)
