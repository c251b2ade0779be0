"""One managed-resource loop for every AWS-backed kind.

Shaped like crossplane-runtime's managed reconciler. A pass observes the AWS resource, then does
at most one thing — create it, refuse it (another object owns it), wait for AWS, apply an
update, or hand over to the kind's replacement — and reports one named outcome
(reconcile/conditions.py). The next pass observes the effect, so every step resumes after a
crash. Deletion is one retirement loop for every kind (plans/retirement.py).

A kind plugs in by subclassing `ManagedKind`: how to parse its spec, what must be resolved first
(a queue's compute environment refs), and the Describe/Create/Update/Disable/Delete calls. The
decisions stay in `plans`; a kind only translates between them and the AWS layer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from batchops.aws.batch import BatchApi
from batchops.aws.errors import Retryable, Terminal
from batchops.kube.client import Kind
from batchops.model.account import Target
from batchops.model.common import (
    DeletionPolicy,
    SpecError,
    placeholder_message,
    placeholder_paths,
)
from batchops.model.compute import BatchStatus
from batchops.plans import ownership
from batchops.plans import retirement as retire
from batchops.plans.accounts import AccountRefusal, NamespaceUnknown
from batchops.plans.naming import aws_name
from batchops.plans.tags import TagChanges
from batchops.reconcile import conditions as outcomes
from batchops.reconcile.common import (
    FinalizeOutcome,
    ObjectSnapshot,
    PassOutcome,
    PassRecorder,
    StatusWriter,
    Tenancy,
    Timing,
    cross_namespace_message,
    stall_reason,
)


class ManagedSpec(Protocol):
    """The operator's own fields every managed kind's spec has."""

    @property
    def name(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def adopt(self) -> bool: ...
    @property
    def deletion_policy(self) -> DeletionPolicy: ...
    @property
    def account_ref(self) -> str | None: ...


class ObservedResource(retire.Retirable, Protocol):
    """What every kind's Describe* reports, as the loop reads it."""

    @property
    def arn(self) -> str: ...
    @property
    def status_reason(self) -> str | None: ...
    @property
    def tags(self) -> Mapping[str, str]: ...


SpecT = TypeVar("SpecT", bound=ManagedSpec)
ObservedT = TypeVar("ObservedT", bound=ObservedResource)
DesiredT = TypeVar("DesiredT")


@dataclass(frozen=True)
class Update:
    """What differs between the spec and AWS, as the loop acts on it."""

    tags: TagChanges
    request: object | None = None
    """The kind's Update* arguments, for `ManagedKind.update`; None when nothing to update."""
    drift: str = ""
    """One line for the event: what differs."""
    blocked: str | None = None
    """A difference AWS cannot apply in place and the kind cannot replace: a human decides."""
    replace_reasons: tuple[str, ...] = ()
    """Why only a replacement can apply the spec (kinds with a `replacement`)."""


@dataclass(frozen=True)
class Waiting:
    """`resolve` could not build the desired resource yet (a referenced object not ready)."""

    reason: str
    message: str


@dataclass
class Pass(Generic[SpecT]):
    """One pass over one object: what every step of the loop works with."""

    obj: ObjectSnapshot
    spec: SpecT
    target: Target
    """The account and region the object acts in (plans/accounts.py)."""
    api: BatchApi
    name: str
    """The AWS name the object stands for now."""
    tags: Mapping[str, str]
    """The operator's own tags (the owner)."""
    rec: PassRecorder
    write_status: StatusWriter
    status: dict[str, Any] = field(default_factory=dict)
    """The status the pass writes (conditions are added from `rec`)."""


class Replacement(ABC, Generic[SpecT, DesiredT]):
    """A kind whose spec changes can need a new resource (blue/green) provides this."""

    @abstractmethod
    def in_progress(self, status: Mapping[str, Any]) -> bool:
        """Whether status records a replacement that has not finished."""

    @abstractmethod
    def step(self, current: Pass[SpecT], desired: DesiredT, reasons: tuple[str, ...]) -> float:
        """Take the next step of the replacement (start it when `reasons` are given); return
        the delay until the next pass."""


class ManagedKind(ABC, Generic[SpecT, ObservedT, DesiredT]):
    """One AWS-backed kind as the managed loop sees it."""

    kind: Kind
    noun: str
    """How messages name the AWS resource ("compute environment")."""
    replacement: Replacement[SpecT, DesiredT] | None = None
    users_noun: str = "other resources"
    """How messages name what `users` returns ("job queues")."""

    @abstractmethod
    def parse(self, raw: Mapping[str, Any]) -> SpecT:
        """The typed spec; SpecError names the field when it is invalid."""

    def resolve(
        self, obj: ObjectSnapshot, spec: SpecT, status: dict[str, Any]
    ) -> DesiredT | Waiting:
        """What the resource should look like, once what it references is known; may record
        the resolution in `status`. By default the spec itself."""
        return spec  # type: ignore[return-value]  # kinds with DesiredT != SpecT override this

    def references(self, spec: SpecT) -> Iterable[str]:
        """ARNs of other resources the spec names directly (checked for foreign owners)."""
        return ()

    def referenced_tags(self, api: BatchApi, arn: str) -> Mapping[str, str]:
        """The tags of a resource named by `references`."""
        return {}

    def links(self, desired: DesiredT) -> Mapping[str, str]:
        """Field path -> ARN of every resource the desired resource will point at (resolved
        refs included), checked to be in the object's own account and region."""
        return {}

    @abstractmethod
    def describe(self, api: BatchApi, name: str) -> ObservedT | None:
        """The resource as AWS reports it, or None when AWS does not know it."""

    @abstractmethod
    def create(self, api: BatchApi, desired: DesiredT, name: str, tags: Mapping[str, str]) -> None:
        """Ask AWS to create the resource."""

    @abstractmethod
    def plan_update(
        self, desired: DesiredT, observed: ObservedT, tags: Mapping[str, str]
    ) -> Update:
        """Compare (plans do it) and say what to change."""

    @abstractmethod
    def update(self, api: BatchApi, request: object) -> None:
        """Apply an `Update.request`."""

    def observe_into(self, status: dict[str, Any], observed: ObservedT) -> None:
        """Copy what AWS reports into status."""
        record_observed(status, observed)

    def report(self, observed: ObservedT, rec: PassRecorder) -> None:
        """Conditions of the kind's own beyond Ready/Synced (a queue's Blocked); none by
        default."""

    def ready_message(self, observed: ObservedT) -> str:
        """What Ready=True says about the resource."""
        return f"{observed.name} is VALID and {observed.state}"

    def users(self, api: BatchApi, observed: ObservedT) -> list[str]:
        """Other resources that must let go before this one can be deleted."""
        return []

    def disable(self, api: BatchApi, name: str) -> None:
        """Set the resource DISABLED; retirement asks only of resources that have a state."""
        raise NotImplementedError(f"a {self.noun} has no state to disable")

    @abstractmethod
    def delete(self, api: BatchApi, observed: ObservedT) -> None:
        """Ask AWS to delete the (DISABLED) resource."""


class ManagedReconciler(Generic[SpecT, ObservedT, DesiredT]):
    """Level-based reconcile of one object of a managed kind per call."""

    def __init__(
        self,
        kind: ManagedKind[SpecT, ObservedT, DesiredT],
        api_for: Callable[[Target], BatchApi],
        timing: Timing,
        tenancy: Tenancy,
    ) -> None:
        self._kind = kind
        self.kind = kind.kind
        """The Kubernetes kind this reconciler serves."""
        self._api_for = api_for
        self._timing = timing
        self._tenancy = tenancy

    # -- the main pass ------------------------------------------------------------------------

    def reconcile(self, obj: ObjectSnapshot, write_status: StatusWriter) -> PassOutcome:
        """Bring AWS one step closer to the spec; never raises for AWS or spec problems.
        `write_status` records progress mid-pass (a replacement, before the action)."""
        rec = PassRecorder(obj)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        status["observedGeneration"] = obj.generation
        try:
            spec = self._kind.parse(obj.spec)
        except SpecError as exc:
            rec.stall("InvalidSpec", str(exc))
            return PassOutcome(rec.with_conditions(status), self._timing.resync, rec)
        placeholders = placeholder_paths(obj.spec)
        if placeholders:
            rec.stall("InvalidSpec", placeholder_message(placeholders))
            return PassOutcome(rec.with_conditions(status), self._timing.resync, rec)
        placement = self._tenancy.place(obj.namespace, spec.account_ref, spec.region)
        if isinstance(placement, NamespaceUnknown):
            rec.report(outcomes.waiting_for("WaitingForNamespace", placement.message))
            return PassOutcome(rec.with_conditions(status), self._timing.transition, rec)
        if isinstance(placement, AccountRefusal):
            # Nothing reaches AWS: the namespace may not act in the account it asks for.
            rec.stall(placement.reason, placement.message)
            return PassOutcome(rec.with_conditions(status), self._timing.resync, rec)
        name = str(status.get("awsName") or aws_name(obj.namespace, obj.name, spec.name))
        current = Pass(
            obj=obj,
            spec=spec,
            target=placement,
            api=self._api_for(placement),
            name=name,
            tags=obj.owner.tags(),
            rec=rec,
            write_status=write_status,
            status=status,
        )
        try:
            delay = self._converge(current)
        except Retryable as exc:
            rec.report(outcomes.retrying(str(exc)))
            delay = self._timing.retry
        except Terminal as exc:
            rec.stall(stall_reason(exc), str(exc))
            delay = self._timing.resync
        return PassOutcome(rec.with_conditions(status), delay, rec)

    def _converge(self, current: Pass[SpecT]) -> float:
        kind, rec, obj = self._kind, current.rec, current.obj
        desired = kind.resolve(obj, current.spec, current.status)
        if isinstance(desired, Waiting):
            rec.report(outcomes.waiting_for(desired.reason, desired.message))
            # The referenced object's change wakes this loop; the delay is a backstop.
            return self._timing.resync
        crossing = self._tenancy.crossing_references(current.target, kind.links(desired))
        if crossing:
            rec.stall("InvalidSpec", "; ".join(crossing))
            return self._timing.resync
        foreign = self._tenancy.foreign_references(
            obj.namespace,
            kind.references(current.spec),
            lambda arn: kind.referenced_tags(current.api, arn),
        )
        if foreign:
            rec.stall("CrossNamespaceReference", cross_namespace_message(kind.noun + "s", foreign))
            return self._timing.resync
        if kind.replacement is not None and kind.replacement.in_progress(obj.status):
            return kind.replacement.step(current, desired, ())

        observed = kind.describe(current.api, current.name)
        if observed is None or observed.status is BatchStatus.DELETED:
            if current.spec.adopt and not obj.status.get("arn"):
                # adopt names something that exists; creating it would hide a wrong name.
                rec.stall(
                    "AdoptionTargetMissing",
                    f"adopt: true names {kind.noun} {current.name}, which does not exist in AWS; "
                    "nothing was created. Correct spec.name, or drop adopt to create it",
                )
                return self._timing.resync
            return self._create(current, desired)
        what = f"{kind.noun} {observed.name}"
        claim = self._tenancy.claim(
            kind.kind.kind,
            obj,
            observed.tags,
            adopt=current.spec.adopt,
            held=obj.status.get("arn") == observed.arn,
        )
        if isinstance(claim, ownership.Refuse):
            rec.refused(claim, what)
            return self._timing.resync
        if isinstance(claim, ownership.Adopt):
            rec.event("Normal", "Adopted", claim.message(what))

        kind.observe_into(current.status, observed)
        kind.report(observed, rec)
        invalid = observed.status is BatchStatus.INVALID
        if invalid:
            message = f"AWS reports INVALID: {observed.status_reason or 'no reason given'}"
            rec.report(outcomes.invalid_in_aws(message))
            if not obj.has_condition_reason("Invalid"):
                rec.event("Warning", "Invalid", f"{observed.name}: {message}")
            # A spec change may still fix it (e.g. a corrected role): go on to compare.
        elif not observed.status.settled:
            rec.report(outcomes.awaiting_aws(observed.status.value))
            return self._timing.transition

        update = kind.plan_update(desired, observed, current.tags)
        # Tags first, also before a replacement: an adopted resource gets the owner tags, which
        # the shipped IAM policy requires before the operator may disable and delete it.
        if update.tags.to_add:
            current.api.tag_resource(observed.arn, dict(update.tags.to_add))
        if update.tags.to_remove:
            current.api.untag_resource(observed.arn, list(update.tags.to_remove))
        if update.blocked:
            rec.report(outcomes.update_blocked(update.blocked))
            if not obj.has_condition_reason("UpdateBlocked"):
                rec.event("Warning", "UpdateBlocked", update.blocked)
            return self._timing.resync
        if update.replace_reasons and kind.replacement is not None:
            rec.event(
                "Normal",
                "Replacing",
                f"replacing {observed.name}: " + "; ".join(update.replace_reasons),
            )
            return kind.replacement.step(current, desired, update.replace_reasons)
        if update.request is not None:
            kind.update(current.api, update.request)
            reason = "Updating" if _spec_changed(obj) else "DriftRepaired"
            rec.event("Normal", reason, update.drift)
            if invalid:
                # Still INVALID until AWS says otherwise: Stalled stays the one abnormal truth.
                rec.report(outcomes.synced())
            else:
                rec.report(outcomes.updating(update.drift))
            return self._timing.transition
        if invalid:
            rec.report(outcomes.synced())
            return self._timing.resync
        rec.report(outcomes.converged(kind.ready_message(observed)))
        return self._timing.resync

    def _create(self, current: Pass[SpecT], desired: DesiredT) -> float:
        kind, rec, name = self._kind, current.rec, current.name
        kind.create(current.api, desired, name, current.tags)
        if current.obj.status.get("arn"):
            why = f"{kind.noun} {name} was deleted outside batchops; recreating it"
            rec.event("Warning", "ResourceMissing", why)
            rec.report(outcomes.creating("ResourceMissing", why))
        else:
            rec.event("Normal", "Creating", f"creating {kind.noun} {name}")
            rec.report(outcomes.creating("Creating", f"AWS is creating {name}"))
        current.status.update(awsName=name, status=BatchStatus.CREATING.value, statusReason=None)
        return self._timing.transition

    # -- deletion ------------------------------------------------------------------------------

    def finalize(self, obj: ObjectSnapshot) -> FinalizeOutcome:
        """One step of retiring the AWS resource (or retaining it); `done` releases the
        finalizer."""
        rec = PassRecorder(obj)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        status["observedGeneration"] = obj.generation  # deletion raises the generation
        try:
            spec = self._kind.parse(obj.spec)
        except SpecError:
            return FinalizeOutcome(True, 0, status, rec)  # nothing was ever created from it
        name = str(obj.status.get("awsName") or "")
        if not name:
            return FinalizeOutcome(True, 0, status, rec)
        placement = self._tenancy.place(obj.namespace, spec.account_ref, spec.region)
        if isinstance(placement, NamespaceUnknown):
            return FinalizeOutcome(False, self._timing.transition, status, rec)
        if isinstance(placement, AccountRefusal):
            # The account is out of reach now: leave the resource rather than act without leave.
            rec.event("Warning", "Released", f"left {name} in AWS: {placement.message}")
            return FinalizeOutcome(True, 0, status, rec)
        api = self._api_for(placement)
        try:
            observed = self._kind.describe(api, name)
            if observed is not None and not ownership.may_delete(obj.owner, observed.tags):
                # Never delete what is not ours (never adopted, or taken over since).
                rec.event("Normal", "Released", f"left {name} in AWS: this object does not own it")
                return FinalizeOutcome(True, 0, status, rec)
            users = self._kind.users(api, observed) if observed is not None else []
            match retire.plan_retirement(observed, users, spec.deletion_policy):
                case retire.Retain() | retire.Done():
                    return FinalizeOutcome(True, 0, status, rec)
                case retire.WaitForUsers(names=names):
                    message = f"waiting for {self._kind.users_noun} to stop using it: "
                    rec.report(outcomes.deleting("InUse", message + ", ".join(names)))
                case retire.Disable(name=resource):
                    self._kind.disable(api, resource)
                    rec.report(outcomes.deleting("Deleting", f"disabling {resource}"))
                case retire.Delete(name=resource) if observed is not None:
                    self._kind.delete(api, observed)
                    rec.event("Normal", "Deleting", f"deleting {self._kind.noun} {resource}")
                    rec.report(outcomes.deleting("Deleting", f"deleting {resource}"))
                case _:
                    rec.report(outcomes.deleting("Deleting", f"waiting for AWS on {name}"))
        except (Retryable, Terminal) as exc:
            rec.report(outcomes.deletion_failed(str(exc)))
            return FinalizeOutcome(False, self._timing.retry, rec.with_conditions(status), rec)
        return FinalizeOutcome(False, self._timing.transition, rec.with_conditions(status), rec)


def record_observed(status: dict[str, Any], observed: ObservedResource) -> None:
    """The status fields every managed kind shows of its AWS resource."""
    status.update(
        awsName=observed.name,
        arn=observed.arn,
        status=observed.status.value,
        statusReason=observed.status_reason,
    )
    if observed.state is not None:
        status["state"] = observed.state.value


def _spec_changed(obj: ObjectSnapshot) -> bool:
    """Whether this generation has not been reconciled before (a user's change, not drift)."""
    return obj.status.get("observedGeneration") != obj.generation
