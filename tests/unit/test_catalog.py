"""The job definition catalog lists once, follows our own writes, lists again when old, and
hands out and retires shared definitions without a race between the two."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from batchops.jobs.catalog import JobDefinitionCatalog
from batchops.model.keys import CONTENT_HASH_TAG
from batchops.model.observed import ObservedJobDefinition
from batchops.plans.jobdefs import DefinitionScope, RegisterJobDefinition

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


def wanted(name: str, digest: str) -> RegisterJobDefinition:
    return RegisterJobDefinition(
        "step", name, digest, {"jobDefinitionName": name, "type": "container"}
    )


class Registrar:
    """Registers like Batch: the next revision of the name, tagged with the content hash."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.calls = 0

    def __call__(self, name: str, digest: str) -> ObservedJobDefinition:
        self.calls += 1
        revision = 1 + sum(1 for i in self.account.items if i["jobDefinitionName"] == name)
        registered = {**item(name, revision), "tags": {CONTENT_HASH_TAG: digest}}
        self.account.items.append(registered)
        return ObservedJobDefinition.from_describe(registered)


def test_pipelines_asking_for_the_same_content_share_one_registration() -> None:
    account = Account()
    catalog = JobDefinitionCatalog(account.list_active, clock=Clock())
    registrar = Registrar(account)
    first = catalog.use(("ns", "p1"), wanted("ns_h1", "h1"), lambda: registrar("ns_h1", "h1"))
    second = catalog.use(("ns", "p2"), wanted("ns_h1", "h1"), lambda: registrar("ns_h1", "h1"))
    assert first == second and registrar.calls == 1


def test_concurrent_first_uses_of_a_new_content_register_it_once() -> None:
    account = Account()
    catalog = JobDefinitionCatalog(account.list_active, clock=Clock())
    registrar = Registrar(account)
    together = threading.Barrier(8)  # every thread asks at the same moment

    def ask(n: int) -> str:
        together.wait(timeout=10)
        return catalog.use(("ns", f"p{n}"), wanted("ns_h1", "h1"), lambda: registrar("ns_h1", "h1"))

    with ThreadPoolExecutor(8) as pool:
        arns = set(pool.map(ask, range(8)))
    assert registrar.calls == 1 and len(arns) == 1


def test_a_held_definition_is_not_retired_and_a_released_one_is() -> None:
    account = Account()
    catalog = JobDefinitionCatalog(account.list_active, clock=Clock())
    registrar = Registrar(account)
    arn = catalog.use(("ns", "p1"), wanted("ns_h1", "h1"), lambda: registrar("ns_h1", "h1"))
    assert catalog.take_retirable(DefinitionScope("ns"), named_in_status=()) == []
    catalog.release(("ns", "p1"))
    assert [d.arn for d in catalog.take_retirable(DefinitionScope("ns"), named_in_status=())] == [
        arn
    ]
    assert catalog.revisions("ns_h1") == []  # gone from the catalog in the same step


def test_a_definition_named_in_a_pipelines_status_is_kept_without_any_hold() -> None:
    # After a restart nothing is held: the status index alone keeps what runs use.
    account = Account(item("ns_h1", 1))
    catalog = JobDefinitionCatalog(account.list_active, clock=Clock())
    arn = item("ns_h1", 1)["jobDefinitionArn"]
    assert catalog.take_retirable(DefinitionScope("ns"), named_in_status={arn}) == []
    assert [
        d.arn for d in catalog.take_retirable(DefinitionScope("ns"), named_in_status=set())
    ] == [arn]


def test_the_leaving_pipelines_own_hold_does_not_keep_its_definitions() -> None:
    account = Account()
    catalog = JobDefinitionCatalog(account.list_active, clock=Clock())
    registrar = Registrar(account)
    catalog.use(("ns", "gone"), wanted("ns_h1", "h1"), lambda: registrar("ns_h1", "h1"))
    catalog.use(("ns", "stays"), wanted("ns_h2", "h2"), lambda: registrar("ns_h2", "h2"))
    taken = catalog.take_retirable(DefinitionScope("ns"), (), exclude=("ns", "gone"))
    assert [d.name for d in taken] == ["ns_h1"]


def test_a_use_after_retirement_registers_a_fresh_revision_instead_of_the_retired_one() -> None:
    account = Account()
    catalog = JobDefinitionCatalog(account.list_active, clock=Clock())
    registrar = Registrar(account)
    old = catalog.use(("ns", "p1"), wanted("ns_h1", "h1"), lambda: registrar("ns_h1", "h1"))
    catalog.release(("ns", "p1"))
    catalog.take_retirable(DefinitionScope("ns"), ())
    new = catalog.use(("ns", "p2"), wanted("ns_h1", "h1"), lambda: registrar("ns_h1", "h1"))
    assert new != old and new.endswith(":2")
