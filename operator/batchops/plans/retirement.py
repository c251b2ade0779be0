"""Retiring a Batch resource — a compute environment, a job queue, the old CE of a blue/green
replacement: one set of steps and actions for every kind.

AWS deletes only DISABLED resources and updates only settled (VALID/INVALID) ones, so
retirement is disable, wait, delete, wait; a CE still used by a queue waits for the queue to let
go first (AWS would refuse the delete, and disabling would stop that queue's jobs for nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from batchops.model.common import DeletionPolicy, ResourceState
from batchops.model.compute import BatchStatus


class RetirementStep(Enum):
    """The next step towards deleting a resource, given only its state and status."""

    WAIT_SETTLED = "wait-settled"  # CREATING / UPDATING: AWS accepts no update yet
    DISABLE = "disable"
    DELETE = "delete"
    WAIT_GONE = "wait-gone"  # DELETING
    GONE = "gone"


def retirement_step(state: ResourceState | None, status: BatchStatus) -> RetirementStep:
    """AWS deletes only DISABLED resources, and updates only settled (VALID/INVALID) ones. A
    resource without a state (a scheduling policy, a consumable resource) has nothing to
    disable."""
    if status is BatchStatus.DELETED:
        return RetirementStep.GONE
    if status is BatchStatus.DELETING:
        return RetirementStep.WAIT_GONE
    if not status.settled:
        return RetirementStep.WAIT_SETTLED
    if state is ResourceState.ENABLED:
        return RetirementStep.DISABLE
    return RetirementStep.DELETE


@dataclass(frozen=True)
class Retain:
    """deletionPolicy Retain: leave AWS alone and release the object."""


@dataclass(frozen=True)
class Done:
    """Nothing left in AWS: release the object."""


@dataclass(frozen=True)
class WaitForUsers:
    """Other resources (job queues on a CE) still use it; nothing is touched meanwhile."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Disable:
    """Set the resource DISABLED."""

    name: str


@dataclass(frozen=True)
class WaitSettled:
    """The resource is CREATING or UPDATING (e.g. being disabled): look again later."""

    name: str


@dataclass(frozen=True)
class Delete:
    """Call the Delete API."""

    name: str


@dataclass(frozen=True)
class WaitGone:
    """The resource is DELETING: look again later."""

    name: str


RetirementAction = Retain | Done | WaitForUsers | Disable | WaitSettled | Delete | WaitGone


class Retirable(Protocol):
    """What retirement needs to know of a resource AWS reports."""

    @property
    def name(self) -> str: ...
    @property
    def state(self) -> ResourceState | None: ...
    @property
    def status(self) -> BatchStatus: ...


def retirement_action(step: RetirementStep, name: str) -> RetirementAction:
    """The action that carries out one retirement step of the resource `name`."""
    actions: dict[RetirementStep, RetirementAction] = {
        RetirementStep.WAIT_SETTLED: WaitSettled(name),
        RetirementStep.DISABLE: Disable(name),
        RetirementStep.DELETE: Delete(name),
        RetirementStep.WAIT_GONE: WaitGone(name),
        RetirementStep.GONE: Done(),
    }
    return actions[step]


def plan_retirement(
    observed: Retirable | None, users: Sequence[str], policy: DeletionPolicy
) -> RetirementAction:
    """The next step of deleting a resource whose object is being deleted: release at once with
    Retain or when AWS has nothing; else wait for `users` (e.g. queues on a CE) to let go, then
    disable, then delete."""
    if policy is DeletionPolicy.RETAIN:
        return Retain()
    if observed is None:
        return Done()
    step = retirement_step(observed.state, observed.status)
    if step in (RetirementStep.GONE, RetirementStep.WAIT_GONE):
        return retirement_action(step, observed.name)
    if users:
        return WaitForUsers(tuple(sorted(users)))
    return retirement_action(step, observed.name)
