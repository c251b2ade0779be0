"""The whole CreateComputeEnvironment / CreateJobQueue surface through kubectl: what a manifest
says reaches the Batch emulator unchanged, and changes take the path AWS allows (in place, or a
blue/green replacement)."""

from __future__ import annotations

import copy
import json
from typing import Any

from batchops.local.emulator import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, wait_condition
from tests.e2e.test_infrastructure import describe_ce, describe_queue, status_of
from tests.waits import wait_for

EKS_CLUSTER = "arn:aws:eks:us-east-1:123456789012:cluster/batch"


def manifest(kind: str, name: str, spec: dict[str, Any]) -> str:
    return json.dumps(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": kind,
            "metadata": {"name": name},
            "spec": spec,
        }
    )


def eks_spec() -> dict[str, Any]:
    return {
        "eksConfiguration": {
            "eksClusterArn": EKS_CLUSTER,
            "kubernetesNamespace": "batch-jobs",
            "accessEntry": {"desiredState": "ENABLED"},
        },
        "computeResources": {
            "type": "EC2",
            "allocationStrategy": "BEST_FIT_PROGRESSIVE",
            "minvCpus": 0,
            "maxvCpus": 64,
            "instanceTypes": ["m5", "g5"],
            "instanceRole": "ecsInstanceRole",
            "subnets": [DEFAULT_SUBNET_ID],
            "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
            "launchTemplate": {
                "launchTemplateName": "eks-nodes",
                "userdataType": "EKS_NODEADM",
                "overrides": [
                    {
                        "launchTemplateName": "eks-gpu-nodes",
                        "targetInstanceTypes": ["g5"],
                        "userdataType": "EKS_NODEADM",
                    }
                ],
            },
            "ec2Configuration": [{"imageType": "EKS_AL2023", "imageKubernetesVersion": "1.32"}],
        },
    }


def patch(kubectl: Kubectl, resource: str, namespace: str, spec: dict[str, Any]) -> None:
    kubectl.run(
        "patch", resource, "-n", namespace, "--type=merge", "-p", json.dumps({"spec": spec})
    )


def described_ce(batch: Any, arn: str) -> dict[str, Any]:
    return describe_ce(batch, arn) or {}


def test_an_eks_compute_environment_reaches_aws_unchanged_updates_in_place_and_is_replaced(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    spec = eks_spec()
    kubectl.apply(manifest("BatchComputeEnvironment", "eks", spec), namespace)
    kubectl.apply(
        manifest(
            "BatchJobQueue",
            "eks-queue",
            {
                "priority": 1,
                "jobQueueType": "EKS",
                "computeEnvironments": [{"ref": "eks", "order": 1}],
            },
        ),
        namespace,
    )
    wait_condition(kubectl, "bce/eks", namespace, "Ready")
    wait_condition(kubectl, "bjq/eks-queue", namespace, "Ready")
    arn = status_of(kubectl, "bce/eks", namespace)["arn"]

    detail = described_ce(batch, arn)
    assert detail["containerOrchestrationType"] == "EKS"
    assert detail["eksConfiguration"] == {
        **spec["eksConfiguration"],
        "accessEntry": {"desiredState": "ENABLED", "status": "ACTIVE"},
    }
    assert detail["computeResources"] == {**spec["computeResources"], "desiredvCpus": 0}
    queue = describe_queue(batch, f"{namespace}-eks-queue")
    assert queue is not None and queue["jobQueueType"] == "EKS"

    # In place: the access entry (EksConfigurationUpdate) and a scaling update.
    patch(
        kubectl,
        "bce/eks",
        namespace,
        {
            "eksConfiguration": {"accessEntry": {"desiredState": "DISABLED"}},
            "computeResources": {"maxvCpus": 128},
        },
    )
    wait_for(
        lambda: (
            described_ce(batch, arn).get("eksConfiguration", {}).get("accessEntry", {})
            == {"desiredState": "DISABLED", "status": "INACTIVE"}
            and described_ce(batch, arn)["computeResources"]["maxvCpus"] == 128
        ),
        timeout=60,
        message="access entry DISABLED and maxvCpus 128, in place",
    )
    assert status_of(kubectl, "bce/eks", namespace)["arn"] == arn

    # Another namespace: EksConfigurationUpdate can't change it, so a new compute environment.
    patch(kubectl, "bce/eks", namespace, {"eksConfiguration": {"kubernetesNamespace": "batch-2"}})

    def replaced() -> str | None:
        status = status_of(kubectl, "bce/eks", namespace)
        phase = (status.get("replacement") or {}).get("phase")
        return status["arn"] if status["arn"] != arn and phase == "Completed" else None

    new_arn = wait_for(replaced, timeout=120, message="the EKS compute environment replaced")
    assert described_ce(batch, new_arn)["eksConfiguration"]["kubernetesNamespace"] == "batch-2"
    queue = describe_queue(batch, f"{namespace}-eks-queue")
    assert queue is not None
    assert [o["computeEnvironment"] for o in queue["computeEnvironmentOrder"]] == [new_arn]
    wait_for(lambda: describe_ce(batch, arn) is None, timeout=60, message="old CE deleted")


def test_placement_group_and_launch_template_overrides_reach_aws_unchanged_and_update_in_place(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    resources: dict[str, Any] = {
        "type": "EC2",
        "allocationStrategy": "BEST_FIT_PROGRESSIVE",
        "minvCpus": 0,
        "maxvCpus": 256,
        "instanceTypes": ["c5n", "p4d.24xlarge"],
        "instanceRole": "ecsInstanceRole",
        "subnets": [DEFAULT_SUBNET_ID],
        "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
        "placementGroup": "mnp-cluster",
        "scalingPolicy": {"minScaleDownDelayMinutes": 30},
        "launchTemplate": {
            "launchTemplateName": "efa-nodes",
            "version": "$Latest",
            "overrides": [
                {
                    "launchTemplateId": "lt-0123456789abcdef0",
                    "version": "4",
                    "targetInstanceTypes": ["p4d.24xlarge"],
                }
            ],
        },
    }
    kubectl.apply(
        manifest(
            "BatchComputeEnvironment",
            "mnp",
            {"computeResources": resources, "ecsSettings": {"containerInsights": "ENABLED"}},
        ),
        namespace,
    )
    wait_condition(kubectl, "bce/mnp", namespace, "Ready")
    arn = status_of(kubectl, "bce/mnp", namespace)["arn"]

    detail = described_ce(batch, arn)
    assert detail["computeResources"] == {**resources, "desiredvCpus": 0}
    assert detail["ecsSettings"] == {"containerInsights": "ENABLED"}

    # Infrastructure updates (service-linked role, BEST_FIT_PROGRESSIVE): same compute
    # environment, new placement group and a second override.
    template = copy.deepcopy(resources["launchTemplate"])
    template["overrides"].append(
        {"launchTemplateName": "c5n-nodes", "targetInstanceTypes": ["c5n"]}
    )
    patch(
        kubectl,
        "bce/mnp",
        namespace,
        {
            "computeResources": {"placementGroup": "mnp-cluster-2", "launchTemplate": template},
            "ecsSettings": {"containerInsights": "ENHANCED"},
        },
    )

    def updated() -> bool:
        now = described_ce(batch, arn)
        return (
            now.get("status") == "VALID"
            and now["computeResources"].get("placementGroup") == "mnp-cluster-2"
            and now["computeResources"].get("launchTemplate") == template
            and now.get("ecsSettings") == {"containerInsights": "ENHANCED"}
        )

    wait_for(updated, timeout=60, message="placement group, overrides and insights in place")
    wait_condition(kubectl, "bce/mnp", namespace, "Ready")
    assert status_of(kubectl, "bce/mnp", namespace)["arn"] == arn
