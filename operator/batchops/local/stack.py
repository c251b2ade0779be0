"""The whole local stack for `batchops dev`, `make demo` and the tests.

Control plane (or a user's own cluster), the AWS Batch emulator, the CRDs, and the operator as a
child process that can be killed and restarted like a real deployment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from batchops.local.cluster import LocalCluster
from batchops.local.processes import ManagedProcess

# The emulator accepts any credentials; boto3 only needs some to sign requests.
EMULATOR_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def repo_root() -> Path:
    """The source checkout this package runs from (the local stack is a development tool)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "crds").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    raise FileNotFoundError("batchops dev runs from a source checkout (no crds/ found)")


def install_crds(kubeconfig: Path, crd_dir: Path | None = None) -> list[str]:
    """Apply every CRD with server-side apply, wait until they are served (discovery and the
    OpenAPI document list them, so `kubectl get` and `kubectl explain` work); return their
    names."""
    paths = sorted((crd_dir or repo_root() / "crds").glob("*.yaml"))
    crds = [yaml.safe_load(path.read_text()) for path in paths]
    names = [crd["metadata"]["name"] for crd in crds]
    base = ["kubectl", f"--kubeconfig={kubeconfig}"]
    for args in (
        ["apply", "--server-side", *(f"--filename={p}" for p in paths)],
        ["wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in names)],
    ):
        result = subprocess.run([*base, *args], text=True, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {args[0]} of the CRDs failed: {result.stderr.strip()}")
    _wait_served(base, crds)
    return names


def _wait_served(kubectl: list[str], crds: list[dict[str, Any]], timeout: float = 60.0) -> None:
    """Wait until `kubectl explain` knows every CRD, by its short names too.

    Discovery and the OpenAPI document both lag the Established condition: the API server
    publishes them from controllers of their own. And kubectl caches both on disk per server
    address. A discovery cache written before the CRDs existed (by `kubectl apply` of the CRDs
    themselves, or by an earlier server on the same port) makes `kubectl explain bpl` fail with
    "the server doesn't have a resource type": kubectl refreshes its cache on the miss but does
    not expand the short name again (kubectl 1.32). `kubectl api-resources` always reads
    discovery afresh and writes the cache. The OpenAPI index kubectl cached while applying the
    CRDs is revalidated with If-Modified-Since, to the second: within the second the CRDs were
    published the API server answers 304 and kubectl keeps an index without them. So the wait
    ends when `kubectl explain` of each CRD works, which also leaves that cache current.
    """
    names = {crd["metadata"]["name"] for crd in crds}
    deadline = time.monotonic() + timeout
    while True:
        result = subprocess.run(
            [*kubectl, "api-resources", "-o", "name"], text=True, capture_output=True
        )
        missing = sorted(names - set(result.stdout.split()))
        if not missing:
            explains = {
                name: subprocess.Popen(
                    [*kubectl, "explain", name],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for name in sorted(names)
            }
            missing = [name for name, process in explains.items() if process.wait() != 0]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"kubectl explain does not know {missing} yet")
        time.sleep(0.5)


class OperatorProcess:
    """`batchops run` as a child process: started, SIGKILLed and restarted like a real pod."""

    def __init__(
        self,
        kubeconfig: Path,
        aws_endpoint_url: str | None,
        log_path: Path,
        extra_args: Sequence[str] = (),
        extra_env: dict[str, str] | None = None,
    ) -> None:
        env = dict(os.environ)
        env.update(EMULATOR_CREDENTIALS if aws_endpoint_url else {})
        env.update(extra_env or {})
        env["KUBECONFIG"] = str(kubeconfig)
        env["PYTHONUNBUFFERED"] = "1"
        args = [sys.executable, "-m", "batchops", "run", *extra_args]
        if aws_endpoint_url:
            args.append(f"--aws-endpoint-url={aws_endpoint_url}")
        self.log_path = log_path
        self._process = ManagedProcess("batchops-operator", args, log_path, env)
        self.starts = 0
        self.liveness_url: str | None = None
        self.metrics_url: str | None = None

    def start(self) -> None:
        """Start (or start again after `kill`/`stop`)."""
        self._process.start()
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL, as a node failure or OOM kill would."""
        self._process.kill()

    def stop(self) -> None:
        """Graceful SIGTERM shutdown."""
        self._process.stop(timeout=15)

    def exit_code(self) -> int | None:
        """None while running."""
        return self._process.exit_code()

    @property
    def pid(self) -> int | None:
        """The operator's process id (None before start)."""
        return self._process.pid

    def log_text(self) -> str:
        """Everything the operator logged so far (across restarts)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


# `batchops dev --second-account`: an account of its own for a team, as docs/accounts.md sets up
# in AWS (the emulator treats the operator's `testing` key as any principal of its account).
SECOND_ACCOUNT_ID = "210987654321"
SECOND_ACCOUNT = "second-account"
SECOND_ACCOUNT_NAMESPACE = "team-b"
SECOND_ACCOUNT_EXTERNAL_ID = "batchops-dev"
OPERATOR_ROLE = "arn:aws:iam::123456789012:role/batchops-operator"


def second_account_manifests(role_arn: str) -> str:
    """The BatchAccount of the second account and a namespace that uses it by default."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": SECOND_ACCOUNT_NAMESPACE,
            "annotations": {"batchops.io/account": SECOND_ACCOUNT},
        },
    }
    account = {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchAccount",
        "metadata": {"name": SECOND_ACCOUNT},
        "spec": {
            "roleArn": role_arn,
            "externalId": SECOND_ACCOUNT_EXTERNAL_ID,
            "allowedNamespaces": {"names": [SECOND_ACCOUNT_NAMESPACE]},
        },
    }
    return yaml.safe_dump_all([namespace, account])


def run_dev(
    kubeconfig: Path | None,
    emulator_port: int,
    speed: float,
    with_operator: bool,
    second_account: bool = False,
) -> int:
    """Start the local stack, print `export ...` lines and `ready`, block until Ctrl-C/SIGTERM."""
    from batchops.local.emulator import start_emulator

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    cluster: LocalCluster | None = None
    emulator = None
    operator: OperatorProcess | None = None
    try:
        if kubeconfig is None:
            cluster = LocalCluster()
            cluster.start()
            kubeconfig = cluster.kubeconfig
        emulator = start_emulator(port=emulator_port, speed=speed)
        install_crds(kubeconfig)
        second_role = None
        if second_account:
            second_role = emulator.add_account(
                SECOND_ACCOUNT_ID,
                "team-b",
                OPERATOR_ROLE,
                SECOND_ACCOUNT_EXTERNAL_ID,
                "/batchops/",
            )
            manifests = second_account_manifests(second_role)
            subprocess.run(
                ["kubectl", f"--kubeconfig={kubeconfig}", "apply", "-f", "-"],
                input=manifests,
                text=True,
                capture_output=True,
                check=True,
            )
        if with_operator:
            log_dir = cluster.work_dir if cluster else Path.cwd()
            operator = OperatorProcess(kubeconfig, emulator.url, log_dir / "operator.log")
            operator.start()
        print(f"export KUBECONFIG={kubeconfig}")
        print(f"export AWS_ENDPOINT_URL={emulator.url}")
        for name, value in EMULATOR_CREDENTIALS.items():
            print(f"export {name}={value}")
        print("ready", flush=True)
        summary = [
            "# batchops local stack is up (Ctrl-C stops everything):",
            f"#   Kubernetes API   kubeconfig {kubeconfig}",
            f"#   AWS Batch        {emulator.url} (emulator, speed {speed:g})",
            f"#   operator         {operator.log_path if operator else 'not started'}",
            "# try:",
            "#   kubectl apply -f manifests/examples/01-walkthrough-infra.yaml",
            "#   kubectl apply -f manifests/examples/03-walkthrough-pipeline.yaml",
            "#   batchops watch bpl/nightly-etl",
        ]
        if second_role is not None:
            summary += [
                f"# second account {SECOND_ACCOUNT_ID}: role {second_role}, BatchAccount "
                f"{SECOND_ACCOUNT}, used by namespace {SECOND_ACCOUNT_NAMESPACE}; try:",
                # The example's role ARNs name the default account: the same roles exist in
                # the second one under its own id.
                f"#   sed s/123456789012/{SECOND_ACCOUNT_ID}/ manifests/examples/"
                f"01-walkthrough-infra.yaml | kubectl -n {SECOND_ACCOUNT_NAMESPACE} apply -f -",
                "#   kubectl get bacct",
            ]
        print("\n".join(summary), file=sys.stderr, flush=True)
        while not stop.wait(1.0):
            if operator is not None and operator.exit_code() is not None:
                print(
                    f"# the operator exited ({operator.exit_code()}); see {operator.log_path}",
                    file=sys.stderr,
                )
                return 1
        return 0
    finally:
        if operator is not None:
            operator.stop()
        if emulator is not None:
            emulator.stop()
        if cluster is not None:
            cluster.stop()


DEMO_NAMESPACE = "batchops-demo"
DEMO_EXAMPLES = (
    "01-walkthrough-infra.yaml",
    "03-walkthrough-pipeline.yaml",
    "04-walkthrough-cron.yaml",
)
DEMO_PIPELINE = "bpl/nightly-etl"


def run_demo(speed: float = 1.0, timeout: float = 300.0) -> int:
    """The walkthrough end to end on the local stack: apply the examples, watch the chain run
    with `batchops watch`, list everything, clean up. 0 when the chain succeeded."""
    from batchops.local.emulator import start_emulator

    root = repo_root()
    with LocalCluster() as cluster:
        emulator = start_emulator(port=0, speed=speed)
        # Each walkthrough job "runs" for a few seconds so the progress is there to watch.
        emulator.set_scenario(rules=[{"jobName": "*", "durationSeconds": 3.0, "exitCode": 0}])
        operator = OperatorProcess(
            cluster.kubeconfig, emulator.url, cluster.work_dir / "operator.log",
            extra_args=["--poll-interval=1", "--resync-interval=30"],
        )  # fmt: skip
        try:
            install_crds(cluster.kubeconfig)
            operator.start()
            kubectl = ["kubectl", f"--kubeconfig={cluster.kubeconfig}", "-n", DEMO_NAMESPACE]
            subprocess.run([*kubectl[:2], "create", "namespace", DEMO_NAMESPACE], check=True,
                           capture_output=True)  # fmt: skip
            for name in DEMO_EXAMPLES:
                _show(["kubectl", "apply", "-f", f"manifests/examples/{name}"])
                manifest = root / "manifests" / "examples" / name
                subprocess.run([*kubectl, "apply", "-f", str(manifest)], check=True)
            batchops = [sys.executable, "-m", "batchops"]
            cluster_flags = [f"--kubeconfig={cluster.kubeconfig}", "-n", DEMO_NAMESPACE]
            _show(["batchops", "watch", DEMO_PIPELINE])
            # The user's own view of a run, on this terminal: redrawn in place on a TTY.
            watched = subprocess.run(
                [*batchops, "watch", DEMO_PIPELINE, f"--timeout={timeout:g}", *cluster_flags]
            )
            if watched.returncode != 0:
                print(f"the operator's log:\n{operator.log_text()[-3000:]}", file=sys.stderr)
                return 1
            _show(["batchops", "graph", DEMO_PIPELINE])
            subprocess.run([*batchops, "graph", DEMO_PIPELINE, *cluster_flags], check=True)
            _show(["kubectl", "get", "batchops"])
            subprocess.run([*kubectl, "get", "batchops"], check=True)
            return 0
        finally:
            operator.stop()
            emulator.stop()


def _show(command: list[str]) -> None:
    """Echo a command the demo runs, as a shell transcript would."""
    print(f"\n$ {' '.join(command)}", flush=True)
