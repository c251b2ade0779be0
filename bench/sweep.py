"""How long one DescribeJobs sweep of every active job takes, from 10,000 to 100,000 jobs.

    .venv/bin/python -m bench.sweep [--levels 10000,50000,100000]

The operator's own poller (jobs.watch.JobWatch, jobs.poller.sweep, aws.batch.BatchApi and the
DescribeJobs parser) against the emulator, which runs as a process of its own, holding N jobs
that never finish. The jobs are submitted with boto3, not through Kubernetes: 100,000 jobs
under the SubmitJob quota would take 33 minutes, and this measures the sweep, not submission
(bench.scale measures the whole operator to 20,000). Owners of 20 jobs each, as 20-step runs.

The baseline is what a hand-written poller does: a boto3 loop describing the same ids 100 at a
time, one call after the other, keeping each job's status. Per level, twice (as fast as the
emulator answers, best of 3; and with 0.1 s added to each DescribeJobs answer, as a call to AWS
takes longer than one to a local process): the sweep's seconds and DescribeJobs calls against
the minimum ceil(N / 100), and the baseline's seconds. And the memory the watch keeps per
tracked job (tracemalloc, after a full sweep).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from batchops.aws.batch import BatchApi
from batchops.aws.session import AwsSettings, client_for
from batchops.jobs.describer import describe_jobs
from batchops.jobs.poller import SWEEP_CALLS_IN_FLIGHT, sweep
from batchops.jobs.watch import JobWatch, OwnerKey
from batchops.local.emulator import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID
from batchops.local.processes import free_port
from batchops.local.stack import EMULATOR_CREDENTIALS
from bench.stack import aws_client, save
from bench.workloads import register_baseline_definition

JOBS_PER_OWNER = 20
REPEATS = 3
ROUND_TRIP_SECONDS = 0.1
"""Added to each DescribeJobs answer in the second measurement: the local emulator answers in
about 20 ms, a call to AWS from a cluster takes longer (an assumed 0.1 s; measure your own with
the operator's batchops_job_sweep_duration_seconds)."""
SUBMIT_THREADS = 8


@contextmanager
def emulator_process() -> Iterator[str]:
    """The emulator as a process of its own (its work must not share this one's GIL)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "batchops.local.emulator", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_batchops/info", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.2)
        scenario = b'{"rules": [{"jobName": "*", "durationSeconds": 1000000, "exitCode": 0}]}'
        urllib.request.urlopen(f"{url}/_batchops/scenario", data=scenario).read()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def counters(url: str) -> dict[str, int]:
    """The emulator's API calls so far, per operation."""
    return dict(json.loads(urllib.request.urlopen(f"{url}/_batchops/counters").read()))


def job_queue(batch: Any) -> str:
    """A VALID compute environment and job queue; the queue's ARN."""
    ce = batch.create_compute_environment(
        computeEnvironmentName="sweep",
        type="MANAGED",
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": 256,
            "instanceTypes": ["optimal"],
            "instanceRole": "ecsInstanceRole",
            "subnets": [DEFAULT_SUBNET_ID],
            "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
        },
    )["computeEnvironmentArn"]
    wait_valid(
        lambda: batch.describe_compute_environments(computeEnvironments=[ce])["computeEnvironments"]
    )
    queue = batch.create_job_queue(
        jobQueueName="sweep",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce}],
    )["jobQueueArn"]
    wait_valid(lambda: batch.describe_job_queues(jobQueues=[queue])["jobQueues"])
    return str(queue)


def wait_valid(describe: Any) -> None:
    deadline = time.monotonic() + 120
    while not (items := describe()) or items[0].get("status") != "VALID":
        if time.monotonic() > deadline:
            raise RuntimeError(f"not VALID: {items}")
        time.sleep(0.2)


def submit(url: str, queue: str, definition: str, count: int, first: int) -> list[str]:
    """`count` jobs, from SUBMIT_THREADS threads; their ids in submission order."""

    def some(start: int, stop: int) -> list[str]:
        batch = aws_client("batch", url)
        return [
            batch.submit_job(jobName=f"sweep-{i}", jobQueue=queue, jobDefinition=definition)[
                "jobId"
            ]
            for i in range(start, stop)
        ]

    bounds = [first + count * t // SUBMIT_THREADS for t in range(SUBMIT_THREADS + 1)]
    with ThreadPoolExecutor(SUBMIT_THREADS) as pool:
        parts = pool.map(some, bounds[:-1], bounds[1:])
        return [job_id for part in parts for job_id in part]


def baseline_sweep(batch: Any, ids: Sequence[str]) -> float:
    """A hand-written poller's sweep: DescribeJobs of 100 ids at a time, one after the other."""
    start = time.monotonic()
    statuses: dict[str, str] = {}
    for offset in range(0, len(ids), 100):
        for item in batch.describe_jobs(jobs=list(ids[offset : offset + 100]))["jobs"]:
            statuses[item["jobId"]] = item["status"]
    assert len(statuses) == len(ids), (len(statuses), len(ids))
    return time.monotonic() - start


def operator_sweep(watch: JobWatch, api: BatchApi) -> float:
    """One sweep by the operator's poller; its seconds."""
    woken: set[OwnerKey] = set()
    start = time.monotonic()
    asyncio.run(sweep(watch, lambda place, ids: describe_jobs(api, ids), woken.add))
    return time.monotonic() - start


def watch_kib_per_job(api: BatchApi, owners: dict[OwnerKey, list[str]]) -> float:
    """The memory a watch keeps per tracked job once a sweep described them all: a fresh watch
    under tracemalloc (off while timing, which it slows), after one sweep."""
    tracemalloc.start()
    watch = JobWatch()
    for owner, ids in owners.items():
        watch.track(owner, ids)
    operator_sweep(watch, api)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return kept / 1024 / sum(len(ids) for ids in owners.values())


def set_round_trip(url: str, seconds: float) -> None:
    """Add `seconds` to every DescribeJobs answer of the emulator (0: none)."""
    faults = {"operations": {"DescribeJobs": {"latencySeconds": seconds}} if seconds else {}}
    urllib.request.urlopen(f"{url}/_batchops/faults", data=json.dumps(faults).encode()).read()


def compare(
    url: str, batch: Any, api: BatchApi, watch: JobWatch, ids: Sequence[str], repeats: int
) -> dict[str, float]:
    """The operator's sweep and the baseline's over the same ids: best of `repeats` each."""
    before = counters(url).get("DescribeJobs", 0)
    seconds = min(operator_sweep(watch, api) for _ in range(repeats))
    calls = (counters(url).get("DescribeJobs", 0) - before) / repeats
    if calls < math.ceil(len(ids) / 100):
        raise RuntimeError(f"the sweeps described too little: {calls} calls per sweep")
    base = min(baseline_sweep(batch, ids) for _ in range(repeats))
    return {
        "sweep_seconds": seconds,
        "describe_jobs_calls": calls,
        "baseline_sweep_seconds": base,
        "ratio": seconds / base,
    }


def run(levels: Sequence[int]) -> dict[str, Any]:
    """Grow to each level; sweep there, as fast as the emulator answers and with AWS's round
    trip added."""
    samples: list[dict[str, Any]] = []
    with emulator_process() as url:
        batch = aws_client("batch", url)
        queue = job_queue(batch)
        definition = register_baseline_definition(batch)
        os.environ.update(EMULATOR_CREDENTIALS)  # what the operator's clients find
        api = BatchApi(client_for("batch", AwsSettings(endpoint_url=url)))
        ids: list[str] = []
        watch = JobWatch()
        for level in levels:
            start = time.monotonic()
            ids += submit(url, queue, definition, level - len(ids), len(ids))
            submitted = time.monotonic() - start
            owners = {
                ("bench", f"run-{n}"): ids[n * JOBS_PER_OWNER : (n + 1) * JOBS_PER_OWNER]
                for n in range(len(ids) // JOBS_PER_OWNER)
            }
            for owner, owned in owners.items():
                watch.track(owner, owned)
            local = compare(url, batch, api, watch, ids, REPEATS)
            set_round_trip(url, ROUND_TRIP_SECONDS)
            remote = compare(url, batch, api, watch, ids, 1)
            set_round_trip(url, 0)
            sample = {
                "active_jobs": len(ids),
                "describe_jobs_minimum": math.ceil(len(ids) / 100),
                "local": local,
                "with_round_trip": remote,
                "watch_kib_per_job": watch_kib_per_job(api, owners),
                "submit_seconds": submitted,
            }
            samples.append(sample)
            print(
                f"{len(ids):6d} active jobs ({local['describe_jobs_calls']:.0f} DescribeJobs, "
                f"min {sample['describe_jobs_minimum']}): sweep {local['sweep_seconds']:.2f} s, "
                f"baseline {local['baseline_sweep_seconds']:.2f} s (ratio {local['ratio']:.2f}); "
                f"with {ROUND_TRIP_SECONDS:g} s per call: sweep {remote['sweep_seconds']:.2f} s, "
                f"baseline {remote['baseline_sweep_seconds']:.2f} s "
                f"(ratio {remote['ratio']:.2f}); watch {sample['watch_kib_per_job']:.2f} KiB/job",
                flush=True,
            )
    return {
        "calls_in_flight": SWEEP_CALLS_IN_FLIGHT,
        "round_trip_seconds": ROUND_TRIP_SECONDS,
        "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="10000,50000,100000")
    args = parser.parse_args()
    result = run([int(x) for x in args.levels.split(",")])
    print(f"written to {save('sweep', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
