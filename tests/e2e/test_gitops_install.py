"""The Argo CD install: what each Application syncs, applied wave by wave as Argo CD applies it,
leaves an operator that acts; and the image, credentials and region overlays render and pass a
server-side dry run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchops.local.cluster import LocalCluster
from batchops.local.emulator import Emulator
from batchops.local.processes import free_port
from batchops.local.stack import OperatorProcess
from tests.conftest import (
    OPERATOR_TEST_ARGS,
    REPO_ROOT,
    Kubectl,
    service_account_kubeconfig,
    wait_condition,
    wait_until_live,
)
from tests.e2e.test_install import (
    OBJECT_HANDLER_LOG,
    PEERING_NAME,
    apply_server_side,
    assert_no_rbac_refusal_or_crash,
    compute_environment,
    peers,
    render,
)
from tests.waits import wait_for

APPLICATIONS = REPO_ROOT / "manifests" / "argocd" / "application.yaml"
OVERLAYS = REPO_ROOT / "manifests" / "overlays"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# The cluster-scoped objects of manifests/base, renamed per test like overlay_namespaces does.
CLUSTER_SCOPED = {
    "batchops-operator": ("clusterrole", "clusterrolebinding"),
    "batchops-adoption": ("validatingadmissionpolicy", "validatingadmissionpolicybinding"),
}


def application_path(name: str) -> Path:
    """The repository directory the Argo CD Application `name` syncs."""
    for app in yaml.safe_load_all(APPLICATIONS.read_text()):
        if app and app["metadata"]["name"] == name:
            return REPO_ROOT / str(app["spec"]["source"]["path"])
    raise AssertionError(f"no Application {name} in {APPLICATIONS}")


def by_wave(docs: list[dict[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    """The objects grouped by Argo CD sync wave (default 0), lowest wave first."""
    waves: dict[int, list[dict[str, Any]]] = {}
    for doc in docs:
        annotations = doc["metadata"].get("annotations") or {}
        waves.setdefault(int(annotations.get(SYNC_WAVE, "0")), []).append(doc)
    return sorted(waves.items())


def kind_of(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The documents of one kind."""
    return [doc for doc in docs if doc["kind"] == kind]


@pytest.fixture
def renamed_install(kubectl: Kubectl, namespace: str) -> Iterator[dict[str, str]]:
    """The operator namespace and the base's cluster-scoped names mapped to this test's own;
    everything renamed is deleted afterwards (the CRDs and the shared peering object stay)."""
    names = {"batchops-system": f"{namespace}-op"}
    names.update({name: f"{namespace}-{name}" for name in CLUSTER_SCOPED})
    yield names
    for name, kinds in CLUSTER_SCOPED.items():
        kubectl.run("delete", ",".join(kinds), names[name], "--ignore-not-found", check=False)
    kubectl.run("delete", "namespace", names["batchops-system"], "--wait=false", check=False)


def test_argocd_waves_install_an_operator_whose_two_replicas_elect_one_leader(
    operator_process: OperatorProcess,
    renamed_install: dict[str, str],
    cluster: LocalCluster,
    emulator: Emulator,
    namespace: str,
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    operator_process.stop()  # the session's standalone operator would act on our objects too
    # A peering object left by an earlier test would hide a missing wave.
    kubectl.run("delete", "clusterkopfpeering", PEERING_NAME, "--ignore-not-found", check=False)
    docs = render(kubectl, application_path("batchops"), renamed_install)
    waves = by_wave(docs)
    order = [{doc["kind"] for doc in wave_docs} for _, wave_docs in waves]
    assert order[0] == {"CustomResourceDefinition"}, "CRDs must come first"
    crd_names = {doc["metadata"]["name"] for doc in waves[0][1]}
    assert "clusterkopfpeerings.kopf.dev" in crd_names
    peering_wave = next(i for i, kinds in enumerate(order) if "ClusterKopfPeering" in kinds)
    deployment_wave = next(i for i, kinds in enumerate(order) if "Deployment" in kinds)
    assert 0 < peering_wave < deployment_wave

    # Argo CD applies a wave once every earlier one is synced and healthy; a CRD is healthy
    # once it is Established.
    for _, wave_docs in waves:
        apply_server_side(kubectl, "--force-conflicts", docs=wave_docs)
        definitions = kind_of(wave_docs, "CustomResourceDefinition")
        crds = [f"crd/{doc['metadata']['name']}" for doc in definitions]
        if crds:
            kubectl.run("wait", "--for=condition=Established", "--timeout=60s", *crds)
    assert kubectl.get_json("clusterkopfpeering", PEERING_NAME)["metadata"]["name"] == PEERING_NAME

    # The Deployment's two replicas, as processes: its arguments and env, under its account.
    (deployment,) = kind_of(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 2
    assert "--peering" in container["args"]
    env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    operator_namespace = renamed_install["batchops-system"]
    kubeconfig = service_account_kubeconfig(
        cluster, kubectl, operator_namespace, pod["serviceAccountName"], tmp_path / "kubeconfig"
    )
    replicas: dict[str, OperatorProcess] = {}
    try:
        for name in ("batchops-7d9c-aaaaa", "batchops-7d9c-bbbbb"):
            ports = {"--liveness-port": free_port(), "--metrics-port": free_port()}
            args = [
                f"{flag}={ports[flag]}" if flag in ports else arg
                for arg in container["args"][1:]  # after `run`, which OperatorProcess adds
                for flag in [arg.partition("=")[0]]
            ]
            replica = OperatorProcess(
                kubeconfig,
                emulator.url,
                tmp_path / f"{name}.log",
                extra_args=[*args, *OPERATOR_TEST_ARGS],
                extra_env={**env, "POD_ID": name},
            )
            replica.liveness_url = f"http://127.0.0.1:{ports['--liveness-port']}/healthz"
            replicas[name] = replica
            replica.start()
            wait_until_live(replica)
        wait_for(
            lambda: peers(kubectl) == set(replicas),
            timeout=30,
            message="both replicas to keep alive in the peering object",
        )

        kubectl.apply(compute_environment("gitops"), namespace)
        wait_condition(kubectl, "bce/gitops", namespace, "Ready")
        assert emulator.counters().get("CreateComputeEnvironment") == 1
        acting = [n for n, r in replicas.items() if OBJECT_HANDLER_LOG in r.log_text()]
        assert len(acting) == 1, f"exactly one replica must act, not {acting}"
        # Let the leader remove its finalizer before the namespace goes.
        kubectl.run("delete", "bce/gitops", "-n", namespace, "--timeout=60s")
        for replica in replicas.values():
            assert_no_rbac_refusal_or_crash(replica)
    finally:
        for replica in replicas.values():
            replica.stop()


def deployment_container(docs: list[dict[str, Any]]) -> Mapping[str, Any]:
    """The operator container of the rendered Deployment."""
    (deployment,) = kind_of(docs, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def test_image_credentials_and_region_overlays_render_and_pass_a_server_side_dry_run(
    kubectl: Kubectl, crds: list[str], renamed_install: dict[str, str]
) -> None:
    kubectl.run("create", "namespace", renamed_install["batchops-system"])
    rendered = {
        name: render(kubectl, OVERLAYS / name, renamed_install)
        for name in ("image", "aws-credentials", "region")
    }
    assert deployment_container(rendered["image"])["image"] == (
        "registry.example.com/platform/batchops:0.1.0"
    )
    credentials = {
        item["name"]: item["valueFrom"]["secretKeyRef"]
        for item in deployment_container(rendered["aws-credentials"])["env"]
        if "valueFrom" in item and "secretKeyRef" in item["valueFrom"]
    }
    assert credentials == {
        "AWS_ACCESS_KEY_ID": {"name": "batchops-aws", "key": "AWS_ACCESS_KEY_ID"},
        "AWS_SECRET_ACCESS_KEY": {"name": "batchops-aws", "key": "AWS_SECRET_ACCESS_KEY"},
    }
    region = deployment_container(rendered["region"])
    assert {"name": "AWS_REGION", "value": "eu-west-1"} in region["env"]
    assert not any(arg.startswith("--region") for arg in region["args"]), "one place for it"
    for name, docs in rendered.items():
        result = kubectl.run(
            "apply", "--server-side", "--dry-run=server", "-f", "-",
            input=yaml.safe_dump_all(docs), check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"overlay {name}: {result.stderr}"
