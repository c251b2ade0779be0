"""Fair-share scheduling policies behave as the AWS Batch documentation says.

Sources (each test's docstring names the page its rule comes from):
- https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateSchedulingPolicy.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_FairsharePolicy.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_ShareAttributes.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeSchedulingPolicies.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_ListSchedulingPolicies.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateSchedulingPolicy.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_DeleteSchedulingPolicy.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateJobQueue.html and
  API_UpdateJobQueue.html (schedulingPolicyArn)
- https://docs.aws.amazon.com/batch/latest/userguide/scheduling-policies.html
AWS documents none of the rejections' wording, so the tests assert the error class
(ClientException, HTTP 400), that nothing changed, and the emulator's own text only where a
client would need to tell two rejections apart.
"""

from __future__ import annotations

from typing import Any

import pytest
from mypy_boto3_batch import BatchClient
from mypy_boto3_batch.type_defs import FairsharePolicyTypeDef

from batchops.local.emulator import Emulator
from tests.emulator.waits import (
    ErrorResponse,
    client_error,
    create_ce,
    default_account,
    disable_and_delete_queue,
    ec2_resources,
    find_queue,
    wait_queue_status,
)

ARN_PREFIX = "arn:aws:batch:us-east-1:123456789012:scheduling-policy/"

FAIRSHARE: FairsharePolicyTypeDef = {
    "shareDecaySeconds": 3600,
    "computeReservation": 10,
    "shareDistribution": [
        {"shareIdentifier": "teamA", "weightFactor": 0.5},
        {"shareIdentifier": "batch*", "weightFactor": 2.0},
        {"shareIdentifier": "etl"},
    ],
}


def _describe(batch: BatchClient, arn: str) -> dict[str, Any] | None:
    found = batch.describe_scheduling_policies(arns=[arn])["schedulingPolicies"]
    return dict(found[0]) if found else None


def _listed(batch: BatchClient) -> list[str]:
    return [p["arn"] for p in batch.list_scheduling_policies()["schedulingPolicies"]]


def _assert_client_exception(error: ErrorResponse) -> None:
    assert error.code == "ClientException"
    assert error.http_status == 400


def _rejected_fairshare(batch: BatchClient, fairshare: FairsharePolicyTypeDef) -> ErrorResponse:
    """CreateSchedulingPolicy "p" with this fairsharePolicy must fail and create nothing."""
    error = client_error(
        lambda: batch.create_scheduling_policy(name="p", fairsharePolicy=fairshare)
    )
    _assert_client_exception(error)
    assert _listed(batch) == []
    return error


def _queue_with_policy(batch: BatchClient, emulator: Emulator, policy_arn: str | None) -> str:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    request: dict[str, Any] = {
        "jobQueueName": "q",
        "priority": 1,
        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}],
    }
    if policy_arn is not None:
        request["schedulingPolicyArn"] = policy_arn
    arn = batch.create_job_queue(**request)["jobQueueArn"]
    wait_queue_status(batch, "q", "VALID")
    return arn


# --- create, describe, list ----------------------------------------------------------------------


def test_created_policy_has_the_documented_arn_and_is_described_with_its_fairshare_and_tags(
    batch: BatchClient,
) -> None:
    """CreateSchedulingPolicy returns name and arn (ARN format: CreateJobQueue's
    schedulingPolicyArn, aws:Partition:batch:Region:Account:scheduling-policy/Name);
    DescribeSchedulingPolicies returns name, arn, fairsharePolicy and tags
    (API_CreateSchedulingPolicy.html, API_DescribeSchedulingPolicies.html)."""
    created = batch.create_scheduling_policy(
        name="fair_share-1", fairsharePolicy=FAIRSHARE, tags={"team": "data"}
    )

    assert created["name"] == "fair_share-1"
    assert created["arn"] == f"{ARN_PREFIX}fair_share-1"
    assert _describe(batch, created["arn"]) == {
        "name": "fair_share-1",
        "arn": created["arn"],
        "fairsharePolicy": FAIRSHARE,
        "tags": {"team": "data"},
    }


def test_policy_without_fairshare_policy_is_created_and_described_without_one(
    batch: BatchClient,
) -> None:
    """fairsharePolicy is "Required: No" (API_CreateSchedulingPolicy.html)."""
    arn = batch.create_scheduling_policy(name="plain")["arn"]

    detail = _describe(batch, arn)
    assert detail is not None
    assert "fairsharePolicy" not in detail


@pytest.mark.parametrize(
    "name",
    ["a" * 129, "has space", "dot.ted", "colon:name", "slash/name", ""],
    ids=["129-chars", "space", "dot", "colon", "slash", "empty"],
)
def test_policy_name_outside_128_letters_numbers_hyphens_underscores_is_rejected(
    batch: BatchClient, name: str
) -> None:
    """ "It can be up to 128 letters long. It can contain uppercase and lowercase letters,
    numbers, hyphens (-), and underscores (_)." (API_CreateSchedulingPolicy.html)"""
    error = client_error(lambda: batch.create_scheduling_policy(name=name))

    _assert_client_exception(error)
    assert _listed(batch) == []


def test_policy_name_of_128_letters_numbers_hyphens_and_underscores_is_accepted(
    batch: BatchClient,
) -> None:
    """Up to 128 letters, numbers, hyphens and underscores (API_CreateSchedulingPolicy.html)."""
    name = ("Ab9-_" * 26)[:128]

    arn = batch.create_scheduling_policy(name=name)["arn"]

    assert arn == f"{ARN_PREFIX}{name}"


def test_creating_a_policy_with_an_existing_name_fails_and_keeps_the_first(
    batch: BatchClient,
) -> None:
    """The name must be unique ("enter a unique name for your scheduling policy",
    https://docs.aws.amazon.com/batch/latest/userguide/create-scheduling-policy.html)."""
    arn = batch.create_scheduling_policy(name="p", fairsharePolicy={"computeReservation": 5})["arn"]

    error = client_error(
        lambda: batch.create_scheduling_policy(name="p", fairsharePolicy={"computeReservation": 9})
    )

    _assert_client_exception(error)
    assert "Object already exists" in error.message
    detail = _describe(batch, arn)
    assert detail is not None
    assert detail["fairsharePolicy"] == {"computeReservation": 5}


def test_describing_unknown_arns_returns_only_the_policies_that_exist(batch: BatchClient) -> None:
    """DescribeSchedulingPolicies lists no not-found error: ARNs naming no policy are left out
    of the answer (API_DescribeSchedulingPolicies.html)."""
    arn = batch.create_scheduling_policy(name="p")["arn"]

    found = batch.describe_scheduling_policies(arns=[f"{ARN_PREFIX}missing", arn, arn])

    assert [p["arn"] for p in found["schedulingPolicies"]] == [arn]
    assert batch.describe_scheduling_policies(arns=[f"{ARN_PREFIX}x"])["schedulingPolicies"] == []


def test_describing_more_than_100_arns_is_rejected(batch: BatchClient) -> None:
    """arns: "A list of up to 100 scheduling policy Amazon Resource Name (ARN) entries."
    (API_DescribeSchedulingPolicies.html)"""
    arns = [f"{ARN_PREFIX}p{index}" for index in range(101)]

    _assert_client_exception(client_error(lambda: batch.describe_scheduling_policies(arns=arns)))
    assert batch.describe_scheduling_policies(arns=arns[:100])["schedulingPolicies"] == []


def test_list_scheduling_policies_pages_with_max_results_and_next_token(
    batch: BatchClient,
) -> None:
    """maxResults between 1 and 100, then nextToken (API_ListSchedulingPolicies.html)."""
    arns = [batch.create_scheduling_policy(name=f"p{index}")["arn"] for index in range(5)]

    first = batch.list_scheduling_policies(maxResults=2)
    second = batch.list_scheduling_policies(maxResults=2, nextToken=first["nextToken"])
    third = batch.list_scheduling_policies(maxResults=2, nextToken=second["nextToken"])

    pages = [first, second, third]
    assert [p["arn"] for page in pages for p in page["schedulingPolicies"]] == sorted(arns)
    assert "nextToken" not in third
    assert sorted(_listed(batch)) == sorted(arns)
    _assert_client_exception(client_error(lambda: batch.list_scheduling_policies(maxResults=101)))


# --- fairsharePolicy bounds ---------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [-1, 604801])
def test_share_decay_seconds_outside_0_to_604800_is_rejected(
    batch: BatchClient, seconds: int
) -> None:
    """shareDecaySeconds: "The maximum supported value is 604800 (1 week)"; 0 is the default
    window (API_FairsharePolicy.html)."""
    error = _rejected_fairshare(batch, {"shareDecaySeconds": seconds})

    assert "shareDecaySeconds must be between 0 and 604800" in error.message


@pytest.mark.parametrize("reservation", [-1, 100])
def test_compute_reservation_outside_0_to_99_is_rejected(
    batch: BatchClient, reservation: int
) -> None:
    """computeReservation: "The minimum value is 0 and the maximum value is 99."
    (API_FairsharePolicy.html)"""
    error = _rejected_fairshare(batch, {"computeReservation": reservation})

    assert "computeReservation must be between 0 and 99" in error.message


@pytest.mark.parametrize(
    ("decay", "reservation", "weight"),
    [(0, 0, 0.0001), (604800, 99, 999.9999)],
    ids=["lowest", "highest"],
)
def test_bounds_of_decay_reservation_and_weight_factor_are_accepted(
    batch: BatchClient, decay: int, reservation: int, weight: float
) -> None:
    """The documented extremes themselves are valid (API_FairsharePolicy.html,
    API_ShareAttributes.html)."""
    fairshare: FairsharePolicyTypeDef = {
        "shareDecaySeconds": decay,
        "computeReservation": reservation,
        "shareDistribution": [{"shareIdentifier": "a", "weightFactor": weight}],
    }

    arn = batch.create_scheduling_policy(name="p", fairsharePolicy=fairshare)["arn"]

    detail = _describe(batch, arn)
    assert detail is not None
    assert detail["fairsharePolicy"] == fairshare


@pytest.mark.parametrize("weight", [0.0, 0.00009, 1000.0, -1.0])
def test_weight_factor_outside_0_0001_to_999_9999_is_rejected(
    batch: BatchClient, weight: float
) -> None:
    """weightFactor: "The smallest supported value is 0.0001, and the largest supported value
    is 999.9999." (API_ShareAttributes.html)"""
    error = _rejected_fairshare(
        batch, {"shareDistribution": [{"shareIdentifier": "a", "weightFactor": weight}]}
    )

    assert "weightFactor must be between 0.0001 and 999.9999" in error.message


def test_more_than_500_share_identifiers_are_rejected(batch: BatchClient) -> None:
    """ "There can be no more than 500 share identifiers active in a job queue."
    (API_ShareAttributes.html; the API reference gives the list itself no length limit, the
    emulator applies the 500 to it.)"""
    shares: list[Any] = [{"shareIdentifier": f"s{index}"} for index in range(501)]

    _rejected_fairshare(batch, {"shareDistribution": shares})
    arn = batch.create_scheduling_policy(
        name="five-hundred", fairsharePolicy={"shareDistribution": shares[:500]}
    )["arn"]
    detail = _describe(batch, arn)
    assert detail is not None
    assert len(detail["fairsharePolicy"]["shareDistribution"]) == 500


@pytest.mark.parametrize(
    "identifier",
    ["a" * 256, "user-a", "user_a", "a*b", "a**", "*", "", "café"],
    ids=["256-chars", "hyphen", "underscore", "inner-asterisk", "two-asterisks", "bare-asterisk",
         "empty", "non-ascii"],
)  # fmt: skip
def test_share_identifier_not_255_alphanumerics_with_optional_trailing_asterisk_is_rejected(
    batch: BatchClient, identifier: str
) -> None:
    """ "The string is limited to 255 alphanumeric characters, and can be followed by an
    asterisk (*)." (API_ShareAttributes.html)"""
    _rejected_fairshare(batch, {"shareDistribution": [{"shareIdentifier": identifier}]})


def test_share_identifier_of_255_alphanumerics_and_a_trailing_asterisk_is_accepted(
    batch: BatchClient,
) -> None:
    """255 alphanumeric characters followed by an asterisk (API_ShareAttributes.html)."""
    identifier = "A1" * 127 + "z*"

    batch.create_scheduling_policy(
        name="p", fairsharePolicy={"shareDistribution": [{"shareIdentifier": identifier}]}
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("UserA*", "UserA1"), ("UserA1", "UserA*"), ("User*", "UserA*"), ("UserA*", "UserA"),
     ("teamA", "teamA")],
    ids=["prefix-then-id", "id-then-prefix", "nested-prefixes", "prefix-and-its-stem",
         "duplicate"],
)  # fmt: skip
def test_overlapping_share_identifiers_are_rejected(
    batch: BatchClient, first: str, second: str
) -> None:
    """ "The list of share identifiers in a fair-share policy can't overlap. For example, you
    can't have one that specifies a shareIdentifier of UserA* and another that specifies a
    shareIdentifier of UserA1." (API_ShareAttributes.html)"""
    error = _rejected_fairshare(
        batch, {"shareDistribution": [{"shareIdentifier": first}, {"shareIdentifier": second}]}
    )

    assert "overlap" in error.message


def test_disjoint_prefixes_and_identifiers_are_accepted(batch: BatchClient) -> None:
    """Prefixes that no identifier of the other entries starts with don't overlap
    (API_ShareAttributes.html)."""
    shares: list[Any] = [
        {"shareIdentifier": "UserA*"},
        {"shareIdentifier": "UserB1"},
        {"shareIdentifier": "User"},
    ]

    batch.create_scheduling_policy(name="p", fairsharePolicy={"shareDistribution": shares})


# --- update and delete ------------------------------------------------------------------------


def test_update_replaces_the_fairshare_policy_and_keeps_the_tags(batch: BatchClient) -> None:
    """UpdateSchedulingPolicy takes arn and fairsharePolicy (API_UpdateSchedulingPolicy.html)."""
    arn = batch.create_scheduling_policy(name="p", fairsharePolicy=FAIRSHARE, tags={"k": "v"})[
        "arn"
    ]
    new: FairsharePolicyTypeDef = {
        "shareDecaySeconds": 600,
        "shareDistribution": [{"shareIdentifier": "other", "weightFactor": 3.0}],
    }

    batch.update_scheduling_policy(arn=arn, fairsharePolicy=new)

    assert _describe(batch, arn) == {
        "name": "p",
        "arn": arn,
        "fairsharePolicy": new,
        "tags": {"k": "v"},
    }


def test_update_checks_the_same_bounds_as_create_and_changes_nothing_when_rejected(
    batch: BatchClient,
) -> None:
    """The FairsharePolicy rules apply to UpdateSchedulingPolicy's fairsharePolicy too
    (API_UpdateSchedulingPolicy.html, API_FairsharePolicy.html)."""
    arn = batch.create_scheduling_policy(name="p", fairsharePolicy=FAIRSHARE)["arn"]

    error = client_error(
        lambda: batch.update_scheduling_policy(arn=arn, fairsharePolicy={"computeReservation": 100})
    )

    _assert_client_exception(error)
    detail = _describe(batch, arn)
    assert detail is not None
    assert detail["fairsharePolicy"] == FAIRSHARE


def test_update_or_delete_of_an_unknown_arn_is_a_client_exception(batch: BatchClient) -> None:
    """UpdateSchedulingPolicy and DeleteSchedulingPolicy answer ClientException for "an
    identifier that's not valid" (API_UpdateSchedulingPolicy.html,
    API_DeleteSchedulingPolicy.html)."""
    missing = f"{ARN_PREFIX}missing"

    update = client_error(
        lambda: batch.update_scheduling_policy(
            arn=missing, fairsharePolicy={"computeReservation": 1}
        )
    )
    delete = client_error(lambda: batch.delete_scheduling_policy(arn=missing))

    for error in (update, delete):
        _assert_client_exception(error)
        assert error.message == f"{missing} does not exist"


def test_deleted_policy_is_gone_from_describe_list_and_tags(batch: BatchClient) -> None:
    """DeleteSchedulingPolicy "Deletes the specified scheduling policy."
    (API_DeleteSchedulingPolicy.html)"""
    arn = batch.create_scheduling_policy(name="p", tags={"k": "v"})["arn"]

    batch.delete_scheduling_policy(arn=arn)

    assert _describe(batch, arn) is None
    assert _listed(batch) == []
    _assert_client_exception(client_error(lambda: batch.list_tags_for_resource(resourceArn=arn)))
    recreated = batch.create_scheduling_policy(name="p")["arn"]
    assert batch.list_tags_for_resource(resourceArn=recreated)["tags"] == {}


def test_policy_used_by_a_job_queue_cannot_be_deleted_until_the_queue_is_gone(
    batch: BatchClient, emulator: Emulator
) -> None:
    """ "You can't delete a scheduling policy that's used in any job queues."
    (API_DeleteSchedulingPolicy.html)"""
    policy = batch.create_scheduling_policy(name="p", fairsharePolicy=FAIRSHARE)["arn"]
    _queue_with_policy(batch, emulator, policy)

    error = client_error(lambda: batch.delete_scheduling_policy(arn=policy))

    _assert_client_exception(error)
    assert error.message == "Cannot delete, found existing JobQueue relationship"
    assert _describe(batch, policy) is not None
    disable_and_delete_queue(batch, "q")
    batch.delete_scheduling_policy(arn=policy)
    assert _describe(batch, policy) is None


# --- tags ---------------------------------------------------------------------------------------


def test_scheduling_policy_tags_from_create_and_tag_resource_are_listed_and_described(
    batch: BatchClient,
) -> None:
    """Tags "can be updated or removed using the TagResource and UntagResource API
    operations." (API_CreateSchedulingPolicy.html)"""
    arn = batch.create_scheduling_policy(name="p", tags={"team": "data"})["arn"]

    batch.tag_resource(resourceArn=arn, tags={"cost-center": "42"})
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "team": "data",
        "cost-center": "42",
    }
    batch.untag_resource(resourceArn=arn, tagKeys=["team"])

    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {"cost-center": "42"}
    detail = _describe(batch, arn)
    assert detail is not None
    assert detail["tags"] == {"cost-center": "42"}


def test_tagging_an_unknown_scheduling_policy_arn_is_a_client_exception(
    batch: BatchClient,
) -> None:
    """TagResource needs an existing resource's ARN (API_TagResource.html)."""
    error = client_error(
        lambda: batch.tag_resource(resourceArn=f"{ARN_PREFIX}missing", tags={"k": "v"})
    )

    _assert_client_exception(error)


# --- job queues -----------------------------------------------------------------------------


def test_job_queue_with_an_existing_policy_reports_it(
    batch: BatchClient, emulator: Emulator
) -> None:
    """CreateJobQueue's schedulingPolicyArn names a fair-share scheduling policy
    (API_CreateJobQueue.html)."""
    policy = batch.create_scheduling_policy(name="p")["arn"]

    _queue_with_policy(batch, emulator, policy)

    detail = find_queue(batch, "q")
    assert detail is not None
    assert detail["schedulingPolicyArn"] == policy


def test_job_queue_naming_a_policy_that_does_not_exist_is_rejected(
    batch: BatchClient, emulator: Emulator
) -> None:
    """schedulingPolicyArn is "The Amazon Resource Name (ARN) of the fair-share scheduling
    policy" (API_CreateJobQueue.html): one that does not exist is a ClientException."""
    missing = f"{ARN_PREFIX}missing"

    error = client_error(lambda: _queue_with_policy(batch, emulator, missing))

    _assert_client_exception(error)
    assert error.message == f"{missing} does not exist"
    assert find_queue(batch, "q") is None


def test_job_queue_policy_can_be_replaced_by_an_existing_one_only(
    batch: BatchClient, emulator: Emulator
) -> None:
    """ "After a job queue has a fair-share scheduling policy, it can be replaced"
    (API_CreateJobQueue.html, API_UpdateJobQueue.html); the replacement must exist."""
    first = batch.create_scheduling_policy(name="first")["arn"]
    second = batch.create_scheduling_policy(name="second")["arn"]
    _queue_with_policy(batch, emulator, first)

    missing = client_error(
        lambda: batch.update_job_queue(jobQueue="q", schedulingPolicyArn=f"{ARN_PREFIX}missing")
    )
    _assert_client_exception(missing)
    batch.update_job_queue(jobQueue="q", schedulingPolicyArn=second)
    wait_queue_status(batch, "q", "VALID")

    detail = find_queue(batch, "q")
    assert detail is not None
    assert detail["schedulingPolicyArn"] == second
    batch.delete_scheduling_policy(arn=first)


def test_job_queue_policy_cannot_be_removed(batch: BatchClient, emulator: Emulator) -> None:
    """ "Once a job queue is created, the fair-share scheduling policy can be replaced but not
    removed." (API_UpdateJobQueue.html)"""
    policy = batch.create_scheduling_policy(name="p")["arn"]
    _queue_with_policy(batch, emulator, policy)

    error = client_error(lambda: batch.update_job_queue(jobQueue="q", schedulingPolicyArn=""))

    _assert_client_exception(error)
    detail = find_queue(batch, "q")
    assert detail is not None
    assert detail["schedulingPolicyArn"] == policy
    assert detail["status"] == "VALID"


def test_fifo_job_queue_cannot_get_a_policy_added(batch: BatchClient, emulator: Emulator) -> None:
    """ "A job queue without a fair-share scheduling policy is scheduled as a FIFO job queue and
    can't have a fair-share scheduling policy added." (API_CreateJobQueue.html)"""
    policy = batch.create_scheduling_policy(name="p")["arn"]
    _queue_with_policy(batch, emulator, None)

    error = client_error(
        lambda: batch.update_job_queue(jobQueue="q", schedulingPolicyArn=policy, priority=7)
    )

    _assert_client_exception(error)
    detail = find_queue(batch, "q")
    assert detail is not None
    assert "schedulingPolicyArn" not in detail
    assert detail["priority"] == 1
    batch.delete_scheduling_policy(arn=policy)


# --- the emulator's own bookkeeping -------------------------------------------------------------


def test_quota_share_policy_is_refused_as_not_emulated(batch: BatchClient) -> None:
    """quotaSharePolicy ("Only one of fairsharePolicy or quotaSharePolicy can be set",
    API_CreateSchedulingPolicy.html) is not emulated: refused with a ClientException that says
    so, rather than stored under rules the emulator does not know."""
    error = client_error(
        lambda: batch.create_scheduling_policy(
            name="p", quotaSharePolicy={"idleResourceAssignmentStrategy": "FIFO"}
        )
    )

    _assert_client_exception(error)
    assert error.message == "The batchops emulator does not support quotaSharePolicy"
    assert _listed(batch) == []


def test_scheduling_policy_calls_are_counted_and_reset_clears_policies(
    batch: BatchClient, emulator: Emulator
) -> None:
    """Counters and reset are the emulator's control API (control.py), not AWS behaviour."""
    arn = batch.create_scheduling_policy(name="p")["arn"]
    batch.describe_scheduling_policies(arns=[arn])
    batch.list_scheduling_policies()
    batch.update_scheduling_policy(arn=arn, fairsharePolicy={"computeReservation": 1})
    client_error(lambda: batch.delete_scheduling_policy(arn=f"{ARN_PREFIX}missing"))
    batch.delete_scheduling_policy(arn=arn)
    batch.create_scheduling_policy(name="kept")

    counters = emulator.counters()
    for operation, calls in {
        "CreateSchedulingPolicy": 2,
        "DescribeSchedulingPolicies": 1,
        "ListSchedulingPolicies": 1,
        "UpdateSchedulingPolicy": 1,
        "DeleteSchedulingPolicy": 2,
    }.items():
        assert counters[operation] == calls, operation

    emulator.reset()
    assert _listed(batch) == []
    assert emulator.counters() == {"ListSchedulingPolicies": 1}
