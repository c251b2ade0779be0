"""Jobs as data: the job record, its attempts, what it runs, what DescribeJobs and ListJobs show.

The transitions live in scheduler.py; this module holds and renders state, and computes a job's
workload: the job definition's payload (containerProperties, ecsProperties, eksProperties, or
one node range of nodeProperties) with SubmitJob's overrides and parameters applied, which is
what DescribeJobs shows as the job's `container`, `ecsProperties`, `eksProperties` or
`nodeProperties`.

A multi-node parallel job is a parent `<id>` and one node job `<id>#<index>` per node; the
parent has `nodeProperties`, each node `nodeDetails` and its own container, as the user guide
describes (https://docs.aws.amazon.com/batch/latest/userguide/multi-node-parallel-jobs.html:
"Nodes are addressed using #N notation"; "The started, stoppedAt, statusReason, and exit
information for a multi-node parallel job is populated from the main node"), so the parent's
attempts are its main node's. An EKS job shows `eksProperties` (with the pod and node names
Batch fills in) and `eksAttempts` instead of `container` and `attempts` (API reference JobDetail).
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from batchops.local.emulator import account, errors, jobrules
from batchops.local.emulator.clock import Timer
from batchops.local.emulator.consumableresources import Claim, Holding
from batchops.local.emulator.jobdefs import JobDefinition
from batchops.local.emulator.paging import page
from batchops.local.emulator.wire import JsonObject, object_list, optional_int, optional_object

STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
TERMINAL = frozenset({"SUCCEEDED", "FAILED"})
NOT_STARTED = frozenset({"SUBMITTED", "PENDING", "RUNNABLE"})
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def job_arn(job_id: str) -> str:
    """The ARN of a job."""
    return f"{account.batch_arn_prefix()}:job/{job_id}"


@dataclass(frozen=True)
class Dependency:
    """One dependsOn entry as submitted."""

    job_id: str | None
    type: str | None  # N_TO_N, SEQUENTIAL or None

    def describe(self) -> JsonObject:
        """The JobDependency shape."""
        shown: JsonObject = {}
        if self.job_id is not None:
            shown["jobId"] = self.job_id
        if self.type is not None:
            shown["type"] = self.type
        return shown


@dataclass(eq=False)
class Attempt:
    """One attempt of a job (an ECS task in real Batch)."""

    number: int
    task_arn: str
    container_instance_arn: str | None  # None on Fargate: its tasks run on no container instance
    network_interfaces: list[JsonObject] = field(default_factory=list)  # Fargate's task ENI
    log_stream_name: str | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    exit_code: int | None = None
    reason: str | None = None  # the container's reason, e.g. why it could not start
    status_reason: str | None = None
    pod_name: str | None = None  # EKS jobs: the pod Batch created for the attempt
    node_name: str | None = None  # EKS jobs: the Kubernetes node the pod ran on

    @property
    def ended(self) -> bool:
        """Whether the attempt has stopped (only ended attempts are listed in `attempts[]`)."""
        return self.stopped_at is not None

    def describe(self) -> JsonObject:
        """The AttemptDetail shape."""
        container: JsonObject = {"taskArn": self.task_arn}
        container.update(self.placement())
        if self.exit_code is not None:
            container["exitCode"] = self.exit_code
        if self.reason is not None:
            container["reason"] = self.reason
        if self.log_stream_name is not None:
            container["logStreamName"] = self.log_stream_name
        shown: JsonObject = {"container": container}
        if self.started_at is not None:
            shown["startedAt"] = self.started_at
        if self.stopped_at is not None:
            shown["stoppedAt"] = self.stopped_at
        if self.status_reason is not None:
            shown["statusReason"] = self.status_reason
        return shown

    def describe_ecs(self, container_names: list[str]) -> JsonObject:
        """The AttemptDetail shape of an ecsProperties job: taskProperties instead of container
        (every container of the task reports the attempt's exit)."""
        task: JsonObject = {"taskArn": self.task_arn}
        if self.container_instance_arn is not None:
            task["containerInstanceArn"] = self.container_instance_arn
        containers = []
        for name in container_names:
            container: JsonObject = {"name": name, **self.placement()}
            container.pop("containerInstanceArn", None)
            container.update(self.exit_detail())
            containers.append(container)
        task["containers"] = containers
        return {**self._window(), "taskProperties": [task]}

    def describe_eks(self, container_names: list[str], namespace: str | None) -> JsonObject:
        """The EksAttemptDetail shape."""
        shown: JsonObject = {
            **self._window(),
            "containers": [{"name": name, **self.exit_detail()} for name in container_names],
        }
        optional = {"podName": self.pod_name, "nodeName": self.node_name, "podNamespace": namespace}
        shown.update({key: value for key, value in optional.items() if value is not None})
        return shown

    def exit_detail(self) -> JsonObject:
        """exitCode and reason, once known."""
        shown: JsonObject = {}
        if self.exit_code is not None:
            shown["exitCode"] = self.exit_code
        if self.reason is not None:
            shown["reason"] = self.reason
        return shown

    def _window(self) -> JsonObject:
        optional = {
            "startedAt": self.started_at,
            "stoppedAt": self.stopped_at,
            "statusReason": self.status_reason,
        }
        return {key: value for key, value in optional.items() if value is not None}

    def placement(self) -> JsonObject:
        """Where the attempt's task runs: its container instance (EC2) or its network interface
        (Fargate), as both AttemptContainerDetail and ContainerDetail show it."""
        shown: JsonObject = {"networkInterfaces": copy.deepcopy(self.network_interfaces)}
        if self.container_instance_arn is not None:
            shown["containerInstanceArn"] = self.container_instance_arn
        return shown


def new_attempt(number: int, ecs_cluster_arn: str, fargate: bool) -> Attempt:
    """A fresh attempt, its ECS task in the compute environment's ECS cluster.

    ECS's long ARN format names the cluster in task and container instance ARNs
    (task/<cluster-name>/<task-id>, container-instance/<cluster-name>/<id>):
    https://docs.aws.amazon.com/AmazonECS/latest/userguide/ecs-resource-ids.html.
    A Fargate task runs on no container instance and gets its own elastic network interface
    (awsvpc mode); botocore's NetworkInterface shape is attachmentId, privateIpv4Address and an
    optional ipv6Address. EC2 jobs use bridge networking, so their list stays empty, as in the
    job state change example of
    https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html.
    """
    prefix, cluster = ecs_cluster_arn.split(":cluster/", 1)
    task_id = uuid.uuid4().hex
    if fargate:
        host = uuid.uuid4().bytes
        return Attempt(
            number=number,
            task_arn=f"{prefix}:task/{cluster}/{task_id}",
            container_instance_arn=None,
            network_interfaces=[
                {
                    "attachmentId": str(uuid.uuid4()),
                    "privateIpv4Address": f"172.31.{host[0]}.{host[1] % 250 + 4}",
                }
            ],
        )
    return Attempt(
        number=number,
        task_arn=f"{prefix}:task/{cluster}/{task_id}",
        container_instance_arn=f"{prefix}:container-instance/{cluster}/{uuid.uuid4().hex}",
    )


# --- what a job runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """What a job, or one node of a multi-node job, runs: a container, an ECS task's
    containers or an EKS pod (exactly one; none for a multi-node parent)."""

    container: JsonObject | None = None
    ecs_properties: JsonObject | None = None
    eks_properties: JsonObject | None = None

    @property
    def vcpus(self) -> float:
        """The vCPUs it holds on a compute environment (1 when it names none)."""
        if self.ecs_properties is not None:
            total = sum(_container_vcpus(c, None) for c in _ecs_containers(self.ecs_properties))
        elif self.eks_properties is not None:
            total = sum(_eks_cpu(c) for c in _eks_containers(self.eks_properties))
        else:
            total = _container_vcpus(self.container or {}, 1.0)
        return total or 1.0

    @property
    def memory_mib(self) -> float:
        """The memory (MiB) it asks for; 0 when it names none."""
        if self.ecs_properties is not None:
            return sum(_container_memory(c) for c in _ecs_containers(self.ecs_properties))
        if self.eks_properties is not None:
            return sum(_eks_memory_mib(c) for c in _eks_containers(self.eks_properties))
        return _container_memory(self.container or {})

    def process(self) -> tuple[list[str], dict[str, str]]:
        """The command and environment process mode runs: the container's, the first
        essential ECS container's, or the first EKS container's command followed by its
        args."""
        if self.ecs_properties is not None:
            containers = _ecs_containers(self.ecs_properties)
            chosen = next((c for c in containers if c.get("essential") is not False), {})
            return _strings(chosen.get("command")), _environment(chosen.get("environment"))
        if self.eks_properties is not None:
            first = next(iter(_eks_containers(self.eks_properties)), {})
            command = _strings(first.get("command")) + _strings(first.get("args"))
            return command, _environment(first.get("env"))
        container = self.container or {}
        return _strings(container.get("command")), _environment(container.get("environment"))


@dataclass(frozen=True)
class MultiNodePlan:
    """A multi-node job's effective nodeProperties and the workload of each node."""

    node_properties: JsonObject
    main_node: int
    nodes: tuple[Workload, ...]


def job_workload(
    definition: JobDefinition, body: JsonObject, parameters: dict[str, str]
) -> Workload:
    """The workload of a job that is not multi-node, with SubmitJob's overrides applied."""
    if definition.ecs_properties is not None:
        override = optional_object(body, "ecsPropertiesOverride")
        return Workload(
            ecs_properties=_ecs_workload(definition.ecs_properties, override, parameters)
        )
    if definition.eks_properties is not None:
        override = optional_object(body, "eksPropertiesOverride")
        return Workload(
            eks_properties=_eks_workload(definition.eks_properties, override, parameters)
        )
    overrides = optional_object(body, "containerOverrides")
    return Workload(
        container=effective_container(definition.container_properties, overrides, parameters)
    )


def multinode_plan(
    node_properties: JsonObject, overrides: JsonObject | None, parameters: dict[str, str]
) -> MultiNodePlan:
    """The nodes of a multi-node job: nodeOverrides applied to the node ranges they target,
    numNodes overridden, and each node given the payload of the narrowest range holding it
    ("You can nest node ranges (for example, 0:10 and 4:5). In this case, the 4:5 range
    properties override the 0:10 properties.", API reference NodeRangeProperty)."""
    effective = copy.deepcopy(node_properties)
    overrides = overrides or {}
    num_nodes = optional_int(overrides, "numNodes") or int(effective["numNodes"])
    effective["numNodes"] = num_nodes
    targeted = {
        str(entry.get("targetNodes")): entry
        for entry in object_list(overrides, "nodePropertyOverrides")
    }
    ranges = []
    for entry in effective.get("nodeRangeProperties") or []:
        override = targeted.get(str(entry.get("targetNodes")), {})
        if entry.get("container") is not None:
            entry["container"] = effective_container(
                entry["container"], optional_object(override, "containerOverrides"), parameters
            )
        if entry.get("ecsProperties") is not None:
            entry["ecsProperties"] = _ecs_workload(
                entry["ecsProperties"],
                optional_object(override, "ecsPropertiesOverride"),
                parameters,
            )
        if entry.get("eksProperties") is not None:
            entry["eksProperties"] = _eks_workload(
                entry["eksProperties"],
                optional_object(override, "eksPropertiesOverride"),
                parameters,
            )
        if override.get("instanceTypes"):
            entry["instanceTypes"] = list(override["instanceTypes"])
        ranges.append(
            (jobrules.parse_target_nodes(str(entry.get("targetNodes")), num_nodes), entry)
        )
    nodes = []
    for index in range(num_nodes):
        holding = [(node_range, entry) for node_range, entry in ranges if index in node_range]
        if not holding:
            raise errors.node_ranges_missing()
        _, entry = min(holding, key=lambda pair: pair[0].end - pair[0].start)
        nodes.append(
            Workload(
                container=entry.get("container"),
                ecs_properties=entry.get("ecsProperties"),
                eks_properties=entry.get("eksProperties"),
            )
        )
    return MultiNodePlan(effective, int(effective.get("mainNode") or 0), tuple(nodes))


def effective_container(
    container_properties: JsonObject | None,
    overrides: JsonObject | None,
    parameters: dict[str, str],
) -> JsonObject:
    """A container with containerOverrides (or an ECS container with its override) and the
    parameters applied."""
    container = copy.deepcopy(container_properties or {})
    overrides = overrides or {}
    if overrides.get("command") is not None:
        container["command"] = list(overrides["command"])
    environment = _environment(container.get("environment"))
    environment.update(_environment(overrides.get("environment")))
    if any(name.startswith("AWS_BATCH") for name in environment):
        raise errors.invalid_parameter("Environment variables cannot start with AWS_BATCH")
    container["environment"] = [{"name": k, "value": v} for k, v in environment.items()]
    requirements = {
        str(requirement["type"]): requirement
        for requirement in [
            *(container.get("resourceRequirements") or []),
            *(overrides.get("resourceRequirements") or []),
        ]
    }
    container["resourceRequirements"] = list(requirements.values())
    for key in ("vcpus", "memory", "instanceType"):
        if overrides.get(key) is not None:
            container[key] = overrides[key]
    container["command"] = [
        _substitute(str(arg), parameters) for arg in container.get("command") or []
    ]
    return container


def _ecs_workload(
    ecs_properties: JsonObject, override: JsonObject | None, parameters: dict[str, str]
) -> JsonObject:
    # TaskPropertiesOverride i overrides task i; TaskContainerOverrides.name picks the container
    # (API reference TaskContainerOverrides).
    result = copy.deepcopy(ecs_properties)
    task_overrides = object_list(override or {}, "taskProperties")
    for index, task in enumerate(result.get("taskProperties") or []):
        task_override = task_overrides[index] if index < len(task_overrides) else {}
        by_name = _by_name(object_list(task_override, "containers"), task.get("containers") or [])
        task["containers"] = [
            effective_container(container, by_name.get(str(container.get("name"))), parameters)
            for container in task.get("containers") or []
        ]
    return result


def _eks_workload(
    eks_properties: JsonObject, override: JsonObject | None, parameters: dict[str, str]
) -> JsonObject:
    # EksContainerOverride replaces image, command, args and resources, and adds or replaces
    # env entries, of the container it names (API reference EksContainerOverride); metadata
    # labels and annotations are merged (EksPodPropertiesOverride.metadata).
    result = copy.deepcopy(eks_properties)
    pod = result.setdefault("podProperties", {})
    pod_override = optional_object(override or {}, "podProperties") or {}
    for key in ("containers", "initContainers"):
        by_name = _by_name(object_list(pod_override, key), pod.get(key) or [])
        for container in pod.get(key) or []:
            container_override = by_name.get(str(container.get("name")), {})
            for member in ("image", "command", "args", "resources"):
                if container_override.get(member) is not None:
                    container[member] = copy.deepcopy(container_override[member])
            if container_override.get("env") is not None:
                env = _environment(container.get("env"))
                env.update(_environment(container_override["env"]))
                container["env"] = [{"name": k, "value": v} for k, v in env.items()]
            for member in ("command", "args"):
                if container.get(member) is not None:
                    container[member] = [
                        _substitute(str(arg), parameters) for arg in container[member]
                    ]
    metadata_override = optional_object(pod_override, "metadata")
    if metadata_override is not None:
        metadata = pod.setdefault("metadata", {})
        for member in ("labels", "annotations"):
            if metadata_override.get(member):
                metadata[member] = {**(metadata.get(member) or {}), **metadata_override[member]}
        if metadata_override.get("namespace"):
            metadata["namespace"] = metadata_override["namespace"]
    return result


def _by_name(overrides: list[JsonObject], containers: list[JsonObject]) -> dict[str, JsonObject]:
    # An override without a name applies to the only container there is.
    named = {str(o["name"]): o for o in overrides if o.get("name")}
    unnamed = [o for o in overrides if not o.get("name")]
    if unnamed and len(containers) == 1:
        named.setdefault(str(containers[0].get("name")), unnamed[0])
    return named


def _substitute(argument: str, parameters: dict[str, str]) -> str:
    # Batch replaces a whole argument "Ref::name" by the parameter's value.
    if not argument.startswith("Ref::"):
        return argument
    name = argument[len("Ref::") :]
    if name not in parameters:
        raise errors.missing_parameter(name)
    return parameters[name]


def _container_vcpus(container: JsonObject, default: float | None) -> float:
    for requirement in container.get("resourceRequirements") or []:
        if requirement.get("type") == "VCPU":
            return float(requirement["value"])
    if container.get("vcpus") is not None:
        return float(container["vcpus"])
    return default or 0.0


def _container_memory(container: JsonObject) -> float:
    for requirement in container.get("resourceRequirements") or []:
        if requirement.get("type") == "MEMORY":
            return float(requirement["value"])
    return float(container.get("memory") or 0)


# Kubernetes quantity suffixes in MiB ("2Gi", "512Mi", "1G"); binary ones are tried first.
_EKS_MEMORY_UNITS = {
    "Ki": 1 / 1024,
    "Mi": 1.0,
    "Gi": 1024.0,
    "Ti": 1024.0**2,
    "k": 1e3 / 2**20,
    "M": 1e6 / 2**20,
    "G": 1e9 / 2**20,
    "T": 1e12 / 2**20,
}


def _eks_memory_mib(container: JsonObject) -> float:
    resources = container.get("resources") or {}
    value = (resources.get("requests") or {}).get("memory") or (resources.get("limits") or {}).get(
        "memory"
    )
    if value is None:
        return 0.0
    text = str(value)
    for suffix, mib in _EKS_MEMORY_UNITS.items():
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], mib
            break
    else:
        scale = 1 / 2**20  # a bare number is bytes
    try:
        return float(text) * scale
    except ValueError:
        return 0.0


def _eks_cpu(container: JsonObject) -> float:
    # EKS resources name cpu in requests or limits, "1" or "0.5" (Batch refuses "500m").
    resources = container.get("resources") or {}
    value = (resources.get("requests") or {}).get("cpu") or (resources.get("limits") or {}).get(
        "cpu"
    )
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0


def _ecs_containers(ecs_properties: JsonObject) -> list[JsonObject]:
    return [
        container
        for task in ecs_properties.get("taskProperties") or []
        for container in task.get("containers") or []
    ]


def _eks_containers(eks_properties: JsonObject) -> list[JsonObject]:
    return list((eks_properties.get("podProperties") or {}).get("containers") or [])


def _strings(values: object) -> list[str]:
    return [str(value) for value in values] if isinstance(values, list) else []


def _environment(variables: object) -> dict[str, str]:
    if not isinstance(variables, list):
        return {}
    return {str(v["name"]): str(v.get("value", "")) for v in variables if isinstance(v, dict)}


@dataclass(eq=False)
class Job:
    """One job: a plain job, an array parent or child, a multi-node parent or node."""

    id: str
    name: str
    queue_arn: str
    queue_name: str
    definition: JobDefinition
    workload: Workload  # empty for a multi-node parent: its nodes run
    vcpus: float
    parameters: dict[str, str]
    depends_on: list[Dependency]
    retry_strategy: JsonObject | None
    timeout: JsonObject | None
    tags: dict[str, str]
    propagate_tags: bool
    created_at: int
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    status: str = "SUBMITTED"
    status_reason: str | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    array_size: int | None = None
    array_index: int | None = None
    parent: Job | None = None
    children: list[Job] = field(default_factory=list)
    waits_for: list[Job] = field(default_factory=list)
    dependents: list[Job] = field(default_factory=list)
    cancel_reason: str | None = None  # CancelJob while PENDING: applied once dependencies end
    is_cancelled: bool = False
    is_terminated: bool = False
    placed_on: str | None = None  # ARN of the compute environment holding its vCPUs
    timer: Timer | None = None  # the pending step of the state machine
    timeout_timer: Timer | None = None
    summary_updated_at: int | None = None
    consumable_resources: JsonObject | None = None  # consumableResourceProperties in effect
    claims: tuple[Claim, ...] = ()  # what it claims of consumable resources, by name
    holdings: list[Holding] = field(default_factory=list)  # what its attempt holds now
    multinode: MultiNodePlan | None = None  # multi-node parents
    nodes: list[Job] = field(default_factory=list)  # a multi-node parent's node jobs, by index
    node_index: int | None = None  # multi-node node jobs

    @property
    def arn(self) -> str:
        """The job's ARN."""
        return job_arn(self.id)

    @property
    def is_array_parent(self) -> bool:
        """Whether this is the parent of an array job."""
        return self.array_size is not None

    @property
    def is_main_node(self) -> bool:
        """Whether this is the main node of a multi-node job."""
        plan = self.parent.multinode if self.parent is not None else None
        return plan is not None and self.node_index == plan.main_node

    @property
    def main_node(self) -> Job | None:
        """A multi-node parent's main node job, once the nodes exist."""
        if self.multinode is None or not self.nodes:
            return None
        return self.nodes[self.multinode.main_node]

    @property
    def placed_workloads(self) -> tuple[Workload, ...]:
        """What must each fit on one instance: the job's workload, or each node's."""
        return self.multinode.nodes if self.multinode is not None else (self.workload,)

    @property
    def is_terminal(self) -> bool:
        """SUCCEEDED or FAILED."""
        return self.status in TERMINAL

    @property
    def current_attempt(self) -> Attempt | None:
        """The latest attempt, if any."""
        return self.attempts[-1] if self.attempts else None

    @property
    def ended_attempts(self) -> list[Attempt]:
        """The attempts DescribeJobs lists: those that ended.

        AttemptDetail's startedAt/stoppedAt are the attempt's RUNNING -> terminal window
        (https://docs.aws.amazon.com/batch/latest/APIReference/API_AttemptDetail.html), and
        AWS's example state change event of an unfinished job shows `"attempts": []`
        (https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html): the attempt
        in progress shows only in the job's `container`.
        """
        return [attempt for attempt in self.attempts if attempt.ended]

    @property
    def share(self) -> str:
        """Its share identifier ("" on a FIFO queue, where it has none)."""
        return self.share_identifier or ""

    @property
    def priority_in_share(self) -> int:
        """Its scheduling priority within its share: schedulingPriorityOverride, else the job
        definition's schedulingPriority, else 0 (API reference SubmitJob: the override
        "overrides any scheduling priority in the job definition and works only within a single
        share identifier"; no default is documented)."""
        if self.scheduling_priority is not None:
            return self.scheduling_priority
        return int(self.definition.extra.get("schedulingPriority") or 0)

    @property
    def max_attempts(self) -> int:
        """retryStrategy.attempts (1 without a retry strategy)."""
        return int((self.retry_strategy or {}).get("attempts") or 1)

    def describe(self, tags: dict[str, str]) -> JsonObject:
        """The JobDetail shape DescribeJobs returns (and events carry as detail)."""
        detail: JsonObject = {
            "jobArn": self.arn,
            "jobName": self.name,
            "jobId": self.id,
            "jobQueue": self.queue_arn,
            "status": self.status,
            "createdAt": self.created_at,
            "dependsOn": [dependency.describe() for dependency in self.depends_on],
            "jobDefinition": self.definition.arn,
            "parameters": dict(self.parameters),
            "tags": tags,
            "propagateTags": self.propagate_tags,
            "platformCapabilities": list(self.definition.platform_capabilities),
            "isCancelled": self.is_cancelled,
            "isTerminated": self.is_terminated,
        }
        detail.update(self._workload_detail())
        optional: JsonObject = {
            "statusReason": self.status_reason,
            "startedAt": self.started_at,
            "stoppedAt": self.stopped_at,
            "retryStrategy": copy.deepcopy(self.retry_strategy),
            "timeout": copy.deepcopy(self.timeout),
            "shareIdentifier": self.share_identifier,
            "schedulingPriority": self.scheduling_priority,
            "arrayProperties": self._array_detail(),
            "consumableResourceProperties": copy.deepcopy(self.consumable_resources),
            "nodeProperties": copy.deepcopy(self.multinode.node_properties)
            if self.multinode is not None
            else None,
            "nodeDetails": {"nodeIndex": self.node_index, "isMainNode": self.is_main_node}
            if self.node_index is not None
            else None,
        }
        detail.update({key: value for key, value in optional.items() if value is not None})
        return detail

    def summarize_claim(self, claim: Claim) -> JsonObject:
        """The ListJobsByConsumableResourceSummary of this job for one of its claims.

        API_ListJobsByConsumableResourceSummary.html describes quantity as "The total amount of
        the consumable resource that is available" and createdAt as "for when the consumable
        resource was created"; in a per-job summary the emulator gives the job's claimed
        quantity and the job's createdAt (assumed: the descriptions read as copied from the
        resource's own shapes).
        """
        summary: JsonObject = {
            "jobArn": self.arn,
            "jobQueueArn": self.queue_arn,
            "jobName": self.name,
            "jobDefinitionArn": self.definition.arn,
            "jobStatus": self.status,
            "quantity": claim.quantity,
            "createdAt": self.created_at,
            "consumableResourceProperties": copy.deepcopy(self.consumable_resources or {}),
        }
        optional: JsonObject = {
            "shareIdentifier": self.share_identifier,
            "statusReason": self.status_reason,
            "startedAt": self.started_at,
        }
        summary.update({key: value for key, value in optional.items() if value is not None})
        return summary

    def summarize(self) -> JsonObject:
        """The JobSummary shape ListJobs returns."""
        summary: JsonObject = {
            "jobArn": self.arn,
            "jobId": self.id,
            "jobName": self.name,
            "createdAt": self.created_at,
            "status": self.status,
            "jobDefinition": self.definition.arn,
        }
        attempt = self.current_attempt
        container: JsonObject = {}
        if attempt is not None and attempt.exit_code is not None:
            container["exitCode"] = attempt.exit_code
        if attempt is not None and attempt.reason is not None:
            container["reason"] = attempt.reason
        optional: JsonObject = {
            "statusReason": self.status_reason,
            "startedAt": self.started_at,
            "stoppedAt": self.stopped_at,
            "container": container or None,
            # ArrayPropertiesSummary: size and statusSummary "returned for parent array jobs",
            # index for children:
            # https://docs.aws.amazon.com/batch/latest/APIReference/API_ArrayPropertiesSummary.html
            "arrayProperties": self._array_detail(),
            "nodeProperties": self._node_summary(),
        }
        summary.update({key: value for key, value in optional.items() if value is not None})
        return summary

    def _workload_detail(self) -> JsonObject:
        # A multi-node parent shows its main node's attempts (the user guide: its exit
        # information "is populated from the main node"), rendered as that node's kind.
        workload = self.workload
        if self.multinode is not None:
            workload = self.multinode.nodes[self.multinode.main_node]
        if workload.eks_properties is not None:
            pod = workload.eks_properties.get("podProperties") or {}
            names = [str(c.get("name", "")) for c in pod.get("containers") or []]
            namespace = (pod.get("metadata") or {}).get("namespace")
            return {
                "eksAttempts": [a.describe_eks(names, namespace) for a in self.ended_attempts],
                **({} if self.multinode else {"eksProperties": self._eks_detail()}),
            }
        if workload.ecs_properties is not None:
            names = [str(c.get("name", "")) for c in _ecs_containers(workload.ecs_properties)]
            return {
                "attempts": [a.describe_ecs(names) for a in self.ended_attempts],
                **({} if self.multinode else {"ecsProperties": self._ecs_detail()}),
            }
        shown: JsonObject = {"attempts": [a.describe() for a in self.ended_attempts]}
        if self.multinode is None:
            shown["container"] = self._container_detail()
        return shown

    def _container_detail(self) -> JsonObject:
        detail = copy.deepcopy(self.workload.container or {})
        attempt = self.current_attempt
        detail.setdefault("networkInterfaces", [])
        if attempt is not None:
            detail["taskArn"] = attempt.task_arn
            detail.update(attempt.placement())
            if attempt.log_stream_name is not None:
                detail["logStreamName"] = attempt.log_stream_name
            if attempt.exit_code is not None:
                detail["exitCode"] = attempt.exit_code
            if attempt.reason is not None:
                detail["reason"] = attempt.reason
        return detail

    def _ecs_detail(self) -> JsonObject:
        detail = copy.deepcopy(self.workload.ecs_properties or {})
        attempt = self.current_attempt
        for task in detail.get("taskProperties") or []:
            if attempt is not None:
                task["taskArn"] = attempt.task_arn
                if attempt.container_instance_arn is not None:
                    task["containerInstanceArn"] = attempt.container_instance_arn
            for container in task.get("containers") or []:
                container["networkInterfaces"] = copy.deepcopy(
                    attempt.network_interfaces if attempt is not None else []
                )
                if attempt is not None and attempt.log_stream_name is not None:
                    container["logStreamName"] = attempt.log_stream_name
                if attempt is not None:
                    container.update(attempt.exit_detail())
        return detail

    def _eks_detail(self) -> JsonObject:
        detail = copy.deepcopy(self.workload.eks_properties or {})
        pod = detail.setdefault("podProperties", {})
        attempt = self.current_attempt
        if attempt is not None:
            pod.update(
                {
                    key: value
                    for key, value in (
                        ("podName", attempt.pod_name),
                        ("nodeName", attempt.node_name),
                    )
                    if value is not None
                }
            )
            for container in pod.get("containers") or []:
                container.update(attempt.exit_detail())
        return detail

    def _node_summary(self) -> JsonObject | None:
        # NodePropertiesSummary: numNodes for the parent; nodeIndex and isMainNode for a node.
        if self.multinode is not None:
            return {"numNodes": len(self.multinode.nodes)}
        if self.node_index is not None and self.parent is not None and self.parent.multinode:
            return {
                "isMainNode": self.is_main_node,
                "numNodes": len(self.parent.multinode.nodes),
                "nodeIndex": self.node_index,
            }
        return None

    def _array_detail(self) -> JsonObject | None:
        if self.array_index is not None:
            return {"index": self.array_index}
        if self.array_size is None:
            return None
        summary = dict.fromkeys(STATUSES, 0)
        for child in self.children:
            summary[child.status] += 1
        detail: JsonObject = {"size": self.array_size, "statusSummary": summary}
        if self.summary_updated_at is not None:
            detail["statusSummaryLastUpdatedAt"] = self.summary_updated_at
        return detail


@dataclass(frozen=True)
class JobQuery:
    """What ListJobs asks for, parsed."""

    status: str | None
    filter_name: str | None
    filter_values: tuple[str, ...]
    max_results: int | None
    next_token: str | None


def list_job_summaries(jobs: Iterable[Job], query: JobQuery) -> JsonObject:
    """ListJobs over the candidate jobs (a queue's jobs, or an array's children).

    Without a filter only jobs in `status` (default RUNNING) are listed; with one, jobStatus is
    ignored and the newest jobs come first, as the API reference says.
    """
    if query.filter_name is None:
        status = query.status or "RUNNING"
        if status not in STATUSES:
            raise errors.invalid_parameter(f"Invalid job status {status}")
        selected = [job for job in jobs if job.status == status]
        default_max = 1000
    else:
        selected = [job for job in jobs if _matches_filter(job, query)]
        selected.sort(key=lambda job: job.created_at, reverse=True)
        default_max = 100
    items, token = page(selected, query.max_results, query.next_token, default_max)
    result: JsonObject = {"jobSummaryList": [job.summarize() for job in items]}
    if token:
        result["nextToken"] = token
    return result


def _matches_filter(job: Job, query: JobQuery) -> bool:
    if query.filter_name == "JOB_NAME":
        return any(_name_matches(job.name, value) for value in query.filter_values)
    if query.filter_name == "JOB_DEFINITION":
        return any(_definition_matches(job.definition, value) for value in query.filter_values)
    if query.filter_name in ("AFTER_CREATED_AT", "BEFORE_CREATED_AT"):
        bound = int(query.filter_values[0])
        after = query.filter_name == "AFTER_CREATED_AT"
        return job.created_at > bound if after else job.created_at < bound
    if query.filter_name == "SHARE_IDENTIFIER":
        return job.share_identifier in query.filter_values and (
            query.status is None or job.status == query.status
        )
    raise errors.invalid_parameter(f"Invalid filter name {query.filter_name}")


def _name_matches(name: str, value: str) -> bool:
    # JOB_NAME is case-insensitive; a trailing * matches any name starting with what precedes it.
    if value.endswith("*"):
        return name.lower().startswith(value[:-1].lower())
    return name.lower() == value.lower()


def _definition_matches(definition: JobDefinition, value: str) -> bool:
    # JOB_DEFINITION is case-sensitive: a name (any revision), name:revision, an ARN, or a
    # name prefix ending in *.
    if value.endswith("*"):
        return definition.name.startswith(value[:-1])
    return value in (definition.name, f"{definition.name}:{definition.revision}", definition.arn)
