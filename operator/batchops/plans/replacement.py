"""Blue/green replacement of a compute environment, resumable from any point.

Create the successor under a new AWS name, wait until it is VALID, repoint every queue that uses
the old CE, then retire the old one (plans/retirement.py: disable, wait, delete — Batch's "found
existing JobQueue relationship" after a queue update means retry later). Nothing is disabled or
deleted before its successor is VALID and no queue uses it. Progress is written to status before
each action, so a crash resumes from the same step.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batchops.model.compute import (
    BatchStatus,
    ComputeSpec,
    ObservedComputeEnvironment,
)
from batchops.model.queue import ObservedJobQueue
from batchops.model.replacement import (
    ReplacementPhase,
    ReplacementProgress,
)
from batchops.plans.compute import (
    UpdateKind,
    classify_compute_update,
)
from batchops.plans.compute_request import desired_create_request
from batchops.plans.compute_rules import (
    FIXED_MEMBERS,
    UpdateRule,
    flavour_of,
    is_service_linked_role,
    rule_for,
)
from batchops.plans.naming import short_hash, with_suffix
from batchops.plans.retirement import (
    Delete,
    Disable,
    RetirementStep,
    WaitGone,
    WaitSettled,
    retirement_action,
    retirement_step,
)

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentOrderTypeDef,
        CreateComputeEnvironmentRequestTypeDef,
        UpdateJobQueueRequestTypeDef,
    )


def successor_name(spec: ComputeSpec, base_name: str, previous_name: str) -> str:
    """The AWS name of the CE that replaces `previous_name`: base name + hash of what forced it.

    Deterministic, so a restarted operator looks for the successor it may already have created.
    Only fields that cannot change in place are hashed, so a scaling change made while a
    replacement runs does not start another one.
    """
    fingerprint = json.dumps(_replacement_fingerprint(spec), sort_keys=True)
    name = with_suffix(base_name, short_hash(fingerprint))
    if name == previous_name:
        # The previous CE was itself built from this fingerprint (an adopted or re-created CE);
        # salt with its name so the successor never collides with it.
        name = with_suffix(base_name, short_hash(fingerprint + previous_name))
    return name


def _replacement_fingerprint(spec: ComputeSpec) -> Mapping[str, object]:
    """What a successor is built from, minus what can change in place on it afterwards."""
    request = desired_create_request(spec, "-", {})
    flavour = flavour_of(spec.compute_resources)
    fingerprint: dict[str, object] = {
        "type": request["type"],
        "serviceLinkedRole": is_service_linked_role(spec.service_role),
    }
    eks = spec.eks_configuration
    if eks is not None:
        # The cluster and namespace replace; the access entry changes in place.
        fingerprint["eksConfiguration"] = [eks.eks_cluster_arn, eks.kubernetes_namespace]
    resources: dict[str, object] = dict(request.get("computeResources") or {})
    ordered = bool(
        spec.compute_resources
        and spec.compute_resources.allocation_strategy
        and spec.compute_resources.allocation_strategy.orders_instance_types
    )
    provider = resources.get("managedInstancesProvider")
    launch = provider.get("instanceLaunchTemplate") if isinstance(provider, dict) else None
    # What a managed-instances CE can't change in place (compute_rules.FIXED_MEMBERS).
    for member in FIXED_MEMBERS["computeResources.managedInstancesProvider"]:
        name = member.removeprefix("instanceLaunchTemplate.")
        if isinstance(launch, dict) and name in launch:
            fingerprint[name] = launch[name]
    for key in list(resources):
        if rule_for(f"computeResources.{key}", flavour) in (
            UpdateRule.SCALING,
            UpdateRule.CREATE_ONLY,
        ):
            del resources[key]
            continue
        value = resources[key]
        if isinstance(value, list) and not (key == "instanceTypes" and ordered):
            resources[key] = sorted(value, key=json.dumps)  # set-valued: order is noise
    fingerprint["computeResources"] = resources
    return fingerprint


@dataclass(frozen=True)
class CreateSuccessor:
    """Call CreateComputeEnvironment for the successor."""

    name: str
    request: CreateComputeEnvironmentRequestTypeDef


@dataclass(frozen=True)
class WaitForSuccessorValid:
    """The successor is CREATING (or being deleted by someone): look again later."""

    name: str


@dataclass(frozen=True)
class RepointQueue:
    """Call UpdateJobQueue so the queue uses the successor instead of the old CE."""

    queue: str
    request: UpdateJobQueueRequestTypeDef


@dataclass(frozen=True)
class Finish:
    """The replacement is over: the object now stands for `active_name` / `active_arn`."""

    active_name: str
    active_arn: str


@dataclass(frozen=True)
class ReplacementStalled:
    """A human must act (the successor is INVALID, or vanished after queues moved to it)."""

    reason: str


ReplacementAction = (
    CreateSuccessor
    | WaitForSuccessorValid
    | RepointQueue
    | Disable
    | WaitSettled
    | Delete
    | WaitGone
    | Finish
    | ReplacementStalled
)
"""Retiring the old CE (or a discarded successor) uses the retirement actions every kind uses:
Disable, WaitSettled, Delete (Batch's "found existing JobQueue relationship" means retry later),
WaitGone."""

# Once a queue may point at the successor, the replacement must finish with that successor.
# (Status written before the retirement actions were shared names them DisableOld etc.)
_COMMITTED_STEPS = frozenset(
    {"RepointQueue", "Disable", "WaitSettled", "Delete", "WaitGone", "Finish"}
    | {"DisableOld", "WaitForOldDisabled", "DeleteOld", "WaitForOldGone"}
)
_DISCARD_STEP = "DiscardSuccessor"


@dataclass(frozen=True)
class ReplacementDecision:
    """The one next action, the progress to record in status (before acting), and which CE the
    object's status.awsName / status.arn should show."""

    action: ReplacementAction
    progress: ReplacementProgress
    active_name: str
    active_arn: str | None


def replacement_targets(
    spec: ComputeSpec, base_name: str, progress: ReplacementProgress | None, current_name: str
) -> tuple[str, str]:
    """(old, successor) AWS names to describe before calling `plan_replacement`."""
    if progress is not None and progress.phase.active:
        return progress.previous_name, progress.successor_name
    return current_name, successor_name(spec, base_name, current_name)


def plan_replacement(
    spec: ComputeSpec,
    *,
    base_name: str,
    progress: ReplacementProgress | None,
    old: ObservedComputeEnvironment | None,
    successor: ObservedComputeEnvironment | None,
    queues_on_old: Sequence[ObservedJobQueue],
    now: datetime,
    tags: Mapping[str, str],
) -> ReplacementDecision:
    """The next step of a blue/green replacement, resumable from any point.

    `old` and `successor` are the CEs named by `replacement_targets` (None when AWS doesn't know
    them); `queues_on_old` are the queues AWS reports as using the old CE. Order of work: create
    the successor, wait VALID, repoint every queue, disable the old CE, delete it, finish.
    Nothing is disabled or deleted before the successor is VALID and no queue uses the old CE.
    Write `decision.progress` to status before executing `decision.action`.
    """
    if progress is None or not progress.phase.active:
        if old is None:
            raise ValueError("a replacement starts from an existing compute environment")
        progress = ReplacementProgress(
            phase=ReplacementPhase.IN_PROGRESS,
            step="",
            successor_name=successor_name(spec, base_name, old.name),
            previous_name=old.name,
            previous_arn=old.arn,
            started_at=now,
            message="",
        )
    if successor is not None and successor.status is BatchStatus.DELETED:
        successor = None
    committed = progress.step in _COMMITTED_STEPS

    # A successor built for an earlier spec (or for a change since reverted) is thrown away
    # while nothing can use it: when it doesn't exist or is INVALID. A VALID one may already
    # serve a queue, and a CREATING one settles first; both finish the replacement, and any
    # further change is applied to the successor afterwards.
    still_needed = old is None or classify_compute_update(spec, old).kind is UpdateKind.REPLACE
    wanted = successor_name(spec, base_name, progress.previous_name) if still_needed else None
    discardable = not committed and (successor is None or successor.status is BatchStatus.INVALID)
    if wanted != progress.successor_name and discardable:
        if successor is not None:
            return _discard(progress, successor)
        if wanted is None:
            return _decision(
                progress,
                Finish(progress.previous_name, progress.previous_arn or ""),
                "the spec no longer needs a replacement",
                phase=ReplacementPhase.CANCELLED,
            )
        progress = dataclasses.replace(progress, successor_name=wanted, successor_arn=None)

    if successor is None:
        return _without_successor(spec, progress, committed, tags)
    progress = dataclasses.replace(progress, successor_arn=successor.arn)
    if successor.status is BatchStatus.INVALID:
        return _decision(
            progress,
            ReplacementStalled(f"successor {successor.name} is INVALID: {successor.status_reason}"),
            f"successor {successor.name} is INVALID "
            f"({successor.status_reason or 'no reason given'}); the old CE stays in use",
            step=progress.step or "WaitForSuccessorValid",
            phase=ReplacementPhase.STALLED,
        )
    if successor.status is not BatchStatus.VALID and not committed:
        return _decision(
            progress,
            WaitForSuccessorValid(successor.name),
            f"waiting for {successor.name} to become VALID (now {successor.status.value})",
        )
    return _switch_and_retire(progress, old, successor, queues_on_old)


def _without_successor(
    spec: ComputeSpec, progress: ReplacementProgress, committed: bool, tags: Mapping[str, str]
) -> ReplacementDecision:
    name = progress.successor_name
    if committed:
        return _decision(
            progress,
            ReplacementStalled(f"successor {name} disappeared after queues were moved to it"),
            f"successor {name} disappeared after queues were moved to it",
            step=progress.step,
            phase=ReplacementPhase.STALLED,
        )
    return _decision(
        progress,
        CreateSuccessor(name, desired_create_request(spec, name, tags)),
        f"creating {name} to replace {progress.previous_name}",
    )


def _switch_and_retire(
    progress: ReplacementProgress,
    old: ObservedComputeEnvironment | None,
    successor: ObservedComputeEnvironment,
    queues_on_old: Sequence[ObservedJobQueue],
) -> ReplacementDecision:
    old_arn = progress.previous_arn or (old.arn if old else None)
    for queue in sorted(queues_on_old, key=lambda q: q.name):
        if old_arn is not None and old_arn != successor.arn and queue.uses(old_arn):
            return _decision(
                progress,
                RepointQueue(queue.name, repoint_request(queue, old_arn, successor.arn)),
                f"moving queue {queue.name} from {progress.previous_name} to {successor.name}",
                active=successor,
            )
    step = retirement_step(old.state, old.status) if old else RetirementStep.GONE
    if old is None or step is RetirementStep.GONE:
        return _decision(
            progress,
            Finish(successor.name, successor.arn),
            f"replaced {progress.previous_name} with {successor.name}",
            phase=ReplacementPhase.COMPLETED,
            active=successor,
        )
    action, message = _retire_old(old, step)
    return _decision(progress, action, message, active=successor)


def _retire_old(
    ce: ObservedComputeEnvironment, step: RetirementStep
) -> tuple[ReplacementAction, str]:
    match retirement_action(step, ce.name):
        case Disable() as action:
            return action, f"disabling {ce.name}"
        case Delete() as action:
            return action, f"deleting {ce.name}"
        case WaitGone() as action:
            return action, f"waiting for {ce.name} to be deleted"
        case _:
            return (
                WaitSettled(ce.name),
                f"waiting for {ce.name} to settle ({ce.status.value}) before disabling it",
            )


def _discard(
    progress: ReplacementProgress, successor: ObservedComputeEnvironment
) -> ReplacementDecision:
    action, _ = _retire_old(successor, retirement_step(successor.state, successor.status))
    return _decision(
        progress,
        action,
        f"discarding {successor.name}: it was built for an earlier spec and is "
        f"{successor.status.value}",
        step=_DISCARD_STEP,
    )


def _decision(
    progress: ReplacementProgress,
    action: ReplacementAction,
    message: str,
    *,
    step: str | None = None,
    phase: ReplacementPhase = ReplacementPhase.IN_PROGRESS,
    active: ObservedComputeEnvironment | None = None,
) -> ReplacementDecision:
    recorded = dataclasses.replace(
        progress, phase=phase, step=step or type(action).__name__, message=message
    )
    if active is not None:
        return ReplacementDecision(action, recorded, active.name, active.arn)
    return ReplacementDecision(action, recorded, progress.previous_name, progress.previous_arn)


def repoint_request(
    queue: ObservedJobQueue, old_arn: str, new_arn: str
) -> UpdateJobQueueRequestTypeDef:
    """UpdateJobQueue arguments that swap `old_arn` for `new_arn`, keeping every order value."""
    entries: list[ComputeEnvironmentOrderTypeDef] = []
    already = queue.uses(new_arn)
    for entry in sorted(queue.compute_environment_order, key=lambda e: e.order):
        if entry.compute_environment == old_arn:
            if already:
                continue  # the successor is listed already; just drop the old CE
            entries.append({"order": entry.order, "computeEnvironment": new_arn})
        else:
            entries.append({"order": entry.order, "computeEnvironment": entry.compute_environment})
    return {"jobQueue": queue.arn, "computeEnvironmentOrder": entries}
