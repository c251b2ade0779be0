"""Who owns an AWS resource, and what one object may do to it.

Every resource the operator creates or adopts carries two tags naming its object: the owner
(`<namespace>/<name>`, which the shipped IAM policy conditions on) and the owner's uid. Tenants
share one AWS account, so these tags are the boundary between them:
- an object acts on a resource only when the tags name it (same namespace and name; a re-created
  object of the same name in the same namespace is the same tenant and takes its resource back);
- `adopt: true` takes over an untagged resource, or one whose owner object no longer exists;
  a live owner keeps it (OwnedByAnother) until it hands it over (deletionPolicy: Retain, then
  delete that object);
- an object that once held a resource now tagged for another reports ResourceTakenOver and never
  recreates or deletes it;
- a reference by ARN to a resource another namespace's object owns is refused unless an admin
  trusts the referring namespace;
- a reference (by ARN, or a ref resolved to one) never crosses AWS accounts or regions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from batchops.model.account import place_of_arn

OWNER_TAG = "batchops.io/owner"
"""`<namespace>/<name>` of the owning object (the IAM policy conditions on this key)."""
OWNER_UID_TAG = "batchops.io/owner-uid"
"""metadata.uid of the owning object: a deleted and re-created name is another object."""


@dataclass(frozen=True)
class Owner:
    """The object named by a resource's owner tags."""

    namespace: str
    name: str
    uid: str | None = None
    """None for resources tagged before the uid tag existed."""

    def tags(self) -> dict[str, str]:
        """The tags that name this owner."""
        tags = {OWNER_TAG: f"{self.namespace}/{self.name}"}
        if self.uid:
            tags[OWNER_UID_TAG] = self.uid
        return tags

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> Owner | None:
        """The owner a resource's tags name, or None for an untagged (unmanaged) resource."""
        value = tags.get(OWNER_TAG)
        if not value:
            return None
        namespace, _, name = value.partition("/")
        return cls(namespace, name, tags.get(OWNER_UID_TAG) or None)

    def same_object_name(self, other: Owner) -> bool:
        """Same namespace and name (uids may differ: a re-created object)."""
        return (self.namespace, self.name) == (other.namespace, other.name)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" + (f" (uid {self.uid})" if self.uid else "")


RefusalReason = Literal["NameConflict", "OwnedByAnother", "ResourceTakenOver"]


@dataclass(frozen=True)
class Ours:
    """The resource is this object's: act on it (tag differences are repaired as drift)."""


@dataclass(frozen=True)
class Adopt:
    """Take the resource over: it is untagged, or its owner object is gone."""

    previous: Owner | None

    def message(self, what: str) -> str:
        """The event text for the takeover."""
        if self.previous is None:
            return f"adopting {what}, which no batchops object owned"
        return f"adopting {what} from {self.previous}, which no longer exists"


@dataclass(frozen=True)
class CheckOwnerAlive:
    """Adoption of a resource another object's tags name: ask the API server whether that
    object still exists, then call `settle_adoption`."""

    owner: Owner


@dataclass(frozen=True)
class Refuse:
    """Leave the resource alone: a human must act."""

    reason: RefusalReason
    owner: Owner | None

    def message(self, what: str) -> str:
        """The condition and event text, naming the owner and the way out."""
        owner = str(self.owner) if self.owner else "nobody (no batchops.io/owner tag)"
        match self.reason:
            case "NameConflict":
                return (
                    f"{what} already exists in AWS and is not managed by this object "
                    f"(owned by {owner}); set spec.adopt: true to take it over, or choose "
                    "another spec.name"
                )
            case "OwnedByAnother":
                return (
                    f"{what} is owned by {owner}, which still exists; adopt takes over only an "
                    "unowned resource. Hand it over first: set deletionPolicy: Retain on that "
                    "object and delete it"
                )
            case "ResourceTakenOver":
                return (
                    f"{what} was taken over by {owner}; this object no longer manages it and "
                    "will neither change nor delete it"
                )


Claim = Ours | Adopt | CheckOwnerAlive | Refuse


def claim_resource(me: Owner, tags: Mapping[str, str], *, adopt: bool, held: bool) -> Claim:
    """May `me` act on an existing resource with these tags? `held`: this object has managed
    this resource before (its status records the resource's ARN)."""
    owner = Owner.from_tags(tags)
    if owner is not None and owner.same_object_name(me):
        return Ours()
    if held:
        # Tagged for another object since we last looked; untagged means someone stripped our
        # tags (drift: they are put back).
        return Refuse("ResourceTakenOver", owner) if owner is not None else Ours()
    if not adopt:
        return Refuse("NameConflict", owner)
    if owner is None:
        return Adopt(None)
    return CheckOwnerAlive(owner)


def settle_adoption(check: CheckOwnerAlive, *, owner_exists: bool) -> Adopt | Refuse:
    """The second half of `claim_resource` once the API server said whether the owner exists."""
    if owner_exists:
        return Refuse("OwnedByAnother", check.owner)
    return Adopt(check.owner)


def may_delete(me: Owner, tags: Mapping[str, str]) -> bool:
    """Whether deleting `me` may delete the resource: only when its tags still name `me`."""
    owner = Owner.from_tags(tags)
    return owner is not None and owner.same_object_name(me)


def foreign_owner(
    namespace: str, tags: Mapping[str, str], trusted_namespaces: Collection[str]
) -> Owner | None:
    """The owner of a resource referenced by ARN from `namespace` when it belongs to another
    namespace's object and the admin does not trust `namespace` to reach across; else None
    (unmanaged resources, created outside batchops, may be referenced by anyone)."""
    owner = Owner.from_tags(tags)
    if owner is None or owner.namespace == namespace or namespace in trusted_namespaces:
        return None
    return owner


def foreign_placement(arn: str, account_id: str | None, region: str | None) -> str | None:
    """Why a resource referenced by ARN is out of reach of an object acting in `account_id` and
    `region` (None: not known, not compared), or None when it is in the same account and region.
    A reference never crosses accounts or regions, trusted or not: AWS would refuse the call, or
    worse, a queue would name another tenant's compute environment by ARN."""
    place = place_of_arn(arn)
    if place is None:
        return None
    if account_id and place.account_id != account_id:
        return f"is in account {place.account_id}, this object acts in account {account_id}"
    if region and place.region != region:
        return f"is in region {place.region}, this object acts in region {region}"
    return None
