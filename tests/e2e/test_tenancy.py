"""Two teams in two namespaces of one cluster and one AWS account cannot reach each other.

Team B owns a compute environment; team A tries to take it over with `adopt: true`, to delete
it, and to use B's compute environment and queue by ARN. The admission policy decides who may
adopt at all, as two users with different rights (impersonation).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from batchops.local.stack import OperatorProcess
from tests.conftest import REPO_ROOT, Kubectl, events_of, wait_condition
from tests.e2e.test_infrastructure import compute_environment, job_queue, status_of
from tests.waits import wait_for

OWNER = "batchops.io/owner"
OWNER_UID = "batchops.io/owner-uid"


def condition(kubectl: Kubectl, resource: str, namespace: str, type_: str) -> dict[str, Any]:
    conditions = status_of(kubectl, resource, namespace).get("conditions") or []
    return next((c for c in conditions if c["type"] == type_), {})


def wait_stalled(kubectl: Kubectl, resource: str, namespace: str, reason: str) -> str:
    """Wait for Stalled=True with `reason`; return its message."""
    stalled = wait_for(
        lambda: (
            (c := condition(kubectl, resource, namespace, "Stalled")).get("reason") == reason and c
        ),
        timeout=60,
        message=f"{resource} Stalled with reason {reason}",
    )
    assert stalled["status"] == "True"
    return str(stalled["message"])


def uid_of(kubectl: Kubectl, resource: str, namespace: str) -> str:
    return str(kubectl.get_json(resource, "-n", namespace)["metadata"]["uid"])


def test_adopt_cannot_take_a_live_owners_compute_environment_until_it_is_handed_over(
    kubectl: Kubectl, namespace: str, other_namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    team_b, team_a = namespace, other_namespace
    aws_name = f"{team_b}-shared"[:128]
    kubectl.apply(compute_environment("mine", extra_spec={"name": aws_name}), team_b)
    wait_condition(kubectl, "bce/mine", team_b, "Ready")
    arn = status_of(kubectl, "bce/mine", team_b)["arn"]
    b_uid = uid_of(kubectl, "bce/mine", team_b)
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {
        OWNER: f"{team_b}/mine",
        OWNER_UID: b_uid,
    }

    kubectl.apply(compute_environment("grab", extra_spec={"name": aws_name, "adopt": True}), team_a)
    message = wait_stalled(kubectl, "bce/grab", team_a, "OwnedByAnother")
    assert f"{team_b}/mine" in message and "deletionPolicy: Retain" in message
    assert condition(kubectl, "bce/grab", team_a, "Ready")["status"] == "False"
    assert any(e["reason"] == "OwnedByAnother" for e in events_of(kubectl, team_a, "grab"))
    # Deleting the thief's object leaves team B's compute environment alone.
    kubectl.run("delete", "bce/grab", "-n", team_a, "--timeout=60s")
    described = batch.describe_compute_environments(computeEnvironments=[aws_name])
    assert [ce["status"] for ce in described["computeEnvironments"]] == ["VALID"]
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"][OWNER] == f"{team_b}/mine"
    wait_condition(kubectl, "bce/mine", team_b, "Ready")

    # The hand-over: B retains and lets go, then A's adoption goes through.
    kubectl.run(
        "patch", "bce/mine", "-n", team_b, "--type=merge", "-p",
        json.dumps({"spec": {"deletionPolicy": "Retain"}}),
    )  # fmt: skip
    wait_for(
        lambda: status_of(kubectl, "bce/mine", team_b).get("observedGeneration") == 2,
        message="the Retain policy observed",
    )
    kubectl.run("delete", "bce/mine", "-n", team_b, "--timeout=60s")
    kubectl.apply(compute_environment("heir", extra_spec={"name": aws_name, "adopt": True}), team_a)
    wait_condition(kubectl, "bce/heir", team_a, "Ready")
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {
        OWNER: f"{team_a}/heir",
        OWNER_UID: uid_of(kubectl, "bce/heir", team_a),
    }
    assert any(e["reason"] == "Adopted" for e in events_of(kubectl, team_a, "heir"))


def test_an_object_whose_resource_was_taken_over_says_so_and_never_deletes_it(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(compute_environment("victim"), namespace)
    wait_condition(kubectl, "bce/victim", namespace, "Ready")
    arn = status_of(kubectl, "bce/victim", namespace)["arn"]
    # What a takeover looks like from AWS: the owner tags name another object.
    batch.tag_resource(
        resourceArn=arn, tags={OWNER: "elsewhere/thief", OWNER_UID: "0000-not-victim"}
    )
    message = wait_stalled(kubectl, "bce/victim", namespace, "ResourceTakenOver")
    assert "elsewhere/thief" in message
    assert condition(kubectl, "bce/victim", namespace, "Ready")["status"] == "False"
    warnings = [e for e in events_of(kubectl, namespace, "victim") if e["type"] == "Warning"]
    assert any(e["reason"] == "ResourceTakenOver" for e in warnings)

    kubectl.run("delete", "bce/victim", "-n", namespace, "--timeout=60s")
    described = batch.describe_compute_environments(computeEnvironments=[arn])
    assert [ce["status"] for ce in described["computeEnvironments"]] == ["VALID"]


def test_a_compute_environment_deleted_behind_the_operators_back_is_reported_and_recreated(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(compute_environment("gone"), namespace)
    wait_condition(kubectl, "bce/gone", namespace, "Ready")
    aws_name = status_of(kubectl, "bce/gone", namespace)["awsName"]

    def delete_behind_its_back() -> bool:
        # Batch deletes only a DISABLED, settled CE; the operator's drift check may re-enable
        # it in between, so try again until the deletion is accepted.
        try:
            batch.update_compute_environment(computeEnvironment=aws_name, state="DISABLED")
            wait_for(
                lambda: (
                    batch.describe_compute_environments(computeEnvironments=[aws_name])[
                        "computeEnvironments"
                    ][0]["status"]
                    == "VALID"
                ),
                message="the disable to settle",
            )
            batch.delete_compute_environment(computeEnvironment=aws_name)
        except batch.exceptions.ClientException:
            return False
        return True

    wait_for(delete_behind_its_back, timeout=30, message="deleting the CE with boto3")
    # Within one drift interval (5 s in tests) the object says what happened ...
    missing = wait_for(
        lambda: [
            e for e in events_of(kubectl, namespace, "gone") if e["reason"] == "ResourceMissing"
        ],
        timeout=60,
        message="a ResourceMissing event",
    )
    assert missing[0]["type"] == "Warning" and aws_name in missing[0]["message"]
    # ... and, the resource being its own, puts it back.
    wait_for(
        lambda: (
            condition(kubectl, "bce/gone", namespace, "Ready").get("reason") == "Valid"
            and batch.describe_compute_environments(computeEnvironments=[aws_name])[
                "computeEnvironments"
            ]
        ),
        timeout=60,
        message="the compute environment recreated and Ready",
    )


def test_references_by_arn_to_another_namespaces_resources_are_refused(
    kubectl: Kubectl,
    namespace: str,
    other_namespace: str,
    queue: str,
    operator: OperatorProcess,
) -> None:
    team_b, team_a = namespace, other_namespace
    ce_arn = status_of(kubectl, "bce/ce", team_b)["arn"]
    queue_arn = status_of(kubectl, f"bjq/{queue}", team_b)["arn"]

    borrowed = json.loads(job_queue("borrowed", "unused"))
    borrowed["spec"]["computeEnvironments"] = [{"arn": ce_arn, "order": 1}]
    kubectl.apply(json.dumps(borrowed), team_a)
    message = wait_stalled(kubectl, "bjq/borrowed", team_a, "CrossNamespaceReference")
    assert ce_arn in message and f"{team_b}/ce" in message

    pipeline = {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": "freeride"},
        "spec": {
            "queue": queue_arn,
            "image": "busybox",
            "steps": [{"name": "a", "command": ["true"], "vcpus": 1, "memory": 128}],
        },
    }
    kubectl.apply(json.dumps(pipeline), team_a)
    failed = wait_for(
        lambda: (s := status_of(kubectl, "bpl/freeride", team_a)).get("phase") == "Failed" and s,
        timeout=60,
        message="the pipeline refused",
    )
    assert queue_arn in failed["message"] and f"{team_b}/{queue}" in failed["message"]
    assert not any(step.get("jobId") for step in failed.get("steps") or [])


# --- who may adopt: the shipped ValidatingAdmissionPolicy --------------------------------------

ADMISSION = REPO_ROOT / "manifests" / "base" / "admission.yaml"


@pytest.fixture
def adoption_policy(kubectl: Kubectl, operator: OperatorProcess) -> Iterator[None]:
    """The shipped policy and its ConfigMap (applied with the operator's RBAC), installed for
    one test; waits until the API server enforces it."""
    kubectl.run("apply", "-f", str(ADMISSION))
    yield
    kubectl.run("delete", "-f", str(ADMISSION), check=False)


def test_only_admin_allowed_users_may_set_adopt(
    kubectl: Kubectl, namespace: str, adoption_policy: None
) -> None:
    # A namespace editor: may create compute environments here, nothing more.
    kubectl.apply(
        json.dumps(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": "batchops-editor"},
                "rules": [
                    {
                        "apiGroups": ["batchops.io"],
                        "resources": ["batchcomputeenvironments"],
                        "verbs": ["get", "list", "create", "update", "patch"],
                    }
                ],
            }
        ),
        namespace,
    )
    for user in ("alice", "root"):
        kubectl.run(
            "create", "rolebinding", f"{user}-edits", "--role=batchops-editor",
            f"--user={user}", "-n", namespace,
        )  # fmt: skip
    adopting = compute_environment("legacy", extra_spec={"name": "someone-elses", "adopt": True})

    def apply_as(user: str, group: str, manifest: str) -> Any:
        return kubectl.run(
            "apply", "--dry-run=server", "-n", namespace, "-f", "-",
            f"--as={user}", f"--as-group={group}",
            input=manifest, check=False,
        )  # fmt: skip

    # The policy binding takes a moment to reach the API server's admission chain.
    refused = wait_for(
        lambda: (r := apply_as("alice", "team-a", adopting)).returncode != 0 and r,
        timeout=30,
        message="the admission policy to refuse alice",
    )
    assert "batchops-adoption" in refused.stderr
    assert "batchops:adopters" in refused.stderr
    # The same user may create what adopts nothing; an adopter may adopt.
    assert apply_as("alice", "team-a", compute_environment("fresh")).returncode == 0
    allowed = apply_as("root", "batchops:adopters", adopting)
    assert allowed.returncode == 0, allowed.stderr


def test_adopting_a_compute_environment_that_does_not_exist_creates_nothing(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, emulator: Any, batch: Any
) -> None:
    aws_name = f"{namespace}-typo"[:128]
    kubectl.apply(
        compute_environment("ghost", extra_spec={"name": aws_name, "adopt": True}), namespace
    )
    message = wait_stalled(kubectl, "bce/ghost", namespace, "AdoptionTargetMissing")
    assert aws_name in message
    assert (
        batch.describe_compute_environments(computeEnvironments=[aws_name])["computeEnvironments"]
        == []
    )
    assert emulator.counters().get("CreateComputeEnvironment", 0) == 0
