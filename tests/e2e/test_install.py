"""Installing from manifests/: two replicas under kopf peering, the namespaced overlay with
Role-level rights only, and applies that change nothing the second time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchops.config import OperatorConfig
from batchops.local.cluster import LocalCluster
from batchops.local.emulator import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID, Emulator
from batchops.local.processes import free_port
from batchops.local.stack import OperatorProcess
from tests.conftest import (
    EXAMPLES,
    OPERATOR_TEST_ARGS,
    REPO_ROOT,
    Kubectl,
    apply_ready_queue,
    service_account_kubeconfig,
    wait_condition,
    wait_until_live,
)
from tests.e2e.builders import pipeline, scrape, step, wait_phase
from tests.waits import wait_for

BASE = REPO_ROOT / "manifests" / "base"
NAMESPACED = REPO_ROOT / "manifests" / "overlays" / "namespaced"
PEERING_NAME = OperatorConfig().peering_name
OBJECT_HANDLER_LOG = "kopf.objects"

# Any RBAC refusal of any ServiceAccount, and kopf's own words when it lacks a permission.
RBAC_REFUSALS = ('forbidden: User "system:serviceaccount:', "Not enough permissions")


# `batchops run --peering` leaves every replica at kopf's default priority 0, and kopf pauses ALL
# peers of equal priority, so two such replicas would both stand still. Until `batchops run`
# gives each replica its own priority, the replicas here get one from this startup hook, which
# Python imports at interpreter start when its directory is on PYTHONPATH.
def compute_environment(name: str) -> str:
    """A small managed EC2 compute environment in the emulator's default VPC."""
    return json.dumps(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchComputeEnvironment",
            "metadata": {"name": name},
            "spec": {
                "computeResources": {
                    "type": "EC2",
                    "instanceTypes": ["optimal"],
                    "minvCpus": 0,
                    "maxvCpus": 16,
                    "instanceRole": "ecsInstanceRole",
                    "subnets": [DEFAULT_SUBNET_ID],
                    "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
                }
            },
        }
    )


def assert_left_alone(kubectl: Kubectl, acted_on: str, left_alone: str) -> None:
    """Apply compute environment `ce` in both namespaces, `left_alone`'s first: by the time the
    one in `acted_on` is Ready, the operator had its chance at the other, which must have no
    status of the operator's and no finalizer."""
    kubectl.apply(compute_environment("ce"), left_alone)
    kubectl.apply(compute_environment("ce"), acted_on)
    wait_condition(kubectl, "bce/ce", acted_on, "Ready")
    ignored = kubectl.get_json("bce/ce", "-n", left_alone)
    # Only the CRD's default (observedGeneration 0): the operator never wrote status.
    assert ignored.get("status") == {"observedGeneration": 0}
    assert not ignored["metadata"].get("finalizers")


def assert_no_rbac_refusal_or_crash(process: OperatorProcess) -> None:
    """Fail with the offending lines if the operator was refused anything or crashed."""
    log = process.log_text()
    refused = [line for line in log.splitlines() if any(r in line for r in RBAC_REFUSALS)]
    assert not refused, "the operator lacked permissions:\n" + "\n".join(refused[:5])
    assert "Traceback" not in log, f"the operator logged an exception:\n{log[-5000:]}"


def render(kubectl: Kubectl, directory: Path, renames: Mapping[str, str]) -> list[dict[str, Any]]:
    """`kubectl kustomize <directory>`, with every namespace (and cluster-scoped name) in
    `renames` swapped for the test's own, so each test installs a copy of its own."""

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        if isinstance(value, str):
            flag, _, argument = value.partition("=")
            if flag == "--namespace" and argument in renames:
                return f"--namespace={renames[argument]}"
            return renames.get(value, value)
        return value

    rendered = kubectl.run("kustomize", str(directory)).stdout
    return [swap(doc) for doc in yaml.safe_load_all(rendered) if doc]


# resourceVersion by (kind, namespace, name)
ObjectVersions = dict[tuple[str, str, str], str]


def apply_server_side(
    kubectl: Kubectl, *args: str, docs: list[dict[str, Any]] | None = None
) -> ObjectVersions:
    """`kubectl apply --server-side` (of `docs` on stdin, or of what `args` name); returns each
    applied object's resourceVersion by (kind, namespace, name)."""
    source = ["-f", "-"] if docs is not None else []
    stdin = yaml.safe_dump_all(docs) if docs is not None else None
    output = kubectl.run("apply", "--server-side", *args, *source, "-o", "json", input=stdin)
    listing = json.loads(output.stdout)
    versions: ObjectVersions = {}
    for item in listing.get("items", [listing]):
        meta = item["metadata"]
        versions[item["kind"], meta.get("namespace", ""), meta["name"]] = meta["resourceVersion"]
    return versions


def assert_standby_takes_over(
    kubectl: Kubectl,
    leader: OperatorProcess,
    standby: OperatorProcess,
    namespace: str,
    peering: Callable[[], set[str]],
    survivor: str,
) -> None:
    """Stop the leader as a pod's deletion does (SIGTERM): it withdraws from its peering object
    (`peering` reads who is left) on its way out, and the standby resumes and reconciles a new
    compute environment `second` in `namespace`."""
    leader.stop()
    wait_for(
        lambda: peering() == {survivor},
        timeout=30,
        message=f"the stopped leader to leave the peering object to {survivor}",
    )
    kubectl.apply(compute_environment("second"), namespace)
    wait_condition(kubectl, "bce/second", namespace, "Ready")
    assert "Resuming operations" in standby.log_text()
    assert OBJECT_HANDLER_LOG in standby.log_text()


def peers(kubectl: Kubectl) -> set[str]:
    """The identities with a live keep-alive in the cluster-wide peering object."""
    peering = kubectl.get_json("clusterkopfpeering", PEERING_NAME)
    return set(peering.get("status") or {})


@pytest.fixture(scope="module")
def peering_crds(kubectl: Kubectl, crds: list[str]) -> None:
    """kopf's peering CRDs from manifests/base, applied and Established."""
    kubectl.run("apply", "--server-side", "-f", str(BASE / "peering-crds.yaml"))
    kubectl.run(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/clusterkopfpeerings.kopf.dev",
        "crd/kopfpeerings.kopf.dev",
    )


@pytest.fixture
def without_cluster_wide_operator(operator_process: OperatorProcess) -> None:
    """Stop the session's standalone operator, which would act on this test's objects too (the
    `operator` fixture of a later test starts it again)."""
    operator_process.stop()


@contextmanager
def peering_replicas_running(
    operator_kubeconfig: Path,
    emulator_server: Emulator,
    kubectl: Kubectl,
    tmp_path: Path,
    extra_args: Sequence[str] = (),
) -> Iterator[dict[str, OperatorProcess]]:
    """Two `batchops run --peering` replicas with the shipped ServiceAccount's rights, named as
    pods in the peering object, with the default priorities: replica-a started first, so it
    ranks higher and leads. Each serves metrics (`metrics_url`)."""
    kubectl.run("apply", "--server-side", "-k", str(BASE / "peering"))
    replicas: dict[str, OperatorProcess] = {}
    try:
        for name in ("replica-a", "replica-b"):
            liveness_port, metrics_port = free_port(), free_port()
            replica = OperatorProcess(
                operator_kubeconfig,
                emulator_server.url,
                tmp_path / f"{name}.log",
                extra_args=[
                    *OPERATOR_TEST_ARGS,
                    *extra_args,
                    "--peering",
                    f"--liveness-port={liveness_port}",
                    f"--metrics-port={metrics_port}",
                ],
                extra_env={"POD_ID": name},
            )
            replica.liveness_url = f"http://127.0.0.1:{liveness_port}/healthz"
            replica.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            replicas[name] = replica
            replica.start()
            wait_until_live(replica)
        yield replicas
        for replica in replicas.values():
            assert_no_rbac_refusal_or_crash(replica)
    finally:
        for replica in replicas.values():
            replica.stop()


@pytest.fixture
def peering_replicas(
    peering_crds: None,
    without_cluster_wide_operator: None,
    operator_kubeconfig: Path,
    emulator_server: Emulator,
    kubectl: Kubectl,
    tmp_path: Path,
) -> Iterator[dict[str, OperatorProcess]]:
    """Two peering replicas (see `peering_replicas_running`)."""
    with peering_replicas_running(operator_kubeconfig, emulator_server, kubectl, tmp_path) as r:
        yield r


@pytest.fixture
def evented_peering_replicas(
    peering_crds: None,
    without_cluster_wide_operator: None,
    operator_kubeconfig: Path,
    emulator_server: Emulator,
    kubectl: Kubectl,
    tmp_path: Path,
    event_queue_url: str,
) -> Iterator[dict[str, OperatorProcess]]:
    """Two peering replicas in event mode, polling only every 60 s (the last --poll-interval
    given wins)."""
    events = ["--poll-interval=60", f"--event-queue-url={event_queue_url}"]
    with peering_replicas_running(
        operator_kubeconfig, emulator_server, kubectl, tmp_path, events
    ) as replicas:
        yield replicas


def test_two_peering_replicas_act_once_and_the_standby_takes_over_when_the_leader_stops(
    emulator: Emulator,
    peering_replicas: dict[str, OperatorProcess],
    namespace: str,
    kubectl: Kubectl,
) -> None:
    leader, standby = peering_replicas["replica-a"], peering_replicas["replica-b"]
    wait_for_both_peers(kubectl)

    kubectl.apply(compute_environment("first"), namespace)
    wait_condition(kubectl, "bce/first", namespace, "Ready")
    assert emulator.counters().get("CreateComputeEnvironment") == 1
    # kopf logs every handler run on an object under `kopf.objects`.
    assert OBJECT_HANDLER_LOG in leader.log_text()
    assert OBJECT_HANDLER_LOG not in standby.log_text()

    assert_standby_takes_over(
        kubectl, leader, standby, namespace, lambda: peers(kubectl), "replica-b"
    )
    # The standby took over `first` too, without creating it a second time.
    assert emulator.counters().get("CreateComputeEnvironment") == 2


def received_events(replica: OperatorProcess) -> float:
    """How many SQS ReceiveMessage calls the replica made (its own metrics, every outcome)."""
    return sum(
        count
        for (name, labels), count in scrape(replica).items()
        if name == "batchops_aws_calls_total" and ("operation", "sqs:ReceiveMessage") in labels
    )


def wait_for_both_peers(kubectl: Kubectl) -> None:
    wait_for(
        lambda: peers(kubectl) == {"replica-a", "replica-b"},
        timeout=30,
        message="both replicas to keep alive in the peering object",
    )


def test_the_paused_replica_leaves_the_job_events_to_the_leader(
    emulator: Emulator,
    evented_peering_replicas: dict[str, OperatorProcess],
    namespace: str,
    kubectl: Kubectl,
) -> None:
    leader, standby = evented_peering_replicas["replica-a"], evented_peering_replicas["replica-b"]
    wait_for_both_peers(kubectl)
    apply_ready_queue(kubectl, namespace)
    standby_before = received_events(standby)
    kubectl.apply(pipeline("evented", [step("a"), step("b", "a"), step("c", "b")]), namespace)
    # Polling comes every 60 s: finishing within the wait means the leader got the events.
    wait_phase(kubectl, namespace, "evented", "Succeeded", timeout=45)
    assert received_events(leader) > 0
    # A paused replica that read the queue would take (and delete) events the leader needs.
    assert received_events(standby) == standby_before


@pytest.fixture
def overlay_namespaces(kubectl: Kubectl, namespace: str) -> Iterator[dict[str, str]]:
    """The overlay's namespaces mapped to fresh ones: the operator's own, the two watched
    (team-a is the test's `namespace`), and one the operator must leave alone."""
    names = {
        "batchops-system": f"{namespace}-op",
        "team-a": namespace,
        "team-b": f"{namespace}-b",
        "unwatched": f"{namespace}-x",
    }
    created = [names["batchops-system"], names["team-b"], names["unwatched"]]
    for name in created:
        kubectl.run("create", "namespace", name)
    # Cluster-scoped objects get a name of their own too.
    names["batchops-operator-discovery"] = f"{namespace}-discovery"
    # The admission policy's binding reads the ConfigMap of this copy's operator namespace, which
    # goes with the test: a binding left behind would refuse every adoption in the cluster.
    names["batchops-adoption"] = f"{namespace}-adoption"
    yield names
    kubectl.run(
        "delete",
        "clusterrole,clusterrolebinding",
        names["batchops-operator-discovery"],
        check=False,
    )
    kubectl.run(
        "delete",
        "validatingadmissionpolicy,validatingadmissionpolicybinding",
        names["batchops-adoption"],
        check=False,
    )
    for name in created:
        kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def namespaced_operator(
    peering_crds: None,
    without_cluster_wide_operator: None,
    overlay_namespaces: dict[str, str],
    cluster: LocalCluster,
    kubectl: Kubectl,
    emulator_server: Emulator,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    """The namespaced overlay installed, and the operator run with the overlay Deployment's own
    arguments under its ServiceAccount, which has no cluster-wide rights over our kinds."""
    apply_server_side(kubectl, docs=render(kubectl, NAMESPACED, overlay_namespaces))
    apply_server_side(kubectl, docs=render(kubectl, NAMESPACED / "peering", overlay_namespaces))
    operator_namespace = overlay_namespaces["batchops-system"]
    kubeconfig = service_account_kubeconfig(
        cluster, kubectl, operator_namespace, "batchops", tmp_path / "kubeconfig"
    )
    deployment = kubectl.get_json("deployment", "batchops", "-n", operator_namespace)
    shipped_args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    liveness_port = free_port()
    ports = {"--liveness-port": liveness_port, "--metrics-port": free_port()}
    args = [
        f"{flag}={ports[flag]}" if flag in ports else arg
        for arg in shipped_args[1:]  # after `run`, which OperatorProcess adds
        for flag in [arg.partition("=")[0]]
    ]
    operator = OperatorProcess(
        kubeconfig,
        emulator_server.url,
        tmp_path / "operator.log",
        extra_args=[*args, *OPERATOR_TEST_ARGS],
    )
    operator.liveness_url = f"http://127.0.0.1:{liveness_port}/healthz"
    operator.start()
    try:
        wait_until_live(operator)
        yield operator
        # Let the operator remove its finalizers before the namespaces go.
        kubectl.run("delete", "bce", "--all", "-n", overlay_namespaces["team-a"], "--timeout=60s")
        assert_no_rbac_refusal_or_crash(operator)
    finally:
        operator.stop()


def test_namespaced_overlay_reconciles_watched_namespaces_with_role_rights_only(
    emulator: Emulator,
    namespaced_operator: OperatorProcess,
    overlay_namespaces: dict[str, str],
    kubectl: Kubectl,
) -> None:
    watched, unwatched = overlay_namespaces["team-a"], overlay_namespaces["unwatched"]
    operator_account = f"system:serviceaccount:{overlay_namespaces['batchops-system']}:batchops"
    can_list_everywhere = kubectl.run(
        "auth", "can-i", "list", "batchcomputeenvironments.batchops.io", "--all-namespaces",
        f"--as={operator_account}", check=False,
    )  # fmt: skip
    assert can_list_everywhere.stdout.strip() == "no"

    assert_left_alone(kubectl, acted_on=watched, left_alone=unwatched)
    assert emulator.counters().get("CreateComputeEnvironment") == 1


def test_applying_the_base_twice_changes_nothing(kubectl: Kubectl, peering_crds: None) -> None:
    for directory in (BASE, BASE / "peering"):
        kubectl.run("apply", "--server-side", "--dry-run=server", "-k", str(directory))
        first = apply_server_side(kubectl, "-k", str(directory))
        second = apply_server_side(kubectl, "-k", str(directory))
        assert second == first, f"{directory.relative_to(REPO_ROOT)} changed on a second apply"


def test_applying_the_namespaced_overlay_twice_changes_nothing(
    kubectl: Kubectl, peering_crds: None, overlay_namespaces: dict[str, str]
) -> None:
    for directory in (NAMESPACED, NAMESPACED / "peering"):
        docs = render(kubectl, directory, overlay_namespaces)
        kubectl.run("apply", "--server-side", "--dry-run=server", "-f", "-",
                    input=yaml.safe_dump_all(docs))  # fmt: skip
        first = apply_server_side(kubectl, docs=docs)
        second = apply_server_side(kubectl, docs=docs)
        assert second == first, f"{directory.relative_to(REPO_ROOT)} changed on a second apply"


def test_applying_every_example_twice_changes_nothing(
    kubectl: Kubectl, crds: list[str], without_cluster_wide_operator: None, namespace: str
) -> None:
    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert examples
    for path in examples:
        kubectl.run("apply", "--server-side", "--dry-run=server", "-n", namespace, "-f", str(path))
        apply_server_side(kubectl, "-n", namespace, "-f", str(path))
        # The first re-apply of an object no operator has written status for stores the CRD's
        # status default ({observedGeneration: 0}, defaulted on every read but absent in etcd
        # until an update): one write, measured on the API server this project tests against.
        # From then on an apply must change nothing.
        first = apply_server_side(kubectl, "-n", namespace, "-f", str(path))
        second = apply_server_side(kubectl, "-n", namespace, "-f", str(path))
        assert second == first, f"{path.name} changed on a second apply"
