"""`batchops graph`: a pipeline's step graph (from a file or a live object) as text, Mermaid or
DOT; a live object's steps carry their state."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from batchops.commands.objects import (
    UsageError,
    add_cluster_flags,
    fetch,
    looks_like_object,
    resolve,
)
from batchops.commands.types import Subparsers
from batchops.kube.client import CRON_PIPELINE, PIPELINE, KubeNotFound
from batchops.model.common import SpecError
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.dag import validate_dag
from batchops.views.graph import RENDERERS
from batchops.views.run import RunView, run_view, spec_view


def register(subparsers: Subparsers) -> None:
    """Add `graph` and its flags."""
    parser = subparsers.add_parser(
        "graph",
        help="draw a pipeline's steps and dependencies (with live states for an object)",
        description="Draw the step graph of a BatchPipeline or CronPipeline: from a manifest "
        "file (- for stdin), or from a live object (bpl/NAME, cpl/NAME), whose steps then show "
        "their state and duration.",
    )
    parser.add_argument("target", metavar="FILE|bpl/NAME|cpl/NAME")
    parser.add_argument("--format", "-o", choices=sorted(RENDERERS), default="text")
    add_cluster_flags(parser)
    parser.set_defaults(handler=_graph)


def _graph(args: argparse.Namespace) -> int:
    render = RENDERERS[args.format]
    try:
        views = (
            [_live_view(args)]
            if looks_like_object(args.target) and not Path(args.target).exists()
            else _file_views(args.target)
        )
    except (UsageError, KubeNotFound, SpecError, OSError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n\n".join(render(view) for view in views))
    return 0


def _live_view(args: argparse.Namespace) -> RunView:
    target = resolve(args, args.target, PIPELINE, CRON_PIPELINE)
    obj = fetch(target)
    status = obj.get("status") or {}
    if target.kind == CRON_PIPELINE:
        # The template's graph, with the states of the last run it created.
        return _view(target.name, _template_spec(obj), status.get("lastRun"))
    return _view(target.name, obj.get("spec") or {}, status)


def _file_views(path: str) -> list[RunView]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    views = []
    for document in yaml.safe_load_all(text):
        if not isinstance(document, Mapping):
            continue
        name = str((document.get("metadata") or {}).get("name", "pipeline"))
        if document.get("kind") == PIPELINE.kind:
            views.append(_view(name, document.get("spec") or {}, None))
        elif document.get("kind") == CRON_PIPELINE.kind:
            views.append(_view(name, _template_spec(document), None))
    if not views:
        raise UsageError(f"{path}: no BatchPipeline or CronPipeline in it")
    return views


def _template_spec(cron: Mapping[str, Any]) -> Mapping[str, Any]:
    template = (cron.get("spec") or {}).get("pipelineTemplate") or {}
    return dict(template.get("spec") or {})


def _view(name: str, raw_spec: Mapping[str, Any], status: Mapping[str, Any] | None) -> RunView:
    spec = parse_pipeline_spec(raw_spec)
    problems = validate_dag(spec)
    if problems:
        raise UsageError(f"{name}: " + "; ".join(problem.message for problem in problems))
    if status is None:
        return spec_view(name, spec)
    return run_view(name, spec, status, datetime.now(UTC))
