"""`batchops usage`: what each pipeline and CronPipeline ran and reserved over a window, from the
objects' status in the Kubernetes API alone (so it works after Batch forgot the jobs).

The counting and the rendering are `views/usage.py`; this module reads the objects, the flags
and the price file.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import yaml

from batchops.commands.objects import UsageError, add_cluster_flags, connect
from batchops.commands.types import Subparsers
from batchops.kube.client import (
    CRON_PIPELINE,
    PIPELINE,
    Kind,
    KubeUnavailable,
    list_in_all_namespaces,
    list_objects,
)
from batchops.model.common import parse_time
from batchops.views.usage import (
    FORMATS,
    PriceError,
    Prices,
    build_report,
    cron_facts,
    parse_prices,
    render,
    run_facts,
)

_SPAN: Final = re.compile(r"^(\d+)([smhdw])$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(subparsers: Subparsers) -> None:
    """Add `usage` and its flags."""
    parser = subparsers.add_parser(
        "usage",
        help="what each pipeline and CronPipeline ran and reserved: runs, success rate, "
        "p50/p95 duration, vCPU-hours, queue-wait share (--prices for cost)",
        description="One row per BatchPipeline (not created by a CronPipeline) and per "
        "CronPipeline (its runs together), over the runs that started in the window and have "
        "finished: runs, success rate, p50/p95 duration, vCPU-hours reserved, and the share of "
        "the steps' time spent waiting for capacity. Read from status alone, so it works after "
        "Batch forgot the jobs.",
        epilog="--prices FILE (YAML or JSON): vcpuHour, memoryGiBHour, gpuHour and optionally "
        "currency, spot: {...} and onDemand: {...}; adds a COST column and a per-day table. "
        "See docs/cli.md#usage.",
    )
    parser.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        help="every namespace (default: -n or the context's namespace)",
    )
    parser.add_argument(
        "--since",
        default="7d",
        metavar="SPAN|TIME",
        help="runs that started in the last SPAN (30m, 12h, 7d, 2w) or since an RFC 3339 time "
        "or date (default 7d)",
    )
    parser.add_argument(
        "-o", "--output", choices=FORMATS, default="table", help="table (default), json or csv"
    )
    parser.add_argument(
        "--prices", default=None, metavar="FILE", help="a price table: adds cost (see epilog)"
    )
    add_cluster_flags(parser)
    parser.set_defaults(handler=_usage)


def _usage(args: argparse.Namespace) -> int:
    try:
        now = datetime.now(UTC)
        since = parse_since(args.since, now)
        prices = _read_prices(args.prices) if args.prices else None
        namespace = connect(args)
        pipelines = _list(PIPELINE, namespace, args.all_namespaces)
        crons = _list(CRON_PIPELINE, namespace, args.all_namespaces)
        report = build_report(
            [run_facts(obj) for obj in pipelines],
            [cron_facts(obj) for obj in crons],
            since,
            prices,
            all_namespaces=args.all_namespaces,
        )
        sys.stdout.write(render(report, args.output))
        return 0
    except (UsageError, PriceError, OSError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KubeUnavailable as exc:
        print(f"error: the API server: {exc}", file=sys.stderr)
        return 1


def parse_since(text: str, now: datetime) -> datetime:
    """`--since`: a span back from `now` (30m, 12h, 7d, 2w) or an RFC 3339 time or a date."""
    span = _SPAN.match(text.strip())
    if span:
        return now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
    try:
        return parse_time(text if "T" in text else f"{text}T00:00:00Z")
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a span such as 7d, 12h, 30m, 2w, or a time such as "
            "2026-11-01 or 2026-11-01T02:00:00Z"
        ) from None


def _read_prices(path: str) -> Prices:
    text = Path(path).read_text(encoding="utf-8")
    try:
        return parse_prices(yaml.safe_load(text))
    except PriceError as exc:
        raise PriceError(f"{path}: {exc}") from None


def _list(kind: Kind, namespace: str, everywhere: bool) -> list[dict[str, Any]]:
    return list_in_all_namespaces(kind) if everywhere else list_objects(kind, namespace)
