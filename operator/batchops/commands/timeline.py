"""`batchops timeline`: a run as a Gantt chart, from the object's status alone (so it works after
Batch has forgotten the jobs): in the terminal, or as one self-contained SVG or HTML file.

The object is a live BatchPipeline, a CronPipeline (its last run: the child BatchPipeline while
it exists, else the summary in `status.lastRun`), or a file holding one as `kubectl get -o yaml`
wrote it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import yaml
from rich.console import Console

from batchops.commands.objects import (
    UsageError,
    add_cluster_flags,
    fetch,
    looks_like_object,
    resolve,
)
from batchops.commands.types import Subparsers
from batchops.kube.client import CRON_PIPELINE, PIPELINE, KubeNotFound, KubeUnavailable, get_object
from batchops.model.common import SpecError
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.dag import validate_dag
from batchops.views.timeline import build_timeline
from batchops.views.timeline_chart import lay_out
from batchops.views.timeline_render import chart_renderable, html_document, svg_document

FORMATS: Final = ("text", "svg", "html")
FILE_WIDTH: Final = 120
"""Columns of an SVG or HTML chart: wider than a terminal, for a finer time scale."""
PIPE_WIDTH: Final = 80
"""Columns when stdout is not a terminal, whatever $COLUMNS says: output to a file or a test is
the same everywhere."""


def register(subparsers: Subparsers) -> None:
    """Add `timeline` and its flags."""
    parser = subparsers.add_parser(
        "timeline",
        help="draw a run as a Gantt chart: queue wait and run time per attempt (-o svg|html "
        "for a file)",
        description="Draw a run of a BatchPipeline (bpl/NAME), the last run of a CronPipeline "
        "(cpl/NAME), or one saved with `kubectl get -o yaml` (FILE), from its status alone: a "
        "row per step, each attempt's wait for capacity and its running time, failures, "
        "interruptions and resubmissions marked, the critical path starred, and the wall time "
        "against the time spent queued.",
        epilog="Colour follows the terminal (none with NO_COLOR or when piped); the glyphs carry "
        "the meaning either way. -o svg and -o html write one file that needs nothing else to "
        "view (no fonts or scripts from the network).",
    )
    parser.add_argument("target", metavar="bpl/NAME|cpl/NAME|FILE")
    parser.add_argument(
        "-o",
        "--output",
        choices=FORMATS,
        default="text",
        help="text: to the terminal (default); svg or html: write a file (see --file)",
    )
    parser.add_argument(
        "--file",
        default=None,
        metavar="PATH",
        help="where -o svg|html writes (default: NAME-timeline.svg or .html here; - for stdout)",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=None,
        metavar="N",
        help=f"columns of the chart (default: the terminal's, {PIPE_WIDTH} when piped, "
        f"{FILE_WIDTH} in a file)",
    )
    add_cluster_flags(parser)
    parser.set_defaults(handler=_timeline)


@dataclass(frozen=True)
class _Run:
    """What the chart is drawn from: a name, a BatchPipeline spec and the run's status."""

    name: str
    spec: Mapping[str, Any]
    status: Mapping[str, Any]


def _timeline(args: argparse.Namespace) -> int:
    try:
        if args.width is not None and args.width < 40:
            raise UsageError("--width must be at least 40")
        run = _live_run(args) if _names_object(args.target) else _file_run(args.target)
        spec = parse_pipeline_spec(run.spec)
        problems = validate_dag(spec)
        if problems:
            raise UsageError(f"{run.name}: " + "; ".join(p.message for p in problems))
        timeline = build_timeline(run.name, spec, run.status, datetime.now(UTC))
        if args.output == "text":
            console = Console(highlight=False)
            width = args.width or (console.width if console.is_terminal else PIPE_WIDTH)
            chart = lay_out(timeline, width)
            ascii_only = not (console.encoding or "").lower().startswith("utf")
            console.print(chart_renderable(chart, ascii_only=ascii_only), width=chart.width)
            return 0
        chart = lay_out(timeline, args.width or FILE_WIDTH)
        title = f"batchops timeline {run.name}"
        document = (
            svg_document(chart, title) if args.output == "svg" else html_document(chart, title)
        )
        path = args.file or f"{run.name}-timeline.{args.output}"
        if path == "-":
            sys.stdout.write(document)
        else:
            Path(path).write_text(document, encoding="utf-8")
            print(f"wrote {path}")
        return 0
    except (UsageError, KubeNotFound, SpecError, OSError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KubeUnavailable as exc:
        print(f"error: the API server: {exc}", file=sys.stderr)
        return 1


def _names_object(target: str) -> bool:
    return looks_like_object(target) and not Path(target).exists()


def _live_run(args: argparse.Namespace) -> _Run:
    target = resolve(args, args.target, PIPELINE, CRON_PIPELINE)
    obj = fetch(target)
    if target.kind == PIPELINE:
        return _Run(target.name, obj.get("spec") or {}, obj.get("status") or {})
    last = (obj.get("status") or {}).get("lastRun") or {}
    if not last.get("name"):
        raise UsageError(f"{target} has not created a run yet")
    try:
        child = get_object(PIPELINE, target.namespace, str(last["name"]))
    except KubeNotFound:
        # Pruned by the history limits: the summary has the steps' times, not their attempts.
        return _Run(str(last["name"]), _template_spec(obj), last)
    return _Run(str(last["name"]), child.get("spec") or {}, child.get("status") or {})


def _file_run(path: str) -> _Run:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    for document in _objects(yaml.safe_load_all(text)):
        name = str((document.get("metadata") or {}).get("name", "pipeline"))
        status = document.get("status") or {}
        if document.get("kind") == PIPELINE.kind:
            return _Run(name, document.get("spec") or {}, status)
        if document.get("kind") == CRON_PIPELINE.kind:
            last = status.get("lastRun") or {}
            return _Run(str(last.get("name") or name), _template_spec(document), last)
    raise UsageError(f"{path}: no BatchPipeline or CronPipeline in it")


def _objects(documents: Iterator[Any]) -> Iterator[Mapping[str, Any]]:
    """The objects of a YAML stream, with the items of a `kind: List` (kubectl's output for
    several objects) in its place."""
    for document in documents:
        if not isinstance(document, Mapping):
            continue
        if document.get("kind") == "List":
            yield from (item for item in document.get("items") or [] if isinstance(item, Mapping))
        else:
            yield document


def _template_spec(cron: Mapping[str, Any]) -> Mapping[str, Any]:
    template = (cron.get("spec") or {}).get("pipelineTemplate") or {}
    return dict(template.get("spec") or {})
