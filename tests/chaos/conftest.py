"""The chaos suite's own control plane and operator.

The suite restarts kube-apiserver, so it does not touch the session's `cluster`: it starts a
`LocalCluster` of its own, with the CRDs, the shipped RBAC rules and an operator run as the
shipped ServiceAccount, exactly as tests/conftest.py builds the session's. The emulator is the
session's one (moto keeps its backends in process globals), reset by the `emulator` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchops.local.cluster import LocalCluster
from batchops.local.emulator import Emulator
from batchops.local.processes import free_port
from batchops.local.stack import OperatorProcess, install_crds
from tests.conftest import (
    CRD_DIR,
    OPERATOR_TEST_ARGS,
    RBAC_MANIFESTS,
    Kubectl,
    service_account_kubeconfig,
    wait_until_live,
)


@pytest.fixture
def chaos_cluster() -> Iterator[LocalCluster]:
    """A control plane for this test alone: it is restarted under the operator's feet."""
    with LocalCluster() as local:
        yield local


@pytest.fixture
def chaos_kubectl(chaos_cluster: LocalCluster) -> Kubectl:
    """kubectl as the admin of the chaos control plane, with the CRDs installed."""
    install_crds(chaos_cluster.kubeconfig, CRD_DIR)
    return Kubectl(chaos_cluster.kubeconfig)


@pytest.fixture
def chaos_namespace(chaos_kubectl: Kubectl) -> str:
    """The namespace the chaos workload lives in (the control plane goes away with the test)."""
    chaos_kubectl.run("create", "namespace", "chaos")
    return "chaos"


@pytest.fixture
def chaos_operator(
    chaos_cluster: LocalCluster, chaos_kubectl: Kubectl, emulator: Emulator, tmp_path: Path
) -> Iterator[OperatorProcess]:
    """`batchops run` with the shipped ServiceAccount's rights on the chaos control plane;
    stopped (and reaped) at the end whatever state the test left it in."""
    for manifest in RBAC_MANIFESTS:
        chaos_kubectl.run("apply", "-f", str(manifest))
    kubeconfig = service_account_kubeconfig(
        chaos_cluster,
        chaos_kubectl,
        "batchops-system",
        "batchops",
        tmp_path / "operator-kubeconfig",
    )
    liveness_port = free_port()
    operator = OperatorProcess(
        kubeconfig,
        emulator.url,
        tmp_path / "operator.log",
        extra_args=[*OPERATOR_TEST_ARGS, f"--liveness-port={liveness_port}"],
    )
    operator.liveness_url = f"http://127.0.0.1:{liveness_port}/healthz"
    operator.start()
    try:
        wait_until_live(operator)
        yield operator
    finally:
        operator.stop()


@pytest.fixture
def chaos_emulator(emulator: Emulator) -> Iterator[Emulator]:
    """The session's emulator, reset; afterwards serving again with no faults, so later tests
    meet a calm emulator even if the chaos test failed half-way."""
    yield emulator
    emulator.bring_back()
    emulator.set_faults()
