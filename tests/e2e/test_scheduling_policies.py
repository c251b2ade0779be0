"""BatchSchedulingPolicy through kubectl: created, used by a queue by ref, changed in place,
and deleted only once no queue uses it."""

from __future__ import annotations

import json
from typing import Any

from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, events_of, example, wait_condition
from tests.e2e.test_infrastructure import status_of
from tests.waits import wait_for


def describe_policy(batch: Any, arn: str) -> dict[str, Any] | None:
    found = batch.describe_scheduling_policies(arns=[arn])["schedulingPolicies"]
    return found[0] if found else None


def condition(kubectl: Kubectl, resource: str, namespace: str, type_: str) -> dict[str, Any]:
    conditions = status_of(kubectl, resource, namespace).get("conditions") or []
    return next((c for c in conditions if c["type"] == type_), {})


def test_a_fair_share_queue_uses_its_policy_which_changes_in_place_and_outlives_the_queue(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(example("01-walkthrough-infra.yaml"), namespace)
    kubectl.apply(example("05-fair-share-queue.yaml"), namespace)
    wait_condition(kubectl, "bsp/teams", namespace, "Ready")
    wait_condition(kubectl, "bjq/queue-fair", namespace, "Ready")
    policy_arn = status_of(kubectl, "bsp/teams", namespace)["arn"]
    queue_arn = status_of(kubectl, "bjq/queue-fair", namespace)["arn"]
    queue = batch.describe_job_queues(jobQueues=[queue_arn])["jobQueues"][0]
    assert queue["schedulingPolicyArn"] == policy_arn
    policy = describe_policy(batch, policy_arn)
    assert policy is not None
    assert policy["fairsharePolicy"]["computeReservation"] == 20
    assert policy["tags"]["batchops.io/owner"] == f"{namespace}/teams"
    assert status_of(kubectl, "bsp/teams", namespace)["shares"] == 2

    # New weights: the same policy, updated.
    kubectl.run(
        "patch", "bsp/teams", "-n", namespace, "--type=merge", "-p",
        json.dumps({"spec": {"fairsharePolicy": {"shareDistribution": [
            {"shareIdentifier": "etl", "weightFactor": 0.25},
            {"shareIdentifier": "adhoc", "weightFactor": 1},
            {"shareIdentifier": "ml", "weightFactor": 2},
        ]}}}),
    )  # fmt: skip

    def reweighted() -> bool:
        described = describe_policy(batch, policy_arn) or {}
        shares = described.get("fairsharePolicy", {}).get("shareDistribution", [])
        return {s["shareIdentifier"]: s.get("weightFactor") for s in shares} == {
            "etl": 0.25,
            "adhoc": 1,
            "ml": 2,
        }

    wait_for(reweighted, timeout=60, message="the new weights in AWS")
    assert any(e["reason"] == "Updating" for e in events_of(kubectl, namespace, "teams"))

    # Deleting the policy waits while the queue uses it, and says which queue.
    kubectl.run("delete", "bsp/teams", "-n", namespace, "--wait=false")
    in_use = wait_for(
        lambda: (
            (c := condition(kubectl, "bsp/teams", namespace, "Reconciling")).get("reason")
            == "InUse"
            and c
        ),
        timeout=60,
        message="the policy's deletion waiting for the queue",
    )
    assert (
        "queue" in in_use["message"]
        and status_of(kubectl, "bjq/queue-fair", namespace)["awsName"] in in_use["message"]
    )
    assert describe_policy(batch, policy_arn) is not None
    kubectl.run("delete", "bjq/queue-fair", "-n", namespace, "--timeout=60s")
    wait_for(
        lambda: not kubectl.get_json("bsp", "-n", namespace)["items"],
        timeout=60,
        message="the policy object to go",
    )
    assert describe_policy(batch, policy_arn) is None
