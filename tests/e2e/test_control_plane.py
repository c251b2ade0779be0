"""The local control plane is a real Kubernetes: CRDs, RBAC, garbage collection, namespaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchops.kube.client import (
    JOB_QUEUE,
    KubeNotFound,
    get_object,
    patch_status,
    use_kubeconfig,
)
from batchops.local.stack import install_crds
from tests.conftest import Kubectl
from tests.waits import wait_for


def test_project_crds_become_established(kubectl: Kubectl, crds: list[str]) -> None:
    established = {
        item["metadata"]["name"]
        for item in kubectl.get_json("crd")["items"]
        if any(
            c["type"] == "Established" and c["status"] == "True"
            for c in item["status"]["conditions"]
        )
    }
    assert set(crds) <= established
    assert {
        "batchcomputeenvironments.batchops.io",
        "batchjobqueues.batchops.io",
        "batchpipelines.batchops.io",
        "cronpipelines.batchops.io",
    } <= set(crds)


def test_explain_knows_short_names_right_after_install_despite_an_older_discovery_cache(
    kubectl: Kubectl, crds: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kubectl's disk cache of discovery, written before the CRD exists, as `kubectl apply` of
    # the CRDs themselves (or an earlier server on the same port) leaves it.
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "kubectl-cache"))
    kubectl.run("get", "namespaces")
    crd_dir = tmp_path / "crds"
    crd_dir.mkdir()
    (crd_dir / "widgets.yaml").write_text(_WIDGET_CRD)
    try:
        install_crds(kubectl.kubeconfig, crd_dir)
        kubectl.run("explain", "wdgt")
    finally:
        kubectl.run("delete", "crd", "widgets.discovery.batchops.io", "--wait=false")


_WIDGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.discovery.batchops.io}
spec:
  group: discovery.batchops.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wdgt]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
"""


def test_custom_object_is_created_and_read_back_with_kubectl(
    kubectl: Kubectl, crds: list[str], namespace: str
) -> None:
    kubectl.apply(
        """
apiVersion: batchops.io/v1alpha1
kind: BatchJobQueue
metadata: {name: queue-simple}
spec:
  priority: 100
  computeEnvironments: [{ref: env-simple, order: 1}]
""",
        namespace,
    )
    queue = kubectl.get_json("bjq", "queue-simple", "-n", namespace)
    assert queue["spec"]["priority"] == 100
    assert queue["spec"]["computeEnvironments"] == [{"ref": "env-simple", "order": 1}]
    listed = kubectl.run("get", "batchops", "-n", namespace).stdout
    assert "queue-simple" in listed


def test_a_read_not_older_than_a_status_write_sees_that_write(
    kubectl: Kubectl, crds: list[str], namespace: str
) -> None:
    # A loop's read-your-own-writes asks for its write's version or newer, which the API
    # server's watch cache answers instead of a quorum read from etcd.
    kubectl.apply(
        "apiVersion: batchops.io/v1alpha1\nkind: BatchJobQueue\nmetadata: {name: read-back}\n"
        "spec: {priority: 1, computeEnvironments: [{ref: env, order: 1}]}",
        namespace,
    )
    use_kubeconfig(str(kubectl.kubeconfig))
    version = patch_status(JOB_QUEUE, namespace, "read-back", {"observedGeneration": 7})
    read = get_object(JOB_QUEUE, namespace, "read-back", not_older_than=version)
    assert read["metadata"]["resourceVersion"] == version
    assert read["status"]["observedGeneration"] == 7
    with pytest.raises(KubeNotFound):
        get_object(JOB_QUEUE, namespace, "never-created", not_older_than=version)


def test_deleting_an_owner_deletes_what_it_owns(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("create", "configmap", "owner", "-n", namespace)
    owner_uid = kubectl.get_json("configmap", "owner", "-n", namespace)["metadata"]["uid"]
    owned = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "owned",
            "namespace": namespace,
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner_uid}
            ],
        },
    }
    kubectl.apply(json.dumps(owned))
    kubectl.run("delete", "configmap", "owner", "-n", namespace)

    def owned_is_gone() -> bool:
        result = kubectl.run("get", "configmap", "owned", "-n", namespace, check=False)
        return result.returncode != 0 and "NotFound" in result.stderr

    wait_for(owned_is_gone, timeout=60, message="the garbage collector to delete 'owned'")


def test_service_account_without_rbac_rights_is_denied(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("create", "serviceaccount", "nobody", "-n", namespace)
    token = kubectl.run("create", "token", "nobody", "-n", namespace).stdout.strip()

    denied = kubectl.run("get", "configmaps", "-n", namespace, token=token, check=False)
    assert denied.returncode != 0
    assert "forbidden" in denied.stderr.lower()
    assert f"system:serviceaccount:{namespace}:nobody" in denied.stderr

    kubectl.run(
        "create", "role", "read-configmaps", "--verb=list", "--resource=configmaps", "-n", namespace
    )
    kubectl.run(
        "create",
        "rolebinding",
        "nobody-reads",
        "--role=read-configmaps",
        f"--serviceaccount={namespace}:nobody",
        "-n",
        namespace,
    )
    allowed = wait_for(
        lambda: (
            kubectl.run("get", "configmaps", "-n", namespace, token=token, check=False).returncode
            == 0
        ),
        timeout=30,
        message="the new RoleBinding to take effect",
    )
    assert allowed


def test_namespace_with_objects_is_deleted(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", "doomed")
    kubectl.run("create", "configmap", "inside", "-n", "doomed")
    kubectl.run("delete", "namespace", "doomed", "--wait=false")

    def namespace_is_gone() -> bool:
        return kubectl.run("get", "namespace", "doomed", check=False).returncode != 0

    wait_for(namespace_is_gone, timeout=90, message="the namespace controller to finish")
