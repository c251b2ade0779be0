"""How the operator's memory and CPU grow with the number of jobs it tracks (1k → 20k).

    .venv/bin/python -m bench.scale [--levels 1000,5000,10000,20000] [--steps 20]

Pipelines of a 20-step chain whose jobs run far longer than the benchmark, so every job stays
tracked, are applied in batches until the levels are reached (1,000 x 20 = 20,000 jobs at the
top). At each level, once every job id is in status: the operator's RSS, and over three poll
intervals its CPU seconds and DescribeJobs calls (minimum: ceil(jobs / 100) per poll). Also the
time to submit everything, and the baseline's boto3 loop submitting the same 1,000 x 20 under
the same SubmitJob quota. Writes bench/results/scale.json, with the operator's RSS before any
pipeline (`idle_rss_mib`: imports, clients, caches) and the growth per tracked job between the
first and last level (`kib_per_tracked_job`), the two parts of the memory target.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.stack import BenchStack, bench_stack, save
from bench.watching import PipelineWatch
from bench.workloads import Workload, chain, register_baseline_definition, submit_baseline

POLL_INTERVAL = 10.0
WINDOW_POLLS = 3


def _baseline_submit(stack: BenchStack, pipelines: int, steps: int) -> float:
    """The boto3 loop's time to submit the same jobs (no waiting: they never finish)."""
    batch = stack.batch()
    queue_arn = batch.describe_job_queues()["jobQueues"][0]["jobQueueArn"]
    definition = register_baseline_definition(batch)
    start = time.monotonic()
    submit_baseline(batch, queue_arn, Workload("scale", pipelines, chain(steps)), definition)
    return time.monotonic() - start


def run(levels: Sequence[int], steps: int, with_baseline: bool) -> dict[str, Any]:
    """Grow to each level; sample the operator there."""
    samples: list[dict[str, Any]] = []
    submit_seconds = 0.0
    applied = 0
    with bench_stack(
        speed=1.0,
        job_seconds=1_000_000,
        operator_args=[f"--poll-interval={POLL_INTERVAL}"],
        max_vcpus=256,
    ) as stack:
        idle = stack.operator_usage()
        with PipelineWatch(stack) as watch:
            for level in levels:
                target = level // steps
                batch = Workload("scale", target - applied, chain(steps)).manifests("tmp")
                for offset, doc in enumerate(batch):
                    doc["metadata"]["name"] = f"scale-{applied + offset}"
                start = time.time()
                stack.apply(batch)
                names = [f"scale-{i}" for i in range(target)]
                submit_seconds += watch.wait_submitted(names, 3600) - start
                applied = target
                before_calls = stack.emulator.counters()
                before = stack.operator_usage()
                window = POLL_INTERVAL * WINDOW_POLLS
                time.sleep(window)  # a steady-state window: three polls of every tracked job
                after = stack.operator_usage()
                after_calls = stack.emulator.counters()
                describes = after_calls.get("DescribeJobs", 0) - before_calls.get("DescribeJobs", 0)
                sample = {
                    "tracked_jobs": target * steps,
                    "rss_mib": after["rss_mib"],
                    "peak_rss_mib": after["peak_rss_mib"],
                    "cpu_seconds_per_minute": (after["cpu_seconds"] - before["cpu_seconds"])
                    * 60
                    / window,
                    "describe_jobs_calls_per_poll": describes / WINDOW_POLLS,
                    "describe_jobs_minimum_per_poll": math.ceil(target * steps / 100),
                    "cumulative_submit_seconds": submit_seconds,
                }
                samples.append(sample)
                print(
                    f"{sample['tracked_jobs']:6d} jobs: RSS {sample['rss_mib']:.0f} MiB, "
                    f"CPU {sample['cpu_seconds_per_minute']:.1f} s/min, DescribeJobs "
                    f"{sample['describe_jobs_calls_per_poll']:.1f}/poll "
                    f"(min {sample['describe_jobs_minimum_per_poll']}), "
                    f"submitted in {submit_seconds:.0f} s so far",
                    flush=True,
                )
        usage = stack.operator_usage()
        baseline = _baseline_submit(stack, applied, steps) if with_baseline else None
    result: dict[str, Any] = {
        "steps": steps,
        "poll_interval": POLL_INTERVAL,
        "idle_rss_mib": idle["rss_mib"],
        "samples": samples,
        "operator": usage,
        "batchops_submit_seconds": submit_seconds,
        "watch_restarts": watch.restarts,
    }
    if len(samples) > 1:
        first, last = samples[0], samples[-1]
        result["kib_per_tracked_job"] = (
            (last["rss_mib"] - first["rss_mib"])
            * 1024
            / (last["tracked_jobs"] - first["tracked_jobs"])
        )
        print(
            f"idle RSS {idle['rss_mib']:.0f} MiB; {result['kib_per_tracked_job']:.1f} KiB per "
            f"tracked job from {first['tracked_jobs']} to {last['tracked_jobs']}"
        )
    if baseline is not None:
        result["baseline_submit_seconds"] = baseline
        result["submit_ratio"] = submit_seconds / baseline
        print(
            f"{applied} x {steps}: batchops submitted in {submit_seconds:.0f} s, "
            f"baseline in {baseline:.0f} s (ratio {submit_seconds / baseline:.2f})"
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1000,5000,10000,20000")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    result = run(levels, args.steps, not args.no_baseline)
    print(f"written to {save('scale', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
