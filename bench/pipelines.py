"""batchops against the walkthrough's raw boto3 loop, side by side on one emulator.

    .venv/bin/python -m bench.pipelines [--scale 1.0] [--speed 20] [--poll-interval 1]

Workloads (at --scale 1): 200 chains x 10 steps, 100 diamonds (1 → 8 → 1), 50 fan-outs
(1 → 20) and 20 wide fan-ins (1 → 50 → 1, which plain dependsOn cannot express: batchops only).
Both sides run on one emulator that enforces AWS's SubmitJob quota (50 calls/s). For each
workload: time from start to all jobs submitted and to all done (baseline: its loop; batchops:
`kubectl apply` until a watch shows every job id in status / every run Succeeded), AWS calls per
operation against the minimum, and Kubernetes writes per pipeline. Writes
bench/results/pipelines.json.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from bench.stack import SUBMIT_JOB_QUOTA, BenchStack, bench_stack, save
from bench.watching import PipelineWatch
from bench.workloads import Workload, baseline, chain, diamond, fan_out


def workloads(scale: float) -> list[Workload]:
    """The default mix, `scale` times as many pipelines."""

    def n(count: int) -> int:
        return max(1, round(count * scale))

    wide_fan_in = [("start", []), *[(f"m{i}", ["start"]) for i in range(50)]]
    wide_fan_in.append(("end", [name for name, _ in wide_fan_in[1:]]))
    return [
        Workload("chain", n(200), chain(10)),
        Workload("diamond", n(100), diamond(8)),
        Workload("fanout", n(50), [*fan_out(20)]),
        Workload("fanin50", n(20), wide_fan_in),
    ]


def measure_batchops(stack: BenchStack, workload: Workload) -> dict[str, Any]:
    """Apply the workload's pipelines at once; time until a watch shows every job id in status,
    and every run Succeeded."""
    before_calls = stack.emulator.counters()
    before_writes = stack.kubernetes_writes()
    manifests = workload.manifests(f"{workload.name}-")
    names = [doc["metadata"]["name"] for doc in manifests]
    timeout = 600 + workload.jobs / 10
    with PipelineWatch(stack) as watch:
        start = time.time()
        stack.apply(manifests)
        submit_seconds = watch.wait_submitted(names, timeout) - start
        done_seconds = watch.wait_phase(names, "Succeeded", timeout) - start
        restarts = watch.restarts
    after_calls = stack.emulator.counters()
    after_writes = stack.kubernetes_writes()
    calls = {op: after_calls.get(op, 0) - before_calls.get(op, 0) for op in after_calls}
    writes = {k: after_writes.get(k, 0) - before_writes.get(k, 0) for k in after_writes}
    return {
        "submit_seconds": submit_seconds,
        "done_seconds": done_seconds,
        "aws_calls": {op: count for op, count in sorted(calls.items()) if count},
        "kubernetes_writes": {k: v for k, v in sorted(writes.items()) if v},
        "kubernetes_writes_per_pipeline": sum(writes.values()) / workload.pipelines,
        "watch_restarts": restarts,
    }


def run(scale: float, speed: float, poll: float) -> dict[str, Any]:
    """Every workload, baseline then batchops, on one stack."""
    results: list[dict[str, Any]] = []
    with bench_stack(speed, job_seconds=0.5, operator_args=[f"--poll-interval={poll}"]) as stack:
        batch = stack.batch()
        queue_arn = batch.describe_job_queues()["jobQueues"][0]["jobQueueArn"]
        for workload in workloads(scale):
            print(f"{workload.name}: {workload.pipelines} x {workload.steps} steps", flush=True)
            entry: dict[str, Any] = {
                "workload": workload.name,
                "pipelines": workload.pipelines,
                "steps": workload.steps,
                "jobs": workload.jobs,
            }
            if workload.baseline_possible:
                before = stack.emulator.counters()
                entry["baseline"] = baseline(batch, queue_arn, workload)
                after = stack.emulator.counters()
                entry["baseline"]["aws_calls"] = {
                    op: after.get(op, 0) - before.get(op, 0)
                    for op in sorted(after)
                    if after.get(op, 0) - before.get(op, 0)
                }
            mine = entry["batchops"] = measure_batchops(stack, workload)
            # The minimum: one SubmitJob per job, and DescribeJobs for the active jobs once per
            # poll while the run lasts (ceil(active / 100) each; active ≤ all jobs).
            polls = max(1.0, mine["done_seconds"] / poll)
            entry["minimum_aws_calls"] = workload.jobs + math.ceil(workload.jobs / 100) * polls
            entry["aws_calls_ratio"] = sum(mine["aws_calls"].values()) / entry["minimum_aws_calls"]
            if "baseline" in entry:
                entry["submit_ratio"] = mine["submit_seconds"] / entry["baseline"]["submit_seconds"]
                entry["done_ratio"] = mine["done_seconds"] / entry["baseline"]["done_seconds"]
            results.append(entry)
        usage = stack.operator_usage()
    return {
        "scale": scale,
        "emulator_speed": speed,
        "poll_interval": poll,
        "submit_job_quota_per_second": SUBMIT_JOB_QUOTA,
        "workloads": results,
        "operator": usage,
    }


def print_table(result: dict[str, Any]) -> None:
    """The human summary."""
    print(
        f"{'workload':10}{'jobs':>7}{'submit base':>13}{'batchops':>10}{'ratio':>7}"
        f"{'done base':>11}{'batchops':>10}{'ratio':>7}{'calls/min':>10}{'k8s w/pl':>9}"
    )
    for entry in result["workloads"]:
        base = entry.get("baseline")
        mine = entry["batchops"]
        print(
            f"{entry['workload']:10}{entry['jobs']:7d}"
            + (f"{base['submit_seconds']:13.1f}" if base else f"{'n/a':>13}")
            + f"{mine['submit_seconds']:10.1f}"
            + (f"{entry['submit_ratio']:7.2f}" if base else f"{'':>7}")
            + (f"{base['done_seconds']:11.1f}" if base else f"{'n/a':>11}")
            + f"{mine['done_seconds']:10.1f}"
            + (f"{entry['done_ratio']:7.2f}" if base else f"{'':>7}")
            + f"{entry['aws_calls_ratio']:10.2f}{mine['kubernetes_writes_per_pipeline']:9.1f}"
        )
    usage = result["operator"]
    print(f"operator peak RSS {usage['peak_rss_mib']:.0f} MiB, CPU {usage['cpu_seconds']:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    args = parser.parse_args()
    result = run(args.scale, args.speed, args.poll_interval)
    print_table(result)
    print(f"written to {save('pipelines', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
