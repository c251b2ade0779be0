"""Status lag: from Batch changing a job's state to that state being visible through a watch.

    .venv/bin/python -m bench.lag [--loads 20,100,300] [--poll-interval 10]

For each mode (polling; SQS events from an EventBridge rule, polling as a slow safety net) and
each load (pipelines of a 4-step chain, 2 s jobs, applied at once), a `kubectl get --watch`
client records when each step first shows RUNNING and SUCCEEDED in the BatchPipeline's status;
the lag is that moment minus the job's startedAt / stoppedAt as Batch (the emulator, same clock)
reports it in milliseconds. Writes bench/results/lag.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from batchops.local.emulator import Emulator
from bench.stack import BenchStack, aws_client, bench_stack, percentile, save
from bench.watching import PipelineWatch
from bench.workloads import Workload, chain

STEPS = 4
JOB_SECONDS = 2.0


def _event_mode(emulator: Emulator) -> Sequence[str]:
    """An EventBridge rule sending Batch job state changes to an SQS queue; the operator flag."""
    sqs, events = aws_client("sqs", emulator.url), aws_client("events", emulator.url)
    url = sqs.create_queue(QueueName="batch-job-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="batch-job-events",
        EventPattern=json.dumps(
            {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"]}
        ),
    )
    events.put_targets(Rule="batch-job-events", Targets=[{"Id": "sqs", "Arn": arn}])
    return [f"--event-queue-url={url}"]


def measure(stack: BenchStack, load: int) -> dict[str, Any]:
    """Run `load` pipelines at once; lags of every RUNNING and SUCCEEDED transition."""
    workload = Workload(f"lag{load}", load, chain(STEPS))
    with PipelineWatch(stack) as watch:
        manifests = workload.manifests(f"lag{load}-")
        names = [doc["metadata"]["name"] for doc in manifests]
        stack.apply(manifests)
        watch.wait_phase(names, "Succeeded", 600)
        items = [watch.latest[name] for name in names]
    job_steps = {
        s["jobId"]: (i["metadata"]["name"], s["name"]) for i in items for s in i["status"]["steps"]
    }
    batch = stack.batch()
    ids = sorted(job_steps)
    lags: dict[str, list[float]] = {"RUNNING": [], "SUCCEEDED": []}
    for i in range(0, len(ids), 100):
        for job in batch.describe_jobs(jobs=ids[i : i + 100])["jobs"]:
            pipeline, step = job_steps[job["jobId"]]
            for state, stamp in (("RUNNING", "startedAt"), ("SUCCEEDED", "stoppedAt")):
                arrived = watch.seen.get((pipeline, step, state))
                if arrived is not None and job.get(stamp):
                    lags[state].append(arrived - job[stamp] / 1000)
    everything = lags["RUNNING"] + lags["SUCCEEDED"]
    stack.delete_pipelines()
    return {
        "pipelines": load,
        "jobs": workload.jobs,
        "transitions": len(everything),
        "running_seen": len(lags["RUNNING"]),
        "p50_seconds": percentile(everything, 0.5),
        "p99_seconds": percentile(everything, 0.99),
        "max_seconds": max(everything),
    }


def run(loads: Sequence[int], poll: float) -> dict[str, Any]:
    """Both modes at every load."""
    result: dict[str, Any] = {"poll_interval": poll, "job_seconds": JOB_SECONDS, "modes": {}}
    for mode in ("poll", "event"):
        hook = _event_mode if mode == "event" else None
        with bench_stack(
            speed=1.0,
            job_seconds=JOB_SECONDS,
            operator_args=[f"--poll-interval={poll}"],
            before_operator=hook,
        ) as stack:
            result["modes"][mode] = [measure(stack, load) for load in loads]
            result["modes"][mode + "_operator"] = stack.operator_usage()
        for entry in result["modes"][mode]:
            print(
                f"{mode:6} {entry['pipelines']:5d} pipelines: lag p50 {entry['p50_seconds']:.2f} s"
                f" p99 {entry['p99_seconds']:.2f} s max {entry['max_seconds']:.2f} s"
                f" ({entry['transitions']} transitions)",
                flush=True,
            )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", default="20,100,300")
    parser.add_argument("--poll-interval", type=float, default=10.0)
    args = parser.parse_args()
    result = run([int(x) for x in args.loads.split(",")], args.poll_interval)
    print(f"written to {save('lag', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
