"""What every reconciler shares: the object snapshot it works on, events, outcomes, timing.

Reconcilers are synchronous (boto3 and the Kubernetes client block) and run in a worker thread;
they never import kopf. The handler posts the events and waits `delay` before the next pass.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from batchops.aws.errors import AssumeRoleFailed, Terminal
from batchops.kube import status as conditions
from batchops.model.account import Target
from batchops.model.common import Condition
from batchops.plans import ownership
from batchops.plans.accounts import AccountRefusal, NamespaceUnknown
from batchops.plans.ownership import Owner
from batchops.reconcile import conditions as outcomes
from batchops.reconcile.conditions import Verdict


@dataclass(frozen=True)
class ObjectSnapshot:
    """A deep copy of one custom object, taken when a pass starts."""

    namespace: str
    name: str
    uid: str
    generation: int
    spec: Mapping[str, Any]
    status: Mapping[str, Any]
    annotations: Mapping[str, str]
    deleting: bool
    body: Mapping[str, Any] = field(repr=False)
    resource_version: str = ""

    @property
    def owner(self) -> Owner:
        """This object as the owner of AWS resources (what its owner tags say)."""
        return Owner(self.namespace, self.name, self.uid or None)

    def has_condition_reason(self, reason: str) -> bool:
        """Whether a condition already carries `reason` (so a repeated pass posts no new event)."""
        return any(c.get("reason") == reason for c in self.status.get("conditions") or [])

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> ObjectSnapshot:
        """Snapshot a kopf body (or any object dict)."""
        raw: dict[str, Any] = copy.deepcopy(dict(body))
        meta = raw.get("metadata") or {}
        return cls(
            namespace=str(meta.get("namespace", "")),
            name=str(meta.get("name", "")),
            uid=str(meta.get("uid", "")),
            generation=int(meta.get("generation") or 0),
            spec=raw.get("spec") or {},
            status=raw.get("status") or {},
            annotations=meta.get("annotations") or {},
            deleting=bool(meta.get("deletionTimestamp")),
            body=raw,
            resource_version=str(meta.get("resourceVersion") or ""),
        )


StatusWriter = Callable[[Mapping[str, Any]], None]
"""Writes an object's status mid-pass (a job id the moment SubmitJob returns, a replacement
step); the loop that runs the pass supplies it, and remembers what it wrote (`OwnWrites`)."""


class OwnWrites:
    """Read-your-own-writes for one object's loop. kopf's copy of the object can lag behind the
    status this loop just wrote, and a pass that started from the stale copy would redo work
    (start a run again, fire a trigger twice). After a write, until kopf's copy shows the
    written version, the next pass reads the object from the API server instead: a version at
    least as new as the write, which the API server's watch cache can answer."""

    def __init__(self, read: Callable[[str], Mapping[str, Any]]) -> None:
        self._read = read
        self._pending: str | None = None

    def current(self, obj: ObjectSnapshot) -> ObjectSnapshot:
        """`obj`, or the object read afresh if `obj` predates our last write (this may call
        the API server: run it in a worker thread)."""
        if self._pending is None or obj.resource_version == self._pending:
            self._pending = None
            return obj
        fresh = ObjectSnapshot.of(self._read(self._pending))  # not older than our write
        self._pending = None
        return fresh

    def wrote(self, resource_version: str) -> None:
        """Remember the version a status write produced."""
        self._pending = resource_version or None


Placement = Target | AccountRefusal | NamespaceUnknown
"""Where an object acts, or why it may not act anywhere (yet)."""


def _own_identity(namespace: str, account_ref: str | None, region: str | None) -> Placement:
    return Target(region=region)


def _account_of(target: Target) -> str | None:
    return target.role.account_id if target.role is not None else None


@dataclass(frozen=True)
class Tenancy:
    """What a reconciler asks the cluster about other tenants before it touches a resource."""

    owner_exists: Callable[[str, Owner], bool]
    """Whether the object (of this kind) that an owner tag names still exists; a lookup that
    is refused must answer True: never take over what might still be owned."""
    trusted_namespaces: Callable[[], frozenset[str]] = frozenset
    """Namespaces an admin allows to reference other namespaces' resources by ARN."""
    place: Callable[[str, str | None, str | None], Placement] = _own_identity
    """(namespace, spec.accountRef, spec.region) -> the account and region the object acts in
    (plans/accounts.py decides); by default the operator's own identity."""
    account_id: Callable[[Target], str | None] = _account_of
    """The AWS account id a target acts in (None: unknown, so not compared)."""

    def crossing_references(self, target: Target, links: Mapping[str, str]) -> list[str]:
        """Why references (field path -> the ARN it resolved to) leave the target's account or
        region: one message per field, naming it."""
        account = self.account_id(target)
        return [
            f"{field}: {arn} {why}; references may not cross AWS accounts or regions"
            for field, arn in links.items()
            if (why := ownership.foreign_placement(arn, account, target.region))
        ]

    def claim(
        self, kind: str, obj: ObjectSnapshot, tags: Mapping[str, str], *, adopt: bool, held: bool
    ) -> ownership.Ours | ownership.Adopt | ownership.Refuse:
        """May `obj` act on an existing resource with these tags (asking the API server
        whether a previous owner still exists when `adopt` needs to know)."""
        claim = ownership.claim_resource(obj.owner, tags, adopt=adopt, held=held)
        if isinstance(claim, ownership.CheckOwnerAlive):
            return ownership.settle_adoption(
                claim, owner_exists=self.owner_exists(kind, claim.owner)
            )
        return claim

    def foreign_references(
        self, namespace: str, arns: Iterable[str], tags_of: Callable[[str], Mapping[str, str]]
    ) -> list[tuple[str, Owner]]:
        """The ARNs (referenced from `namespace`) whose resources another namespace's object
        owns, with that owner, unless an admin trusts `namespace`."""
        found = []
        for arn in dict.fromkeys(arns):
            owner = ownership.foreign_owner(namespace, tags_of(arn), ())
            if owner is not None:
                found.append((arn, owner))
        # The admin's setting is read only when it matters (a reference into another namespace).
        return found if found and namespace not in self.trusted_namespaces() else []


def cross_namespace_message(what: str, foreign: Iterable[tuple[str, Owner]]) -> str:
    """Why references by ARN into other namespaces are refused, and the ways out."""
    return (
        f"{what} referenced by ARN belong to objects in other namespaces: "
        + ", ".join(f"{arn} (owned by {owner})" for arn, owner in foreign)
        + "; reference an object of this namespace by name, or ask a cluster admin to list this "
        "namespace in trustedNamespaces of the batchops-tenancy ConfigMap"
    )


NO_OTHER_TENANTS = Tenancy(owner_exists=lambda kind, owner: True)
"""For tests and tools with one tenant: every owner is alive, nobody is trusted, every object
acts with the operator's own identity."""


def stall_reason(error: Terminal) -> str:
    """The Stalled reason of a terminal AWS error: a role STS refuses says so, the rest is an
    AwsError (the message says which)."""
    return "AssumeRoleFailed" if isinstance(error, AssumeRoleFailed) else "AwsError"


@dataclass(frozen=True)
class Event:
    """A Kubernetes event to post on the object."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True)
class Timing:
    """How long reconcilers wait between passes."""

    transition: float = 5.0
    """While AWS is CREATING/UPDATING/DELETING or another object is not ready yet."""
    resync: float = 300.0
    """Drift check of a converged object."""
    retry: float = 10.0
    """After a retryable AWS error (throttling, 5xx)."""
    job_poll_backstop: float = 60.0
    """A pipeline with active jobs looks again this often even if the poller reports nothing."""
    reference_grace: float = 10.0
    """How long a missing referenced object (a queue) may be missing before the spec is
    invalid: objects applied together arrive in any order."""
    job_stop_wait: float = 120.0
    """How long a deleted BatchPipeline's finalizer waits for Batch to report its terminated
    jobs finished before it lets the object go anyway (with a Warning event)."""


@dataclass
class PassRecorder:
    """Collects what one pass decided: events, conditions and the delay until the next pass."""

    obj: ObjectSnapshot
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    events: list[Event] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)

    def event(self, type_: Literal["Normal", "Warning"], reason: str, message: str) -> None:
        """Queue an event for the handler to post."""
        self.events.append(Event(type_, reason, message))

    def condition(self, type_: str, value: bool, reason: str, message: str = "") -> None:
        """Record a condition observed for the object's current generation."""
        self.conditions.append(
            conditions.condition(type_, value, reason, message, self.obj.generation, self.now())
        )

    def merged_conditions(self) -> list[Any]:
        """The full conditions list for the status patch."""
        return list(conditions.merge_conditions(self.obj.status.get("conditions"), self.conditions))

    def with_conditions(self, status: Mapping[str, Any]) -> dict[str, Any]:
        """`status` plus the full conditions list: what the pass writes."""
        return {**status, "conditions": self.merged_conditions()}

    def report(self, verdict: Verdict) -> None:
        """Record the conditions of one named outcome (reconcile/conditions.py)."""
        for setting in verdict.settings:
            self.condition(setting.type, setting.status, setting.reason, setting.message)

    def stall(self, reason: str, message: str) -> None:
        """A human must act (an invalid spec, a refused AWS call, a resource this object may not
        touch or reference): Stalled, not Ready, not Synced, and a Warning event the first
        time."""
        self.report(outcomes.stalled(reason, message))
        if not self.obj.has_condition_reason(reason):
            self.event("Warning", reason, message)

    def refused(self, refusal: ownership.Refuse, what: str) -> None:
        """`what` (a resource) may not be acted on by this object."""
        self.stall(refusal.reason, refusal.message(what))


@dataclass(frozen=True)
class PassOutcome:
    """The result of one pass: the status to write and when to look again."""

    status: Mapping[str, Any]
    delay: float
    recorder: PassRecorder


@dataclass(frozen=True)
class FinalizeOutcome:
    """The result of one deletion pass: `done` releases the finalizer."""

    done: bool
    delay: float
    status: Mapping[str, Any]
    recorder: PassRecorder
