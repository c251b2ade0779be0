"""Pure decisions for BatchComputeEnvironment: AWS names, the create request, how a spec change
can reach AWS (scaling update, infrastructure update or blue/green replacement), the replacement
state machine, and deletion.

Everything here is a function of its arguments: no AWS calls, no Kubernetes calls, no clock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from batchops.model.common import DeletionPolicy, ResourceState, empty_map, frozen_map
from batchops.model.compute import (
    AllocationStrategy,
    BatchStatus,
    ComputeEnvironmentType,
    ComputeResources,
    ComputeResourceType,
    ComputeSpec,
    ObservedComputeEnvironment,
    ReplacementPhase,
    ReplacementProgress,
    UpdatePolicy,
)
from batchops.model.queue import ObservedJobQueue

if TYPE_CHECKING:
    from mypy_boto3_batch.literals import (
        CEStateType,
        CETypeType,
        CRAllocationStrategyType,
        CRTypeType,
        CRUpdateAllocationStrategyType,
    )
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentOrderTypeDef,
        ComputeResourceTypeDef,
        ComputeResourceUpdateTypeDef,
        CreateComputeEnvironmentRequestTypeDef,
        Ec2ConfigurationTypeDef,
        LaunchTemplateSpecificationTypeDef,
        UpdateComputeEnvironmentRequestTypeDef,
        UpdateJobQueueRequestTypeDef,
        UpdatePolicyTypeDef,
    )

# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

# Batch names compute environments, job queues and job definitions alike: up to 128 letters,
# numbers, hyphens and underscores, starting with a letter or number.
AWS_NAME_MAX = 128
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_HASH_LEN = 8


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:_HASH_LEN]


def _with_suffix(base: str, suffix: str) -> str:
    return f"{base[: AWS_NAME_MAX - len(suffix) - 1]}-{suffix}"


def aws_name(namespace: str, name: str, spec_name: str | None) -> str:
    """The AWS name of an object: spec.name if set, else `<namespace>-<name>` made Batch-safe.

    Characters Batch rejects (a Kubernetes name may contain dots) become hyphens; whenever that
    or truncation to 128 characters changed the name, a hash of the original is appended, so two
    objects never share an AWS name.
    """
    if spec_name:
        return spec_name
    raw = f"{namespace}-{name}"
    cleaned = _NOT_ALLOWED.sub("-", raw).lstrip("-_")
    if cleaned == raw and len(raw) <= AWS_NAME_MAX:
        return raw
    return _with_suffix(cleaned or "x", _short_hash(raw))


def successor_name(spec: ComputeSpec, base_name: str, previous_name: str) -> str:
    """The AWS name of the CE that replaces `previous_name`: base name + hash of what forced it.

    Deterministic, so a restarted operator looks for the successor it may already have created.
    Only fields that cannot change in place are hashed, so a scaling change made while a
    replacement runs does not start another one.
    """
    fingerprint = json.dumps(_replacement_fingerprint(spec), sort_keys=True)
    name = _with_suffix(base_name, _short_hash(fingerprint))
    if name == previous_name:
        # The previous CE was itself built from this fingerprint (an adopted or re-created CE);
        # salt with its name so the successor never collides with it.
        name = _with_suffix(base_name, _short_hash(fingerprint + previous_name))
    return name


# ---------------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------------

# The model's enums as the literal types boto3's stubs expect.
_CE_TYPES: Mapping[ComputeEnvironmentType, CETypeType] = {
    ComputeEnvironmentType.MANAGED: "MANAGED",
    ComputeEnvironmentType.UNMANAGED: "UNMANAGED",
}
_CE_STATES: Mapping[ResourceState, CEStateType] = {
    ResourceState.ENABLED: "ENABLED",
    ResourceState.DISABLED: "DISABLED",
}
_CR_TYPES: Mapping[ComputeResourceType, CRTypeType] = {
    ComputeResourceType.EC2: "EC2",
    ComputeResourceType.SPOT: "SPOT",
    ComputeResourceType.FARGATE: "FARGATE",
    ComputeResourceType.FARGATE_SPOT: "FARGATE_SPOT",
}
_STRATEGIES: Mapping[AllocationStrategy, CRAllocationStrategyType] = {
    AllocationStrategy.BEST_FIT: "BEST_FIT",
    AllocationStrategy.BEST_FIT_PROGRESSIVE: "BEST_FIT_PROGRESSIVE",
    AllocationStrategy.BEST_FIT_PROGRESSIVE_ORDERED: "BEST_FIT_PROGRESSIVE_ORDERED",
    AllocationStrategy.SPOT_CAPACITY_OPTIMIZED: "SPOT_CAPACITY_OPTIMIZED",
    AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED: "SPOT_PRICE_CAPACITY_OPTIMIZED",
    AllocationStrategy.SPOT_CAPACITY_OPTIMIZED_PRIORITIZED: "SPOT_CAPACITY_OPTIMIZED_PRIORITIZED",
}
# CRUpdateAllocationStrategy: every strategy but BEST_FIT, which updates can't set.
_UPDATE_STRATEGIES: Mapping[AllocationStrategy, CRUpdateAllocationStrategyType] = {
    AllocationStrategy.BEST_FIT_PROGRESSIVE: "BEST_FIT_PROGRESSIVE",
    AllocationStrategy.BEST_FIT_PROGRESSIVE_ORDERED: "BEST_FIT_PROGRESSIVE_ORDERED",
    AllocationStrategy.SPOT_CAPACITY_OPTIMIZED: "SPOT_CAPACITY_OPTIMIZED",
    AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED: "SPOT_PRICE_CAPACITY_OPTIMIZED",
    AllocationStrategy.SPOT_CAPACITY_OPTIMIZED_PRIORITIZED: "SPOT_CAPACITY_OPTIMIZED_PRIORITIZED",
}


def desired_create_request(
    spec: ComputeSpec, aws_name: str, tags: Mapping[str, str]
) -> CreateComputeEnvironmentRequestTypeDef:
    """CreateComputeEnvironment arguments for `spec`; `tags` (the operator's) win over spec.tags.

    The CE is always created ENABLED (AWS requires it); a DISABLED spec is applied afterwards as
    a scaling update.
    """
    request: CreateComputeEnvironmentRequestTypeDef = {
        "computeEnvironmentName": aws_name,
        "type": _CE_TYPES[spec.type],
        "state": "ENABLED",
    }
    if spec.service_role:
        request["serviceRole"] = spec.service_role
    if spec.compute_resources is not None:
        request["computeResources"] = _compute_resource_request(spec.compute_resources)
    all_tags = {**spec.tags, **tags}
    if all_tags:
        request["tags"] = all_tags
    return request


def _compute_resource_request(cr: ComputeResources) -> ComputeResourceTypeDef:
    out: ComputeResourceTypeDef = {"type": _CR_TYPES[cr.type], "maxvCpus": cr.max_vcpus}
    if not cr.type.is_fargate:
        # AWS defaults minvCpus to 0; sending it keeps strict implementations (moto) happy.
        out["minvCpus"] = cr.min_vcpus or 0
    if cr.allocation_strategy is not None:
        out["allocationStrategy"] = _STRATEGIES[cr.allocation_strategy]
    if cr.desired_vcpus is not None:
        out["desiredvCpus"] = cr.desired_vcpus
    if cr.instance_types is not None:
        out["instanceTypes"] = list(cr.instance_types)
    if cr.subnets is not None:
        out["subnets"] = list(cr.subnets)
    if cr.security_group_ids is not None:
        out["securityGroupIds"] = list(cr.security_group_ids)
    if cr.instance_role is not None:
        out["instanceRole"] = cr.instance_role
    if cr.spot_iam_fleet_role is not None:
        out["spotIamFleetRole"] = cr.spot_iam_fleet_role
    if cr.bid_percentage is not None:
        out["bidPercentage"] = cr.bid_percentage
    if cr.ec2_key_pair is not None:
        out["ec2KeyPair"] = cr.ec2_key_pair
    if cr.launch_template is not None:
        out["launchTemplate"] = _launch_template_request(cr)
    if cr.ec2_configuration is not None:
        out["ec2Configuration"] = _ec2_configuration_request(cr)
    if cr.tags is not None:
        out["tags"] = dict(cr.tags)
    return out


def _launch_template_request(cr: ComputeResources) -> LaunchTemplateSpecificationTypeDef:
    template = cr.launch_template
    out: LaunchTemplateSpecificationTypeDef = {}
    if template is not None:
        if template.launch_template_id is not None:
            out["launchTemplateId"] = template.launch_template_id
        if template.launch_template_name is not None:
            out["launchTemplateName"] = template.launch_template_name
        if template.version is not None:
            out["version"] = template.version
    return out


def _ec2_configuration_request(cr: ComputeResources) -> list[Ec2ConfigurationTypeDef]:
    out: list[Ec2ConfigurationTypeDef] = []
    for configuration in cr.ec2_configuration or ():
        item: Ec2ConfigurationTypeDef = {"imageType": configuration.image_type}
        if configuration.image_id_override is not None:
            item["imageIdOverride"] = configuration.image_id_override
        if configuration.image_kubernetes_version is not None:
            item["imageKubernetesVersion"] = configuration.image_kubernetes_version
        out.append(item)
    return out


# ---------------------------------------------------------------------------------------------
# AWS's update rules: the one table
# ---------------------------------------------------------------------------------------------
#
# Sources (AWS Batch User Guide and API Reference, read 2026-11):
# - "Update a compute environment" / "Perform scaling updates"
#   https://docs.aws.amazon.com/batch/latest/userguide/scaling-updates.html
#   Changing only desiredvCpus, maxvCpus, minvCpus is a scaling update; on Fargate also
#   securityGroupIds and subnets. Older revisions of the same guide list serviceRole and state
#   as scaling-update settings too ("changing only these settings causes a scaling update:
#   desiredvCpus, maxvCpus, minvCpus, serviceRole, state"; "except for service role, all of the
#   settings that can be changed for a scaling update can also be changed for an
#   infrastructure update").
# - "Perform infrastructure updates"
#   https://docs.aws.amazon.com/batch/latest/userguide/infrastructure-updates.html
#   Infrastructure updates require the AWSServiceRoleForBatch service-linked role and an
#   allocation strategy of BEST_FIT_PROGRESSIVE, SPOT_CAPACITY_OPTIMIZED or
#   SPOT_PRICE_CAPACITY_OPTIMIZED. Triggers: allocationStrategy, instanceTypes, bidPercentage,
#   type (EC2 or SPOT), imageId, ec2Configuration, launchTemplate, ec2KeyPair,
#   updateToLatestImageVersion, subnets and securityGroupIds (EC2), placementGroup,
#   instanceRole, tags.
# - "Perform blue/green updates for compute environments"
#   https://docs.aws.amazon.com/batch/latest/userguide/blue-green-updates.html
#   Required for BEST_FIT, without the service-linked role, or to move between service role
#   types.
# - API Reference, UpdateComputeEnvironment / ComputeResourceUpdate
#   https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateComputeEnvironment.html
#   "BEST_FIT isn't supported when updating a compute environment"; a service-linked role
#   can't be changed to a regular IAM role nor back; desiredvCpus can only grow and "Batch
#   doesn't support changing the desired number of vCPUs of an existing compute environment";
#   spotIamFleetRole is not part of ComputeResourceUpdate at all. The AWS error for an
#   infrastructure field on a non-updatable CE also lists updatePolicy, which is accepted only
#   by UpdateComputeEnvironment (CreateComputeEnvironment has no such parameter).
# The newer strategies BEST_FIT_PROGRESSIVE_ORDERED and SPOT_CAPACITY_OPTIMIZED_PRIORITIZED are
# accepted by the update API but not listed by the guide as allowing infrastructure updates;
# batchops replaces them blue/green, which is always safe.


class UpdateRule(StrEnum):
    """How AWS can apply a change to one field of a compute environment."""

    SCALING = "scaling"  # in place, any service role and allocation strategy
    INFRASTRUCTURE = (
        "infrastructure"  # in place only when `infrastructure_update_blockers` is empty
    )
    REPLACE = "replace"  # never in place: a new CE (blue/green)
    CREATE_ONLY = "create-only"  # used when creating; afterwards AWS owns the value


@dataclass(frozen=True)
class FieldRule:
    """The update rule of one field for EC2/SPOT compute environments and for Fargate ones."""

    ec2: UpdateRule
    fargate: UpdateRule

    def for_flavour(self, fargate: bool) -> UpdateRule:
        return self.fargate if fargate else self.ec2


_S, _I, _R, _C = (
    UpdateRule.SCALING,
    UpdateRule.INFRASTRUCTURE,
    UpdateRule.REPLACE,
    UpdateRule.CREATE_ONLY,
)

# Field paths as in the BatchComputeEnvironment spec. Fargate CEs take only the fields the CRD
# allows for them, so their column only matters for those (and says REPLACE elsewhere).
COMPUTE_UPDATE_RULES: Mapping[str, FieldRule] = MappingProxyType(
    {
        "type": FieldRule(_R, _R),
        "state": FieldRule(_S, _S),
        # Between two regular roles; to or from the service-linked role is REPLACE (see
        # `_service_role_change`), and a service role change can't ride on an infrastructure update.
        "serviceRole": FieldRule(_S, _S),
        # EC2 <-> SPOT; any move involving FARGATE / FARGATE_SPOT is REPLACE (`_type_change`).
        "computeResources.type": FieldRule(_I, _R),
        "computeResources.minvCpus": FieldRule(_S, _S),
        "computeResources.maxvCpus": FieldRule(_S, _S),
        "computeResources.desiredvCpus": FieldRule(_C, _C),
        "computeResources.subnets": FieldRule(_I, _S),
        "computeResources.securityGroupIds": FieldRule(_I, _S),
        "computeResources.allocationStrategy": FieldRule(_I, _R),
        "computeResources.instanceTypes": FieldRule(_I, _R),
        "computeResources.instanceRole": FieldRule(_I, _R),
        "computeResources.bidPercentage": FieldRule(_I, _R),
        "computeResources.ec2KeyPair": FieldRule(_I, _R),
        "computeResources.launchTemplate": FieldRule(_I, _R),
        "computeResources.ec2Configuration": FieldRule(_I, _R),
        "computeResources.tags": FieldRule(_I, _R),
        "computeResources.spotIamFleetRole": FieldRule(_R, _R),
        # Applied with infrastructure updates; meaningless (and ignored) where they can't happen.
        "updatePolicy": FieldRule(_I, _I),
    }
)

INFRASTRUCTURE_UPDATE_STRATEGIES = frozenset(
    {
        AllocationStrategy.BEST_FIT_PROGRESSIVE,
        AllocationStrategy.SPOT_CAPACITY_OPTIMIZED,
        AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
    }
)

# AWS's default when allocationStrategy is omitted (ECS compute environments).
DEFAULT_ALLOCATION_STRATEGY = AllocationStrategy.BEST_FIT
_SERVICE_LINKED_ROLE = "AWSServiceRoleForBatch"
_DEFAULT_UPDATE_POLICY = UpdatePolicy(
    terminate_jobs_on_update=False, job_execution_timeout_minutes=30
)


def is_service_linked_role(role: str | None) -> bool:
    """Whether a serviceRole value means AWSServiceRoleForBatch (unset means it too)."""
    return role is None or _iam_name(role) == _SERVICE_LINKED_ROLE


def infrastructure_update_blockers(
    desired: ComputeSpec, observed: ObservedComputeEnvironment
) -> tuple[str, ...]:
    """Why AWS would refuse an infrastructure update from `observed` to `desired` (empty: none)."""
    blockers = []
    observed_cr, desired_cr = observed.compute_resources, desired.compute_resources
    if observed_cr is None or desired_cr is None:
        return ("only MANAGED compute environments have infrastructure updates",)
    if observed_cr.type.is_fargate or desired_cr.type.is_fargate:
        return ("Fargate compute environments have no infrastructure updates",)
    if not is_service_linked_role(observed.service_role):
        blockers.append(
            f"the CE uses service role {_iam_name(str(observed.service_role))!r}, "
            f"not the service-linked role {_SERVICE_LINKED_ROLE}"
        )
    elif not is_service_linked_role(desired.service_role):
        blockers.append(f"the spec asks for a service role other than {_SERVICE_LINKED_ROLE}")
    have = observed_cr.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY
    want = desired_cr.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY
    for strategy in dict.fromkeys((have, want)):
        if strategy not in INFRASTRUCTURE_UPDATE_STRATEGIES:
            blockers.append(
                f"allocation strategy {strategy.value} does not allow infrastructure updates"
            )
    return tuple(blockers)


# ---------------------------------------------------------------------------------------------
# Classification of a difference between spec and AWS
# ---------------------------------------------------------------------------------------------


class UpdateKind(Enum):
    """What it takes to bring AWS to the spec, in increasing cost."""

    NONE = 0
    SCALING = 1
    INFRASTRUCTURE = 2
    REPLACE = 3


_KIND_OF_RULE = {
    UpdateRule.SCALING: UpdateKind.SCALING,
    UpdateRule.INFRASTRUCTURE: UpdateKind.INFRASTRUCTURE,
    UpdateRule.REPLACE: UpdateKind.REPLACE,
}


@dataclass(frozen=True)
class FieldChange:
    """One field where AWS differs from the spec, with the rule that applies to it."""

    path: str
    rule: UpdateRule
    observed: str
    desired: str


@dataclass(frozen=True)
class TagChanges:
    """TagResource / UntagResource work: resource tags are not part of UpdateComputeEnvironment."""

    to_add: Mapping[str, str] = field(default_factory=empty_map)
    to_remove: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.to_add or self.to_remove)


@dataclass(frozen=True)
class ComputeUpdatePlan:
    """How to bring one compute environment to its spec."""

    kind: UpdateKind
    changes: tuple[FieldChange, ...] = ()
    # UpdateComputeEnvironment arguments when kind is SCALING or INFRASTRUCTURE.
    request: UpdateComputeEnvironmentRequestTypeDef | None = None
    # Why an in-place update is impossible, when kind is REPLACE.
    replace_reasons: tuple[str, ...] = ()
    # Differences that are deliberately not acted on, with the reason (for events).
    ignored: tuple[str, ...] = ()
    tags: TagChanges = field(default_factory=TagChanges)

    @property
    def changed_fields(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.changes)

    @property
    def in_sync(self) -> bool:
        """Nothing to do in AWS."""
        return self.kind is UpdateKind.NONE and not self.tags


def diff_tags(desired: Mapping[str, str], observed: Mapping[str, str]) -> TagChanges:
    """Tags to set and keys to remove so that `observed` equals `desired` (aws: keys are AWS's)."""
    return TagChanges(
        to_add=frozen_map({k: v for k, v in desired.items() if observed.get(k) != v}),
        to_remove=tuple(
            sorted(k for k in observed if k not in desired and not k.lower().startswith("aws:"))
        ),
    )


def classify_compute_update(
    desired: ComputeSpec,
    observed: ObservedComputeEnvironment,
    *,
    operator_tags: Mapping[str, str] | None = None,
) -> ComputeUpdatePlan:
    """Compare the spec with what AWS reports and decide how the difference can be applied.

    Used both for spec changes and for drift: there is no "previous spec", only desired vs
    observed. Fields the spec leaves unset are AWS's to choose and never count as drift, except
    those with a documented default (minvCpus 0, allocationStrategy BEST_FIT, the
    service-linked role).
    """
    tags = diff_tags({**desired.tags, **(operator_tags or {})}, observed.tags)
    fargate = bool(observed.compute_resources and observed.compute_resources.type.is_fargate)
    changes = _top_level_changes(desired, observed, fargate)
    ignored: list[str] = []
    if desired.compute_resources is not None and observed.compute_resources is not None:
        changes += _resource_changes(desired.compute_resources, observed.compute_resources, fargate)
    elif desired.compute_resources is not None and desired.type is observed.type:
        changes.append(FieldChange("computeResources", _R, "unset", "set"))

    blockers = infrastructure_update_blockers(desired, observed)
    if blockers and any(c.path == "updatePolicy" for c in changes):
        changes = [c for c in changes if c.path != "updatePolicy"]
        ignored.append(
            "updatePolicy: only governs infrastructure updates, which this CE can't have"
        )
    if not changes:
        return ComputeUpdatePlan(UpdateKind.NONE, ignored=tuple(ignored), tags=tags)

    kind = max((_KIND_OF_RULE[c.rule] for c in changes), key=lambda k: k.value)
    reasons = tuple(
        f"{c.path} can only change by replacing the compute environment"
        for c in changes
        if c.rule is UpdateRule.REPLACE
    )
    if kind is UpdateKind.INFRASTRUCTURE and blockers:
        kind = UpdateKind.REPLACE
        infra_fields = ", ".join(c.path for c in changes if c.rule is UpdateRule.INFRASTRUCTURE)
        reasons = (f"{infra_fields} need an infrastructure update, but {'; '.join(blockers)}",)
    request = None
    if kind in (UpdateKind.SCALING, UpdateKind.INFRASTRUCTURE):
        request = _update_request(desired, observed, changes, kind)
    return ComputeUpdatePlan(
        kind=kind,
        changes=tuple(changes),
        request=request,
        replace_reasons=reasons,
        ignored=tuple(ignored),
        tags=tags,
    )


def describe_drift(plan: ComputeUpdatePlan) -> str:
    """One line for an event: which fields differ, what AWS has and what the spec wants."""
    if plan.in_sync:
        return "in sync with the spec"
    parts = [f"{c.path}: AWS has {c.observed}, spec wants {c.desired}" for c in plan.changes]
    if plan.tags.to_add:
        parts.append(
            "tags to set: " + ", ".join(f"{k}={v}" for k, v in sorted(plan.tags.to_add.items()))
        )
    if plan.tags.to_remove:
        parts.append("tags to remove: " + ", ".join(plan.tags.to_remove))
    text = "; ".join(parts)
    if plan.kind is UpdateKind.REPLACE:
        text += " (needs replacement: " + "; ".join(plan.replace_reasons) + ")"
    elif plan.kind is not UpdateKind.NONE:
        text += f" ({plan.kind.name.lower()} update)"
    return text


def _rule(path: str, fargate: bool) -> UpdateRule:
    return COMPUTE_UPDATE_RULES[path].for_flavour(fargate)


def _top_level_changes(
    desired: ComputeSpec, observed: ObservedComputeEnvironment, fargate: bool
) -> list[FieldChange]:
    changes = []
    if desired.type is not observed.type:
        changes.append(
            FieldChange("type", _rule("type", fargate), observed.type.value, desired.type.value)
        )
    if desired.state is not observed.state:
        changes.append(
            FieldChange("state", _rule("state", fargate), observed.state.value, desired.state.value)
        )
    role_change = _service_role_change(desired.service_role, observed.service_role, fargate)
    if role_change is not None:
        changes.append(role_change)
    if desired.update_policy is not None:
        want = _effective_update_policy(desired.update_policy)
        have = _effective_update_policy(observed.update_policy)
        if want != have:
            changes.append(
                FieldChange(
                    "updatePolicy", _rule("updatePolicy", fargate), _show(have), _show(want)
                )
            )
    return changes


def _service_role_change(
    desired: str | None, observed: str | None, fargate: bool
) -> FieldChange | None:
    want_linked, have_linked = is_service_linked_role(desired), is_service_linked_role(observed)
    if want_linked and have_linked:
        return None
    if not want_linked and not have_linked and _iam_name(str(desired)) == _iam_name(str(observed)):
        return None
    rule = _rule("serviceRole", fargate) if want_linked == have_linked else UpdateRule.REPLACE
    return FieldChange(
        "serviceRole",
        rule,
        observed or _SERVICE_LINKED_ROLE,
        desired or _SERVICE_LINKED_ROLE,
    )


def _effective_update_policy(policy: UpdatePolicy | None) -> UpdatePolicy:
    policy = policy or _DEFAULT_UPDATE_POLICY
    return UpdatePolicy(
        terminate_jobs_on_update=(
            policy.terminate_jobs_on_update
            if policy.terminate_jobs_on_update is not None
            else _DEFAULT_UPDATE_POLICY.terminate_jobs_on_update
        ),
        job_execution_timeout_minutes=(
            policy.job_execution_timeout_minutes
            or _DEFAULT_UPDATE_POLICY.job_execution_timeout_minutes
        ),
    )


# Per computeResources field: how to read a comparable value from the spec (None: not managed)
# and from AWS. Set-valued fields compare as sets; role names compare by name, not ARN form.
_Extract = Callable[[ComputeResources, ComputeResources], tuple[object, object] | None]


def _resource_changes(
    desired: ComputeResources, observed: ComputeResources, fargate: bool
) -> list[FieldChange]:
    changes = []
    # desiredvCpus is absent: CREATE_ONLY, AWS moves it with demand.
    for key, extract in _RESOURCE_FIELDS.items():
        path = f"computeResources.{key}"
        rule = _rule(path, fargate)
        pair = extract(desired, observed)
        if pair is None:
            continue
        want, have = pair
        if want != have:
            if key == "type":
                rule = _type_change_rule(desired, observed, fargate)
            changes.append(FieldChange(path, rule, _show(have), _show(want)))
    return changes


def _type_change_rule(
    desired: ComputeResources, observed: ComputeResources, fargate: bool
) -> UpdateRule:
    if desired.type.is_fargate != observed.type.is_fargate:
        return UpdateRule.REPLACE
    return _rule("computeResources.type", fargate)


def _when_set(value: object, observed_value: object) -> tuple[object, object] | None:
    return None if value is None else (value, observed_value)


def _as_set(values: Sequence[str] | None) -> frozenset[str]:
    return frozenset(values or ())


def _set_field(
    get: Callable[[ComputeResources], Sequence[str] | None],
) -> _Extract:
    def extract(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
        want = get(d)
        return None if want is None else (_as_set(want), _as_set(get(o)))

    return extract


def _iam_field(get: Callable[[ComputeResources], str | None]) -> _Extract:
    def extract(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
        want, have = get(d), get(o)
        if want is None:
            return None
        return _iam_name(want), None if have is None else _iam_name(have)

    return extract


def _plain_field(get: Callable[[ComputeResources], object]) -> _Extract:
    return lambda d, o: _when_set(get(d), get(o))


def _min_vcpus(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    # Fargate has no minimum; elsewhere AWS's default is 0.
    return None if d.type.is_fargate else (d.min_vcpus or 0, o.min_vcpus or 0)


def _tags(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    return None if d.tags is None else (dict(d.tags), dict(o.tags or {}))


def _instance_types(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    if d.instance_types is None:
        return None
    strategy = d.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY
    if strategy.orders_instance_types:
        return tuple(d.instance_types), tuple(o.instance_types or ())
    return _as_set(d.instance_types), _as_set(o.instance_types)


def _allocation_strategy(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    if d.type.is_fargate:
        return None
    return (
        d.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY,
        o.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY,
    )


def _launch_template(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    want, have = d.launch_template, o.launch_template
    if want is None:
        return None
    wanted = (want.launch_template_id, want.launch_template_name, want.version or "$Default")
    if have is None:
        return wanted, None
    # Compare only the identifier the spec uses: AWS may report both id and name.
    return wanted, (
        have.launch_template_id if want.launch_template_id is not None else None,
        have.launch_template_name if want.launch_template_name is not None else None,
        have.version or "$Default",
    )


def _ec2_configuration(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    if d.ec2_configuration is None:
        return None
    wanted_types = {c.image_type for c in d.ec2_configuration}
    observed_by_type = {c.image_type: c for c in o.ec2_configuration or ()}
    want = {
        (c.image_type, c.image_id_override, c.image_kubernetes_version) for c in d.ec2_configuration
    }
    have: set[tuple[str, str | None, str | None]] = {
        (t, None, None) for t in observed_by_type if t not in wanted_types
    }
    for c in d.ec2_configuration:
        seen = observed_by_type.get(c.image_type)
        if seen is not None:
            # AWS fills in what the spec left open (the latest Kubernetes version); not drift.
            have.add(
                (
                    seen.image_type,
                    seen.image_id_override if c.image_id_override is not None else None,
                    seen.image_kubernetes_version
                    if c.image_kubernetes_version is not None
                    else None,
                )
            )
    return frozenset(want), frozenset(have)


_RESOURCE_FIELDS: Mapping[str, _Extract] = MappingProxyType(
    {
        "type": lambda d, o: (d.type, o.type),
        "minvCpus": _min_vcpus,
        "maxvCpus": lambda d, o: (d.max_vcpus, o.max_vcpus),
        "subnets": _set_field(lambda cr: cr.subnets),
        "securityGroupIds": _set_field(lambda cr: cr.security_group_ids),
        "allocationStrategy": _allocation_strategy,
        "instanceTypes": _instance_types,
        "instanceRole": _iam_field(lambda cr: cr.instance_role),
        "bidPercentage": _plain_field(lambda cr: cr.bid_percentage),
        "ec2KeyPair": _plain_field(lambda cr: cr.ec2_key_pair),
        "launchTemplate": _launch_template,
        "ec2Configuration": _ec2_configuration,
        "tags": _tags,
        "spotIamFleetRole": _iam_field(lambda cr: cr.spot_iam_fleet_role),
    }
)


def _iam_name(role: str) -> str:
    # "name", "path/name", "arn:aws:iam::123456789012:role/service-role/name" and
    # "arn:...:instance-profile/name" all name the same IAM entity: IAM names are unique per
    # account whatever the path.
    return role.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _show(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(_show(v) for v in value)) + "]"
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, Enum):
        return str(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.asdict(value)
        return "{" + ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None) + "}"
    return str(value)


def _update_request(
    desired: ComputeSpec,
    observed: ObservedComputeEnvironment,
    changes: Sequence[FieldChange],
    kind: UpdateKind,
) -> UpdateComputeEnvironmentRequestTypeDef:
    changed = {c.path for c in changes}
    request: UpdateComputeEnvironmentRequestTypeDef = {"computeEnvironment": observed.arn}
    if "state" in changed:
        request["state"] = _CE_STATES[desired.state]
    if "serviceRole" in changed and desired.service_role is not None:
        request["serviceRole"] = desired.service_role
    if desired.update_policy is not None and (
        "updatePolicy" in changed or kind is UpdateKind.INFRASTRUCTURE
    ):
        # Sent with every infrastructure update so that the policy governs this one too.
        request["updatePolicy"] = _update_policy_request(desired.update_policy)
    cr = desired.compute_resources
    if cr is not None:
        resources = _resource_update(cr, changed)
        if resources:
            request["computeResources"] = resources
    return request


def _update_policy_request(policy: UpdatePolicy) -> UpdatePolicyTypeDef:
    out: UpdatePolicyTypeDef = {}
    if policy.terminate_jobs_on_update is not None:
        out["terminateJobsOnUpdate"] = policy.terminate_jobs_on_update
    if policy.job_execution_timeout_minutes is not None:
        out["jobExecutionTimeoutMinutes"] = policy.job_execution_timeout_minutes
    return out


def _resource_update(cr: ComputeResources, changed: set[str]) -> ComputeResourceUpdateTypeDef:
    full = _compute_resource_request(cr)
    out: ComputeResourceUpdateTypeDef = {}
    if "computeResources.type" in changed:
        out["type"] = full["type"]
    if "computeResources.minvCpus" in changed:
        out["minvCpus"] = cr.min_vcpus or 0
    if "computeResources.maxvCpus" in changed:
        out["maxvCpus"] = cr.max_vcpus
    if "computeResources.subnets" in changed and "subnets" in full:
        out["subnets"] = full["subnets"]
    if "computeResources.securityGroupIds" in changed and "securityGroupIds" in full:
        out["securityGroupIds"] = full["securityGroupIds"]
    if "computeResources.allocationStrategy" in changed and cr.allocation_strategy is not None:
        # Only strategies in INFRASTRUCTURE_UPDATE_STRATEGIES get here (else REPLACE).
        out["allocationStrategy"] = _UPDATE_STRATEGIES[cr.allocation_strategy]
    if "computeResources.instanceTypes" in changed and "instanceTypes" in full:
        out["instanceTypes"] = full["instanceTypes"]
    if "computeResources.instanceRole" in changed and "instanceRole" in full:
        out["instanceRole"] = full["instanceRole"]
    if "computeResources.bidPercentage" in changed and "bidPercentage" in full:
        out["bidPercentage"] = full["bidPercentage"]
    if "computeResources.ec2KeyPair" in changed and "ec2KeyPair" in full:
        out["ec2KeyPair"] = full["ec2KeyPair"]
    if "computeResources.launchTemplate" in changed and "launchTemplate" in full:
        out["launchTemplate"] = full["launchTemplate"]
    if "computeResources.ec2Configuration" in changed and "ec2Configuration" in full:
        out["ec2Configuration"] = full["ec2Configuration"]
    if "computeResources.tags" in changed and "tags" in full:
        out["tags"] = full["tags"]
    return out


def _replacement_fingerprint(spec: ComputeSpec) -> Mapping[str, object]:
    """What a successor is built from, minus what can change in place on it afterwards."""
    request = desired_create_request(spec, "-", {})
    fargate = bool(spec.compute_resources and spec.compute_resources.type.is_fargate)
    fingerprint: dict[str, object] = {
        "type": request["type"],
        "serviceLinkedRole": is_service_linked_role(spec.service_role),
    }
    resources: dict[str, object] = dict(request.get("computeResources") or {})
    ordered = bool(
        spec.compute_resources
        and spec.compute_resources.allocation_strategy
        and spec.compute_resources.allocation_strategy.orders_instance_types
    )
    for key in list(resources):
        if _rule(f"computeResources.{key}", fargate) in (
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


# ---------------------------------------------------------------------------------------------
# Retiring a Batch resource (a CE or a queue): disable, wait, delete, wait
# ---------------------------------------------------------------------------------------------


class RetirementStep(Enum):
    """The next step towards deleting a CE or job queue, given only its state and status."""

    WAIT_SETTLED = "wait-settled"  # CREATING / UPDATING: AWS accepts no update yet
    DISABLE = "disable"
    DELETE = "delete"
    WAIT_GONE = "wait-gone"  # DELETING
    GONE = "gone"


def retirement_step(state: ResourceState, status: BatchStatus) -> RetirementStep:
    """AWS deletes only DISABLED resources, and updates only settled (VALID/INVALID) ones."""
    if status is BatchStatus.DELETED:
        return RetirementStep.GONE
    if status is BatchStatus.DELETING:
        return RetirementStep.WAIT_GONE
    if not status.settled:
        return RetirementStep.WAIT_SETTLED
    if state is ResourceState.ENABLED:
        return RetirementStep.DISABLE
    return RetirementStep.DELETE


# ---------------------------------------------------------------------------------------------
# Blue/green replacement
# ---------------------------------------------------------------------------------------------


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
class DisableOld:
    """Set the retiring CE DISABLED (UpdateComputeEnvironment state=DISABLED)."""

    name: str


@dataclass(frozen=True)
class WaitForOldDisabled:
    """The retiring CE is CREATING or UPDATING: look again later."""

    name: str


@dataclass(frozen=True)
class DeleteOld:
    """Call DeleteComputeEnvironment; "found existing JobQueue relationship" means retry later."""

    name: str


@dataclass(frozen=True)
class WaitForOldGone:
    """The retiring CE is DELETING: look again later."""

    name: str


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
    | DisableOld
    | WaitForOldDisabled
    | DeleteOld
    | WaitForOldGone
    | Finish
    | ReplacementStalled
)

# Once a queue may point at the successor, the replacement must finish with that successor.
_COMMITTED_STEPS = frozenset(
    {"RepointQueue", "DisableOld", "WaitForOldDisabled", "DeleteOld", "WaitForOldGone", "Finish"}
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
    if step is RetirementStep.DISABLE:
        return DisableOld(ce.name), f"disabling {ce.name}"
    if step is RetirementStep.DELETE:
        return DeleteOld(ce.name), f"deleting {ce.name}"
    if step is RetirementStep.WAIT_GONE:
        return WaitForOldGone(ce.name), f"waiting for {ce.name} to be deleted"
    return (
        WaitForOldDisabled(ce.name),
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


# ---------------------------------------------------------------------------------------------
# Deletion (the finalizer)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retain:
    """deletionPolicy Retain: leave AWS alone and release the object."""


@dataclass(frozen=True)
class Done:
    """Nothing left in AWS: release the object."""


@dataclass(frozen=True)
class WaitForQueues:
    """Job queues still use the CE; AWS would refuse the delete. Nothing is touched meanwhile."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Disable:
    """Set the resource DISABLED."""

    name: str


@dataclass(frozen=True)
class WaitDisabled:
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


DeletionAction = Retain | Done | WaitForQueues | Disable | WaitDisabled | Delete | WaitGone


def plan_compute_deletion(
    observed: ObservedComputeEnvironment | None,
    queues_using: Sequence[str],
    policy: DeletionPolicy,
) -> DeletionAction:
    """The next step of deleting a CE: wait for queues to let go, then disable, then delete.

    While a queue uses the CE nothing is changed (disabling would stop that queue's jobs for a
    delete that can't happen yet).
    """
    if policy is DeletionPolicy.RETAIN:
        return Retain()
    if observed is None:
        return Done()
    step = retirement_step(observed.state, observed.status)
    if step is RetirementStep.GONE:
        return Done()
    if step is RetirementStep.WAIT_GONE:
        return WaitGone(observed.name)
    if queues_using:
        return WaitForQueues(tuple(sorted(queues_using)))
    return deletion_action(step, observed.name)


def deletion_action(step: RetirementStep, name: str) -> DeletionAction:
    """The deletion action for a retirement step (shared with job queues)."""
    actions: dict[RetirementStep, DeletionAction] = {
        RetirementStep.WAIT_SETTLED: WaitDisabled(name),
        RetirementStep.DISABLE: Disable(name),
        RetirementStep.DELETE: Delete(name),
        RetirementStep.WAIT_GONE: WaitGone(name),
        RetirementStep.GONE: Done(),
    }
    return actions[step]
