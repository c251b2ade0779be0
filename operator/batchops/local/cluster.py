"""A real local Kubernetes control plane: etcd, kube-apiserver and kube-controller-manager.

The binaries are built from the Kubernetes Go modules by `hack/controlplane/build.sh` and cached
under ``~/.cache/batchops/k8s-<version>-<hash>/``. `LocalCluster` starts them on 127.0.0.1 with
free ports, RBAC on, fresh certificates and an admin token, writes a kubeconfig, waits until the
API server is ready, and always stops everything it started.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import yaml

from batchops.local.pki import ControlPlanePki, generate_pki
from batchops.local.processes import ManagedProcess, free_port

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")

# Controllers the project relies on: ownerReference cascades, namespace deletion, and the
# per-namespace `default` ServiceAccount. Nothing that needs nodes.
_CONTROLLERS = ",".join(
    ("garbagecollector", "namespace", "serviceaccount", "serviceaccount-token",
     "clusterrole-aggregation")
)  # fmt: skip


class ControlPlaneError(RuntimeError):
    """The control plane could not be found, started, or did not become ready."""


def find_binaries() -> Path:
    """The control-plane binaries' directory: $BATCHOPS_K8S_BIN, else the newest cache entry."""
    explicit = os.environ.get("BATCHOPS_K8S_BIN")
    candidates = [Path(explicit)] if explicit else []
    cache_root = Path(
        os.environ.get("BATCHOPS_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "batchops"
    )
    if not explicit and cache_root.is_dir():
        built = [d for d in cache_root.glob("k8s-*") if not d.name.endswith(".tmp")]
        candidates += sorted(built, key=lambda d: d.stat().st_mtime, reverse=True)
    for directory in candidates:
        if all((directory / b).is_file() for b in BINARIES):
            return directory
    raise ControlPlaneError(
        "no control-plane binaries found; run `make controlplane` (or hack/controlplane/build.sh) "
        "or set BATCHOPS_K8S_BIN to a directory holding " + ", ".join(BINARIES)
    )


@dataclass(frozen=True)
class ClusterEndpoints:
    """Where the running control plane can be reached."""

    server: str
    kubeconfig: Path
    token: str
    ca_cert: Path


class LocalCluster:
    """etcd + kube-apiserver + kube-controller-manager on loopback; a context manager."""

    def __init__(self, bin_dir: Path | None = None, work_dir: Path | None = None) -> None:
        self._bin_dir = bin_dir or find_binaries()
        self._owns_work_dir = work_dir is None
        self.work_dir = work_dir or Path(tempfile.mkdtemp(prefix="batchops-cluster-"))
        self._processes: list[ManagedProcess] = []
        self._endpoints: ClusterEndpoints | None = None
        self._pki: ControlPlanePki | None = None

    @property
    def endpoints(self) -> ClusterEndpoints:
        """The server URL, kubeconfig path and admin token (after `start`)."""
        if self._endpoints is None:
            raise ControlPlaneError("the control plane is not started")
        return self._endpoints

    @property
    def kubeconfig(self) -> Path:
        """Path of the admin kubeconfig (after `start`)."""
        return self.endpoints.kubeconfig

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = 180.0) -> ClusterEndpoints:
        """Start all three components and wait until the API server answers /readyz."""
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> ClusterEndpoints:
        pki = self._pki = generate_pki(self.work_dir / "pki")
        logs = self.work_dir / "logs"
        etcd_port, etcd_peer_port, api_port, kcm_port = (free_port() for _ in range(4))
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        server = f"https://127.0.0.1:{api_port}"
        kubeconfig = self.work_dir / "kubeconfig"
        _write_kubeconfig(kubeconfig, server, pki)
        self._endpoints = ClusterEndpoints(server, kubeconfig, pki.admin_token, pki.ca_cert)

        self._launch(
            "etcd",
            [
                "--name=batchops",
                f"--data-dir={self.work_dir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer_port}",
                f"--initial-cluster=batchops=http://127.0.0.1:{etcd_peer_port}",
                # Throwaway data: durability costs fsyncs we do not need in tests.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
            logs,
        )
        self._launch(
            "kube-apiserver",
            [
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={api_port}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--token-auth-file={pki.token_file}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={pki.service_account_pub}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                # No kubelets or Services to reconcile endpoints for.
                "--endpoint-reconciler-type=none",
                f"--cert-dir={self.work_dir / 'apiserver-certs'}",
                "--v=1",
            ],
            logs,
        )
        _wait_ready(f"{server}/readyz", pki, timeout, self._processes)

        self._launch(
            "kube-controller-manager",
            [
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                f"--controllers={_CONTROLLERS}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca_cert}",
                "--use-service-account-credentials=false",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={kcm_port}",
                f"--cert-dir={self.work_dir / 'kcm-certs'}",
                # The test suite creates and deletes many objects: collect garbage promptly.
                "--concurrent-gc-syncs=10",
                "--concurrent-namespace-syncs=5",
                "--v=1",
            ],
            logs,
        )
        _wait_ready(f"https://127.0.0.1:{kcm_port}/healthz", None, timeout, self._processes)
        return self._endpoints

    def _launch(self, name: str, args: list[str], logs: Path) -> None:
        process = ManagedProcess(name, [str(self._bin_dir / name), *args], logs / f"{name}.log")
        process.start()
        self._processes.append(process)

    def restart_apiserver(self, grace_seconds: float = 5.0, timeout: float = 60.0) -> None:
        """Stop kube-apiserver and start it again with the same flags, port and certificates,
        as an upgrade or a crash would; etcd keeps every object. Returns once /readyz answers.

        SIGTERM first; SIGKILL after `grace_seconds`: the API server stops listening at once,
        but its graceful shutdown then holds the process for about a minute over the
        connections its clients keep open.
        """
        apiserver = next((p for p in self._processes if p.name == "kube-apiserver"), None)
        if apiserver is None or self._pki is None:
            raise ControlPlaneError("the control plane is not started")
        apiserver.stop(timeout=grace_seconds)
        apiserver.start()
        _wait_ready(f"{self.endpoints.server}/readyz", self._pki, timeout, self._processes)

    def check_alive(self) -> None:
        """Raise if any component has exited (e.g. crashed mid-test)."""
        for process in self._processes:
            code = process.exit_code()
            if code is not None:
                raise ControlPlaneError(
                    f"{process.name} exited with code {code}:\n{process.log_tail()}"
                )

    def stop(self) -> None:
        """Stop every component (reverse order) and remove the work directory we created."""
        while self._processes:
            self._processes.pop().stop()
        if self._owns_work_dir and not os.environ.get("BATCHOPS_KEEP_CLUSTER_DIR"):
            shutil.rmtree(self.work_dir, ignore_errors=True)


def _write_kubeconfig(path: Path, server: str, pki: ControlPlanePki) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "batchops-local",
                "cluster": {"server": server, "certificate-authority": str(pki.ca_cert)},
            }
        ],
        "users": [{"name": "batchops-admin", "user": {"token": pki.admin_token}}],
        "contexts": [
            {
                "name": "batchops-local",
                "context": {"cluster": "batchops-local", "user": "batchops-admin"},
            }
        ],
        "current-context": "batchops-local",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)


def _wait_ready(
    url: str,
    pki: ControlPlanePki | None,
    timeout: float,
    processes: list[ManagedProcess],
) -> None:
    """Poll a health URL until it answers 200; fail fast if a component dies meanwhile."""
    if pki is None:
        # kube-controller-manager serves with its own self-signed certificate.
        context = ssl._create_unverified_context()
        headers: dict[str, str] = {}
    else:
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        headers = {"Authorization": f"Bearer {pki.admin_token}"}
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        for process in processes:
            if process.exit_code() is not None:
                raise ControlPlaneError(
                    f"{process.name} exited with code {process.exit_code()} while starting:\n"
                    f"{process.log_tail()}"
                )
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, context=context, timeout=5) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError) as exc:
            last_error = str(exc)
        time.sleep(0.2)  # polling interval of a readiness wait, not a test sleep
    raise ControlPlaneError(f"{url} not ready after {timeout:.0f}s: {last_error}")
