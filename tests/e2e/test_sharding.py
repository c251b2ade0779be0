"""Two shards from manifests/overlays/sharded, as processes with the shipped ServiceAccount's
rights: each acts only on the namespaces it owns, and a shard's standby replica takes over when
its leader stops."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batchops.local.emulator import Emulator
from batchops.local.processes import free_port
from batchops.local.stack import OperatorProcess
from batchops.model.sharding import shard_of
from tests.conftest import (
    OPERATOR_TEST_ARGS,
    REPO_ROOT,
    Kubectl,
    wait_condition,
    wait_until_live,
)
from tests.e2e.test_install import (
    OBJECT_HANDLER_LOG,
    assert_left_alone,
    assert_no_rbac_refusal_or_crash,
    assert_standby_takes_over,
    render,
)
from tests.waits import wait_for

SHARDED = REPO_ROOT / "manifests" / "overlays" / "sharded"
PEERING_CRDS = REPO_ROOT / "manifests" / "base" / "peering-crds.yaml"
SHARDS = 2

StartReplica = Callable[[int, str], OperatorProcess]


def shard_args(kubectl: Kubectl) -> dict[int, list[str]]:
    """Each shard Deployment's arguments in the overlay, after `run` (OperatorProcess adds it),
    by the shard index its `--shard` names."""
    found: dict[int, list[str]] = {}
    for doc in render(kubectl, SHARDED, {}):
        if doc["kind"] != "Deployment":
            continue
        (container,) = doc["spec"]["template"]["spec"]["containers"]
        args: list[str] = container["args"][1:]
        (shard,) = [arg.partition("=")[2] for arg in args if arg.startswith("--shard=")]
        index, _, count = shard.partition("/")
        assert int(count) == SHARDS
        found[int(index)] = args
    assert sorted(found) == list(range(SHARDS))
    return found


def peers(kubectl: Kubectl, shard: int) -> set[str]:
    """The replicas with a live keep-alive in one shard's peering object."""
    peering = kubectl.get_json("clusterkopfpeering", f"batchops-shard-{shard}-of-{SHARDS}")
    return set(peering.get("status") or {})


@pytest.fixture
def start_replica(
    kubectl: Kubectl,
    operator_process: OperatorProcess,
    operator_kubeconfig: Path,
    emulator: Emulator,
    tmp_path: Path,
) -> Iterator[StartReplica]:
    """Start one replica of a shard (the overlay Deployment's arguments, named as a pod in the
    shard's peering) and wait until it is live; every replica is stopped afterwards. The
    session's cluster-wide operator is stopped first: it would act on every namespace."""
    operator_process.stop()
    kubectl.run("apply", "--server-side", "-f", str(PEERING_CRDS))
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
                "crd/clusterkopfpeerings.kopf.dev")  # fmt: skip
    kubectl.run("apply", "--server-side", "-k", str(SHARDED / "peering"))
    args = shard_args(kubectl)
    started: list[OperatorProcess] = []

    def start(shard: int, pod: str) -> OperatorProcess:
        ports = {"--liveness-port": free_port(), "--metrics-port": free_port()}
        replica = OperatorProcess(
            operator_kubeconfig,
            emulator.url,
            tmp_path / f"{pod}.log",
            extra_args=[
                *(
                    f"{flag}={ports[flag]}" if flag in ports else arg
                    for arg in args[shard]
                    for flag in [arg.partition("=")[0]]
                ),
                *OPERATOR_TEST_ARGS,
            ],
            extra_env={"POD_ID": pod},
        )
        replica.liveness_url = f"http://127.0.0.1:{ports['--liveness-port']}/healthz"
        started.append(replica)
        replica.start()
        wait_until_live(replica)
        return replica

    try:
        yield start
        for replica in started:
            assert_no_rbac_refusal_or_crash(replica)
    finally:
        for replica in started:
            replica.stop()


_names = itertools.count()


def fresh_name_in_shard(shard: int) -> str:
    """A namespace name not used before in this session that `shard` owns."""
    while True:
        name = f"t-shard-{next(_names)}"
        if shard_of(name, SHARDS) == shard:
            return name


@pytest.fixture
def shard_namespaces(kubectl: Kubectl, start_replica: StartReplica) -> Iterator[list[str]]:
    """A fresh namespace owned by each shard (index i: shard i's), deleted afterwards. Torn
    down before the replicas stop, so that they remove their finalizers."""
    names = [fresh_name_in_shard(shard) for shard in range(SHARDS)]
    for name in names:
        kubectl.run("create", "namespace", name)
    yield names
    for name in names:
        kubectl.run("delete", "bce", "--all", "-n", name, "--timeout=60s", check=False)
        kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def compute_environment_names(batch: Any) -> set[str]:
    """The names of the compute environments in the emulated account."""
    environments = batch.describe_compute_environments()["computeEnvironments"]
    return {ce["computeEnvironmentName"] for ce in environments}


def test_each_shard_acts_only_on_its_namespaces_and_its_standby_takes_over(
    start_replica: StartReplica,
    shard_namespaces: list[str],
    kubectl: Kubectl,
    emulator: Emulator,
    batch: Any,
) -> None:
    mine, theirs = shard_namespaces
    leader = start_replica(0, "shard-0-a")

    assert_left_alone(kubectl, acted_on=mine, left_alone=theirs)
    assert compute_environment_names(batch) == {f"{mine}-ce"}

    standby = start_replica(0, "shard-0-b")
    start_replica(1, "shard-1-a")
    wait_condition(kubectl, "bce/ce", theirs, "Ready")
    wait_for(
        lambda: peers(kubectl, 0) == {"shard-0-a", "shard-0-b"},
        timeout=30,
        message="both shard-0 replicas to keep alive in their peering object",
    )
    assert peers(kubectl, 1) == {"shard-1-a"}
    assert OBJECT_HANDLER_LOG not in standby.log_text()

    # Its own shard's peering: the other shard's leader stays where it is.
    assert_standby_takes_over(
        kubectl, leader, standby, mine, lambda: peers(kubectl, 0), "shard-0-b"
    )
    # Each object was created once, by its own shard.
    assert compute_environment_names(batch) == {f"{mine}-ce", f"{mine}-second", f"{theirs}-ce"}
    assert emulator.counters().get("CreateComputeEnvironment") == 3


def test_the_sharded_overlay_passes_a_server_side_dry_run(
    kubectl: Kubectl, operator_kubeconfig: Path
) -> None:
    # operator_kubeconfig has created the batchops-system namespace the Deployments live in.
    result = kubectl.run("apply", "-k", str(SHARDED), "--server-side", "--dry-run=server")
    for shard in range(SHARDS):
        deployment = f"deployment.apps/batchops-shard-{shard}-of-{SHARDS}"
        assert f"{deployment} serverside-applied (server dry run)" in result.stdout
