"""Pure decisions for BatchComputeEnvironment: the create request, and how a spec change can
reach AWS (scaling update, infrastructure update or blue/green replacement), judged by the rules
table of plans/compute_rules.py. Names are plans/naming.py, the replacement itself
plans/replacement.py, deletion plans/retirement.py.

Everything here is a function of its arguments: no AWS calls, no Kubernetes calls, no clock.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING

from batchops.model.compute import (
    ComputeResources,
    ComputeSpec,
    LaunchTemplateOverride,
    ObservedComputeEnvironment,
    UpdatePolicy,
)
from batchops.model.request_surface import JsonValue, thaw_json
from batchops.plans.compute_request import (
    CE_STATES,
    UPDATE_STRATEGIES,
    access_entry_request,
    compute_resource_request,
    ecs_settings_request,
)
from batchops.plans.compute_rules import (
    DEFAULT_ALLOCATION_STRATEGY,
    DEFAULT_UPDATE_POLICY,
    FIXED_MEMBERS,
    SERVICE_LINKED_ROLE,
    Flavour,
    UpdateRule,
    flavour_of,
    iam_name,
    infrastructure_update_blockers,
    is_service_linked_role,
    member_rule,
    rule_for,
)
from batchops.plans.tags import TagChanges, diff_tags

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeResourceUpdateTypeDef,
        UpdateComputeEnvironmentRequestTypeDef,
        UpdateManagedInstancesProviderConfigurationTypeDef,
        UpdatePolicyTypeDef,
    )

_PROVIDER = "computeResources.managedInstancesProvider"
# The members of InstanceLaunchTemplate no update can change (compute_rules.FIXED_MEMBERS).
_FIXED_LAUNCH_MEMBERS = tuple(
    member.removeprefix("instanceLaunchTemplate.") for member in FIXED_MEMBERS[_PROVIDER]
)

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
    flavour = flavour_of(observed.compute_resources)
    changes = _top_level_changes(desired, observed, flavour)
    ignored: list[str] = []
    if desired.compute_resources is not None and observed.compute_resources is not None:
        changes += _resource_changes(desired.compute_resources, observed.compute_resources, flavour)
    elif desired.compute_resources is not None and desired.type is observed.type:
        changes.append(FieldChange("computeResources", UpdateRule.REPLACE, "unset", "set"))

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


def _top_level_changes(
    desired: ComputeSpec, observed: ObservedComputeEnvironment, flavour: Flavour
) -> list[FieldChange]:
    changes = []
    if desired.type is not observed.type:
        changes.append(
            FieldChange("type", rule_for("type", flavour), observed.type.value, desired.type.value)
        )
    if desired.state is not observed.state:
        changes.append(
            FieldChange(
                "state", rule_for("state", flavour), observed.state.value, desired.state.value
            )
        )
    role_change = _service_role_change(desired.service_role, observed.service_role, flavour)
    if role_change is not None:
        changes.append(role_change)
    if desired.update_policy is not None:
        want = _effective_update_policy(desired.update_policy)
        have = _effective_update_policy(observed.update_policy)
        if want != have:
            changes.append(
                FieldChange(
                    "updatePolicy", rule_for("updatePolicy", flavour), _show(have), _show(want)
                )
            )
    if desired.unmanaged_vcpus is not None and desired.unmanaged_vcpus != observed.unmanaged_vcpus:
        changes.append(
            FieldChange(
                "unmanagedvCpus",
                rule_for("unmanagedvCpus", flavour),
                _show(observed.unmanaged_vcpus),
                _show(desired.unmanaged_vcpus),
            )
        )
    want_insights = desired.ecs_settings.container_insights if desired.ecs_settings else None
    # AWS's default is DISABLED (EcsSettings.containerInsights); unset is AWS's to choose.
    have_insights = (
        observed.ecs_settings.container_insights if observed.ecs_settings else None
    ) or "DISABLED"
    if want_insights is not None and want_insights != have_insights:
        changes.append(
            FieldChange(
                "ecsSettings", rule_for("ecsSettings", flavour), have_insights, want_insights
            )
        )
    return changes + _eks_changes(desired, observed, flavour)


def _eks_changes(
    desired: ComputeSpec, observed: ObservedComputeEnvironment, flavour: Flavour
) -> list[FieldChange]:
    """An EKS CE can't become an ECS one nor change cluster or namespace; its access entry
    changes in place (EksConfigurationUpdate)."""
    want, have = desired.eks_configuration, observed.eks_configuration
    if want is None and have is None:
        return []
    if want is None or have is None:
        # The orchestration type (ECS or EKS) is the compute environment's own.
        return [
            FieldChange(
                "eksConfiguration",
                UpdateRule.REPLACE,
                have.eks_cluster_arn if have else "unset",
                want.eks_cluster_arn if want else "unset",
            )
        ]
    changes = []
    for member, wanted, seen in (
        ("eksClusterArn", want.eks_cluster_arn, have.eks_cluster_arn),
        ("kubernetesNamespace", want.kubernetes_namespace, have.kubernetes_namespace),
        ("accessEntry", want.access_entry_desired_state, have.access_entry_desired_state),
    ):
        # accessEntry unset: Batch records none, which is not compared.
        if wanted is not None and wanted != seen:
            changes.append(
                FieldChange(
                    f"eksConfiguration.{member}",
                    member_rule("eksConfiguration", member, flavour),
                    _show(seen),
                    wanted,
                )
            )
    return changes


def _service_role_change(
    desired: str | None, observed: str | None, flavour: Flavour
) -> FieldChange | None:
    want_linked, have_linked = is_service_linked_role(desired), is_service_linked_role(observed)
    if want_linked and have_linked:
        return None
    if not want_linked and not have_linked and iam_name(str(desired)) == iam_name(str(observed)):
        return None
    rule = rule_for("serviceRole", flavour) if want_linked == have_linked else UpdateRule.REPLACE
    return FieldChange(
        "serviceRole",
        rule,
        observed or SERVICE_LINKED_ROLE,
        desired or SERVICE_LINKED_ROLE,
    )


def _effective_update_policy(policy: UpdatePolicy | None) -> UpdatePolicy:
    policy = policy or DEFAULT_UPDATE_POLICY
    return UpdatePolicy(
        terminate_jobs_on_update=(
            policy.terminate_jobs_on_update
            if policy.terminate_jobs_on_update is not None
            else DEFAULT_UPDATE_POLICY.terminate_jobs_on_update
        ),
        job_execution_timeout_minutes=(
            policy.job_execution_timeout_minutes
            or DEFAULT_UPDATE_POLICY.job_execution_timeout_minutes
        ),
    )


# Per computeResources field: how to read a comparable value from the spec (None: not managed)
# and from AWS. Set-valued fields compare as sets; role names compare by name, not ARN form.
_Extract = Callable[[ComputeResources, ComputeResources], tuple[object, object] | None]


def _resource_changes(
    desired: ComputeResources, observed: ComputeResources, flavour: Flavour
) -> list[FieldChange]:
    changes = []
    # desiredvCpus is absent: CREATE_ONLY, AWS moves it with demand.
    for key, extract in _RESOURCE_FIELDS.items():
        path = f"computeResources.{key}"
        rule = rule_for(path, flavour)
        pair = extract(desired, observed)
        if pair is None:
            continue
        want, have = pair
        if want != have:
            if key == "type":
                rule = _type_change_rule(desired, observed, flavour)
            changes.append(FieldChange(path, rule, _show(have), _show(want)))
    return changes + _provider_changes(desired, observed, flavour)


def _type_change_rule(
    desired: ComputeResources, observed: ComputeResources, flavour: Flavour
) -> UpdateRule:
    if flavour_of(desired) is not flavour_of(observed):
        return UpdateRule.REPLACE
    return rule_for("computeResources.type", flavour)


def _provider_changes(
    desired: ComputeResources, observed: ComputeResources, flavour: Flavour
) -> list[FieldChange]:
    """managedInstancesProvider, compared on the members the spec sets (AWS fills in defaults
    such as propagateTags NONE); the two members no update can change are their own fields."""
    want = desired.managed_instances_provider
    if want is None:
        return []
    have = observed.managed_instances_provider or {}
    changes = []
    for member in _FIXED_LAUNCH_MEMBERS:
        path = f"{_PROVIDER}.instanceLaunchTemplate.{member}"
        wanted = _launch_member(want, member)
        seen = _launch_member(have, member)
        if wanted is not None and wanted != seen:
            rule = member_rule(_PROVIDER, f"instanceLaunchTemplate.{member}", flavour)
            changes.append(FieldChange(path, rule, _show(seen), _show(wanted)))
    rest_want, rest_have = _without_fixed(want), _without_fixed(have)
    if not _json_covers(rest_have, rest_want):
        changes.append(
            FieldChange(
                _PROVIDER,
                rule_for(_PROVIDER, flavour),
                _show_json(rest_have),
                _show_json(rest_want),
            )
        )
    return changes


def _launch_member(provider: Mapping[str, JsonValue], member: str) -> JsonValue:
    template = provider.get("instanceLaunchTemplate")
    return template.get(member) if isinstance(template, Mapping) else None


def _without_fixed(provider: Mapping[str, JsonValue]) -> Mapping[str, JsonValue]:
    template = provider.get("instanceLaunchTemplate")
    if not isinstance(template, Mapping):
        return provider
    kept = {k: v for k, v in template.items() if k not in _FIXED_LAUNCH_MEMBERS}
    return {**provider, "instanceLaunchTemplate": MappingProxyType(kept)}


def _json_covers(have: JsonValue, want: JsonValue) -> bool:
    """Whether AWS's value has every member the spec sets, equal; lists of strings compare as
    sets (subnets, security groups, instance types)."""
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(
            _json_covers(have.get(key), value) for key, value in want.items()
        )
    if isinstance(want, tuple) and all(isinstance(item, str) for item in want):
        return isinstance(have, tuple) and set(have) == set(want)
    return have == want


def _show_json(value: Mapping[str, JsonValue]) -> str:
    return json.dumps(thaw_json(value), sort_keys=True, separators=(",", ":"))


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
        return iam_name(want), None if have is None else iam_name(have)

    return extract


def _plain_field(get: Callable[[ComputeResources], object]) -> _Extract:
    return lambda d, o: _when_set(get(d), get(o))


def _min_vcpus(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    # Fargate and ECS Managed Instances have no minimum; elsewhere AWS's default is 0.
    return (d.min_vcpus or 0, o.min_vcpus or 0) if d.type.is_ec2 else None


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
    if not d.type.is_ec2:
        return None
    return (
        d.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY,
        o.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY,
    )


def _launch_template(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    want, have = d.launch_template, o.launch_template
    if want is None:
        return None
    wanted = (
        want.launch_template_id,
        want.launch_template_name,
        want.version or "$Default",
        want.userdata_type,
        # No overrides in the spec means none: an update without them unsets them (API
        # reference, LaunchTemplateSpecification.overrides), so AWS keeps none either.
        frozenset(_override_key(v, v) for v in want.overrides or ()),
    )
    if have is None:
        return wanted, None
    # Compare only the identifier the spec uses: AWS may report both id and name; and
    # userdataType only when the spec sets it (AWS's default is EKS_BOOTSTRAP_SH).
    by_targets = {frozenset(v.target_instance_types): v for v in have.overrides or ()}
    seen_overrides = set()
    for override in want.overrides or ():
        match = by_targets.pop(frozenset(override.target_instance_types), None)
        if match is not None:
            seen_overrides.add(_override_key(override, match))
    seen_overrides |= {_override_key(v, v) for v in by_targets.values()}
    return wanted, (
        have.launch_template_id if want.launch_template_id is not None else None,
        have.launch_template_name if want.launch_template_name is not None else None,
        have.version or "$Default",
        have.userdata_type if want.userdata_type is not None else None,
        frozenset(seen_overrides),
    )


def _override_key(spec: LaunchTemplateOverride, seen: LaunchTemplateOverride) -> tuple[object, ...]:
    """One override as compared: `seen`'s values, read the way `spec` names them."""
    return (
        frozenset(seen.target_instance_types),
        seen.launch_template_id if spec.launch_template_id is not None else None,
        seen.launch_template_name if spec.launch_template_name is not None else None,
        seen.version or "$Default",
        seen.userdata_type if spec.userdata_type is not None else None,
    )


def _scaling_policy(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    if d.scaling_policy is None:
        return None
    # 0 is AWS's "no delay"; an unreported policy is the same.
    have = o.scaling_policy.min_scale_down_delay_minutes if o.scaling_policy else None
    return d.scaling_policy.min_scale_down_delay_minutes or 0, have or 0


def _capacity_tags(d: ComputeResources, o: ComputeResources) -> tuple[object, object] | None:
    if d.capacity_tags is None:
        return None
    return dict(d.capacity_tags), dict(o.capacity_tags or {})


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
        "placementGroup": _plain_field(lambda cr: cr.placement_group),
        "scalingPolicy": _scaling_policy,
        "capacityTags": _capacity_tags,
        "spotIamFleetRole": _iam_field(lambda cr: cr.spot_iam_fleet_role),
    }
)


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
        request["state"] = CE_STATES[desired.state]
    if "serviceRole" in changed and desired.service_role is not None:
        request["serviceRole"] = desired.service_role
    if desired.update_policy is not None and (
        "updatePolicy" in changed or kind is UpdateKind.INFRASTRUCTURE
    ):
        # Sent with every infrastructure update so that the policy governs this one too.
        request["updatePolicy"] = _update_policy_request(desired.update_policy)
    if "unmanagedvCpus" in changed and desired.unmanaged_vcpus is not None:
        request["unmanagedvCpus"] = desired.unmanaged_vcpus
    if "ecsSettings" in changed and desired.ecs_settings is not None:
        request["ecsSettings"] = ecs_settings_request(desired.ecs_settings)
    if "eksConfiguration.accessEntry" in changed and desired.eks_configuration is not None:
        request["eksConfiguration"] = {
            "accessEntry": access_entry_request(desired.eks_configuration)
        }
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
    full = compute_resource_request(cr)
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
        out["allocationStrategy"] = UPDATE_STRATEGIES[cr.allocation_strategy]
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
    if "computeResources.placementGroup" in changed and "placementGroup" in full:
        out["placementGroup"] = full["placementGroup"]
    if "computeResources.scalingPolicy" in changed and "scalingPolicy" in full:
        out["scalingPolicy"] = full["scalingPolicy"]
    if _PROVIDER in changed and "managedInstancesProvider" in full:
        out["managedInstancesProvider"] = _provider_update(full["managedInstancesProvider"])
    if "computeResources.capacityTags" in changed and "capacityTags" in full:
        out["capacityTags"] = full["capacityTags"]
    return out


def _provider_update(
    provider: Mapping[str, object],
) -> UpdateManagedInstancesProviderConfigurationTypeDef:
    """The create shape less the members an update can't take (only an unchanged value of
    them gets here: a change replaces the CE)."""
    update = dict(provider)
    template = update.get("instanceLaunchTemplate")
    if isinstance(template, Mapping):
        update["instanceLaunchTemplate"] = {
            k: v for k, v in template.items() if k not in _FIXED_LAUNCH_MEMBERS
        }
    return update  # type: ignore[return-value]
