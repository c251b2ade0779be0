"""The deployable manifests are accepted by the real API server, under restricted Pod Security."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import REPO_ROOT, Kubectl

BASE = REPO_ROOT / "manifests" / "base"


def test_kustomize_base_passes_server_side_dry_run(
    kubectl: Kubectl, operator_kubeconfig: Path
) -> None:
    # operator_kubeconfig has created the batchops-system namespace the objects live in.
    result = kubectl.run("apply", "-k", str(BASE), "--server-side", "--dry-run=server")
    assert "deployment.apps/batchops serverside-applied (server dry run)" in result.stdout


def test_operator_pod_is_admitted_by_restricted_pod_security(
    kubectl: Kubectl, operator_kubeconfig: Path
) -> None:
    namespace = kubectl.get_json("namespace", "batchops-system")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    deployment = yaml.safe_load((BASE / "deployment.yaml").read_text())
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "batchops-psa-check", "namespace": "batchops-system"},
        "spec": deployment["spec"]["template"]["spec"],
    }
    result = kubectl.run("apply", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
    assert result.returncode == 0, result.stderr
    assert "violate" not in result.stderr


def test_a_pod_without_restricted_settings_is_rejected_in_the_operator_namespace(
    kubectl: Kubectl, operator_kubeconfig: Path
) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "not-allowed", "namespace": "batchops-system"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    result = kubectl.run("apply", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
    assert result.returncode != 0 and "restricted" in result.stderr
