"""Comparing a compute environment's `computeResources` with AWS, field by field: how each
field is read from the spec (None: not managed) and from AWS into comparable values, and the
`FieldChange` each difference becomes, with its rule from plans/compute_rules.py. The
classification in plans/compute.py sums these up into one kind of update.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from batchops.model.compute import ComputeResources, LaunchTemplateOverride
from batchops.model.request_surface import JsonValue, thaw_json
from batchops.plans.compute_rules import (
    DEFAULT_ALLOCATION_STRATEGY,
    FIXED_MEMBERS,
    Flavour,
    UpdateRule,
    flavour_of,
    iam_name,
    member_rule,
    rule_for,
)

PROVIDER = "computeResources.managedInstancesProvider"
# The members of InstanceLaunchTemplate no update can change (compute_rules.FIXED_MEMBERS).
FIXED_LAUNCH_MEMBERS = tuple(
    member.removeprefix("instanceLaunchTemplate.") for member in FIXED_MEMBERS[PROVIDER]
)


@dataclass(frozen=True)
class FieldChange:
    """One field where AWS differs from the spec, with the rule that applies to it."""

    path: str
    rule: UpdateRule
    observed: str
    desired: str


# Per computeResources field: how to read a comparable value from the spec (None: not managed)
# and from AWS. Set-valued fields compare as sets; role names compare by name, not ARN form.
_Extract = Callable[[ComputeResources, ComputeResources], tuple[object, object] | None]


def resource_changes(
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
            changes.append(FieldChange(path, rule, show(have), show(want)))
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
    for member in FIXED_LAUNCH_MEMBERS:
        path = f"{PROVIDER}.instanceLaunchTemplate.{member}"
        wanted = _launch_member(want, member)
        seen = _launch_member(have, member)
        if wanted is not None and wanted != seen:
            rule = member_rule(PROVIDER, f"instanceLaunchTemplate.{member}", flavour)
            changes.append(FieldChange(path, rule, show(seen), show(wanted)))
    rest_want, rest_have = _without_fixed(want), _without_fixed(have)
    if not _json_covers(rest_have, rest_want):
        changes.append(
            FieldChange(
                PROVIDER,
                rule_for(PROVIDER, flavour),
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
    kept = {k: v for k, v in template.items() if k not in FIXED_LAUNCH_MEMBERS}
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


def show(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(show(v) for v in value)) + "]"
    if isinstance(value, tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, Enum):
        return str(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.asdict(value)
        return "{" + ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None) + "}"
    return str(value)
