"""How long `batchops timeline` takes to draw a 200-step run (the issue asks for under 1 s).

    .venv/bin/python -m bench.timeline [--steps 200] [--repeat 20]

Times the whole path from a status already read: the timeline built from the status, laid out,
and drawn for an 80-column terminal (no colour) and as a 120-column SVG, each `--repeat` times;
reports the median and the slowest, and writes bench/results/timeline.json. No cluster is
needed: the object is the one the unit tests draw (tests/timeline_runs.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from tests.timeline_runs import NOW, wide_run

from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.views.timeline import build_timeline
from batchops.views.timeline_chart import lay_out
from batchops.views.timeline_render import plain_text, svg_document

RESULTS = Path(__file__).resolve().parent / "results"


def render_once(steps: int) -> dict[str, float]:
    """Seconds to draw the run once for the terminal and once as SVG (the status is parsed
    into a spec each time too, as the command does)."""
    run = wide_run(steps)
    started = time.perf_counter()
    timeline = build_timeline(
        run["metadata"]["name"], parse_pipeline_spec(run["spec"]), run["status"], NOW
    )
    built = time.perf_counter()
    plain_text(lay_out(timeline, 80))
    terminal = time.perf_counter()
    svg_document(lay_out(timeline, 120), "batchops timeline wide")
    svg = time.perf_counter()
    return {
        "build": built - started,
        "terminal": terminal - built,
        "svg": svg - terminal,
        "total": svg - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    render_once(args.steps)  # imports and caches warmed, as in a second invocation
    samples = [render_once(args.steps) for _ in range(args.repeat)]
    result = {
        "steps": args.steps,
        "repeat": args.repeat,
        **{
            f"median_{part}_seconds": statistics.median(s[part] for s in samples)
            for part in ("build", "terminal", "svg", "total")
        },
        "max_total_seconds": max(s["total"] for s in samples),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "timeline.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
