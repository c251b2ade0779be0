"""One PNG of the results: status lag versus load, memory and CPU versus tracked jobs, sweep
time versus active jobs.

.venv/bin/python -m bench.plot     (reads bench/results/lag.json, scale.json and sweep.json)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt

from bench.stack import RESULTS

MEMORY_GOALS = ((20_000, 150), (100_000, 400))
"""(tracked jobs, RSS MiB) the scale issue sets: marked on the memory plot where measured."""


def plot(results: Path = RESULTS) -> Path:
    """Draw bench/results/bench.png from the lag, scale and sweep results that exist."""
    figure, (lag_axes, memory_axes, sweep_axes) = plt.subplots(1, 3, figsize=(18, 4.5))
    lag_file, scale_file = results / "lag.json", results / "scale.json"
    sweep_file = results / "sweep.json"
    if lag_file.exists():
        lag = json.loads(lag_file.read_text())
        for mode, style in (("poll", "o-"), ("event", "s-")):
            entries = lag["modes"].get(mode, [])
            loads = [e["jobs"] for e in entries]
            lag_axes.plot(loads, [e["p50_seconds"] for e in entries], style, label=f"{mode} p50")
            lag_axes.plot(
                loads, [e["p99_seconds"] for e in entries], style, alpha=0.5, label=f"{mode} p99"
            )
        lag_axes.axhline(lag["poll_interval"] + 1, color="grey", linestyle=":", linewidth=1)
        lag_axes.set_title(f"Status lag (poll interval {lag['poll_interval']:g} s)")
        lag_axes.set_xlabel("jobs in the run")
        lag_axes.set_ylabel("seconds from Batch to the watch")
        lag_axes.legend()
    if scale_file.exists():
        scale = json.loads(scale_file.read_text())
        jobs = [s["tracked_jobs"] for s in scale["samples"]]
        memory_axes.plot(jobs, [s["rss_mib"] for s in scale["samples"]], "o-", label="RSS (MiB)")
        goals = [(tracked, mib) for tracked, mib in MEMORY_GOALS if tracked <= 1.2 * max(jobs)]
        memory_axes.plot(
            [tracked for tracked, _ in goals],
            [mib for _, mib in goals],
            "x",
            color="grey",
            markersize=9,
            label="goal (MiB)",
        )
        memory_axes.set_xlabel("tracked jobs")
        memory_axes.set_ylabel("operator RSS (MiB)")
        cpu_axes = memory_axes.twinx()
        cpu_axes.plot(
            jobs,
            [s["cpu_seconds_per_minute"] for s in scale["samples"]],
            "s--",
            color="tab:red",
            label="CPU (s/min)",
        )
        cpu_axes.set_ylabel("operator CPU seconds per minute")
        memory_axes.set_title("Operator memory and CPU vs tracked jobs")
        memory_axes.legend(loc="upper left")
        cpu_axes.legend(loc="center left")  # the goal marks sit at the lower right
    if sweep_file.exists():
        sweep = json.loads(sweep_file.read_text())
        active = [s["active_jobs"] for s in sweep["samples"]]
        round_trip = f"+{sweep['round_trip_seconds']:g} s per call"
        for key, label, style in (
            ("local", "emulator", "o-"),
            ("with_round_trip", round_trip, "s-"),
        ):
            entries = [s[key] for s in sweep["samples"]]
            sweep_axes.plot(active, [e["sweep_seconds"] for e in entries], style, label=label)
            sweep_axes.plot(
                active,
                [e["baseline_sweep_seconds"] for e in entries],
                style,
                alpha=0.4,
                label=f"boto3 loop, {label}",
            )
        sweep_axes.axhline(10, color="grey", linestyle=":", linewidth=1)  # the default interval
        sweep_axes.set_title("One DescribeJobs sweep of every active job")
        sweep_axes.set_xlabel("active jobs")
        sweep_axes.set_ylabel("seconds (dotted: the 10 s poll interval)")
        sweep_axes.legend()
    figure.tight_layout()
    out = results / "bench.png"
    figure.savefig(out, dpi=100)
    return out


if __name__ == "__main__":
    print(f"written to {plot()}")
    sys.exit(0)
