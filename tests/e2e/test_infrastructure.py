"""BatchComputeEnvironment and BatchJobQueue through kubectl, against the Batch emulator."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from batchops.local.emulator import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID, Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, events_of, example, wait_condition, wait_until_live
from tests.waits import wait_for


def compute_environment(
    name: str,
    *,
    instance_types: list[str] | None = None,
    max_vcpus: int = 64,
    service_role: str | None = None,
    allocation_strategy: str = "BEST_FIT_PROGRESSIVE",
    extra_spec: dict[str, Any] | None = None,
    subnets: list[str] | None = None,
) -> str:
    spec: dict[str, Any] = {
        "computeResources": {
            "type": "EC2",
            "allocationStrategy": allocation_strategy,
            "instanceTypes": instance_types or ["c5.large"],
            "minvCpus": 0,
            "maxvCpus": max_vcpus,
            "instanceRole": "ecsInstanceRole",
            "subnets": subnets or [DEFAULT_SUBNET_ID],
            "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
        },
        **(extra_spec or {}),
    }
    if service_role:
        spec["serviceRole"] = service_role
    return json.dumps(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchComputeEnvironment",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


def job_queue(name: str, ce: str, extra_spec: dict[str, Any] | None = None) -> str:
    return json.dumps(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchJobQueue",
            "metadata": {"name": name},
            "spec": {
                "priority": 10,
                "computeEnvironments": [{"ref": ce, "order": 1}],
                **(extra_spec or {}),
            },
        }
    )


def describe_ce(batch: Any, name: str) -> dict[str, Any] | None:
    items = batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"]
    return items[0] if items else None


def describe_queue(batch: Any, name: str) -> dict[str, Any] | None:
    items = batch.describe_job_queues(jobQueues=[name])["jobQueues"]
    return items[0] if items else None


def status_of(kubectl: Kubectl, resource: str, namespace: str) -> dict[str, Any]:
    return dict(kubectl.get_json(resource, "-n", namespace).get("status") or {})


def test_walkthrough_infrastructure_becomes_ready(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(example("01-walkthrough-infra.yaml"), namespace)
    wait_condition(kubectl, "bce/env-72", namespace, "Ready")
    wait_condition(kubectl, "bce/env-simple", namespace, "Ready")
    wait_condition(kubectl, "bjq/queue-72", namespace, "Ready")
    wait_condition(kubectl, "bjq/queue-simple", namespace, "Ready")

    env_72 = describe_ce(batch, "env_72")
    assert env_72 is not None and env_72["status"] == "VALID"
    assert sorted(env_72["computeResources"]["instanceTypes"]) == [
        "c5.18xlarge",
        "m5.12xlarge",
        "m5.24xlarge",
    ]
    queue_72 = describe_queue(batch, "queue_72")
    assert queue_72 is not None
    assert queue_72["computeEnvironmentOrder"] == [
        {"order": 1, "computeEnvironment": env_72["computeEnvironmentArn"]}
    ]
    listing = kubectl.run("get", "bce,bjq", "-n", namespace).stdout
    assert "env_72" in listing and "queue_simple" in listing and "VALID" in listing


def test_scaling_update_is_applied_in_place(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(compute_environment("ce"), namespace)
    wait_condition(kubectl, "bce/ce", namespace, "Ready")
    arn = status_of(kubectl, "bce/ce", namespace)["arn"]

    kubectl.run(
        "patch",
        "bce/ce",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"spec":{"computeResources":{"maxvCpus":128}}}',
    )
    aws_name = f"{namespace}-ce"
    wait_for(
        lambda: (
            (describe_ce(batch, aws_name) or {}).get("computeResources", {}).get("maxvCpus") == 128
        ),
        timeout=30,
        message="maxvCpus 128 in AWS",
    )
    assert describe_ce(batch, aws_name)["computeEnvironmentArn"] == arn  # type: ignore[index]
    wait_condition(kubectl, "bce/ce", namespace, "Ready")


def test_infrastructure_update_is_applied_in_place_with_the_service_linked_role(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(compute_environment("ce", instance_types=["c5.large"]), namespace)
    wait_condition(kubectl, "bce/ce", namespace, "Ready")
    arn = status_of(kubectl, "bce/ce", namespace)["arn"]

    kubectl.apply(compute_environment("ce", instance_types=["c5.large", "m5.large"]), namespace)
    aws_name = f"{namespace}-ce"
    wait_for(
        lambda: (
            sorted(
                (describe_ce(batch, aws_name) or {})
                .get("computeResources", {})
                .get("instanceTypes", [])
            )
            == ["c5.large", "m5.large"]
        ),
        timeout=30,
        message="instance types updated in AWS",
    )
    assert describe_ce(batch, aws_name)["computeEnvironmentArn"] == arn  # type: ignore[index]


def test_replacement_moves_the_queue_without_a_moment_of_no_compute_environment(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    service_role = "arn:aws:iam::123456789012:role/AWSBatchServiceRole"
    kubectl.apply(
        compute_environment("ce", service_role=service_role, allocation_strategy="BEST_FIT"),
        namespace,
    )
    kubectl.apply(job_queue("q", "ce"), namespace)
    wait_condition(kubectl, "bjq/q", namespace, "Ready")
    old_arn = status_of(kubectl, "bce/ce", namespace)["arn"]
    queue_name = f"{namespace}-q"

    seen_orders: list[list[dict[str, Any]]] = []
    stop = threading.Event()

    def watch_queue() -> None:
        while not stop.is_set():
            queue = describe_queue(batch, queue_name)
            if queue is not None:
                seen_orders.append(queue["computeEnvironmentOrder"])
            stop.wait(0.05)

    watcher = threading.Thread(target=watch_queue, daemon=True)
    watcher.start()
    try:
        # A new instance type with a non-service-linked role can only be applied by replacement.
        kubectl.apply(
            compute_environment(
                "ce",
                service_role=service_role,
                allocation_strategy="BEST_FIT",
                instance_types=["c5.large", "c5.xlarge"],
            ),
            namespace,
        )

        def replaced() -> bool:
            status = status_of(kubectl, "bce/ce", namespace)
            return (
                status.get("arn") != old_arn
                and (status.get("replacement") or {}).get("phase") == "Completed"
            )

        wait_for(replaced, timeout=90, message="the replacement to complete")
    finally:
        stop.set()
        watcher.join()

    new_arn = status_of(kubectl, "bce/ce", namespace)["arn"]
    queue = describe_queue(batch, queue_name)
    assert queue is not None
    assert [e["computeEnvironment"] for e in queue["computeEnvironmentOrder"]] == [new_arn]
    assert all(order for order in seen_orders), "the queue had no compute environment"
    old_name = old_arn.rsplit("/", 1)[1]
    wait_for(
        lambda: describe_ce(batch, old_name) is None,
        timeout=30,
        message="the old compute environment deleted",
    )
    wait_condition(kubectl, "bce/ce", namespace, "Ready")
    reasons = [e["reason"] for e in events_of(kubectl, namespace, "ce")]
    assert "Replacing" in reasons and "Replaced" in reasons


def test_operator_killed_during_replacement_finishes_it_after_restart(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any, emulator: Emulator
) -> None:
    service_role = "arn:aws:iam::123456789012:role/AWSBatchServiceRole"
    kubectl.apply(
        compute_environment("ce", service_role=service_role, allocation_strategy="BEST_FIT"),
        namespace,
    )
    kubectl.apply(job_queue("q", "ce"), namespace)
    wait_condition(kubectl, "bjq/q", namespace, "Ready")
    old_arn = status_of(kubectl, "bce/ce", namespace)["arn"]

    # Slow AWS down so the kill lands mid-replacement, after the successor was created.
    emulator.set_speed(2.0)
    kubectl.apply(
        compute_environment(
            "ce",
            service_role=service_role,
            allocation_strategy="BEST_FIT",
            instance_types=["m5.large"],
        ),
        namespace,
    )
    wait_for(
        lambda: (status_of(kubectl, "bce/ce", namespace).get("replacement") or {}).get(
            "successorName"
        ),
        timeout=30,
        message="the successor to be created",
    )
    operator.kill()
    emulator.set_speed(20.0)
    operator.start()
    wait_until_live(operator)

    wait_for(
        lambda: (
            (status_of(kubectl, "bce/ce", namespace).get("replacement") or {}).get("phase")
            == "Completed"
        ),
        timeout=90,
        message="the replacement to complete after the restart",
    )
    new_arn = status_of(kubectl, "bce/ce", namespace)["arn"]
    assert new_arn != old_arn
    names = [
        ce["computeEnvironmentName"]
        for ce in batch.describe_compute_environments()["computeEnvironments"]
        if ce["computeEnvironmentName"].startswith(namespace)
    ]
    assert names == [new_arn.rsplit("/", 1)[1]], "exactly one successor, old one gone"
    queue = describe_queue(batch, f"{namespace}-q")
    assert queue is not None
    assert [e["computeEnvironment"] for e in queue["computeEnvironmentOrder"]] == [new_arn]


@pytest.mark.parametrize("first", ["bce/ce", "bjq/q"])
def test_deleting_queue_and_compute_environment_converges_in_either_order(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any, first: str
) -> None:
    kubectl.apply(compute_environment("ce"), namespace)
    kubectl.apply(job_queue("q", "ce"), namespace)
    wait_condition(kubectl, "bjq/q", namespace, "Ready")

    second = "bjq/q" if first == "bce/ce" else "bce/ce"
    kubectl.run("delete", first, "-n", namespace, "--wait=false")
    kubectl.run("delete", second, "-n", namespace, "--wait=false")
    wait_for(
        lambda: kubectl.run("get", "bce,bjq", "-n", namespace, "-o", "name").stdout.strip() == "",
        timeout=90,
        message="both objects gone",
    )
    assert describe_queue(batch, f"{namespace}-q") is None
    assert describe_ce(batch, f"{namespace}-ce") is None


def test_compute_environment_in_use_waits_for_its_queue_and_says_which(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(compute_environment("ce"), namespace)
    kubectl.apply(job_queue("q", "ce"), namespace)
    wait_condition(kubectl, "bjq/q", namespace, "Ready")
    kubectl.run("delete", "bce/ce", "-n", namespace, "--wait=false")

    def waiting_message() -> str | None:
        for condition in status_of(kubectl, "bce/ce", namespace).get("conditions", []):
            if condition["type"] == "Reconciling" and f"{namespace}-q" in condition["message"]:
                return str(condition["message"])
        return None

    wait_for(waiting_message, timeout=30, message="the CE to say which queue holds it")
    ce = describe_ce(batch, f"{namespace}-ce")
    assert ce is not None and ce["state"] == "ENABLED", "nothing is touched while a queue uses it"
    kubectl.run("delete", "bjq/q", "-n", namespace, "--wait=false")
    wait_for(
        lambda: describe_ce(batch, f"{namespace}-ce") is None,
        timeout=60,
        message="the CE deleted once the queue is gone",
    )


def test_retain_leaves_aws_untouched(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(compute_environment("ce", extra_spec={"deletionPolicy": "Retain"}), namespace)
    wait_condition(kubectl, "bce/ce", namespace, "Ready")
    kubectl.run("delete", "bce/ce", "-n", namespace, "--timeout=60s")
    ce = describe_ce(batch, f"{namespace}-ce")
    assert ce is not None and ce["state"] == "ENABLED" and ce["status"] == "VALID"


def test_drift_made_outside_kubernetes_is_repaired(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(compute_environment("ce", max_vcpus=64), namespace)
    wait_condition(kubectl, "bce/ce", namespace, "Ready")
    aws_name = f"{namespace}-ce"
    batch.update_compute_environment(computeEnvironment=aws_name, computeResources={"maxvCpus": 8})
    wait_for(
        lambda: (
            (describe_ce(batch, aws_name) or {}).get("computeResources", {}).get("maxvCpus") == 64
        ),
        timeout=60,
        message="maxvCpus restored to 64",
    )
    drift = [e for e in events_of(kubectl, namespace, "ce") if e["reason"] == "DriftRepaired"]
    assert drift and "maxvCpus" in drift[-1]["message"]


def test_existing_aws_compute_environment_is_not_taken_over(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    aws_name = f"{namespace}-ce"
    batch.create_compute_environment(
        computeEnvironmentName=aws_name, type="UNMANAGED", state="ENABLED"
    )
    kubectl.apply(compute_environment("ce"), namespace)
    wait_condition(kubectl, "bce/ce", namespace, "Synced", "False")
    synced = next(
        c for c in status_of(kubectl, "bce/ce", namespace)["conditions"] if c["type"] == "Synced"
    )
    assert synced["reason"] == "NameConflict"
    assert describe_ce(batch, aws_name)["type"] == "UNMANAGED"  # type: ignore[index]


def test_existing_aws_job_queue_is_not_taken_over_and_stalls_without_reconciling(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(compute_environment("ce"), namespace)
    wait_condition(kubectl, "bce/ce", namespace, "Ready")
    ce_arn = status_of(kubectl, "bce/ce", namespace)["arn"]
    batch.create_job_queue(
        jobQueueName=f"{namespace}-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce_arn}],
    )
    kubectl.apply(job_queue("q", "ce"), namespace)
    wait_condition(kubectl, "bjq/q", namespace, "Stalled")
    conditions = {c["type"]: c for c in status_of(kubectl, "bjq/q", namespace)["conditions"]}
    assert conditions["Synced"]["reason"] == "NameConflict"
    # kstatus: a stalled object is not also in progress, or `kubectl wait` and Argo CD would
    # show it as still converging.
    assert conditions["Reconciling"]["status"] == "False"
    # Clean up as its owner would: the queue made outside Kubernetes holds the compute
    # environment, whose deletion (the namespace's teardown) AWS refuses while a queue uses it.
    kubectl.run("delete", "bjq/q", "-n", namespace)
    foreign = f"{namespace}-q"
    batch.update_job_queue(jobQueue=foreign, state="DISABLED")

    def disabled() -> bool:
        queue = batch.describe_job_queues(jobQueues=[foreign])["jobQueues"][0]
        return bool(queue["state"] == "DISABLED" and queue["status"] == "VALID")

    wait_for(disabled, message=f"{foreign} disabled")
    batch.delete_job_queue(jobQueue=foreign)
    kubectl.run("delete", "bce/ce", "-n", namespace, "--timeout=30s")


def test_invalid_compute_environment_reports_aws_reason(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    kubectl.apply(compute_environment("ce", subnets=["subnet-0000000000000dead"]), namespace)
    wait_condition(kubectl, "bce/ce", namespace, "Stalled")
    ready = next(
        c for c in status_of(kubectl, "bce/ce", namespace)["conditions"] if c["type"] == "Ready"
    )
    assert ready["status"] == "False" and ready["reason"] == "Invalid"
    assert "subnet" in ready["message"].lower()


def test_throttling_and_server_errors_on_every_call_still_converge(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any, emulator: Emulator
) -> None:
    emulator.set_faults(
        operations={"*": {"throttleRate": 0.3, "errorRate": 0.1}}, eventual_consistency_seconds=2
    )
    try:
        kubectl.apply(compute_environment("ce"), namespace)
        kubectl.apply(job_queue("q", "ce"), namespace)
        wait_condition(kubectl, "bjq/q", namespace, "Ready", timeout=120)
    finally:
        emulator.set_faults()
    counters = emulator.counters()
    assert counters.get("CreateComputeEnvironment", 0) >= 1
    names = [
        ce["computeEnvironmentName"]
        for ce in batch.describe_compute_environments()["computeEnvironments"]
        if ce["computeEnvironmentName"].startswith(namespace)
    ]
    assert names == [f"{namespace}-ce"], "retries created no duplicates"


def test_adopt_takes_over_an_existing_compute_environment_without_recreating_it(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    aws_name = f"{namespace}-legacy"
    arn = batch.create_compute_environment(
        computeEnvironmentName=aws_name,
        type="MANAGED",
        state="ENABLED",
        computeResources={
            "type": "EC2",
            "allocationStrategy": "BEST_FIT_PROGRESSIVE",
            "instanceTypes": ["c5.large"],
            "minvCpus": 0,
            "maxvCpus": 64,
            "instanceRole": "ecsInstanceRole",
            "subnets": [DEFAULT_SUBNET_ID],
            "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
        },
    )["computeEnvironmentArn"]
    kubectl.apply(
        compute_environment("legacy", extra_spec={"name": aws_name, "adopt": True}), namespace
    )
    wait_condition(kubectl, "bce/legacy", namespace, "Ready")
    assert status_of(kubectl, "bce/legacy", namespace)["arn"] == arn
    tags = batch.list_tags_for_resource(resourceArn=arn)["tags"]
    assert tags.get("batchops.io/owner") == f"{namespace}/legacy"


def test_kubectl_explain_reads_like_documentation(kubectl: Kubectl, crds: list[str]) -> None:
    explained = kubectl.run("explain", "bce.spec.computeResources").stdout
    assert "maxvCpus" in explained and "instanceTypes" in explained
    assert "DESCRIPTION" in explained
    assert len(explained.split()) > 100, explained
