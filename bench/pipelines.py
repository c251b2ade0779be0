"""batchops against the walkthrough's raw boto3 loop, side by side on one emulator.

    .venv/bin/python -m bench.pipelines [--pipelines 50] [--steps 10] [--speed 50]

Starts the local control plane, the emulator (simulate mode, short jobs) and the operator.
Baseline: the walkthrough's approach — a boto3 loop that registers one job definition per step,
submits each chain with dependsOn and polls DescribeJobs (100 ids a call) until all are done.
batchops: the same chains as BatchPipeline objects, `kubectl apply`-ed at once; timed from apply
until every job id is in status, and until every run Succeeded. Reports AWS calls per operation
against the theoretical minimum, Kubernetes writes per pipeline (from the API server's metrics),
status lag, and the operator's peak RSS and CPU time. Writes bench/results/pipelines-<N>x<M>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import yaml

from batchops.local.cluster import LocalCluster
from batchops.local.emulator import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID, start_emulator
from batchops.local.stack import OperatorProcess, install_crds

RESULTS = Path(__file__).resolve().parent / "results"
NAMESPACE = "bench"


def _batch(url: str) -> Any:
    return boto3.client(
        "batch",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _wait(predicate: Any, timeout: float, what: str, interval: float = 0.2) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)  # polling interval of the benchmark driver
    raise TimeoutError(what)


def _infra(kubectl: list[str]) -> None:
    manifest = [
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchComputeEnvironment",
            "metadata": {"name": "ce"},
            "spec": {
                "computeResources": {
                    "type": "EC2",
                    "instanceTypes": ["optimal"],
                    "minvCpus": 0,
                    "maxvCpus": 100000,
                    "instanceRole": "ecsInstanceRole",
                    "subnets": [DEFAULT_SUBNET_ID],
                    "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
                }
            },
        },
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchJobQueue",
            "metadata": {"name": "q"},
            "spec": {"priority": 1, "computeEnvironments": [{"ref": "ce", "order": 1}]},
        },
    ]
    subprocess.run(
        [*kubectl, "apply", "-f", "-"],
        input=yaml.safe_dump_all(manifest),
        text=True,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*kubectl, "wait", "--for=condition=Ready", "bjq/q", "--timeout=120s"],
        check=True,
        capture_output=True,
    )


def _chain(name: str, steps: int) -> dict[str, Any]:
    return {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": name},
        "spec": {
            "queue": "q",
            "image": "busybox",
            "steps": [
                {
                    "name": f"s{i}",
                    "command": ["true"],
                    "vcpus": 1,
                    "memory": 128,
                    **({"dependsOn": [f"s{i - 1}"]} if i else {}),
                }
                for i in range(steps)
            ],
        },
    }


def baseline(url: str, queue_arn: str, pipelines: int, steps: int) -> dict[str, Any]:
    """The walkthrough's loop: register, submit chains with dependsOn, poll DescribeJobs."""
    batch = _batch(url)
    start = time.monotonic()
    definition = batch.register_job_definition(
        jobDefinitionName="baseline",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["true"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "128"},
            ],
        },
    )["jobDefinitionArn"]
    ids: list[str] = []
    for p in range(pipelines):
        previous: str | None = None
        for s in range(steps):
            kwargs: dict[str, Any] = {
                "jobName": f"base-{p}-{s}",
                "jobQueue": queue_arn,
                "jobDefinition": definition,
            }
            if previous:
                kwargs["dependsOn"] = [{"jobId": previous}]
            previous = batch.submit_job(**kwargs)["jobId"]
            ids.append(previous)
    submitted = time.monotonic() - start
    pending = set(ids)
    while pending:
        chunk = sorted(pending)
        for i in range(0, len(chunk), 100):
            for job in batch.describe_jobs(jobs=chunk[i : i + 100])["jobs"]:
                if job["status"] in ("SUCCEEDED", "FAILED"):
                    pending.discard(job["jobId"])
        time.sleep(1.0)  # the baseline's poll interval, like the operator's
    return {"submit_seconds": submitted, "done_seconds": time.monotonic() - start}


def _apiserver_writes(cluster: LocalCluster) -> dict[str, float]:
    endpoints = cluster.endpoints
    auth = {"Authorization": f"Bearer {endpoints.token}"}
    request = urllib.request.Request(f"{endpoints.server}/metrics", headers=auth)
    context = ssl.create_default_context(cafile=str(endpoints.ca_cert))
    text = urllib.request.urlopen(request, context=context).read().decode()
    writes: dict[str, float] = {}
    pattern = re.compile(r"^apiserver_request_total\{(.*)\} ([0-9.e+]+)$")
    for line in text.splitlines():
        match = pattern.match(line)
        if not match:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if labels.get("group") != "batchops.io" or labels.get("verb") not in (
            "PATCH",
            "UPDATE",
            "CREATE",
            "DELETE",
        ):
            continue
        sub = labels.get("subresource")
        key = f"{labels['verb']} {labels['resource']}{'/' + sub if sub else ''}"
        writes[key] = writes.get(key, 0.0) + float(match.group(2))
    return writes


def _rss_and_cpu(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    peak_kib = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return peak_kib / 1024, ticks / 100


def run(pipelines: int, steps: int, speed: float, poll: float) -> dict[str, Any]:
    """One side-by-side run; returns the result record."""
    with LocalCluster() as cluster:
        emulator = start_emulator(port=0, speed=speed)
        emulator.set_scenario(rules=[{"jobName": "*", "durationSeconds": 0.5, "exitCode": 0}])
        log = Path(tempfile.mkdtemp(prefix="batchops-bench-")) / "operator.log"
        operator = OperatorProcess(
            cluster.kubeconfig, emulator.url, log, extra_args=[f"--poll-interval={poll}"]
        )
        try:
            install_crds(cluster.kubeconfig)
            operator.start()
            base = ["kubectl", f"--kubeconfig={cluster.kubeconfig}"]
            subprocess.run(
                [*base, "create", "namespace", NAMESPACE], check=True, capture_output=True
            )
            kubectl = [*base, "-n", NAMESPACE]
            _infra(kubectl)
            batch = _batch(emulator.url)
            queue_arn = batch.describe_job_queues()["jobQueues"][0]["jobQueueArn"]

            result_base = baseline(emulator.url, queue_arn, pipelines, steps)
            before = emulator.counters()
            writes_before = _apiserver_writes(cluster)

            docs = [_chain(f"p{i}", steps) for i in range(pipelines)]
            start = time.monotonic()
            subprocess.run(
                [*kubectl, "apply", "-f", "-"],
                input=yaml.safe_dump_all(docs),
                text=True,
                check=True,
                capture_output=True,
            )

            def listing() -> list[dict[str, Any]]:
                out = subprocess.run(
                    [*kubectl, "get", "bpl", "-o", "json"],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                return list(json.loads(out)["items"])

            def all_submitted() -> bool:
                items = listing()
                return len(items) == pipelines and all(
                    sum(1 for s in (i.get("status") or {}).get("steps", []) if s.get("jobId"))
                    == steps
                    for i in items
                )

            _wait(all_submitted, 600, "all submitted")
            submit_seconds = time.monotonic() - start
            _wait(
                lambda: all((i.get("status") or {}).get("phase") == "Succeeded" for i in listing()),
                900,
                "all succeeded",
            )
            done_seconds = time.monotonic() - start
            after = emulator.counters()
            calls = {op: after.get(op, 0) - before.get(op, 0) for op in after}
            calls = {op: n for op, n in calls.items() if n}
            writes_after = _apiserver_writes(cluster)
            writes = {k: writes_after.get(k, 0) - writes_before.get(k, 0) for k in writes_after}
            rss, cpu = _rss_and_cpu(operator.pid)  # type: ignore[arg-type]
        finally:
            operator.stop()
            emulator.stop()
    jobs = pipelines * steps
    return {
        "pipelines": pipelines,
        "steps": steps,
        "jobs": jobs,
        "emulator_speed": speed,
        "poll_interval": poll,
        "baseline": result_base,
        "batchops": {"submit_seconds": submit_seconds, "done_seconds": done_seconds},
        "submit_ratio": submit_seconds / result_base["submit_seconds"],
        "aws_calls": calls,
        "minimum": {"SubmitJob": jobs, "DescribeJobs per poll": math.ceil(jobs / 100)},
        "kubernetes_writes": {k: v for k, v in writes.items() if v},
        "kubernetes_writes_per_pipeline": sum(writes.values()) / pipelines,
        "operator_peak_rss_mib": rss,
        "operator_cpu_seconds": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=50)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    args = parser.parse_args()
    result = run(args.pipelines, args.steps, args.speed, args.poll_interval)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"pipelines-{args.pipelines}x{args.steps}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    b, o = result["baseline"], result["batchops"]
    print(f"{result['jobs']} jobs ({args.pipelines} chains x {args.steps} steps)")
    print(f"{'':28}{'baseline':>12}{'batchops':>12}{'ratio':>8}")
    print(
        f"{'apply -> all submitted (s)':28}{b['submit_seconds']:12.1f}{o['submit_seconds']:12.1f}"
        f"{result['submit_ratio']:8.2f}"
    )
    print(
        f"{'apply -> all done (s)':28}{b['done_seconds']:12.1f}{o['done_seconds']:12.1f}"
        f"{o['done_seconds'] / b['done_seconds']:8.2f}"
    )
    print("AWS calls by batchops:", json.dumps(result["aws_calls"]))
    print(
        f"Kubernetes writes per pipeline: {result['kubernetes_writes_per_pipeline']:.1f}",
        json.dumps(result["kubernetes_writes"]),
    )
    print(
        f"operator peak RSS {result['operator_peak_rss_mib']:.0f} MiB, "
        f"CPU {result['operator_cpu_seconds']:.1f} s"
    )
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
