"""Pure decisions for BatchSchedulingPolicy: the create request and in-place updates.

UpdateSchedulingPolicy replaces the whole fairsharePolicy, so any difference is one update with
the desired policy. Fields the spec leaves unset are AWS's to choose and are not compared;
shareDistribution compares as a set keyed by shareIdentifier (AWS may report it in any order).
Deletion is plans/retirement.py (it waits while a job queue uses the policy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batchops.model.scheduling import (
    FairsharePolicy,
    ObservedSchedulingPolicy,
    SchedulingPolicySpec,
)
from batchops.plans.tags import TagChanges, diff_tags

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        CreateSchedulingPolicyRequestTypeDef,
        FairsharePolicyTypeDef,
        ShareAttributesTypeDef,
        UpdateSchedulingPolicyRequestTypeDef,
    )


def desired_policy_request(
    spec: SchedulingPolicySpec, aws_name: str, tags: Mapping[str, str]
) -> CreateSchedulingPolicyRequestTypeDef:
    """CreateSchedulingPolicy arguments; `tags` (the operator's) win over spec.tags."""
    request: CreateSchedulingPolicyRequestTypeDef = {"name": aws_name}
    if spec.fairshare_policy is not None:
        request["fairsharePolicy"] = _fairshare_request(spec.fairshare_policy)
    all_tags = {**spec.tags, **tags}
    if all_tags:
        request["tags"] = all_tags
    return request


@dataclass(frozen=True)
class PolicyUpdatePlan:
    """How to bring one scheduling policy to its spec."""

    changes: tuple[str, ...] = ()
    request: UpdateSchedulingPolicyRequestTypeDef | None = None
    tags: TagChanges = field(default_factory=TagChanges)

    def describe(self) -> str:
        """One line for an event: what differs."""
        parts = []
        if self.changes:
            parts.append("to update: " + ", ".join(self.changes))
        if self.tags.to_add:
            parts.append("tags to set: " + ", ".join(sorted(self.tags.to_add)))
        if self.tags.to_remove:
            parts.append("tags to remove: " + ", ".join(self.tags.to_remove))
        return "; ".join(parts) or "in sync with the spec"


def classify_policy_update(
    desired: SchedulingPolicySpec,
    observed: ObservedSchedulingPolicy,
    *,
    operator_tags: Mapping[str, str] | None = None,
) -> PolicyUpdatePlan:
    """Compare the spec with AWS: the UpdateSchedulingPolicy arguments when they differ."""
    tags = diff_tags({**desired.tags, **(operator_tags or {})}, observed.tags)
    wanted, seen = desired.fairshare_policy, observed.fairshare_policy
    if wanted is None:
        return PolicyUpdatePlan(tags=tags)
    changes = _fairshare_changes(wanted, seen or FairsharePolicy())
    if not changes:
        return PolicyUpdatePlan(tags=tags)
    request: UpdateSchedulingPolicyRequestTypeDef = {
        "arn": observed.arn,
        "fairsharePolicy": _fairshare_request(wanted),
    }
    return PolicyUpdatePlan(changes=changes, request=request, tags=tags)


def _fairshare_changes(wanted: FairsharePolicy, seen: FairsharePolicy) -> tuple[str, ...]:
    changes = []
    for name, want, have in (
        ("shareDecaySeconds", wanted.share_decay_seconds, seen.share_decay_seconds),
        ("computeReservation", wanted.compute_reservation, seen.compute_reservation),
    ):
        if want is not None and want != have:
            changes.append(f"fairsharePolicy.{name} {have} -> {want}")
    have_shares = {s.share_identifier: s.weight_factor for s in seen.share_distribution}
    want_shares = {s.share_identifier: s.weight_factor for s in wanted.share_distribution}
    differs = set(have_shares) != set(want_shares) or any(
        weight is not None and have_shares.get(identifier) != weight
        for identifier, weight in want_shares.items()
    )
    if differs:
        changes.append("fairsharePolicy.shareDistribution")
    return tuple(changes)


def _fairshare_request(policy: FairsharePolicy) -> FairsharePolicyTypeDef:
    request: FairsharePolicyTypeDef = {}
    if policy.share_decay_seconds is not None:
        request["shareDecaySeconds"] = policy.share_decay_seconds
    if policy.compute_reservation is not None:
        request["computeReservation"] = policy.compute_reservation
    if policy.share_distribution:
        shares: list[ShareAttributesTypeDef] = []
        for share in policy.share_distribution:
            entry: ShareAttributesTypeDef = {"shareIdentifier": share.share_identifier}
            if share.weight_factor is not None:
                entry["weightFactor"] = share.weight_factor
            shares.append(entry)
        request["shareDistribution"] = shares
    return request
