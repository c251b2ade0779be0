"""The local stack every benchmark runs on: control plane, emulator, operator, one namespace.

The benchmark driver, the emulator and the operator share this machine's cores with the API
server and etcd, so absolute numbers are pessimistic; the comparisons run side by side in one
stack and are fair to both sides.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.config import Config

from batchops.local.cluster import LocalCluster
from batchops.local.emulator import (
    DEFAULT_SECURITY_GROUP_ID,
    DEFAULT_SUBNET_ID,
    Emulator,
    start_emulator,
)
from batchops.local.stack import OperatorProcess, install_crds

RESULTS = Path(__file__).resolve().parent / "results"
NAMESPACE = "bench"
SUBMIT_JOB_QUOTA = 50.0
"""AWS Batch's SubmitJob quota (calls per second per account): the emulator enforces it for the
baseline and batchops alike, as AWS would."""


def aws_client(service: str, url: str) -> Any:
    """A boto3 client for the emulator, configured as a careful boto3 user would (adaptive
    retries, so the baseline survives the SubmitJob quota too)."""
    name: Any = service  # the stubs type a client by its literal service name; any name here
    return boto3.client(
        name,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "adaptive", "max_attempts": 10}, max_pool_connections=32),
    )


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.5
) -> float:
    """Seconds until `predicate` held, checked every `interval` by the benchmark driver (each
    check lists objects, which loads the API server too: big workloads check less often)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)  # the driver's own polling, not a wait for the system under test
    raise TimeoutError(what)


@dataclass
class BenchStack:
    """A running stack; `kubectl(...)` acts in the bench namespace as cluster admin."""

    cluster: LocalCluster
    emulator: Emulator
    operator: OperatorProcess
    log: Path

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        """Run kubectl in the bench namespace; raise with its stderr on failure."""
        result = subprocess.run(
            ["kubectl", f"--kubeconfig={self.cluster.kubeconfig}", "-n", NAMESPACE, *args],
            input=stdin,
            text=True,
            capture_output=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def apply(self, docs: Sequence[dict[str, Any]]) -> None:
        """`kubectl apply` many objects in one call (chunked to keep requests reasonable)."""
        for i in range(0, len(docs), 200):
            self.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs[i : i + 200]))

    def delete_pipelines(self) -> None:
        """Delete every BatchPipeline and wait until they are gone (finalizers ran)."""
        self.kubectl("delete", "bpl", "--all", "--wait=true", "--timeout=600s")

    def batch(self) -> Any:
        """A Batch client for the emulator."""
        return aws_client("batch", self.emulator.url)

    def kubernetes_writes(self) -> dict[str, float]:
        """Writes to batchops.io objects so far, by verb and resource, from the API server's
        own request counters."""
        endpoints = self.cluster.endpoints
        request = urllib.request.Request(
            f"{endpoints.server}/metrics", headers={"Authorization": f"Bearer {endpoints.token}"}
        )
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

    def operator_usage(self) -> dict[str, float]:
        """The operator's current and peak RSS (MiB) and CPU seconds (user + system)."""
        pid = self.operator.pid
        assert pid is not None
        status = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return {"rss_mib": rss / 1024, "peak_rss_mib": peak / 1024, "cpu_seconds": ticks / 100}


def infrastructure(max_vcpus: int = 100000) -> list[dict[str, Any]]:
    """One compute environment and one queue `q` over it."""
    return [
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchComputeEnvironment",
            "metadata": {"name": "ce"},
            "spec": {
                "computeResources": {
                    "type": "EC2",
                    "instanceTypes": ["optimal"],
                    "minvCpus": 0,
                    "maxvCpus": max_vcpus,
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


@contextmanager
def bench_stack(
    speed: float,
    job_seconds: float,
    operator_args: Sequence[str] = (),
    max_vcpus: int = 100000,
    before_operator: Callable[[Emulator], Sequence[str]] | None = None,
) -> Iterator[BenchStack]:
    """Start everything, create the namespace, the CE and queue (Ready), the quota on."""
    with LocalCluster() as cluster:
        emulator = start_emulator(port=0, speed=speed)
        emulator.set_scenario(
            rules=[{"jobName": "*", "durationSeconds": job_seconds, "exitCode": 0}]
        )
        emulator.set_faults(submit_job_rate_limit=SUBMIT_JOB_QUOTA)
        extra = list(before_operator(emulator)) if before_operator else []
        log = Path(tempfile.mkdtemp(prefix="batchops-bench-")) / "operator.log"
        operator = OperatorProcess(
            cluster.kubeconfig, emulator.url, log, extra_args=[*operator_args, *extra]
        )
        stack = BenchStack(cluster, emulator, operator, log)
        try:
            install_crds(cluster.kubeconfig)
            operator.start()
            subprocess.run(
                ["kubectl", f"--kubeconfig={cluster.kubeconfig}", "create", "namespace", NAMESPACE],
                check=True,
                capture_output=True,
            )
            stack.apply(infrastructure(max_vcpus))
            stack.kubectl("wait", "--for=condition=Ready", "bjq/q", "--timeout=120s")
            yield stack
        finally:
            operator.stop()
            emulator.stop()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (non-empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def save(name: str, result: dict[str, Any]) -> Path:
    """Write one result file under bench/results/."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
