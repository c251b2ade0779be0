"""How fast the local Batch emulator takes SubmitJob calls and finishes simulated jobs.

    .venv/bin/python bench/emulator_throughput.py [--jobs 2000] [--threads 4] [--in-process]

By default the emulator runs as its own process (`python -m batchops.local.emulator`), as
`batchops dev` runs it, so client and server do not share one interpreter lock. Jobs are
simulated with zero duration at a high speed factor, faults off; boto3 clients submit from
several threads. Prints one table: submits/s (SubmitJob calls answered per second) and
completions/s (jobs reaching SUCCEEDED per second, from the first submit to the last success).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config

SPEED = 1000.0
QUEUE = "bench-queue"
DEFINITION = "bench-job"


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--in-process", action="store_true", help="serve from this process")
    args = parser.parse_args()
    with _emulator(args.in_process) as url:
        _control(url, "speed", {"speed": SPEED})
        _control(url, "scenario", {"mode": "simulate", "rules": [{"durationSeconds": 0}]})
        batch = _client(url)
        _create_infrastructure(batch)

        # 1. Submitting while jobs run: SubmitJob throughput, and how soon they all finish.
        started = time.perf_counter()
        _submit_all(url, "submit", args.jobs, args.threads)
        submitted = time.perf_counter()
        _wait_succeeded(batch, args.jobs)
        finished = time.perf_counter()

        # 2. Draining: jobs parked RUNNABLE behind a disabled compute environment, then let go.
        _set_ce_state(batch, "DISABLED")
        _submit_all(url, "drain", args.jobs, args.threads)
        _wait(lambda: _count(batch, "RUNNABLE") == args.jobs, timeout=120)
        drain_started = time.perf_counter()
        _set_ce_state(batch, "ENABLED")
        _wait_succeeded(batch, 2 * args.jobs)
        drained = time.perf_counter()
        counters = _control(url, "counters", None)
    rows = [
        ("jobs per phase", f"{args.jobs}"),
        ("client threads", f"{args.threads}"),
        ("emulator", "in this process" if args.in_process else "own process"),
        ("submits/s", f"{args.jobs / (submitted - started):.0f}"),
        ("submit to all SUCCEEDED", f"{finished - started:.2f} s"),
        ("completions/s (drain)", f"{args.jobs / (drained - drain_started):.0f}"),
        ("SubmitJob calls counted", f"{counters.get('SubmitJob', 0)}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>12}")


@contextmanager
def _emulator(in_process: bool) -> Iterator[str]:
    if in_process:
        from batchops.local.emulator import start_emulator

        emulator = start_emulator(port=0, speed=SPEED)
        try:
            yield emulator.url
        finally:
            emulator.stop()
        return
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "batchops.local.emulator", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            _control(url, "info", None)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # the emulator process is still starting


def _control(url: str, name: str, body: dict[str, Any] | None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/_batchops/{name}", data=data)
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _client(url: str) -> Any:
    return boto3.client(
        "batch",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 10}),
    )


def _create_infrastructure(batch: Any) -> None:
    batch.create_compute_environment(
        computeEnvironmentName="bench-ce",
        type="MANAGED",
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": 100_000,
            "instanceTypes": ["optimal"],
            "subnets": ["subnet-0123456789abcdef0"],
            "securityGroupIds": ["sg-0123456789abcdef0"],
            "instanceRole": "ecsInstanceRole",
        },
    )
    _wait(lambda: _status(batch.describe_compute_environments(), "computeEnvironments"))
    batch.create_job_queue(
        jobQueueName=QUEUE,
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "bench-ce"}],
    )
    _wait(lambda: _status(batch.describe_job_queues(), "jobQueues"))
    batch.register_job_definition(
        jobDefinitionName=DEFINITION,
        type="container",
        containerProperties={"image": "busybox", "command": ["true"], "vcpus": 1, "memory": 64},
    )


def _status(answer: dict[str, Any], key: str) -> bool:
    return bool(answer[key]) and answer[key][0]["status"] == "VALID"


def _set_ce_state(batch: Any, state: str) -> None:
    batch.update_compute_environment(computeEnvironment="bench-ce", state=state)
    _wait(lambda: _status(batch.describe_compute_environments(), "computeEnvironments"))


def _wait(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the emulator did not get there in time")
        time.sleep(0.01)  # poll interval


def _submit_all(url: str, prefix: str, jobs: int, threads: int) -> None:
    clients = [_client(url) for _ in range(threads)]

    def submit_share(index: int) -> None:
        for n in range(index, jobs, threads):
            clients[index].submit_job(
                jobName=f"{prefix}-{n}", jobQueue=QUEUE, jobDefinition=DEFINITION
            )

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(submit_share, range(threads)))


def _count(batch: Any, status: str) -> int:
    pages = batch.get_paginator("list_jobs").paginate(jobQueue=QUEUE, jobStatus=status)
    return sum(len(page["jobSummaryList"]) for page in pages)


def _wait_succeeded(batch: Any, total: int) -> None:
    _wait(lambda: _count(batch, "SUCCEEDED") >= total, timeout=600)


if __name__ == "__main__":
    main()
