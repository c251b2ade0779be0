"""AWS's rules for changing a compute environment, in one table with its sources.

Which fields change in place with a scaling update, which need an infrastructure update (and
what that needs: the service-linked role, an updatable allocation strategy), and which only a
replacement can change. plans/compute.py classifies a difference with this table;
plans/replacement.py fingerprints a successor with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from batchops.model.compute import (
    AllocationStrategy,
    ComputeResources,
    ComputeSpec,
    ObservedComputeEnvironment,
    UpdatePolicy,
)

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
# - API Reference, ComputeResourceUpdate members added since (read 2026-12):
#   placementGroup: "When updating a compute environment, changing the placement group requires
#   an infrastructure update"; launchTemplate (its overrides and userdataType included):
#   "changing the launch template requires an infrastructure update";
#   https://docs.aws.amazon.com/batch/latest/APIReference/API_ComputeResourceUpdate.html
#   scalingPolicy is a ComputeResourceUpdate member that neither guide page lists; the scaling
#   page names desiredvCpus, maxvCpus and minvCpus as the only scaling-update settings ("If you
#   modify any of these scaling settings together with other compute environment settings,
#   AWS Batch performs an infrastructure update"), so batchops treats it as an infrastructure
#   update (inferred, not stated).
# - ECS_MANAGED_INSTANCES (API Reference ComputeResourceUpdate.managedInstancesProvider and
#   .capacityTags; user guide "Compute environments on Amazon ECS Managed Instances",
#   https://docs.aws.amazon.com/batch/latest/userguide/ecs-managed-instances-compute-environments.html):
#   managedInstancesProvider and capacityTags are updatable, except that "You cannot change
#   capacityOptionType or fipsEnabled on update"; "You cannot change the type to or from
#   ECS_MANAGED_INSTANCES" (ComputeResourceUpdate.type). The infrastructure-update preconditions
#   name allocation strategies this type has none of, so batchops applies these changes in
#   place with no precondition, like Fargate's network (inferred: the guide says nothing).
# - UpdateComputeEnvironment top-level members (API Reference): unmanagedvCpus (UNMANAGED
#   compute environments, which have no infrastructure updates), ecsSettings (Container
#   Insights) and eksConfiguration, of which "Currently, the accessEntry setting is the only
#   Amazon EKS configuration that you can change after the compute environment is created"
#   (eksClusterArn and kubernetesNamespace replace). None of them is an instance setting the
#   infrastructure-update page lists, so batchops applies them like state: in place, with any
#   role and strategy (inferred).


class UpdateRule(StrEnum):
    """How AWS can apply a change to one field of a compute environment."""

    SCALING = "scaling"  # in place, any service role and allocation strategy
    INFRASTRUCTURE = (
        "infrastructure"  # in place only when `infrastructure_update_blockers` is empty
    )
    REPLACE = "replace"  # never in place: a new CE (blue/green)
    CREATE_ONLY = "create-only"  # used when creating; afterwards AWS owns the value


class Flavour(StrEnum):
    """Which column of the rules table applies: the compute type family of a CE."""

    EC2 = "ec2"  # EC2 and SPOT, on ECS or EKS, and UNMANAGED compute environments
    FARGATE = "fargate"  # FARGATE and FARGATE_SPOT
    MANAGED_INSTANCES = "managed-instances"  # ECS_MANAGED_INSTANCES


def flavour_of(resources: ComputeResources | None) -> Flavour:
    """The rules column for a CE with these compute resources (None: UNMANAGED)."""
    if resources is None or resources.type.is_ec2:
        return Flavour.EC2
    return Flavour.FARGATE if resources.type.is_fargate else Flavour.MANAGED_INSTANCES


@dataclass(frozen=True)
class FieldRule:
    """The update rule of one field for EC2/SPOT compute environments, Fargate ones and ECS
    Managed Instances ones."""

    ec2: UpdateRule
    fargate: UpdateRule
    managed_instances: UpdateRule

    def for_flavour(self, flavour: Flavour) -> UpdateRule:
        if flavour is Flavour.FARGATE:
            return self.fargate
        return self.managed_instances if flavour is Flavour.MANAGED_INSTANCES else self.ec2


_S, _I, _R, _C = (
    UpdateRule.SCALING,
    UpdateRule.INFRASTRUCTURE,
    UpdateRule.REPLACE,
    UpdateRule.CREATE_ONLY,
)

# Field paths as in the BatchComputeEnvironment spec; columns EC2/SPOT, Fargate, ECS Managed
# Instances. A flavour takes only the fields the CRD allows for it, so its column only matters
# for those (and says REPLACE elsewhere).
COMPUTE_UPDATE_RULES: Mapping[str, FieldRule] = MappingProxyType(
    {
        "type": FieldRule(_R, _R, _R),
        "state": FieldRule(_S, _S, _S),
        # Between two regular roles; to or from the service-linked role is REPLACE (see
        # `_service_role_change`), and a service role change can't ride on an infrastructure update.
        "serviceRole": FieldRule(_S, _S, _S),
        # UpdateComputeEnvironment.unmanagedvCpus (UNMANAGED compute environments only).
        "unmanagedvCpus": FieldRule(_S, _S, _S),
        # UpdateComputeEnvironment.ecsSettings.
        "ecsSettings": FieldRule(_S, _S, _S),
        # EksConfigurationUpdate has accessEntry only: the cluster and namespace replace
        # (FIXED_MEMBERS), and so does adding or removing it (ECS <-> EKS orchestration).
        "eksConfiguration": FieldRule(_S, _S, _S),
        # EC2 <-> SPOT; any move involving FARGATE / FARGATE_SPOT / ECS_MANAGED_INSTANCES is
        # REPLACE (`_type_change`).
        "computeResources.type": FieldRule(_I, _R, _R),
        "computeResources.minvCpus": FieldRule(_S, _S, _R),
        "computeResources.maxvCpus": FieldRule(_S, _S, _S),
        "computeResources.desiredvCpus": FieldRule(_C, _C, _C),
        "computeResources.subnets": FieldRule(_I, _S, _R),
        "computeResources.securityGroupIds": FieldRule(_I, _S, _R),
        "computeResources.allocationStrategy": FieldRule(_I, _R, _R),
        "computeResources.instanceTypes": FieldRule(_I, _R, _R),
        "computeResources.instanceRole": FieldRule(_I, _R, _R),
        "computeResources.bidPercentage": FieldRule(_I, _R, _R),
        "computeResources.ec2KeyPair": FieldRule(_I, _R, _R),
        # The whole LaunchTemplateSpecification: overrides and userdataType included.
        "computeResources.launchTemplate": FieldRule(_I, _R, _R),
        "computeResources.ec2Configuration": FieldRule(_I, _R, _R),
        "computeResources.tags": FieldRule(_I, _R, _R),
        "computeResources.placementGroup": FieldRule(_I, _R, _R),
        "computeResources.scalingPolicy": FieldRule(_I, _R, _R),
        "computeResources.spotIamFleetRole": FieldRule(_R, _R, _R),
        # In place but for FIXED_MEMBERS.
        "computeResources.managedInstancesProvider": FieldRule(_R, _R, _S),
        "computeResources.capacityTags": FieldRule(_R, _R, _S),
        # Applied with infrastructure updates; meaningless (and ignored) where they can't happen.
        "updatePolicy": FieldRule(_I, _I, _I),
    }
)

# Members of a field that changes in place which only a replacement can change: the update
# shape lacks them (EksConfigurationUpdate; UpdateManagedInstancesProviderConfiguration, "You
# cannot change capacityOptionType or fipsEnabled on update").
FIXED_MEMBERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "eksConfiguration": ("eksClusterArn", "kubernetesNamespace"),
        "computeResources.managedInstancesProvider": (
            "instanceLaunchTemplate.capacityOptionType",
            "instanceLaunchTemplate.fipsEnabled",
        ),
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
SERVICE_LINKED_ROLE = "AWSServiceRoleForBatch"
DEFAULT_UPDATE_POLICY = UpdatePolicy(
    terminate_jobs_on_update=False, job_execution_timeout_minutes=30
)


def is_service_linked_role(role: str | None) -> bool:
    """Whether a serviceRole value means AWSServiceRoleForBatch (unset means it too)."""
    return role is None or iam_name(role) == SERVICE_LINKED_ROLE


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
    if observed_cr.type.is_managed_instances or desired_cr.type.is_managed_instances:
        return ("ECS_MANAGED_INSTANCES compute environments have no infrastructure updates",)
    if not is_service_linked_role(observed.service_role):
        blockers.append(
            f"the CE uses service role {iam_name(str(observed.service_role))!r}, "
            f"not the service-linked role {SERVICE_LINKED_ROLE}"
        )
    elif not is_service_linked_role(desired.service_role):
        blockers.append(f"the spec asks for a service role other than {SERVICE_LINKED_ROLE}")
    have = observed_cr.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY
    want = desired_cr.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY
    for strategy in dict.fromkeys((have, want)):
        if strategy not in INFRASTRUCTURE_UPDATE_STRATEGIES:
            blockers.append(
                f"allocation strategy {strategy.value} does not allow infrastructure updates"
            )
    return tuple(blockers)


def rule_for(path: str, flavour: Flavour) -> UpdateRule:
    """The rule for one field path (e.g. `computeResources.subnets`) on a flavour of CE."""
    return COMPUTE_UPDATE_RULES[path].for_flavour(flavour)


def member_rule(path: str, member: str, flavour: Flavour) -> UpdateRule:
    """The rule for one member of a field (`instanceLaunchTemplate.fipsEnabled` of
    `computeResources.managedInstancesProvider`): REPLACE for FIXED_MEMBERS, else the field's."""
    if member in FIXED_MEMBERS.get(path, ()):
        return UpdateRule.REPLACE
    return rule_for(path, flavour)


def iam_name(role: str) -> str:
    """The IAM name in a role or instance profile reference: "name", "path/name",
    "arn:aws:iam::123456789012:role/service-role/name" and "arn:...:instance-profile/name" all
    name the same IAM entity (IAM names are unique per account whatever the path)."""
    return role.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
