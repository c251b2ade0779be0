"""BatchSchedulingPolicy decisions: the create request, in-place updates, the spec's checks."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from batchops.model.common import DeletionPolicy, SpecError, frozen_map
from batchops.model.scheduling import (
    FairsharePolicy,
    ObservedSchedulingPolicy,
    ShareAttributes,
    parse_scheduling_policy_spec,
)
from batchops.plans.retirement import Delete, WaitForUsers, plan_retirement
from batchops.plans.scheduling import classify_policy_update, desired_policy_request

ARN = "arn:aws:batch:us-east-1:123456789012:scheduling-policy/teams"
SPEC = parse_scheduling_policy_spec(
    {
        "fairsharePolicy": {
            "shareDecaySeconds": 3600,
            "shareDistribution": [
                {"shareIdentifier": "etl", "weightFactor": 0.5},
                {"shareIdentifier": "adhoc"},
            ],
        },
        "tags": {"team": "platform"},
    }
)


def observed(**policy: Any) -> ObservedSchedulingPolicy:
    shares = (ShareAttributes("adhoc", 1.0), ShareAttributes("etl", 0.5))
    fairshare = FairsharePolicy(
        share_decay_seconds=3600, compute_reservation=0, share_distribution=shares
    )
    return ObservedSchedulingPolicy(
        name="teams",
        arn=ARN,
        fairshare_policy=dataclasses.replace(fairshare, **policy),
        tags=frozen_map({"team": "platform", "batchops.io/owner": "ns/teams"}),
    )


def test_the_create_request_carries_the_policy_and_the_operators_tags() -> None:
    request = desired_policy_request(SPEC, "ns-teams", {"batchops.io/owner": "ns/teams"})
    assert request["name"] == "ns-teams"
    assert request["fairsharePolicy"] == {
        "shareDecaySeconds": 3600,
        "shareDistribution": [
            {"shareIdentifier": "etl", "weightFactor": 0.5},
            {"shareIdentifier": "adhoc"},
        ],
    }
    assert request["tags"] == {"team": "platform", "batchops.io/owner": "ns/teams"}


def test_shares_in_another_order_and_fields_left_to_aws_are_no_drift() -> None:
    plan = classify_policy_update(SPEC, observed(), operator_tags={"batchops.io/owner": "ns/teams"})
    assert plan.request is None and not plan.tags


def test_a_new_weight_is_one_update_of_the_whole_policy() -> None:
    plan = classify_policy_update(SPEC, observed(share_distribution=(ShareAttributes("etl", 2.0),)))
    assert plan.request is not None and plan.request["arn"] == ARN
    assert plan.request["fairsharePolicy"]["shareDistribution"][0] == {
        "shareIdentifier": "etl",
        "weightFactor": 0.5,
    }
    assert plan.changes == ("fairsharePolicy.shareDistribution",)


def test_a_changed_decay_window_is_named_in_the_drift() -> None:
    plan = classify_policy_update(SPEC, observed(share_decay_seconds=600))
    assert "fairsharePolicy.shareDecaySeconds 600 -> 3600" in plan.describe()


@pytest.mark.parametrize("weight", [0, 1000])
def test_weights_outside_aws_range_are_refused(weight: float) -> None:
    raw = {
        "fairsharePolicy": {"shareDistribution": [{"shareIdentifier": "a", "weightFactor": weight}]}
    }
    with pytest.raises(SpecError, match=r"between 0\.0001 and 999\.9999"):
        parse_scheduling_policy_spec(raw)


def test_a_share_identifier_listed_twice_is_refused() -> None:
    shares = [{"shareIdentifier": "a"}, {"shareIdentifier": "a", "weightFactor": 2}]
    with pytest.raises(SpecError, match="repeat"):
        parse_scheduling_policy_spec({"fairsharePolicy": {"shareDistribution": shares}})


def test_a_policy_has_no_state_so_retirement_deletes_it_without_disabling() -> None:
    policy = observed()
    assert policy.state is None
    assert plan_retirement(policy, [], DeletionPolicy.DELETE) == Delete("teams")
    assert plan_retirement(policy, ["queue_a"], DeletionPolicy.DELETE) == WaitForUsers(("queue_a",))
