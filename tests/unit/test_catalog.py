"""The job definition catalog lists once, follows our own writes, and lists again when old."""

from __future__ import annotations

from typing import Any

from batchops.jobs.catalog import JobDefinitionCatalog
from batchops.model.observed import ObservedJobDefinition

ARN_PREFIX = "arn:aws:batch:us-east-1:123456789012:job-definition/"


def item(name: str, revision: int) -> dict[str, Any]:
    return {
        "jobDefinitionName": name,
        "jobDefinitionArn": f"{ARN_PREFIX}{name}:{revision}",
        "revision": revision,
        "status": "ACTIVE",
        "tags": {"batchops.io/content-hash": f"h{revision}"},
    }


class Account:
    def __init__(self, *items: dict[str, Any]) -> None:
        self.items = list(items)
        self.listings = 0

    def list_active(self) -> list[dict[str, Any]]:
        self.listings += 1
        return list(self.items)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_listing_answers_every_name_including_names_with_no_revision() -> None:
    account = Account(item("ns_p_a", 1), item("ns_p_a", 2), item("ns_p_b", 1))
    catalog = JobDefinitionCatalog(account.list_active, clock=Clock())
    assert [d.revision for d in catalog.revisions("ns_p_a")] == [1, 2]
    assert catalog.revisions("ns_q_a") == []
    assert account.listings == 1


def test_own_registrations_and_deregistrations_are_seen_without_listing_again() -> None:
    account = Account(item("ns_p_a", 1))
    catalog = JobDefinitionCatalog(account.list_active, clock=Clock())
    catalog.revisions("ns_p_a")
    catalog.registered(ObservedJobDefinition.from_describe(item("ns_p_a", 2)))
    catalog.deregistered(item("ns_p_a", 1)["jobDefinitionArn"])
    assert [d.revision for d in catalog.revisions("ns_p_a")] == [2]
    assert account.listings == 1


def test_a_stale_catalog_lists_again_and_sees_changes_made_elsewhere() -> None:
    account, clock = Account(item("ns_p_a", 1)), Clock()
    catalog = JobDefinitionCatalog(account.list_active, max_age=60, clock=clock)
    catalog.revisions("ns_p_a")
    account.items = [item("ns_p_a", 1), item("ns_p_a", 7)]  # another replica registered one
    clock.now = 61
    assert [d.revision for d in catalog.revisions("ns_p_a")] == [1, 7]
    assert account.listings == 2
