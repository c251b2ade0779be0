"""Pure decisions for BatchComputeEnvironment: the create request, and how a spec change can
reach AWS (scaling update, infrastructure update or blue/green replacement), judged by the rules
table of plans/compute_rules.py. Names are plans/naming.py, the replacement itself
plans/replacement.py, deletion plans/retirement.py.

Everything here is a function of its arguments: no AWS calls, no Kubernetes calls, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from batchops.model.compute import (
    ComputeResources,
    ComputeSpec,
    ObservedComputeEnvironment,
    UpdatePolicy,
)
from batchops.plans.compute_fields import (
    FIXED_LAUNCH_MEMBERS,
    PROVIDER,
    FieldChange,
    resource_changes,
    show,
)
from batchops.plans.compute_request import (
    CE_STATES,
    UPDATE_STRATEGIES,
    access_entry_request,
    compute_resource_request,
    ecs_settings_request,
)
from batchops.plans.compute_rules import (
    DEFAULT_UPDATE_POLICY,
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
        changes += resource_changes(desired.compute_resources, observed.compute_resources, flavour)
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
                    "updatePolicy", rule_for("updatePolicy", flavour), show(have), show(want)
                )
            )
    if desired.unmanaged_vcpus is not None and desired.unmanaged_vcpus != observed.unmanaged_vcpus:
        changes.append(
            FieldChange(
                "unmanagedvCpus",
                rule_for("unmanagedvCpus", flavour),
                show(observed.unmanaged_vcpus),
                show(desired.unmanaged_vcpus),
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
                    show(seen),
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
    if PROVIDER in changed and "managedInstancesProvider" in full:
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
            k: v for k, v in template.items() if k not in FIXED_LAUNCH_MEMBERS
        }
    return update  # type: ignore[return-value]
