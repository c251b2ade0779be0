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
import contextlib
import json
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch

from batchops.local.emulator import Emulator
from bench.stack import BenchStack, aws_client, bench_stack, percentile, save, wait_until
from bench.workloads import Workload, chain

STEPS = 4
JOB_SECONDS = 2.0


class StatusWatch:
    """Arrival times of step states, from a watch on the bench namespace's BatchPipelines (the
    Kubernetes client in a thread, as any watching tool would see them), and the latest version
    of each object. The benchmark waits on this watch: listing the pipelines with kubectl every
    half second, as it did, loaded the 2-core machine's API server with a process and a LIST
    per check, and the operator's status writes queued behind them."""

    def __init__(self, stack: BenchStack) -> None:
        self.seen: dict[tuple[str, str, str], float] = {}
        self.latest: dict[str, dict[str, Any]] = {}
        # The kubernetes package is untyped: these calls are ignored one by one, as in kube/.
        kubeconfig = str(stack.cluster.kubeconfig)
        client = k8s_config.new_client_from_config(kubeconfig)  # type: ignore[no-untyped-call]
        api = k8s.CustomObjectsApi(client)
        self._watch = k8s_watch.Watch()  # type: ignore[no-untyped-call]
        self._stream = self._watch.stream(  # type: ignore[no-untyped-call]
            api.list_namespaced_custom_object,
            "batchops.io",
            "v1alpha1",
            "bench",
            "batchpipelines",
            timeout_seconds=3600,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        # `stop` closes the stream under the thread: that ends it, as an error or not.
        with contextlib.suppress(urllib3.exceptions.HTTPError):
            for event in self._stream:
                arrived = time.time()
                obj = event.get("object") or {}
                name = obj.get("metadata", {}).get("name", "")
                for step in (obj.get("status") or {}).get("steps", []):
                    key = (name, step.get("name", ""), step.get("status", ""))
                    self.seen.setdefault(key, arrived)
                self.latest[name] = obj  # after its steps: a Succeeded object's are all seen

    def all_succeeded(self, names: Sequence[str]) -> bool:
        """Whether the watch has seen each named pipeline with phase Succeeded."""
        return all(
            (self.latest.get(name, {}).get("status") or {}).get("phase") == "Succeeded"
            for name in names
        )

    def stop(self) -> None:
        """End the watch."""
        self._watch.stop()  # type: ignore[no-untyped-call]


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
    watch = StatusWatch(stack)
    try:
        manifests = workload.manifests(f"lag{load}-")
        names = [doc["metadata"]["name"] for doc in manifests]
        stack.apply(manifests)
        wait_until(lambda: watch.all_succeeded(names), 600, "lag workload succeeded", interval=0.1)
        items = [watch.latest[name] for name in names]
    finally:
        watch.stop()
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
