"""BatchSchedulingPolicy: the spec as the user wrote it, and the policy AWS reports.

A fair-share scheduling policy has no state and no status in AWS: it exists, usable, from the
moment CreateSchedulingPolicy returns, and can be deleted as soon as no job queue uses it. The
observed policy reports it VALID and without a state, which retirement reads as nothing to
disable before deleting it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batchops.model.common import (
    DeletionPolicy,
    FieldReader,
    ResourceState,
    empty_map,
    frozen_map,
    read_managed_fields,
)
from batchops.model.compute import BatchStatus

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import SchedulingPolicyDetailTypeDef


WEIGHT_MIN, WEIGHT_MAX = 0.0001, 999.9999
"""weightFactor's range (AWS Batch API reference, ShareAttributes)."""


@dataclass(frozen=True)
class ShareAttributes:
    """One entry of fairsharePolicy.shareDistribution."""

    share_identifier: str
    weight_factor: float | None = None


@dataclass(frozen=True)
class FairsharePolicy:
    """fairsharePolicy as CreateSchedulingPolicy takes it; None fields are AWS's defaults."""

    share_decay_seconds: int | None = None
    compute_reservation: int | None = None
    share_distribution: tuple[ShareAttributes, ...] = ()


@dataclass(frozen=True)
class SchedulingPolicySpec:
    """The spec of a BatchSchedulingPolicy, parsed once at the handler boundary."""

    fairshare_policy: FairsharePolicy | None = None
    tags: Mapping[str, str] = field(default_factory=empty_map)
    name: str | None = None
    region: str | None = None
    deletion_policy: DeletionPolicy = DeletionPolicy.DELETE
    adopt: bool = False
    account_ref: str | None = None
    """spec.accountRef: the BatchAccount to act in (None: the namespace's default)."""


@dataclass(frozen=True)
class ObservedSchedulingPolicy:
    """One item of DescribeSchedulingPolicies, reduced to what the plans compare."""

    name: str
    arn: str
    fairshare_policy: FairsharePolicy | None
    tags: Mapping[str, str] = field(default_factory=empty_map)
    state: ResourceState | None = None
    """None: no state in AWS, so retirement disables nothing before deleting."""
    status: BatchStatus = BatchStatus.VALID
    """No status in AWS; a policy AWS describes is usable."""
    status_reason: str | None = None

    @classmethod
    def from_describe(cls, d: SchedulingPolicyDetailTypeDef) -> ObservedSchedulingPolicy:
        """Read a SchedulingPolicyDetail as boto3 returns it."""
        raw = d.get("fairsharePolicy")
        policy = (
            FairsharePolicy(
                share_decay_seconds=raw.get("shareDecaySeconds"),
                compute_reservation=raw.get("computeReservation"),
                share_distribution=tuple(
                    ShareAttributes(s["shareIdentifier"], s.get("weightFactor"))
                    for s in raw.get("shareDistribution", [])
                ),
            )
            if raw is not None
            else None
        )
        return cls(
            name=d["name"], arn=d["arn"], fairshare_policy=policy, tags=frozen_map(d.get("tags"))
        )


def parse_scheduling_policy_spec(raw: Mapping[str, object]) -> SchedulingPolicySpec:
    """Parse `spec` of a BatchSchedulingPolicy; raises SpecError naming the bad field."""
    spec = FieldReader(raw, "spec")
    fairshare = spec.opt_obj("fairsharePolicy")
    policy = None
    if fairshare is not None:
        shares = fairshare.obj_list("shareDistribution") or []
        policy = FairsharePolicy(
            share_decay_seconds=fairshare.opt_int("shareDecaySeconds"),
            compute_reservation=fairshare.opt_int("computeReservation"),
            share_distribution=tuple(
                ShareAttributes(s.req_str("shareIdentifier"), s.opt_float("weightFactor"))
                for s in shares
            ),
        )
        for index, share in enumerate(policy.share_distribution):
            # The CRD says so too, but the API server skips `minimum` for an integer 0 (seen on
            # v1.37): AWS's range is 0.0001..999.9999 (API reference, ShareAttributes).
            weight = share.weight_factor
            if weight is not None and not WEIGHT_MIN <= weight <= WEIGHT_MAX:
                raise shares[index].fail(
                    "weightFactor", f"must be between {WEIGHT_MIN} and {WEIGHT_MAX}, not {weight:g}"
                )
        identifiers = [s.share_identifier for s in policy.share_distribution]
        duplicated = sorted({i for i in identifiers if identifiers.count(i) > 1})
        if duplicated:
            raise fairshare.fail("shareDistribution", f"share identifiers repeat: {duplicated}")
    return SchedulingPolicySpec(
        fairshare_policy=policy,
        **read_managed_fields(spec),
    )
