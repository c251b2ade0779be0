"""How late a CronPipeline's runs are created after their scheduled time.

    .venv/bin/python -m bench.cron_precision [--ticks 120]

Starts the local stack, applies a CronPipeline on `@every 1s` (concurrencyPolicy Allow, a
one-step pipeline) and watches BatchPipeline ADDED events through the API server; the latency of
a tick is the moment its ADDED event arrives minus the scheduled time in the child's
`batchops.io/scheduled-time` annotation (second resolution, so the schedule's times are whole
seconds too). Reports median and p99 over the ticks and writes bench/results/cron-precision.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from batchops.local.cluster import LocalCluster
from batchops.local.emulator import start_emulator
from batchops.local.stack import OperatorProcess, install_crds
from batchops.model.common import parse_time

RESULTS = Path(__file__).resolve().parent / "results"


def run(ticks: int) -> dict[str, float]:
    """Latencies in seconds for `ticks` consecutive scheduled runs."""
    with LocalCluster() as cluster:
        emulator = start_emulator(port=0, speed=50)
        log = Path(tempfile.mkdtemp(prefix="batchops-bench-")) / "operator.log"
        operator = OperatorProcess(cluster.kubeconfig, emulator.url, log)
        try:
            install_crds(cluster.kubeconfig)
            operator.start()
            kubectl = ["kubectl", f"--kubeconfig={cluster.kubeconfig}", "-n", "default"]
            cron = {
                "apiVersion": "batchops.io/v1alpha1",
                "kind": "CronPipeline",
                "metadata": {"name": "tick"},
                "spec": {
                    "schedule": "@every 1s",
                    "successfulRunsHistoryLimit": 1000,
                    "failedRunsHistoryLimit": 1000,
                    "pipelineTemplate": {
                        "spec": {
                            "queue": "missing",
                            "image": "busybox",
                            "steps": [
                                {"name": "a", "command": ["true"], "vcpus": 1, "memory": 128}
                            ],
                        }
                    },
                },
            }
            watch = subprocess.Popen(
                [*kubectl, "get", "bpl", "--watch-only", "--output-watch-events", "-o", "json"],
                stdout=subprocess.PIPE,
                text=True,
            )
            subprocess.run(
                [*kubectl, "apply", "-f", "-"],
                input=yaml.safe_dump(cron),
                text=True,
                check=True,
                capture_output=True,
            )
            latencies: list[float] = []
            decoder = json.JSONDecoder()
            buffer = ""
            assert watch.stdout is not None
            deadline = time.monotonic() + ticks * 3 + 60
            while len(latencies) < ticks:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {len(latencies)} runs created; see {log}")
                buffer += watch.stdout.readline()
                try:
                    event, _ = decoder.raw_decode(buffer.strip())
                except json.JSONDecodeError:
                    continue
                arrived = time.time()
                buffer = ""
                if event.get("type") != "ADDED":
                    continue
                annotations = event["object"]["metadata"].get("annotations", {})
                scheduled = parse_time(annotations["batchops.io/scheduled-time"]).timestamp()
                latencies.append(arrived - scheduled)
            watch.terminate()
        finally:
            operator.stop()
            emulator.stop()
    ordered = sorted(latencies[1:])  # the first tick races the watch's start
    return {
        "ticks": float(len(ordered)),
        "median_seconds": statistics.median(ordered),
        "p99_seconds": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max_seconds": ordered[-1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=120)
    args = parser.parse_args()
    result = run(args.ticks)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cron-precision.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"scheduled -> created over {result['ticks']:.0f} ticks: "
        f"median {result['median_seconds']:.3f} s, p99 {result['p99_seconds']:.3f} s, "
        f"max {result['max_seconds']:.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
