"""What every reconciler shares: the object snapshot it works on, events, outcomes, timing.

Reconcilers are synchronous (boto3 and the Kubernetes client block) and run in a worker thread;
they never import kopf. The handler posts the events and waits `delay` before the next pass.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from batchops.kube import status as conditions
from batchops.model.common import Condition

OWNER_TAG = "batchops.io/owner"
"""Tag on every AWS resource the operator creates: `<namespace>/<name>` of its object."""


def owner_tag_value(namespace: str, name: str) -> str:
    """The value of OWNER_TAG for an object."""
    return f"{namespace}/{name}"


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


class OwnWrites:
    """Read-your-own-writes for one object's loop. kopf's copy of the object can lag behind the
    status this loop just wrote, and a pass that started from the stale copy would redo work
    (start a run again, fire a trigger twice). After a write, until kopf's copy shows the
    written version, the next pass reads the object from the API server instead."""

    def __init__(self, read: Callable[[], Mapping[str, Any]]) -> None:
        self._read = read
        self._pending: str | None = None

    def current(self, obj: ObjectSnapshot) -> ObjectSnapshot:
        """`obj`, or the object read afresh if `obj` predates our last write (this may call
        the API server: run it in a worker thread)."""
        if self._pending is None or obj.resource_version == self._pending:
            self._pending = None
            return obj
        fresh = ObjectSnapshot.of(self._read())  # a read after our write sees our write
        self._pending = None
        return fresh

    def wrote(self, resource_version: str) -> None:
        """Remember the version a status write produced."""
        self._pending = resource_version or None


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

    def stalled(
        self, status: Mapping[str, Any], reason: str, message: str, delay: float
    ) -> PassOutcome:
        """A pass that ends because a human must act: Stalled, not Ready, not Synced (and a
        Warning event for an invalid spec)."""
        self.condition(conditions.STALLED, True, reason, message)
        self.condition(conditions.READY, False, reason, message)
        self.condition(conditions.SYNCED, False, reason, message)
        self.condition(conditions.RECONCILING, False, reason)
        if reason == "InvalidSpec":
            self.event("Warning", reason, message)
        return PassOutcome(self.with_conditions(status), delay, self)


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
