"""BatchJobQueue decisions: ref resolution, the create request, in-place updates, deletion."""

from __future__ import annotations

from dataclasses import replace

import pytest

from batchops.model.common import DeletionPolicy, ResourceState, frozen_map
from batchops.model.compute import BatchStatus
from batchops.model.queue import (
    ComputeEnvironmentEntry,
    ComputeEnvironmentOrder,
    JobStateTimeLimitAction,
    ObservedJobQueue,
    QueueSpec,
)
from batchops.plans.queue import (
    ResolvedRefs,
    Unresolved,
    classify_queue_update,
    describe_queue_drift,
    desired_queue_request,
    queues_referencing,
    resolve_compute_refs,
)
from batchops.plans.retirement import (
    Delete,
    Disable,
    Done,
    Retain,
    WaitGone,
    WaitSettled,
    plan_retirement,
)

ACCOUNT = "123456789012"
POLICY_A = f"arn:aws:batch:us-east-1:{ACCOUNT}:scheduling-policy/a"
POLICY_B = f"arn:aws:batch:us-east-1:{ACCOUNT}:scheduling-policy/b"


def ce_arn(name: str) -> str:
    return f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/{name}"


def queue_spec(**changes: object) -> QueueSpec:
    """queue_72 of the walkthrough: priority 100 over env-72."""
    spec = QueueSpec(
        name="queue_72",
        priority=100,
        compute_environments=(ComputeEnvironmentEntry(order=1, ref="env-72"),),
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def resolved(*pairs: tuple[int, str]) -> ResolvedRefs:
    return ResolvedRefs(tuple(ComputeEnvironmentOrder(o, a) for o, a in pairs))


def observed(**changes: object) -> ObservedJobQueue:
    queue = ObservedJobQueue(
        name="queue_72",
        arn=f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/queue_72",
        state=ResourceState.ENABLED,
        status=BatchStatus.VALID,
        priority=100,
        compute_environment_order=(ComputeEnvironmentOrder(1, ce_arn("env_72")),),
    )
    return replace(queue, **changes)  # type: ignore[arg-type]


RESOLVED = resolved((1, ce_arn("env_72")))


# --- refs ------------------------------------------------------------------------------------


def test_refs_resolve_to_arns_sorted_by_order() -> None:
    entries = (
        ComputeEnvironmentEntry(order=2, ref="spot"),
        ComputeEnvironmentEntry(order=1, arn=ce_arn("shared")),
    )
    result = resolve_compute_refs(entries, {"spot": ce_arn("spot_ce"), "other": None})
    assert result == resolved((1, ce_arn("shared")), (2, ce_arn("spot_ce")))
    assert isinstance(result, ResolvedRefs)
    assert result.arns == (ce_arn("shared"), ce_arn("spot_ce"))


def test_unknown_ref_is_reported_missing() -> None:
    result = resolve_compute_refs((ComputeEnvironmentEntry(order=1, ref="nope"),), {})
    assert result == Unresolved(missing=("nope",))
    assert isinstance(result, Unresolved)
    assert "no BatchComputeEnvironment named nope" in result.message


def test_ref_without_an_arn_yet_is_reported_not_ready() -> None:
    entries = (
        ComputeEnvironmentEntry(order=1, ref="a"),
        ComputeEnvironmentEntry(order=2, ref="b"),
    )
    result = resolve_compute_refs(entries, {"a": None, "b": ce_arn("b")})
    assert isinstance(result, Unresolved)
    assert result.names == ("a",)
    assert "waiting for a" in result.message


def test_queues_referencing_a_compute_environment_are_found_by_ref() -> None:
    queues = {
        "q2": (ComputeEnvironmentEntry(order=1, ref="env-72"),),
        "q1": (
            ComputeEnvironmentEntry(order=1, ref="other"),
            ComputeEnvironmentEntry(order=2, ref="env-72"),
        ),
        "q3": (ComputeEnvironmentEntry(order=1, arn=ce_arn("env-72")),),
    }
    assert queues_referencing("env-72", queues) == ("q1", "q2")


# --- create ----------------------------------------------------------------------------------


def test_create_request_has_the_walkthrough_fields_in_aws_shape() -> None:
    request = desired_queue_request(queue_spec(), "queue_72", RESOLVED, {"batchops.io/owner": "x"})
    assert request == {
        "jobQueueName": "queue_72",
        "priority": 100,
        "state": "ENABLED",
        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": ce_arn("env_72")}],
        "tags": {"batchops.io/owner": "x"},
    }


def test_create_request_carries_policy_and_time_limit_actions() -> None:
    spec = queue_spec(
        scheduling_policy_arn=POLICY_A,
        job_state_time_limit_actions=(JobStateTimeLimitAction("stuck", 3600),),
        tags=frozen_map({"team": "a"}),
    )
    request = desired_queue_request(spec, "q", RESOLVED, {})
    assert request.get("schedulingPolicyArn") == POLICY_A
    assert request.get("jobStateTimeLimitActions") == [
        {"reason": "stuck", "state": "RUNNABLE", "maxTimeSeconds": 3600, "action": "CANCEL"}
    ]
    assert request.get("tags") == {"team": "a"}


# --- update ----------------------------------------------------------------------------------


def test_matching_queue_is_in_sync() -> None:
    plan = classify_queue_update(queue_spec(), RESOLVED, observed())
    assert plan.in_sync and plan.request is None
    assert describe_queue_drift(plan) == "in sync with the spec"


def test_priority_and_state_update_in_place() -> None:
    spec = queue_spec(priority=10, state=ResourceState.DISABLED)
    plan = classify_queue_update(spec, RESOLVED, observed())
    assert plan.changes == ("priority", "state")
    assert plan.request == {
        "jobQueue": observed().arn,
        "priority": 10,
        "state": "DISABLED",
    }


def test_new_compute_environment_order_updates_in_place() -> None:
    wanted = resolved((1, ce_arn("env_72")), (2, ce_arn("spare")))
    plan = classify_queue_update(queue_spec(), wanted, observed())
    assert plan.changes == ("computeEnvironments",)
    assert plan.request is not None
    assert plan.request.get("computeEnvironmentOrder") == [
        {"order": 1, "computeEnvironment": ce_arn("env_72")},
        {"order": 2, "computeEnvironment": ce_arn("spare")},
    ]


def test_same_order_pairs_listed_differently_are_not_drift() -> None:
    wanted = resolved((2, ce_arn("b")), (1, ce_arn("a")))
    aws = observed(
        compute_environment_order=(
            ComputeEnvironmentOrder(1, ce_arn("a")),
            ComputeEnvironmentOrder(2, ce_arn("b")),
        )
    )
    assert classify_queue_update(queue_spec(), wanted, aws).in_sync


def test_swapping_orders_is_a_change() -> None:
    wanted = resolved((1, ce_arn("b")), (2, ce_arn("a")))
    aws = observed(
        compute_environment_order=(
            ComputeEnvironmentOrder(1, ce_arn("a")),
            ComputeEnvironmentOrder(2, ce_arn("b")),
        )
    )
    assert classify_queue_update(queue_spec(), wanted, aws).changes == ("computeEnvironments",)


def test_scheduling_policy_can_be_replaced_in_place() -> None:
    plan = classify_queue_update(
        queue_spec(scheduling_policy_arn=POLICY_B),
        RESOLVED,
        observed(scheduling_policy_arn=POLICY_A),
    )
    assert plan.changes == ("schedulingPolicyArn",)
    assert plan.request is not None
    assert plan.request.get("schedulingPolicyArn") == POLICY_B


@pytest.mark.parametrize(
    ("desired", "aws"), [(POLICY_A, None), (None, POLICY_A)], ids=["add", "remove"]
)
def test_adding_or_removing_a_scheduling_policy_is_blocked(
    desired: str | None, aws: str | None
) -> None:
    plan = classify_queue_update(
        queue_spec(scheduling_policy_arn=desired), RESOLVED, observed(scheduling_policy_arn=aws)
    )
    assert plan.request is None and not plan.in_sync
    assert plan.blocked is not None and "recreate" in plan.blocked


def test_create_request_carries_the_job_queue_type() -> None:
    request = desired_queue_request(queue_spec(job_queue_type="EKS"), "queue_72", RESOLVED, {})
    assert request.get("jobQueueType") == "EKS"
    assert "jobQueueType" not in desired_queue_request(queue_spec(), "queue_72", RESOLVED, {})


@pytest.mark.parametrize(
    ("desired", "aws"),
    [(None, "ECS"), ("ECS", "ECS"), ("ECS", None)],
    ids=["unset", "same", "unreported"],
)
def test_job_queue_type_unset_equal_or_unreported_is_in_sync(
    desired: str | None, aws: str | None
) -> None:
    plan = classify_queue_update(
        queue_spec(job_queue_type=desired), RESOLVED, observed(job_queue_type=aws)
    )
    assert plan.in_sync


def test_changing_the_job_queue_type_is_blocked_not_sent() -> None:
    # UpdateJobQueue has no jobQueueType: the queue keeps its type until it is recreated.
    plan = classify_queue_update(
        queue_spec(job_queue_type="EKS", priority=5), RESOLVED, observed(job_queue_type="ECS")
    )
    assert plan.blocked is not None and "jobQueueType" in plan.blocked
    assert plan.request is not None and "jobQueueType" not in plan.request
    assert plan.changes == ("priority",)


def test_time_limit_actions_compare_as_a_set() -> None:
    a, b = JobStateTimeLimitAction("a", 600), JobStateTimeLimitAction("b", 1200)
    spec = queue_spec(job_state_time_limit_actions=(a, b))
    assert classify_queue_update(
        spec, RESOLVED, observed(job_state_time_limit_actions=(b, a))
    ).in_sync


def test_removing_time_limit_actions_clears_them() -> None:
    aws = observed(job_state_time_limit_actions=(JobStateTimeLimitAction("a", 600),))
    plan = classify_queue_update(queue_spec(), RESOLVED, aws)
    assert plan.request is not None
    assert plan.request.get("jobStateTimeLimitActions") == []


def test_queue_tags_sync_separately_and_keep_aws_tags() -> None:
    spec = queue_spec(tags=frozen_map({"team": "a"}))
    aws = observed(tags=frozen_map({"old": "1", "aws:cloudformation:stack-name": "s"}))
    plan = classify_queue_update(spec, RESOLVED, aws, operator_tags={"batchops.io/owner": "o"})
    assert plan.request is None and not plan.in_sync
    assert dict(plan.tags.to_add) == {"team": "a", "batchops.io/owner": "o"}
    assert plan.tags.to_remove == ("old",)
    assert "tags to remove: old" in describe_queue_drift(plan)


# --- deletion --------------------------------------------------------------------------------


def test_queue_retain_policy_leaves_aws_alone() -> None:
    assert plan_retirement(observed(), (), DeletionPolicy.RETAIN) == Retain()


def test_queue_deletion_is_done_when_aws_has_no_queue() -> None:
    assert plan_retirement(None, (), DeletionPolicy.DELETE) == Done()


def test_queue_deletion_disables_first() -> None:
    assert plan_retirement(observed(), (), DeletionPolicy.DELETE) == Disable("queue_72")


def test_queue_deletion_waits_while_updating() -> None:
    queue = observed(state=ResourceState.DISABLED, status=BatchStatus.UPDATING)
    assert plan_retirement(queue, (), DeletionPolicy.DELETE) == WaitSettled("queue_72")


def test_queue_deletion_deletes_a_disabled_queue() -> None:
    queue = observed(state=ResourceState.DISABLED)
    assert plan_retirement(queue, (), DeletionPolicy.DELETE) == Delete("queue_72")


def test_queue_deletion_waits_while_deleting() -> None:
    queue = observed(state=ResourceState.DISABLED, status=BatchStatus.DELETING)
    assert plan_retirement(queue, (), DeletionPolicy.DELETE) == WaitGone("queue_72")
