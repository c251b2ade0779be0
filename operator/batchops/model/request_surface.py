"""Where every member of Batch's request shapes lives in a manifest (DESIGN.md, "Every Batch
request member has a home in a manifest").

A member is either a manifest field under the same camelCase name and shape, so a Batch user's
JSON pastes in, or it is listed in `NOT_MIRRORED` with the reason. A unit test
(tests/unit/test_request_surface.py) walks the installed botocore model against the CRDs and fails
on a member that is neither, so a botocore release that adds a member turns the suite red until
someone decides where it goes.

Fields mirrored as written (`PASSTHROUGH`) are carried by the operator as frozen JSON and handed
to Batch unchanged; their CRD schema is generated from the same botocore shapes
(`hack/batch_shapes.py`), so the schema, not the operator, refuses a misspelt key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

JsonValue = str | int | float | bool | None | tuple["JsonValue", ...] | Mapping[str, "JsonValue"]
"""A JSON value that cannot change: objects are read-only mappings, arrays are tuples."""


def freeze_json(value: object) -> JsonValue:
    """An immutable copy of a JSON value as decoded from the Kubernetes API."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(key): freeze_json(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze_json(item) for item in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def freeze_json_object(value: Mapping[str, object]) -> Mapping[str, JsonValue]:
    """`freeze_json` of a JSON object, typed as the read-only mapping it returns."""
    return MappingProxyType({str(key): freeze_json(item) for key, item in value.items()})


def thaw_json(value: JsonValue) -> object:
    """A plain, mutable JSON copy (dicts and lists), as boto3 wants it."""
    if isinstance(value, Mapping):
        return {key: thaw_json(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw_json(item) for item in value]
    return value


class Destination(StrEnum):
    """Where a pass-through step field goes in Batch's requests."""

    CONTAINER = "containerProperties"  # a member of RegisterJobDefinition.containerProperties
    DEFINITION = "RegisterJobDefinition"  # a member of the RegisterJobDefinition request
    SUBMISSION = "SubmitJob"  # a member of the SubmitJob request (jobDefinition steps only)


@dataclass(frozen=True)
class Passthrough:
    """A step field that is a Batch request member, carried as written."""

    destination: Destination
    shape: str  # botocore shape name, for the CRD generator and the surface test


PASSTHROUGH: Final[Mapping[str, Passthrough]] = MappingProxyType(
    {
        # containerProperties members beyond the ones the step already spelled out
        # (image, command, environment, secrets, jobRoleArn, executionRoleArn).
        "volumes": Passthrough(Destination.CONTAINER, "Volumes"),
        "mountPoints": Passthrough(Destination.CONTAINER, "MountPoints"),
        "linuxParameters": Passthrough(Destination.CONTAINER, "LinuxParameters"),
        "ulimits": Passthrough(Destination.CONTAINER, "Ulimits"),
        "user": Passthrough(Destination.CONTAINER, "String"),
        "privileged": Passthrough(Destination.CONTAINER, "Boolean"),
        "readonlyRootFilesystem": Passthrough(Destination.CONTAINER, "Boolean"),
        "logConfiguration": Passthrough(Destination.CONTAINER, "LogConfiguration"),
        "networkConfiguration": Passthrough(Destination.CONTAINER, "NetworkConfiguration"),
        "fargatePlatformConfiguration": Passthrough(
            Destination.CONTAINER, "FargatePlatformConfiguration"
        ),
        "enableExecuteCommand": Passthrough(Destination.CONTAINER, "Boolean"),
        "ephemeralStorage": Passthrough(Destination.CONTAINER, "EphemeralStorage"),
        "runtimePlatform": Passthrough(Destination.CONTAINER, "RuntimePlatform"),
        "repositoryCredentials": Passthrough(Destination.CONTAINER, "RepositoryCredentials"),
        # Instead of a container: the other job types of RegisterJobDefinition.
        "nodeProperties": Passthrough(Destination.DEFINITION, "NodeProperties"),
        "eksProperties": Passthrough(Destination.DEFINITION, "EksProperties"),
        "ecsProperties": Passthrough(Destination.DEFINITION, "EcsProperties"),
        # SubmitJob overrides of an existing job definition.
        "containerOverrides": Passthrough(Destination.SUBMISSION, "ContainerOverrides"),
        "nodeOverrides": Passthrough(Destination.SUBMISSION, "NodeOverrides"),
        "eksPropertiesOverride": Passthrough(Destination.SUBMISSION, "EksPropertiesOverride"),
        "ecsPropertiesOverride": Passthrough(Destination.SUBMISSION, "EcsPropertiesOverride"),
    }
)

CONTAINER_PASSTHROUGH: Final = frozenset(
    name for name, field in PASSTHROUGH.items() if field.destination is Destination.CONTAINER
)
JOB_PROPERTIES: Final = ("nodeProperties", "eksProperties", "ecsProperties")
SUBMIT_OVERRIDES: Final = frozenset(
    name for name, field in PASSTHROUGH.items() if field.destination is Destination.SUBMISSION
)


@dataclass(frozen=True)
class RequestHome:
    """The manifest object whose fields mirror an operation's request: `path` is the chain of
    schema properties from the CRD's root (a list property stands for its items)."""

    operation: str
    kind: str
    path: tuple[str, ...]


HOMES: Final = (
    RequestHome("RegisterJobDefinition", "BatchPipeline", ("spec", "steps")),
    RequestHome("SubmitJob", "BatchPipeline", ("spec", "steps")),
    RequestHome("CreateComputeEnvironment", "BatchComputeEnvironment", ("spec",)),
    RequestHome("CreateJobQueue", "BatchJobQueue", ("spec",)),
    RequestHome("CreateSchedulingPolicy", "BatchSchedulingPolicy", ("spec",)),
    RequestHome("CreateConsumableResource", "BatchConsumableResource", ("spec",)),
)

FLATTENED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "RegisterJobDefinition.containerProperties": (
            "a step is its container: the members are step fields (image, command, volumes, ...)"
        ),
    }
)
"""Request members whose own members sit directly in the home (`Operation.member`)."""

NOT_MIRRORED: Final[Mapping[tuple[str, ...], str]] = MappingProxyType(
    {
        (
            "RegisterJobDefinition.jobDefinitionName",
            "SubmitJob.jobName",
            "CreateComputeEnvironment.computeEnvironmentName",
            "CreateJobQueue.jobQueueName",
            "CreateSchedulingPolicy.name",
            "CreateConsumableResource.consumableResourceName",
        ): "derived: from the object's name and namespace (spec.name overrides on infrastructure)",
        ("RegisterJobDefinition.type",): (
            "derived: multinode when the step has nodeProperties, else container"
        ),
        ("RegisterJobDefinition.platformCapabilities",): (
            "written as `platform` (EC2 or FARGATE; one value, as Batch allows)"
        ),
        (
            "RegisterJobDefinition.containerProperties.resourceRequirements",
            "RegisterJobDefinition.containerProperties.vcpus",
            "RegisterJobDefinition.containerProperties.memory",
        ): "written as `vcpus`, `memory` and `gpus` (the deprecated vcpus/memory members too)",
        ("RegisterJobDefinition.containerProperties.instanceType",): (
            "multi-node only: set in nodeProperties.nodeRangeProperties[].container; AWS: "
            '"isn\'t applicable to single-node container jobs or jobs that run on Fargate"'
        ),
        ("RegisterJobDefinition.retryStrategy", "SubmitJob.retryStrategy"): (
            "written as `retry` (attempts, evaluateOnExit)"
        ),
        ("RegisterJobDefinition.timeout", "SubmitJob.timeout"): "written as `timeoutSeconds`",
        ("SubmitJob.jobQueue",): "written as `queue` (a BatchJobQueue name or an ARN)",
        ("SubmitJob.schedulingPriorityOverride",): "written as `schedulingPriority`",
        ("SubmitJob.arrayProperties",): "written as `arraySize`",
        ("SubmitJob.dependsOn",): (
            "derived: from the step names in `dependsOn` and `arrayDependency`"
        ),
        (
            "RegisterJobDefinition.consumableResourceProperties",
            "SubmitJob.consumableResourcePropertiesOverride",
        ): (
            "written as `consumableResources` ({ref | arn, quantity}: a ref names a "
            "BatchConsumableResource); on a jobDefinition step it becomes the override"
        ),
        ("CreateJobQueue.computeEnvironmentOrder",): (
            "written as `computeEnvironments` ({ref | arn, order}: a ref names a "
            "BatchComputeEnvironment)"
        ),
        (
            "CreateComputeEnvironment.computeResources.imageId",
            "CreateComputeEnvironment.context",
            "CreateJobQueue.serviceEnvironmentOrder",
            "CreateSchedulingPolicy.quotaSharePolicy",
        ): (
            "not offered: imageId is deprecated, ec2Configuration[].imageIdOverride replaces it "
            "(API reference, ComputeResource.imageId); context is documented only as "
            '"Reserved"; serviceEnvironmentOrder and quotaSharePolicy are for queues of '
            "SageMaker Training service environments, a kind batchops does not manage (a queue "
            "has serviceEnvironmentOrder or computeEnvironmentOrder, not both; quota management "
            "is only for queues connected to a SAGEMAKER_TRAINING service environment, user "
            "guide quota-management.html)"
        ),
    }
)
"""Members that are not a field of the same name and shape, and why (`Operation.member.path`)."""
