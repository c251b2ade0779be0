"""All shared pytest fixtures: the AWS Batch emulator, the real control plane, the operator."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.config import Config

import tests.unit.strategies  # noqa: F401  (registers the hypothesis profiles)
from batchops.local.cluster import LocalCluster
from batchops.local.emulator import (
    DEFAULT_SECURITY_GROUP_ID,
    DEFAULT_SUBNET_ID,
    Emulator,
    start_emulator,
)
from batchops.local.processes import free_port
from batchops.local.stack import EMULATOR_CREDENTIALS, OperatorProcess, install_crds
from tests.waits import wait_for

REGION = "us-east-1"

# Tests run the emulator faster than real time; a test that needs real durations sets its own.
EMULATOR_SPEED = 20.0


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    """One emulator process-wide; each test gets it reset."""
    emu = start_emulator(port=0, speed=EMULATOR_SPEED)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """The shared emulator, reset to a clean account (default VPC, roles) and default speed."""
    emulator_server.reset()
    emulator_server.set_speed(EMULATOR_SPEED)
    return emulator_server


def aws_client(service: str, emulator: Emulator, config: Config | None = None) -> Any:
    """A boto3 client for one service, pointed at the emulator like a user would."""
    name: Any = service  # the stubs type a client by its literal service name; any name here
    return boto3.client(
        name,
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


@pytest.fixture
def batch(emulator: Emulator) -> Any:
    """boto3 Batch client against the emulator."""
    return aws_client("batch", emulator)


@pytest.fixture
def logs(emulator: Emulator) -> Any:
    """boto3 CloudWatch Logs client against the emulator."""
    return aws_client("logs", emulator)


@pytest.fixture
def sqs(emulator: Emulator) -> Any:
    """boto3 SQS client against the emulator."""
    return aws_client("sqs", emulator)


@pytest.fixture
def event_queue_url(emulator: Emulator, sqs: Any) -> str:
    """An SQS queue receiving "Batch Job State Change" events through an EventBridge rule."""
    url: str = sqs.create_queue(QueueName="batch-job-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = aws_client("events", emulator)
    events.put_rule(
        Name="batch-job-events",
        EventPattern=json.dumps(
            {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"]}
        ),
    )
    events.put_targets(Rule="batch-job-events", Targets=[{"Id": "sqs", "Arn": arn}])
    return url


# --- The real control plane -------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parent.parent
CRD_DIR = REPO_ROOT / "crds"


@dataclass(frozen=True)
class Kubectl:
    """kubectl bound to one kubeconfig, run as a user would run it."""

    kubeconfig: Path

    def run(
        self, *args: str, input: str | None = None, check: bool = True, token: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl; with `check`, a non-zero exit fails the test with kubectl's stderr."""
        argv = ["kubectl", f"--kubeconfig={self.kubeconfig}"]
        if token is not None:
            argv.append(f"--token={token}")
        result = subprocess.run(
            [*argv, *args], input=input, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
            )
        return result

    def apply(self, manifest: str, namespace: str | None = None) -> str:
        """`kubectl apply -f -` with the given YAML; returns kubectl's output."""
        ns = [f"--namespace={namespace}"] if namespace else []
        return self.run("apply", *ns, "-f", "-", input=manifest).stdout

    def get_json(self, *args: str) -> Any:
        """`kubectl get ... -o json`, parsed."""
        return json.loads(self.run("get", *args, "-o", "json").stdout)


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """One real etcd + kube-apiserver + kube-controller-manager for the whole session."""
    with LocalCluster() as local:
        yield local


@pytest.fixture(scope="session")
def kubectl(cluster: LocalCluster) -> Kubectl:
    """kubectl as the cluster admin."""
    return Kubectl(cluster.kubeconfig)


@pytest.fixture(scope="session")
def crds(kubectl: Kubectl) -> list[str]:
    """The project's CRDs, applied with `kubectl apply --server-side -f crds/` and Established."""
    return install_crds(kubectl.kubeconfig, CRD_DIR)


_namespace_counter = itertools.count()


@contextmanager
def _fresh_namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> Iterator[str]:
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"t{next(_namespace_counter)}-{slug}"
    kubectl.run("create", "namespace", name)
    yield name
    # Our objects first, waiting for their finalizers: a later test must not meet this test's
    # loops still acting on the (shared, reset) emulator.
    kubectl.run(
        "delete", "bpl,cpl,bjq,bsp,bcr,bce", "--all", "-n", name, "--timeout=60s", check=False
    )
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting for it to go)."""
    with _fresh_namespace(kubectl, request) as name:
        yield name


@pytest.fixture
def other_namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second fresh namespace, for a second team (tenancy tests)."""
    with _fresh_namespace(kubectl, request) as name:
        yield name


# --- The operator, with the shipped ServiceAccount's rights ------------------------------------

RBAC_MANIFESTS = [
    REPO_ROOT / "manifests" / "base" / name
    for name in (
        "namespace.yaml",
        "serviceaccount.yaml",
        "clusterrole.yaml",
        "clusterrolebinding.yaml",
        "tenancy.yaml",
    )
]

# How the API server words an RBAC refusal of the operator's ServiceAccount.
RBAC_DENIAL = 'forbidden: User "system:serviceaccount:batchops-system:batchops" cannot'

# Fast loops for tests; production defaults are 10 s polling and 5 min drift checks.
OPERATOR_TEST_ARGS = ("--poll-interval=0.5", "--resync-interval=5")


@pytest.fixture(scope="session")
def operator_kubeconfig(
    cluster: LocalCluster,
    kubectl: Kubectl,
    crds: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A kubeconfig holding a token of the shipped `batchops` ServiceAccount (not cluster admin),
    so a missing RBAC rule fails a test."""
    for manifest in RBAC_MANIFESTS:
        kubectl.run("apply", "-f", str(manifest))
    return service_account_kubeconfig(
        cluster,
        kubectl,
        "batchops-system",
        "batchops",
        tmp_path_factory.mktemp("operator") / "kubeconfig",
    )


def service_account_kubeconfig(
    cluster: LocalCluster, kubectl: Kubectl, namespace: str, name: str, path: Path
) -> Path:
    """Write a kubeconfig for `cluster` holding a fresh token of one ServiceAccount."""
    token = kubectl.run("create", "token", name, "-n", namespace, "--duration=24h").stdout.strip()
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    config["users"] = [{"name": "batchops-admin", "user": {"token": token}}]
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def operator_process(
    operator_kubeconfig: Path, emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """`batchops run` as a child process for the whole session (tests may kill and restart it)."""
    liveness_port, metrics_port = free_port(), free_port()
    operator = OperatorProcess(
        operator_kubeconfig,
        emulator_server.url,
        tmp_path_factory.mktemp("operator-logs") / "operator.log",
        extra_args=[
            *OPERATOR_TEST_ARGS,
            f"--liveness-port={liveness_port}",
            f"--metrics-port={metrics_port}",
        ],
    )
    operator.liveness_url = f"http://127.0.0.1:{liveness_port}/healthz"
    operator.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    operator.start()
    try:
        wait_until_live(operator)
        yield operator
    finally:
        operator.stop()


def wait_until_live(operator: OperatorProcess, timeout: float = 60) -> None:
    """Wait until kopf's liveness endpoint answers (the operator is watching)."""
    url = operator.liveness_url
    assert url is not None, "the operator was started without a liveness port"

    def live() -> bool:
        if operator.exit_code() is not None:
            raise AssertionError(f"the operator exited:\n{operator.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for(live, timeout=timeout, message="the operator's liveness endpoint")


@pytest.fixture
def operator(operator_process: OperatorProcess) -> Iterator[OperatorProcess]:
    """The running operator; the test fails if the operator crashes or logs a traceback."""
    if operator_process.exit_code() is not None:
        operator_process.start()
    wait_until_live(operator_process)
    log_offset = len(operator_process.log_text())
    yield operator_process
    new_log = operator_process.log_text()[log_offset:]
    if operator_process.exit_code() is not None:
        pytest.fail(f"the operator exited during the test:\n{new_log[-5000:]}")
    if "Traceback" in new_log:
        pytest.fail(f"the operator logged an unexpected exception:\n{new_log[-5000:]}")
    denied = [line for line in new_log.splitlines() if RBAC_DENIAL in line]
    if denied:
        pytest.fail("the shipped RBAC rules denied the operator:\n" + "\n".join(denied[:5]))


# --- Helpers for tests that act through kubectl ------------------------------------------------

EXAMPLES = REPO_ROOT / "manifests" / "examples"


def example(name: str) -> str:
    """The text of a numbered example manifest (every example is applied by some test)."""
    return (EXAMPLES / name).read_text()


def wait_condition(
    kubectl: Kubectl,
    resource: str,
    namespace: str,
    condition: str,
    value: str = "True",
    timeout: int = 60,
) -> None:
    """`kubectl wait --for=condition=<c>=<v>` as a user would; fails with the object's YAML."""
    result = kubectl.run(
        "wait",
        f"--for=condition={condition}={value}",
        f"--timeout={timeout}s",
        resource,
        "-n",
        namespace,
        check=False,
    )
    if result.returncode != 0:
        dump = kubectl.run("get", resource, "-n", namespace, "-o", "yaml", check=False).stdout
        raise AssertionError(f"{resource} never had {condition}={value}:\n{result.stderr}\n{dump}")


def events_of(kubectl: Kubectl, namespace: str, name: str) -> list[dict[str, Any]]:
    """Events about one object, oldest first."""
    items = kubectl.get_json(
        "events", "-n", namespace, f"--field-selector=involvedObject.name={name}"
    )["items"]
    return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


@pytest.fixture
def cli_env(cluster: LocalCluster, emulator: Emulator) -> dict[str, str]:
    """The environment of a user who exported the local stack's variables (`batchops dev`)."""
    return {
        **os.environ,
        **EMULATOR_CREDENTIALS,
        "KUBECONFIG": str(cluster.kubeconfig),
        "AWS_ENDPOINT_URL": emulator.url,
    }


def batchops(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `python -m batchops ARGS` as a user runs the installed command."""
    return subprocess.run(
        [sys.executable, "-m", "batchops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


@pytest.fixture
def queue(kubectl: Kubectl, namespace: str, operator: OperatorProcess, emulator: Emulator) -> str:
    """A Ready BatchJobQueue `q` over a 256-vCPU compute environment, in the test namespace."""
    return apply_ready_queue(kubectl, namespace)


def apply_ready_queue(kubectl: Kubectl, namespace: str) -> str:
    """Apply the compute environment `ce` and the queue `q` over it, and wait until `q` is
    Ready (whichever operator runs); the queue's name."""
    kubectl.apply(
        json.dumps(
            {
                "apiVersion": "batchops.io/v1alpha1",
                "kind": "BatchComputeEnvironment",
                "metadata": {"name": "ce"},
                "spec": {
                    "computeResources": {
                        "type": "EC2",
                        "instanceTypes": ["optimal"],
                        "minvCpus": 0,
                        "maxvCpus": 256,
                        "instanceRole": "ecsInstanceRole",
                        "subnets": [DEFAULT_SUBNET_ID],
                        "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
                    }
                },
            }
        ),
        namespace,
    )
    kubectl.apply(
        json.dumps(
            {
                "apiVersion": "batchops.io/v1alpha1",
                "kind": "BatchJobQueue",
                "metadata": {"name": "q"},
                "spec": {"priority": 1, "computeEnvironments": [{"ref": "ce", "order": 1}]},
            }
        ),
        namespace,
    )
    wait_condition(kubectl, "bjq/q", namespace, "Ready")
    return "q"
