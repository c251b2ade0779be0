"""`batchops dev`: the whole local stack from one command, gone again after SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import boto3

from tests.waits import wait_for


def _processes_mentioning(text: str) -> list[str]:
    ps = ["ps", "-ww", "-eo", "pid,args"]
    result = subprocess.run(ps, capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if text in line and "pid,args" not in line]


def test_dev_prints_exports_then_ready_and_cleans_up_on_sigterm() -> None:
    dev = subprocess.Popen(
        [sys.executable, "-m", "batchops", "dev", "--speed=20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert dev.stdout is not None
        lines: list[str] = []
        for line in dev.stdout:
            lines.append(line.rstrip("\n"))
            if line.strip() == "ready":
                break
        assert lines[-1] == "ready", lines
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        kubeconfig = exports["KUBECONFIG"]
        endpoint = exports["AWS_ENDPOINT_URL"]

        crds = subprocess.run(
            ["kubectl", f"--kubeconfig={kubeconfig}", "get", "crd", "-o", "name"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "batchpipelines.batchops.io" in crds
        batch = boto3.client(
            "batch",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert batch.describe_compute_environments()["computeEnvironments"] == []
        work_dir = os.path.dirname(kubeconfig)
        assert _processes_mentioning(work_dir), "the control plane should be running"
    finally:
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(timeout=60) == 0
    assert not _processes_mentioning(work_dir), "batchops dev left processes behind"
    wait_for(lambda: not os.path.exists(work_dir), timeout=10, message="the work dir removed")
