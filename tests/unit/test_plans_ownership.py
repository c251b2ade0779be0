"""Who may act on an AWS resource: owner tags, adoption, takeover, references across tenants."""

from __future__ import annotations

from batchops.plans.ownership import (
    OWNER_TAG,
    OWNER_UID_TAG,
    Adopt,
    CheckOwnerAlive,
    Ours,
    Owner,
    Refuse,
    claim_resource,
    foreign_owner,
    may_delete,
    settle_adoption,
)

ME = Owner("team-a", "ce", "uid-a")
OTHER = Owner("team-b", "mine", "uid-b")


def test_owner_tags_name_namespace_name_and_uid_and_read_back() -> None:
    assert OTHER.tags() == {OWNER_TAG: "team-b/mine", OWNER_UID_TAG: "uid-b"}
    assert Owner.from_tags(OTHER.tags()) == OTHER
    assert Owner.from_tags({"team": "x"}) is None


def test_a_resource_tagged_before_uids_reads_as_an_owner_without_uid() -> None:
    assert Owner.from_tags({OWNER_TAG: "team-b/mine"}) == Owner("team-b", "mine", None)


def test_own_tags_are_ours_even_after_the_object_was_recreated_with_a_new_uid() -> None:
    recreated = Owner("team-a", "ce", "uid-new")
    assert claim_resource(recreated, ME.tags(), adopt=False, held=False) == Ours()


def test_another_objects_resource_is_a_name_conflict_without_adopt() -> None:
    assert claim_resource(ME, OTHER.tags(), adopt=False, held=False) == Refuse(
        "NameConflict", OTHER
    )


def test_adopt_takes_an_untagged_resource() -> None:
    assert claim_resource(ME, {"team": "x"}, adopt=True, held=False) == Adopt(None)


def test_adopt_of_a_tagged_resource_asks_whether_the_owner_lives() -> None:
    check = claim_resource(ME, OTHER.tags(), adopt=True, held=False)
    assert check == CheckOwnerAlive(OTHER)
    assert isinstance(check, CheckOwnerAlive)
    assert settle_adoption(check, owner_exists=True) == Refuse("OwnedByAnother", OTHER)
    assert settle_adoption(check, owner_exists=False) == Adopt(OTHER)


def test_a_held_resource_now_tagged_for_another_was_taken_over() -> None:
    for adopt in (False, True):
        assert claim_resource(ME, OTHER.tags(), adopt=adopt, held=True) == Refuse(
            "ResourceTakenOver", OTHER
        )


def test_a_held_resource_whose_tags_were_stripped_stays_ours() -> None:
    assert claim_resource(ME, {}, adopt=False, held=True) == Ours()


def test_refusal_messages_name_the_owner_and_the_way_out() -> None:
    owned = Refuse("OwnedByAnother", OTHER).message("compute environment shared")
    assert "team-b/mine" in owned and "deletionPolicy: Retain" in owned
    conflict = Refuse("NameConflict", None).message("compute environment shared")
    assert "spec.adopt: true" in conflict


def test_only_the_object_its_tags_name_may_delete_a_resource() -> None:
    assert may_delete(ME, ME.tags())
    assert may_delete(Owner("team-a", "ce", "uid-new"), ME.tags())
    assert not may_delete(ME, OTHER.tags())
    assert not may_delete(ME, {})


def test_references_into_another_namespace_are_foreign_unless_trusted() -> None:
    assert foreign_owner("team-a", OTHER.tags(), ()) == OTHER
    assert foreign_owner("team-a", OTHER.tags(), {"team-a"}) is None
    assert foreign_owner("team-b", OTHER.tags(), ()) is None
    assert foreign_owner("team-a", {"team": "x"}, ()) is None  # unmanaged: anyone may use it
