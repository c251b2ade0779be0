"""What a run used: requested resources times the time each attempt ran, summed over attempts.

Batch bills the instances, not the jobs, so this is the run's reservation, the number platform
teams compare between pipelines and days (and the one a price table turns into money). It is
computed from the attempt history alone, so it stays right after Batch forgot the jobs.

Requested resources: a container step's vcpus/memory/gpus; a multi-node step's node ranges,
each counted once per node it covers; the containers of an ECS task or an EKS pod (their
resource requests); a `jobDefinition:` step's overrides when it sets them (otherwise the
definition's values are not known to the run, and the step has no usage).

Spot or on-demand: an attempt ran on the capacity its queue's compute environments offer. When
all of them are SPOT/FARGATE_SPOT the attempt counts as `spot`, when all are EC2/FARGATE as
`onDemand`; a queue that mixes the two, or whose compute environments the operator does not
know (a queue named by ARN, an unmanaged environment), leaves the attempt in the total only. The
caller passes that knowledge in (`queue_capacity`), so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from batchops.model.attempts import AttemptRecord
from batchops.model.observed import CapacityUsageEntry, UsageEntry
from batchops.model.pipeline import StepSpec
from batchops.model.request_surface import JsonValue

_MIB_PER_GIB: Final = 1024

CapacityKind = Literal["spot", "onDemand"]
"""What an attempt ran on, as far as its queue's compute environments say."""

CAPACITY_OF_COMPUTE_TYPE: Final[Mapping[str, CapacityKind]] = MappingProxyType(
    {"SPOT": "spot", "FARGATE_SPOT": "spot", "EC2": "onDemand", "FARGATE": "onDemand"}
)
"""computeResources.type -> capacity kind; other types (ECS_MANAGED_INSTANCES) and unmanaged
compute environments say nothing about it."""

NO_CAPACITY: Final[Mapping[str, CapacityKind]] = MappingProxyType({})
"""No queue's capacity known: usage is not split."""


@dataclass(frozen=True)
class Resources:
    """What one job asks for while an attempt runs (all its nodes or containers)."""

    vcpus: float = 0.0
    memory_mib: float = 0.0
    gpus: float = 0.0

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.vcpus + other.vcpus, self.memory_mib + other.memory_mib, self.gpus + other.gpus
        )

    def times(self, factor: float) -> Resources:
        """These resources `factor` times over (nodes of a range)."""
        return Resources(self.vcpus * factor, self.memory_mib * factor, self.gpus * factor)


@dataclass(frozen=True)
class Usage:
    """Resource-seconds; `spot` and `on_demand` are the parts known to have run on that kind of
    capacity (None: no such part), so their sum may be less than the total."""

    vcpu_seconds: float = 0.0
    memory_gib_seconds: float = 0.0
    gpu_seconds: float = 0.0
    spot: Usage | None = None
    on_demand: Usage | None = None

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.vcpu_seconds + other.vcpu_seconds,
            self.memory_gib_seconds + other.memory_gib_seconds,
            self.gpu_seconds + other.gpu_seconds,
            _combine(self.spot, other.spot, 1),
            _combine(self.on_demand, other.on_demand, 1),
        )

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.vcpu_seconds - other.vcpu_seconds,
            self.memory_gib_seconds - other.memory_gib_seconds,
            self.gpu_seconds - other.gpu_seconds,
            _combine(self.spot, other.spot, -1),
            _combine(self.on_demand, other.on_demand, -1),
        )

    @property
    def unsplit(self) -> Usage:
        """The same resource-seconds without the spot/onDemand parts."""
        return Usage(self.vcpu_seconds, self.memory_gib_seconds, self.gpu_seconds)

    def on(self, capacity: CapacityKind | None) -> Usage:
        """This usage, all of it marked as run on `capacity` (None: unknown, not split)."""
        plain = self.unsplit
        if capacity == "spot":
            return Usage(
                plain.vcpu_seconds, plain.memory_gib_seconds, plain.gpu_seconds, spot=plain
            )
        if capacity == "onDemand":
            return Usage(
                plain.vcpu_seconds, plain.memory_gib_seconds, plain.gpu_seconds, on_demand=plain
            )
        return plain

    def to_status(self) -> UsageEntry:
        """The status shape, rounded to whole resource-seconds (tenths for GiB)."""
        entry: UsageEntry = {
            "vcpuSeconds": round(self.vcpu_seconds, 1),
            "memoryGiBSeconds": round(self.memory_gib_seconds, 1),
            "vcpuHours": f"{self.vcpu_seconds / 3600:.2f}",
        }
        if self.gpu_seconds:
            entry["gpuSeconds"] = round(self.gpu_seconds, 1)
        if self.spot is not None:
            entry["spot"] = self.spot.to_capacity_status()
        if self.on_demand is not None:
            entry["onDemand"] = self.on_demand.to_capacity_status()
        return entry

    def to_capacity_status(self) -> CapacityUsageEntry:
        """The `spot` / `onDemand` shape of this (unsplit) usage."""
        entry: CapacityUsageEntry = {
            "vcpuSeconds": round(self.vcpu_seconds, 1),
            "memoryGiBSeconds": round(self.memory_gib_seconds, 1),
        }
        if self.gpu_seconds:
            entry["gpuSeconds"] = round(self.gpu_seconds, 1)
        return entry

    @classmethod
    def from_status(cls, raw: object) -> Usage | None:
        """Read a `usage` entry as written by `to_status` (None if there is none); numbers
        that do not parse count as zero."""
        if not isinstance(raw, Mapping):
            return None

        def seconds(entry: Mapping[str, object]) -> Usage:
            return Usage(
                _float(entry.get("vcpuSeconds")),
                _float(entry.get("memoryGiBSeconds")),
                _float(entry.get("gpuSeconds")),
            )

        spot, on_demand = raw.get("spot"), raw.get("onDemand")
        total = seconds(raw)
        return Usage(
            total.vcpu_seconds,
            total.memory_gib_seconds,
            total.gpu_seconds,
            seconds(spot) if isinstance(spot, Mapping) else None,
            seconds(on_demand) if isinstance(on_demand, Mapping) else None,
        )


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _combine(first: Usage | None, second: Usage | None, sign: int) -> Usage | None:
    """`first + sign * second` of two optional parts; None only when both are."""
    if first is None and second is None:
        return None
    left, right = first or Usage(), second or Usage()
    return left + right if sign > 0 else left - right


def capacity_of_compute_type(compute_type: object) -> CapacityKind | None:
    """A compute environment's capacity kind from its `computeResources.type`, if it says."""
    return CAPACITY_OF_COMPUTE_TYPE.get(compute_type) if isinstance(compute_type, str) else None


def queue_capacity(
    queue_environments: Mapping[str, Sequence[str | None]],
    environment_capacity: Mapping[str, CapacityKind | None],
) -> dict[str, CapacityKind]:
    """Queue -> the capacity kind all its compute environments share. `queue_environments`
    lists each queue's environments by name (None for one named by ARN, which is not known);
    a queue with any unknown environment, or with both kinds, is left out."""
    known: dict[str, CapacityKind] = {}
    for queue, environments in queue_environments.items():
        kinds = {environment_capacity.get(name) if name else None for name in environments}
        if len(kinds) == 1:
            (kind,) = kinds
            if kind is not None:
                known[queue] = kind
    return known


def _number(value: JsonValue) -> float:
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def _requirements(raw: JsonValue) -> Resources:
    """A `resourceRequirements` list ([{type, value}]) as resources."""
    total = Resources()
    for entry in raw if isinstance(raw, tuple) else ():
        if not isinstance(entry, Mapping):
            continue
        value = _number(entry.get("value"))
        match entry.get("type"):
            case "VCPU":
                total += Resources(vcpus=value)
            case "MEMORY":
                total += Resources(memory_mib=value)
            case "GPU":
                total += Resources(gpus=value)
    return total


def _kubernetes_quantity(raw: JsonValue, memory: bool) -> float:
    """A Kubernetes quantity ("500m", "2", "1024Mi", "2Gi") in vCPUs or MiB."""
    text = str(raw)
    units = {"m": 0.001} if not memory else {"Ki": 1 / 1024, "Mi": 1.0, "Gi": 1024.0}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return _number(text[: -len(suffix)]) * factor
    return _number(text) / (1024 * 1024 if memory else 1)  # bytes -> MiB


def _pod(raw: JsonValue) -> Resources:
    pod = raw.get("podProperties") if isinstance(raw, Mapping) else None
    containers = pod.get("containers") if isinstance(pod, Mapping) else None
    total = Resources()
    for container in containers if isinstance(containers, tuple) else ():
        resources = container.get("resources") if isinstance(container, Mapping) else None
        if not isinstance(resources, Mapping):
            continue
        asked = resources.get("requests") or resources.get("limits")
        if not isinstance(asked, Mapping):
            continue
        total += Resources(
            vcpus=_kubernetes_quantity(asked.get("cpu", 0), memory=False),
            memory_mib=_kubernetes_quantity(asked.get("memory", 0), memory=True),
            gpus=_number(asked.get("nvidia.com/gpu", 0)),
        )
    return total


def _nodes(raw: JsonValue) -> Resources:
    if not isinstance(raw, Mapping):
        return Resources()
    count = int(_number(raw.get("numNodes")))
    total = Resources()
    ranges = raw.get("nodeRangeProperties")
    for entry in ranges if isinstance(ranges, tuple) else ():
        if not isinstance(entry, Mapping):
            continue
        start, _, end = str(entry.get("targetNodes", "")).partition(":")
        first = int(_number(start or 0))
        last = int(_number(end)) if end else count - 1
        container = entry.get("container")
        asked = (
            _requirements(container.get("resourceRequirements"))
            if isinstance(container, Mapping)
            else Resources()
        )
        total += asked.times(max(0, last - first + 1))
    return total


def _task(raw: JsonValue) -> Resources:
    tasks = raw.get("taskProperties") if isinstance(raw, Mapping) else None
    total = Resources()
    for task in tasks if isinstance(tasks, tuple) else ():
        containers = task.get("containers") if isinstance(task, Mapping) else None
        for container in containers if isinstance(containers, tuple) else ():
            if isinstance(container, Mapping):
                total += _requirements(container.get("resourceRequirements"))
    return total


def requested_resources(step: StepSpec) -> Resources | None:
    """What one job of the step reserves; None when the run cannot know (a job definition it
    did not write, without overrides)."""
    if step.kind == "nodeProperties":
        return _nodes(step.batch_fields["nodeProperties"])
    if step.kind == "eksProperties":
        return _pod(step.batch_fields["eksProperties"])
    if step.kind == "ecsProperties":
        return _task(step.batch_fields["ecsProperties"])
    if step.vcpus is None and step.memory is None and step.gpus is None:
        return None
    return Resources(step.vcpus or 0.0, float(step.memory or 0), float(step.gpus or 0))


def attempt_usage(
    resources: Resources,
    attempts: Iterable[AttemptRecord],
    now_ms: int,
    capacity: Mapping[str, CapacityKind] = NO_CAPACITY,
) -> Usage:
    """Resources times run time over the attempts (one still running counts until now), each
    attempt split by the capacity its queue runs on (`queue_capacity`)."""
    total = Usage()
    for attempt in attempts:
        if attempt.started_at is None:
            continue
        seconds = max(0, ((attempt.stopped_at or now_ms) - attempt.started_at) / 1000)
        used = Usage(
            resources.vcpus * seconds,
            resources.memory_mib / _MIB_PER_GIB * seconds,
            resources.gpus * seconds,
        )
        total += used.on(capacity.get(attempt.queue) if attempt.queue is not None else None)
    return total


def step_usage(
    step: StepSpec,
    attempts: Iterable[AttemptRecord],
    now_ms: int,
    capacity: Mapping[str, CapacityKind] = NO_CAPACITY,
) -> Usage | None:
    """The step's usage over all its attempts; None when the run cannot know it: a job
    definition it did not write, or an array job (its attempts are its children's, which the
    run does not describe one by one)."""
    resources = requested_resources(step)
    if resources is None or step.array_size is not None:
        return None
    return attempt_usage(resources, attempts, now_ms, capacity)


def total_usage(usages: Iterable[Usage | None]) -> Usage:
    """The run's usage: its steps' summed."""
    total = Usage()
    for usage in usages:
        if usage is not None:
            total += usage
    return total
