"""AWS Batch's combination rules for RegisterJobDefinition and SubmitJob, each next to the AWS
page that states it.

jobdefs.py calls `check_job_definition` before it stores a revision; scheduler.py calls
`check_submission` on SubmitJob's request and `check_fargate_resources` on a Fargate job's
effective container. The messages, and where each was seen, are in errors.py.

The platform: a job definition whose platformCapabilities hold FARGATE runs on Fargate, any
other on EC2 ("If no value is specified, it defaults to EC2", API reference
RegisterJobDefinition). Node ranges of a multi-node job always run on EC2 ("AWS Fargate doesn't
support multi-node parallel jobs", user guide "Create a multi-node parallel job definition").

Documented but not checked here: EFS IAM authorization's need for a jobRoleArn, Windows
runtime platforms' restrictions, the vCPU/memory pairs of multi-container (ecsProperties) Fargate
tasks, EKS resource and label formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from batchops.local.emulator import errors
from batchops.local.emulator.errors import BatchApiError
from batchops.local.emulator.wire import JsonObject, object_list, optional_int, optional_object

EC2 = "EC2"
FARGATE = "FARGATE"

# What a job definition runs; RegisterJobDefinition takes exactly one of these payloads.
CONTAINER = "container"
ECS = "ecs"
EKS = "eks"
MULTINODE = "multinode"
PAYLOADS = ("containerProperties", "ecsProperties", "eksProperties", "nodeProperties")
_PAYLOAD_NAMES = {"containerProperties": "ECS containerProperties"}  # as the seen texts say

# https://docs.aws.amazon.com/batch/latest/APIReference/API_NodeProperties.html: "You can have
# up to 1,000 nodes in a single job" and "up to five distinct node groups for each job" (user
# guide, https://docs.aws.amazon.com/batch/latest/userguide/mnp-node-groups.html).
MAX_NODES = 1000
MAX_NODE_RANGES = 5

# https://docs.aws.amazon.com/batch/latest/APIReference/API_EphemeralStorage.html: "The minimum
# supported value is 21 GiB and the maximum supported value is 200 GiB."
EPHEMERAL_STORAGE_GIB = range(21, 201)

# https://docs.aws.amazon.com/batch/latest/APIReference/API_ResourceRequirement.html, type
# "VCPU": on Fargate, "value must match one of the supported values and the MEMORY values must
# be one of the values supported for that VCPU value" (MiB per vCPU value).
FARGATE_MEMORY_BY_VCPU: dict[float, frozenset[int]] = {
    0.25: frozenset({512, 1024, 2048}),
    0.5: frozenset(range(1024, 4097, 1024)),
    1.0: frozenset(range(2048, 8193, 1024)),
    2.0: frozenset(range(4096, 16385, 1024)),
    4.0: frozenset(range(8192, 30721, 1024)),
    8.0: frozenset(range(16384, 61441, 4096)),
    16.0: frozenset(range(32768, 122881, 8192)),
    32.0: frozenset({61440, 122880, 249856}),
}

# https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html
# (schedulingPriorityOverride) and API_RegisterJobDefinition.html (schedulingPriority): "The
# minimum supported value is 0 and the maximum supported value is 9999."
SCHEDULING_PRIORITY = range(0, 10000)

_TARGET_NODES = re.compile(r"^(\d*)(:?)(\d*)$")


def kind_of(definition_type: str, payloads: Iterable[str]) -> str:
    """CONTAINER, ECS, EKS or MULTINODE: what a job definition with these payloads runs."""
    present = set(payloads)
    if definition_type == MULTINODE:
        return MULTINODE
    if "ecsProperties" in present:
        return ECS
    if "eksProperties" in present:
        return EKS
    return CONTAINER


def check_scheduling_priority(field: str, value: int | None) -> None:
    """A job definition's schedulingPriority or a submission's schedulingPriorityOverride is
    0 to 9999 (SCHEDULING_PRIORITY)."""
    if value is not None and value not in SCHEDULING_PRIORITY:
        raise errors.scheduling_priority_out_of_range(field, value)


# --- members one platform refuses -----------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A member of a container, container override or ECS task that one platform refuses."""

    refused_on: str  # EC2 or FARGATE
    present: Callable[[JsonObject], bool]
    error: Callable[[bool], BatchApiError]  # called with "at SubmitJob?"


def _has(key: str) -> Callable[[JsonObject], bool]:
    return lambda item: item.get(key) is not None and item.get(key) != []


def _linux_has(key: str) -> Callable[[JsonObject], bool]:
    return lambda item: _has(key)(item.get("linuxParameters") or {})


def _asks_for_gpu(item: JsonObject) -> bool:
    return any(r.get("type") == "GPU" for r in item.get("resourceRequirements") or [])


def _linux_refusal(member: str) -> Refusal:
    # https://docs.aws.amazon.com/batch/latest/userguide/fargate-job-definitions.html,
    # "Parameters in linuxParameters": devices, maxSwap, sharedMemorySize, swappiness, tmpfs
    # "Not applicable for jobs running on Fargate resources" (also API_LinuxParameters.html).
    return Refusal(FARGATE, _linux_has(member), lambda _: errors.not_allowed_for_fargate(member))


REFUSALS: tuple[Refusal, ...] = (
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_ContainerProperties.html:
    # networkConfiguration and fargatePlatformConfiguration are "for jobs that are running on
    # Fargate resources. Jobs that are running on Amazon EC2 resources must not specify this
    # parameter." A multi-node range with them is refused the same way (a CDK port's comment
    # quotes the live answer "networkConfiguration not applicable for EC2.").
    Refusal(
        EC2,
        _has("networkConfiguration"),
        lambda _: errors.fargate_only_on_ec2("networkConfiguration"),
    ),
    Refusal(
        EC2,
        _has("fargatePlatformConfiguration"),
        lambda _: errors.fargate_only_on_ec2("fargatePlatformConfiguration"),
    ),
    # API_EphemeralStorage.html: "the total amount of ephemeral storage available, beyond the
    # default amount, for tasks hosted on AWS Fargate"; AWS's announcement of 2023-03-22
    # (whats-new/2023/03/aws-batch-configurable-ephemeral-storage-fargate) says the parameter
    # can only be used with Fargate as the compute platform.
    Refusal(
        EC2, _has("ephemeralStorage"), lambda _: errors.fargate_only_on_ec2("ephemeralStorage")
    ),
    # API_ContainerProperties.html runtimePlatform: "the compute environment architecture for
    # Batch jobs on Fargate".
    Refusal(EC2, _has("runtimePlatform"), lambda _: errors.fargate_only_on_ec2("runtimePlatform")),
    # https://docs.aws.amazon.com/batch/latest/userguide/fargate-job-definitions.html:
    # "instanceType, ulimits: Not applicable for jobs running on Fargate resources."
    Refusal(
        FARGATE,
        _has("instanceType"),
        lambda _: errors.not_applicable_for_fargate_job("instanceType"),
    ),
    Refusal(FARGATE, _has("ulimits"), lambda _: errors.not_applicable_for_fargate_job("ulimits")),
    # Same page: "memory, vcpus: These settings must be specified in resourceRequirements".
    Refusal(
        FARGATE,
        _has("vcpus"),
        lambda submission: errors.use_resource_requirements_on_fargate("vcpus", submission),
    ),
    Refusal(
        FARGATE,
        _has("memory"),
        lambda submission: errors.use_resource_requirements_on_fargate("memory", submission),
    ),
    # Same page: "privileged: Either don't specify this parameter, or specify false."
    Refusal(
        FARGATE,
        lambda item: item.get("privileged") is True,
        lambda _: errors.privileged_on_fargate(),
    ),
    # Same page, resourceRequirements: "GPU resources aren't supported for jobs that run on
    # Fargate resources." (also API_ResourceRequirement.html).
    Refusal(FARGATE, _asks_for_gpu, lambda _: errors.not_applicable_for_fargate_job("GPU")),
    _linux_refusal("devices"),
    _linux_refusal("maxSwap"),  # before swappiness: a probe setting both got the maxSwap text
    _linux_refusal("sharedMemorySize"),
    _linux_refusal("swappiness"),
    _linux_refusal("tmpfs"),
)


def _check_refusals(item: JsonObject, fargate: bool, submission: bool) -> None:
    platform = FARGATE if fargate else EC2
    for refusal in REFUSALS:
        if refusal.refused_on == platform and refusal.present(item):
            raise refusal.error(submission)


# --- RegisterJobDefinition ------------------------------------------------------------------


def check_job_definition(body: JsonObject) -> None:
    """Refuse a RegisterJobDefinition request that breaks one of AWS's combination rules."""
    definition_type = str(body.get("type"))
    present = [key for key in PAYLOADS if body.get(key) is not None]
    _check_payloads(definition_type, present)
    capabilities = body.get("platformCapabilities") or []
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_RegisterJobDefinition.html,
    # platformCapabilities: "If the job runs on Amazon EKS resources, then you must not specify
    # platformCapabilities."
    if "eksProperties" in present and capabilities:
        raise errors.platform_capabilities_on_eks()
    fargate = FARGATE in capabilities
    # Same page, type: "If the job is run on Fargate resources, then multinode isn't
    # supported."
    if definition_type == MULTINODE and fargate:
        raise errors.fargate_does_not_support_mnp()
    container = optional_object(body, "containerProperties")
    if container is not None:
        check_container(container, fargate)
    nodes = optional_object(body, "nodeProperties")
    if nodes is not None:
        check_node_properties(nodes)
    ecs = optional_object(body, "ecsProperties")
    if ecs is not None:
        _check_ecs_properties(ecs, fargate)
    eks = optional_object(body, "eksProperties")
    if eks is not None:
        _check_eks_properties(eks)


def _check_payloads(definition_type: str, present: list[str]) -> None:
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_JobDefinition.html: each of
    # containerProperties, ecsProperties, eksProperties and nodeProperties "can't be used in
    # addition to" the others.
    if len(present) > 1:
        first, second = (_PAYLOAD_NAMES.get(key, key) for key in present[:2])
        raise errors.cannot_use_both(first, second)
    # API_RegisterJobDefinition.html, type: "If the value is container, then one of the
    # following is required: containerProperties, ecsProperties, or eksProperties. If the value
    # is multinode, then nodeProperties is required."
    if definition_type == CONTAINER and not (set(present) - {"nodeProperties"}):
        raise errors.payload_required_for_container()
    if definition_type == MULTINODE and "nodeProperties" not in present:
        raise errors.node_properties_required()


def check_container(container: JsonObject, fargate: bool) -> None:
    """The rules for one containerProperties (also a node range's container)."""
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_ContainerProperties.html,
    # image: "Required."
    if not container.get("image"):
        raise errors.image_required()
    _check_refusals(container, fargate, submission=False)
    _check_ephemeral_storage(container)
    check_volumes(object_list(container, "volumes"))
    if fargate:
        check_fargate_resources(container, submission=False)


def check_fargate_resources(container: JsonObject, submission: bool) -> None:
    """A Fargate container's VCPU and MEMORY must be one of Fargate's pairs (a missing one
    counts as 0, which no pair has)."""
    vcpus = _requirement(container, "VCPU")
    memory = int(_requirement(container, "MEMORY"))
    if memory not in FARGATE_MEMORY_BY_VCPU.get(vcpus, frozenset()):
        raise errors.fargate_resources_not_valid(vcpus, memory, submission)


def _requirement(container: JsonObject, kind: str) -> float:
    for requirement in container.get("resourceRequirements") or []:
        if requirement.get("type") == kind:
            try:
                return float(requirement.get("value"))
            except (TypeError, ValueError):
                return 0.0
    return 0.0


def _check_ephemeral_storage(item: JsonObject) -> None:
    storage = optional_object(item, "ephemeralStorage")
    if storage is not None and optional_int(storage, "sizeInGiB") not in EPHEMERAL_STORAGE_GIB:
        raise errors.ephemeral_storage_out_of_range()


def check_volumes(volumes: list[JsonObject]) -> None:
    """The EFS transit encryption and access point rules of each volume."""
    for volume in volumes:
        efs = optional_object(volume, "efsVolumeConfiguration")
        if efs is None:
            continue
        encrypted = efs.get("transitEncryption") == "ENABLED"
        authorization = optional_object(efs, "authorizationConfig") or {}
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_EFSAuthorizationConfig.html,
        # iam: "If enabled, transit encryption must be enabled in the EFSVolumeConfiguration."
        if authorization.get("iam") == "ENABLED" and not encrypted:
            raise errors.efs_iam_needs_transit_encryption()
        if authorization.get("accessPointId"):
            # Same page, accessPointId: "If an access point is used, transit encryption must be
            # enabled in the EFSVolumeConfiguration."
            if not encrypted:
                raise errors.efs_access_point_needs_transit_encryption()
            # Same page: "the root directory value specified in the EFSVolumeConfiguration must
            # either be omitted or set to /" (also API_EFSVolumeConfiguration.html).
            if efs.get("rootDirectory") not in (None, "", "/"):
                raise errors.efs_access_point_root_directory()
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_EFSVolumeConfiguration.html,
        # transitEncryptionPort: "The port to use when sending encrypted data"; ECS, which runs
        # the task, refuses a port without transit encryption (ECS task definition parameters).
        if efs.get("transitEncryptionPort") is not None and not encrypted:
            raise errors.efs_port_needs_transit_encryption()


def _check_ecs_properties(ecs: JsonObject, fargate: bool) -> None:
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_EcsTaskProperties.html: the task
    # carries ephemeralStorage, networkConfiguration, runtimePlatform and volumes, its containers
    # (API_TaskContainerProperties.html) the members the Fargate page restricts.
    for task in object_list(ecs, "taskProperties"):
        _check_refusals(task, fargate, submission=False)
        _check_ephemeral_storage(task)
        check_volumes(object_list(task, "volumes"))
        for container in object_list(task, "containers"):
            _check_refusals(container, fargate, submission=False)


def _check_eks_properties(eks: JsonObject) -> None:
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_EksPodProperties.html,
    # containers: "The properties of the container that's used on the Amazon EKS pod."; a pod
    # without one is refused (seen, errors.eks_containers_required).
    pod = optional_object(eks, "podProperties") or {}
    if not object_list(pod, "containers"):
        raise errors.eks_containers_required()


# --- multi-node parallel jobs ---------------------------------------------------------------


@dataclass(frozen=True)
class NodeRange:
    """One targetNodes range, resolved against a number of nodes (both ends included)."""

    target_nodes: str
    start: int
    end: int
    open_ended: bool  # "n:" or ":": grows with nodeOverrides.numNodes

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self.start <= index <= self.end


def parse_target_nodes(target_nodes: str, num_nodes: int) -> NodeRange:
    """A targetNodes value as a NodeRange.

    https://docs.aws.amazon.com/batch/latest/APIReference/API_NodeRangeProperty.html: "A range
    of 0:3 indicates nodes with index values of 0 through 3. If the starting range value is
    omitted (:n), then 0 is used to start the range. If the ending range value is omitted (n:),
    then the highest possible node index is used to end the range."
    """
    match = _TARGET_NODES.match(target_nodes)
    if match is None or not target_nodes:
        raise errors.target_nodes_not_digits()
    first, colon, last = match.groups()
    start = int(first) if first else 0
    if not colon:
        return NodeRange(target_nodes, start, start, open_ended=False)
    end = int(last) if last else num_nodes - 1
    return NodeRange(target_nodes, start, end, open_ended=not last)


def check_node_properties(nodes: JsonObject) -> None:
    """numNodes, mainNode and the node ranges of a multi-node job definition."""
    num_nodes = optional_int(nodes, "numNodes") or 0
    # https://docs.aws.amazon.com/batch/latest/userguide/mnp-node-groups.html: "You can have up
    # to 1,000 nodes in a single job."
    if not 1 <= num_nodes <= MAX_NODES:
        raise errors.num_nodes_out_of_range()
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_NodeProperties.html, mainNode:
    # "This node index value must be fewer than the number of nodes."
    if not 0 <= (optional_int(nodes, "mainNode") or 0) < num_nodes:
        raise errors.main_node_out_of_range()
    ranges = object_list(nodes, "nodeRangeProperties")
    # mnp-node-groups.html: "up to five distinct node groups for each job".
    if len(ranges) > MAX_NODE_RANGES:
        raise errors.too_many_node_ranges()
    covered: set[int] = set()
    for entry in ranges:
        node_range = parse_target_nodes(str(entry.get("targetNodes", "")), num_nodes)
        # API_NodeRangeProperty.html, targetNodes: ranges use "node index values" of the job.
        if node_range.start > node_range.end or node_range.end >= num_nodes:
            raise errors.node_range_beyond_num_nodes(node_range.target_nodes)
        # API_NodeRangeProperty.html: a range carries container, ecsProperties or
        # eksProperties.
        if not any(entry.get(key) for key in ("container", "ecsProperties", "eksProperties")):
            raise errors.node_range_needs_container(node_range.target_nodes)
        container = optional_object(entry, "container")
        if container is not None:
            check_container(container, fargate=False)
        ecs = optional_object(entry, "ecsProperties")
        if ecs is not None:
            _check_ecs_properties(ecs, fargate=False)
        covered.update(range(node_range.start, node_range.end + 1))
    # API_NodeRangeProperty.html: "Your accumulative node ranges must account for all nodes
    # (0:n)."
    if covered != set(range(num_nodes)):
        raise errors.node_ranges_missing()


# --- SubmitJob ------------------------------------------------------------------------------


def check_submission(
    body: JsonObject, kind: str, fargate: bool, node_properties: JsonObject | None
) -> None:
    """Refuse SubmitJob overrides that the job definition's kind (CONTAINER, ECS, EKS,
    MULTINODE), platform or nodeProperties do not take."""
    # https://docs.aws.amazon.com/batch/latest/userguide/multi-node-parallel-jobs.html: a
    # multi-node job "is submitted as a single job" whose node jobs are addressed "#N"; an
    # array of them (":N") is not a documented combination, so it is refused.
    if kind == MULTINODE and body.get("arrayProperties"):
        raise errors.array_of_multinode_job()
    node_overrides = optional_object(body, "nodeOverrides")
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html, nodeOverrides:
    # "the node range to target and the container overrides for that node range" (multi-node
    # jobs); eksPropertiesOverride "can only be specified for jobs that are run on Amazon EKS
    # resources", ecsPropertiesOverride "for jobs that are run on Amazon ECS resources".
    if node_overrides is not None and kind != MULTINODE:
        raise errors.override_not_applicable("nodeOverrides", MULTINODE)
    if body.get("eksPropertiesOverride") is not None and kind != EKS:
        raise errors.override_not_applicable("eksPropertiesOverride", "eksProperties")
    if body.get("ecsPropertiesOverride") is not None and kind == EKS:
        raise errors.override_not_applicable("ecsPropertiesOverride", "ECS")
    overrides = optional_object(body, "containerOverrides")
    if overrides is not None:
        _check_refusals(overrides, fargate, submission=True)
    for task in object_list(optional_object(body, "ecsPropertiesOverride") or {}, "taskProperties"):
        for container in object_list(task, "containers"):
            _check_refusals(container, fargate, submission=True)
    if node_overrides is not None and node_properties is not None:
        _check_node_overrides(node_properties, node_overrides)


def _check_node_overrides(nodes: JsonObject, overrides: JsonObject) -> None:
    num_nodes = optional_int(nodes, "numNodes") or 0
    ranges = [
        parse_target_nodes(str(entry.get("targetNodes", "")), num_nodes)
        for entry in object_list(nodes, "nodeRangeProperties")
    ]
    override_nodes = optional_int(overrides, "numNodes")
    if override_nodes is not None:
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_NodeOverrides.html, numNodes:
        # "There must be at least one node range in your job definition that has an open upper
        # boundary, such as : or n:. The lower boundary of the node range that's specified in
        # the job definition must be fewer than the number of nodes specified in the override.
        # The main node index that's specified in the job definition must be fewer than the
        # number of nodes specified in the override."
        open_ranges = [node_range for node_range in ranges if node_range.open_ended]
        if not open_ranges:
            raise errors.num_nodes_override_needs_open_range()
        for node_range in open_ranges:
            if node_range.start >= override_nodes:
                raise errors.node_range_beyond_num_nodes(node_range.target_nodes, True)
        if (optional_int(nodes, "mainNode") or 0) >= override_nodes:
            raise errors.main_node_out_of_range(submission=True)
    # API_NodePropertyOverride.html, targetNodes: "The range of nodes ... that's used to
    # override"; Batch matches it against the job definition's ranges (seen,
    # aws/aws-parallelcluster#964).
    defined = {node_range.target_nodes for node_range in ranges}
    non_matching = [
        str(entry.get("targetNodes", ""))
        for entry in object_list(overrides, "nodePropertyOverrides")
        if str(entry.get("targetNodes", "")) not in defined
    ]
    if non_matching:
        raise errors.node_override_targets(non_matching)
