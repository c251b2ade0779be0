"""Consumable resources behave as the AWS Batch documentation says.

Sources (each test's docstring names the page its rule comes from):
- https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateConsumableResource.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeConsumableResource.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_ListConsumableResources.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateConsumableResource.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_DeleteConsumableResource.html
- https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobsByConsumableResource.html
- https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-create.html
- https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-update-quantity.html
- https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-delete.html
AWS documents none of the rejections' wording, so the tests assert the error class
(ClientException, HTTP 400), that nothing changed, and the emulator's own text only where a
client would need to tell two rejections apart.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from mypy_boto3_batch import BatchClient

from batchops.local.emulator import Emulator, consumableresources
from tests.emulator.waits import ErrorResponse, client_error

ARN_PREFIX = "arn:aws:batch:us-east-1:123456789012:consumable-resource/"


def _describe(batch: BatchClient, resource: str) -> dict[str, Any]:
    described = dict(batch.describe_consumable_resource(consumableResource=resource))
    described.pop("ResponseMetadata", None)
    return described


def _names(batch: BatchClient, **request: Any) -> list[str]:
    listed = batch.list_consumable_resources(**request)["consumableResources"]
    return [summary["consumableResourceName"] for summary in listed]


def _total(batch: BatchClient, resource: str) -> int:
    return batch.describe_consumable_resource(consumableResource=resource)["totalQuantity"]


def _assert_client_exception(error: ErrorResponse) -> None:
    assert error.code == "ClientException"
    assert error.http_status == 400


# --- create, describe ----------------------------------------------------------------------------


def test_created_resource_has_the_documented_arn_and_is_described_with_quantities_and_tags(
    batch: BatchClient,
) -> None:
    """CreateConsumableResource returns consumableResourceName and consumableResourceArn;
    DescribeConsumableResource returns the name, ARN, totalQuantity, inUseQuantity,
    availableQuantity, resourceType, createdAt ("The Unix timestamp (in milliseconds)") and
    tags (API_CreateConsumableResource.html, API_DescribeConsumableResource.html)."""
    before = int(time.time() * 1000)
    created = batch.create_consumable_resource(
        consumableResourceName="license_pool-1",
        totalQuantity=10,
        resourceType="NON_REPLENISHABLE",
        tags={"team": "data"},
    )
    after = int(time.time() * 1000)

    assert created["consumableResourceName"] == "license_pool-1"
    assert created["consumableResourceArn"] == f"{ARN_PREFIX}license_pool-1"
    described = _describe(batch, created["consumableResourceArn"])
    created_at = described.pop("createdAt")
    assert before <= created_at <= after
    assert described == {
        "consumableResourceName": "license_pool-1",
        "consumableResourceArn": f"{ARN_PREFIX}license_pool-1",
        "totalQuantity": 10,
        "inUseQuantity": 0,
        "availableQuantity": 10,
        "resourceType": "NON_REPLENISHABLE",
        "tags": {"team": "data"},
    }


def test_resource_type_defaults_to_replenishable_and_is_described_by_name_too(
    batch: BatchClient,
) -> None:
    """resourceType: "REPLENISHABLE (default)"; consumableResource is "The name or ARN of the
    consumable resource" (API_CreateConsumableResource.html,
    API_DescribeConsumableResource.html)."""
    batch.create_consumable_resource(consumableResourceName="tokens", totalQuantity=3)

    described = _describe(batch, "tokens")

    assert described["resourceType"] == "REPLENISHABLE"
    assert described["totalQuantity"] == 3
    assert "tags" not in described


def test_resource_type_other_than_replenishable_or_non_replenishable_is_rejected(
    batch: BatchClient,
) -> None:
    """resourceType "Can be one of: REPLENISHABLE (default), NON_REPLENISHABLE"
    (API_CreateConsumableResource.html)."""
    error = client_error(
        lambda: batch.create_consumable_resource(
            consumableResourceName="r", totalQuantity=1, resourceType="LICENSES"
        )
    )

    _assert_client_exception(error)
    assert _names(batch) == []


def test_negative_total_quantity_is_rejected(batch: BatchClient) -> None:
    """totalQuantity: "Must be non-negative." (API_CreateConsumableResource.html)"""
    error = client_error(
        lambda: batch.create_consumable_resource(consumableResourceName="r", totalQuantity=-1)
    )

    _assert_client_exception(error)
    assert _names(batch) == []


def test_total_quantity_of_zero_is_accepted_and_is_the_default(batch: BatchClient) -> None:
    """totalQuantity "Must be non-negative" and is "Required: No"; AWS documents no default, the
    emulator starts at 0 (API_CreateConsumableResource.html)."""
    batch.create_consumable_resource(consumableResourceName="zero", totalQuantity=0)
    batch.create_consumable_resource(consumableResourceName="unset")

    assert _total(batch, "zero") == 0
    assert _total(batch, "unset") == 0


def test_creating_a_resource_with_an_existing_name_fails_and_keeps_the_first(
    batch: BatchClient,
) -> None:
    """consumableResourceName: "Must be unique." (API_CreateConsumableResource.html); "unique
    at the account level" (resource-aware-scheduling-how-to-create.html)."""
    batch.create_consumable_resource(consumableResourceName="r", totalQuantity=5)

    error = client_error(
        lambda: batch.create_consumable_resource(
            consumableResourceName="r", totalQuantity=9, resourceType="NON_REPLENISHABLE"
        )
    )

    _assert_client_exception(error)
    assert "Object already exists" in error.message
    described = _describe(batch, "r")
    assert (described["totalQuantity"], described["resourceType"]) == (5, "REPLENISHABLE")


@pytest.mark.parametrize(
    "name",
    ["a" * 129, "has space", "dot.ted", "colon:name", "slash/name", ""],
    ids=["129-chars", "space", "dot", "colon", "slash", "empty"],
)
def test_resource_name_outside_128_letters_numbers_hyphens_underscores_is_rejected(
    batch: BatchClient, name: str
) -> None:
    """API_CreateConsumableResource.html documents no name format: the emulator applies
    Batch's rule for its other names ("up to 128 letters ... letters, numbers, hyphens (-), and
    underscores (_)", API_CreateSchedulingPolicy.html), so that a name can't be taken for an
    ARN. This is the emulator's assumption, not a documented AWS rule."""
    error = client_error(
        lambda: batch.create_consumable_resource(consumableResourceName=name, totalQuantity=1)
    )

    _assert_client_exception(error)
    assert _names(batch) == []


def test_resource_name_of_128_letters_numbers_hyphens_and_underscores_is_accepted(
    batch: BatchClient,
) -> None:
    """The emulator's name rule (see the rejection test) accepts up to 128 such characters."""
    name = ("Ab9-_" * 26)[:128]

    arn = batch.create_consumable_resource(consumableResourceName=name)["consumableResourceArn"]

    assert arn == f"{ARN_PREFIX}{name}"


def test_more_than_the_account_limit_of_resources_is_rejected(
    batch: BatchClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "The maximum number of consumable resources per account is 50k."
    (resource-aware-scheduling-how-to-create.html); the limit is lowered to 2 for the test."""
    monkeypatch.setattr(consumableresources, "MAX_CONSUMABLE_RESOURCES", 2)
    batch.create_consumable_resource(consumableResourceName="a")
    batch.create_consumable_resource(consumableResourceName="b")

    error = client_error(lambda: batch.create_consumable_resource(consumableResourceName="c"))

    _assert_client_exception(error)
    assert _names(batch) == ["a", "b"]


def test_describe_update_delete_of_an_unknown_name_or_arn_is_a_client_exception(
    batch: BatchClient,
) -> None:
    """DescribeConsumableResource, UpdateConsumableResource, DeleteConsumableResource and
    ListJobsByConsumableResource answer ClientException for "an identifier that's not valid"
    (API_DescribeConsumableResource.html, API_UpdateConsumableResource.html,
    API_DeleteConsumableResource.html, API_ListJobsByConsumableResource.html)."""
    batch.create_consumable_resource(consumableResourceName="known", totalQuantity=1)
    # An ARN of another account or kind that ends in an existing name is not that resource.
    other_account = "arn:aws:batch:us-east-1:999999999999:consumable-resource/known"
    queue_arn = "arn:aws:batch:us-east-1:123456789012:job-queue/known"

    for identifier in ("missing", f"{ARN_PREFIX}missing", other_account, queue_arn):
        for error in _errors_for_every_operation(batch, identifier):
            _assert_client_exception(error)
            assert error.message == f"Consumable resource {identifier} does not exist"
    assert _total(batch, "known") == 1


def _errors_for_every_operation(batch: BatchClient, identifier: str) -> list[ErrorResponse]:
    return [
        client_error(lambda: batch.describe_consumable_resource(consumableResource=identifier)),
        client_error(
            lambda: batch.update_consumable_resource(
                consumableResource=identifier, operation="SET", quantity=1
            )
        ),
        client_error(lambda: batch.delete_consumable_resource(consumableResource=identifier)),
        client_error(lambda: batch.list_jobs_by_consumable_resource(consumableResource=identifier)),
    ]


# --- list ----------------------------------------------------------------------------------------


def test_list_returns_summaries_and_pages_with_max_results_and_next_token(
    batch: BatchClient,
) -> None:
    """ConsumableResourceSummary has the ARN, name, totalQuantity, inUseQuantity and
    resourceType; maxResults "can be between 1 and 100", then nextToken
    (API_ListConsumableResources.html, API_ConsumableResourceSummary.html)."""
    for index in range(5):
        batch.create_consumable_resource(consumableResourceName=f"r{index}", totalQuantity=index)

    first = batch.list_consumable_resources(maxResults=2)
    second = batch.list_consumable_resources(maxResults=2, nextToken=first["nextToken"])
    third = batch.list_consumable_resources(maxResults=2, nextToken=second["nextToken"])

    pages = [first, second, third]
    listed = [s["consumableResourceName"] for p in pages for s in p["consumableResources"]]
    assert listed == ["r0", "r1", "r2", "r3", "r4"]
    assert "nextToken" not in third
    assert first["consumableResources"][1] == {
        "consumableResourceArn": f"{ARN_PREFIX}r1",
        "consumableResourceName": "r1",
        "totalQuantity": 1,
        "inUseQuantity": 0,
        "resourceType": "REPLENISHABLE",
    }


@pytest.mark.parametrize("max_results", [0, 101])
def test_list_max_results_outside_1_to_100_is_rejected(
    batch: BatchClient, max_results: int
) -> None:
    """maxResults: "This value can be between 1 and 100." (API_ListConsumableResources.html)"""
    error = client_error(lambda: batch.list_consumable_resources(maxResults=max_results))

    _assert_client_exception(error)


def test_name_filter_matches_case_insensitively_and_by_prefix_with_an_asterisk(
    batch: BatchClient,
) -> None:
    """CONSUMABLE_RESOURCE_NAME "values: case-insensitive matches for the consumable resource
    name. If a filter value ends with an asterisk (*), it matches any consumable resource name
    that begins with the string before the '*'." (API_ListConsumableResources.html)"""
    for name in ("License-A", "license-b", "db-conn", "licenses"):
        batch.create_consumable_resource(consumableResourceName=name)

    def named(*values: str) -> list[str]:
        return _names(batch, filters=[{"name": "CONSUMABLE_RESOURCE_NAME", "values": [*values]}])

    assert named("LICENSE-a") == ["License-A"]
    assert named("license-*") == ["License-A", "license-b"]
    assert named("LIC*", "db-conn") == ["License-A", "db-conn", "license-b", "licenses"]
    assert named("license") == []
    assert named("*") == ["License-A", "db-conn", "license-b", "licenses"]


def test_filter_name_other_than_consumable_resource_name_is_rejected(batch: BatchClient) -> None:
    """CONSUMABLE_RESOURCE_NAME is the only filter name (API_ListConsumableResources.html);
    the emulator refuses others rather than ignoring them (undocumented)."""
    error = client_error(
        lambda: batch.list_consumable_resources(filters=[{"name": "JOB_NAME", "values": ["x"]}])
    )

    _assert_client_exception(error)


# --- update --------------------------------------------------------------------------------------


def test_set_add_and_remove_change_the_total_quantity(batch: BatchClient) -> None:
    """SET "Sets the quantity of the resource to the value specified by the quantity
    parameter", ADD "Increases" and REMOVE "Reduces" it by that value; the response has the
    name, ARN and totalQuantity (API_UpdateConsumableResource.html)."""
    arn = batch.create_consumable_resource(consumableResourceName="r", totalQuantity=10)[
        "consumableResourceArn"
    ]

    added = batch.update_consumable_resource(consumableResource="r", operation="ADD", quantity=5)
    removed = batch.update_consumable_resource(
        consumableResource=arn, operation="REMOVE", quantity=3
    )
    assert (added["totalQuantity"], removed["totalQuantity"]) == (15, 12)
    assert added["consumableResourceName"] == "r"
    assert added["consumableResourceArn"] == arn
    batch.update_consumable_resource(consumableResource="r", operation="SET", quantity=4)

    described = _describe(batch, "r")
    assert (described["totalQuantity"], described["availableQuantity"]) == (4, 4)


def test_remove_down_to_zero_is_accepted_and_below_zero_is_rejected(batch: BatchClient) -> None:
    """totalQuantity "Must be non-negative" (API_CreateConsumableResource.html); AWS does not
    document a REMOVE of more than the total (API_UpdateConsumableResource.html): the emulator
    refuses it and leaves the total alone."""
    batch.create_consumable_resource(consumableResourceName="r", totalQuantity=3)

    error = client_error(
        lambda: batch.update_consumable_resource(
            consumableResource="r", operation="REMOVE", quantity=4
        )
    )
    _assert_client_exception(error)
    assert _total(batch, "r") == 3
    batch.update_consumable_resource(consumableResource="r", operation="REMOVE", quantity=3)
    assert _total(batch, "r") == 0


@pytest.mark.parametrize("operation", ["SET", "ADD", "REMOVE"])
def test_negative_update_quantity_is_rejected(batch: BatchClient, operation: str) -> None:
    """quantity: "Must be a non-negative value." (API_UpdateConsumableResource.html)"""
    batch.create_consumable_resource(consumableResourceName="r", totalQuantity=3)

    error = client_error(
        lambda: batch.update_consumable_resource(
            consumableResource="r", operation=operation, quantity=-1
        )
    )

    _assert_client_exception(error)
    assert _total(batch, "r") == 3


def test_operation_other_than_set_add_remove_is_rejected(batch: BatchClient) -> None:
    """operation: "Must be one of: SET ... ADD ... REMOVE" (API_UpdateConsumableResource.html)"""
    batch.create_consumable_resource(consumableResourceName="r", totalQuantity=3)

    error = client_error(
        lambda: batch.update_consumable_resource(
            consumableResource="r", operation="MULTIPLY", quantity=2
        )
    )

    _assert_client_exception(error)
    assert _total(batch, "r") == 3


def test_same_client_token_and_payload_updates_once_and_both_requests_succeed(
    batch: BatchClient,
) -> None:
    """clientToken: "two update requests with identical payloads and clientTokens are received,
    these requests are considered the same request. Both requests will succeed, but the update
    will only happen once." (API_UpdateConsumableResource.html)"""
    batch.create_consumable_resource(consumableResourceName="r", totalQuantity=10)

    def add(quantity: int, token: str) -> int:
        return batch.update_consumable_resource(
            consumableResource="r", operation="ADD", quantity=quantity, clientToken=token
        )["totalQuantity"]

    assert add(5, "token-1") == 15
    assert add(5, "token-1") == 15
    assert _total(batch, "r") == 15
    # A different token is a different request; a different payload is not "the same request".
    assert add(5, "token-2") == 20
    assert add(1, "token-1") == 21
    assert _total(batch, "r") == 21


def test_updates_without_an_explicit_client_token_are_each_applied(
    batch: BatchClient,
) -> None:
    """clientToken is an idempotency token botocore fills in when the caller gives none, a new
    one per call: two calls are two updates (API_UpdateConsumableResource.html)."""
    batch.create_consumable_resource(consumableResourceName="r", totalQuantity=0)

    for _ in range(2):
        batch.update_consumable_resource(consumableResource="r", operation="ADD", quantity=2)

    assert _total(batch, "r") == 4


# --- delete --------------------------------------------------------------------------------------


def test_deleted_resource_is_gone_from_describe_list_and_tags_and_can_be_recreated(
    batch: BatchClient,
) -> None:
    """DeleteConsumableResource "Deletes the specified consumable resource."
    (API_DeleteConsumableResource.html); re-created with the same name, "it is considered to be
    the same resource" (resource-aware-scheduling-how-to-delete.html): the same ARN."""
    arn = batch.create_consumable_resource(consumableResourceName="r", tags={"k": "v"})[
        "consumableResourceArn"
    ]

    batch.delete_consumable_resource(consumableResource="r")

    _assert_client_exception(
        client_error(lambda: batch.describe_consumable_resource(consumableResource=arn))
    )
    assert _names(batch) == []
    _assert_client_exception(client_error(lambda: batch.list_tags_for_resource(resourceArn=arn)))
    recreated = batch.create_consumable_resource(consumableResourceName="r")
    assert recreated["consumableResourceArn"] == arn
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_deleting_by_arn_is_not_refused_for_a_resource_with_quantity(batch: BatchClient) -> None:
    """ "You can delete a consumable resource at any time, even when the jobs that require the
    resource are still running." (resource-aware-scheduling-how-to-delete.html)"""
    arn = batch.create_consumable_resource(consumableResourceName="r", totalQuantity=7)[
        "consumableResourceArn"
    ]

    batch.delete_consumable_resource(consumableResource=arn)

    assert _names(batch) == []


# --- jobs by consumable resource -------------------------------------------------------------
# What ListJobsByConsumableResource lists, and how jobs claim resources: test_conformance_
# consumable_jobs.py. Here: its request is checked like AWS's.


@pytest.mark.parametrize(
    "request_fields",
    [
        {"filters": [{"name": "JOB_STATUS", "values": ["DONE"]}]},
        {"filters": [{"name": "CONSUMABLE_RESOURCE_NAME", "values": ["r"]}]},
        {"maxResults": 101},
        {"maxResults": 0},
    ],
    ids=["bad-status", "bad-filter-name", "max-101", "max-0"],
)
def test_list_jobs_by_consumable_resource_checks_filters_and_max_results(
    batch: BatchClient, request_fields: dict[str, Any]
) -> None:
    """Filters are JOB_STATUS (SUBMITTED | PENDING | RUNNABLE | STARTING | RUNNING | SUCCEEDED |
    FAILED) and JOB_NAME; maxResults "can be between 1 and 100"
    (API_ListJobsByConsumableResource.html)."""
    batch.create_consumable_resource(consumableResourceName="r", totalQuantity=1)

    error = client_error(
        lambda: batch.list_jobs_by_consumable_resource(consumableResource="r", **request_fields)
    )

    _assert_client_exception(error)


# --- tags ----------------------------------------------------------------------------------------


def test_consumable_resource_tags_from_create_and_tag_resource_are_listed_and_described(
    batch: BatchClient,
) -> None:
    """Tags: "Each tag consists of a key and an optional value" (API_CreateConsumableResource
    .html); TagResource, UntagResource and ListTagsForResource take "Batch resources" ARNs,
    consumable resources among them (API_TagResource.html)."""
    arn = batch.create_consumable_resource(consumableResourceName="r", tags={"team": "data"})[
        "consumableResourceArn"
    ]

    batch.tag_resource(resourceArn=arn, tags={"cost-center": "42"})
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "team": "data",
        "cost-center": "42",
    }
    batch.untag_resource(resourceArn=arn, tagKeys=["team"])

    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {"cost-center": "42"}
    assert _describe(batch, "r")["tags"] == {"cost-center": "42"}


def test_tagging_an_unknown_consumable_resource_arn_is_a_client_exception(
    batch: BatchClient,
) -> None:
    """TagResource needs an existing resource's ARN (API_TagResource.html)."""
    error = client_error(
        lambda: batch.tag_resource(resourceArn=f"{ARN_PREFIX}missing", tags={"k": "v"})
    )

    _assert_client_exception(error)


# --- the emulator's own bookkeeping -------------------------------------------------------------


def test_consumable_resource_calls_are_counted_and_reset_clears_resources(
    batch: BatchClient, emulator: Emulator
) -> None:
    """Counters and reset are the emulator's control API (control.py), not AWS behaviour."""
    arn = batch.create_consumable_resource(consumableResourceName="r", tags={"k": "v"})[
        "consumableResourceArn"
    ]
    batch.describe_consumable_resource(consumableResource="r")
    batch.list_consumable_resources()
    batch.update_consumable_resource(consumableResource="r", operation="ADD", quantity=1)
    batch.list_jobs_by_consumable_resource(consumableResource="r")
    client_error(lambda: batch.delete_consumable_resource(consumableResource="missing"))
    batch.delete_consumable_resource(consumableResource="r")
    batch.create_consumable_resource(consumableResourceName="kept", tags={"k": "v"})

    counters = emulator.counters()
    for operation, calls in {
        "CreateConsumableResource": 2,
        "DescribeConsumableResource": 1,
        "ListConsumableResources": 1,
        "UpdateConsumableResource": 1,
        "DeleteConsumableResource": 2,
        "ListJobsByConsumableResource": 1,
    }.items():
        assert counters[operation] == calls, operation

    emulator.reset()
    assert _names(batch) == []
    assert emulator.counters() == {"ListConsumableResources": 1}
    kept = arn.replace("/r", "/kept")
    _assert_client_exception(client_error(lambda: batch.list_tags_for_resource(resourceArn=kept)))
