"""The combination rules of a merged step: what a kind of job, a platform or an override allows
together, each with AWS's own words. Checked after defaults are merged, because a default may
supply what the step lacks; the CRD's CEL rules say the same where CEL can see it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from batchops.model.common import FieldReader
from batchops.model.pipeline import FARGATE_VCPUS, MAX_USER_TAGS, StepSpec
from batchops.model.request_surface import JOB_PROPERTIES, SUBMIT_OVERRIDES

_JOB_DEFINITION_REF = re.compile(r"^(arn:.+|[A-Za-z0-9_-]{1,128}(:[0-9]+)?)$")
# Fields of the container's resources and environment, which the other inline job types
# describe inside their own properties.
CONTAINER_RESOURCE_FIELDS: Final = ("vcpus", "memory", "gpus", "environment")


def check_step(step: StepSpec, reader: FieldReader) -> None:
    """Rules that need the merged step (a default may supply what the step lacks)."""
    if not step.queue:
        raise reader.fail(
            "queue", "no queue: set the step's queue, spec.defaults.queue or spec.queue"
        )
    if len(step.tags) > MAX_USER_TAGS:
        raise reader.fail(
            "tags",
            f"at most {MAX_USER_TAGS} tags including spec.defaults.tags "
            "(Batch allows 50 and the operator adds its own)",
        )
    if step.job_definition is not None and not _JOB_DEFINITION_REF.fullmatch(step.job_definition):
        raise reader.fail("jobDefinition", "must be a name, name:revision or an ARN")
    if step.array_dependency is not None and step.array_size is None:
        raise reader.fail("arrayDependency", "needs arraySize (only array jobs have it)")
    if step.share_identifier is not None and not re.fullmatch(
        r"[A-Za-z0-9]+\*?", step.share_identifier
    ):
        raise reader.fail("shareIdentifier", "must be alphanumeric, optionally ending with *")
    if step.kind == "jobDefinition":
        _check_overrides(step, reader)
    if step.kind == "nodeProperties":
        _check_multinode(step, reader)
    if step.kind != "container":
        return
    if step.image is None:
        raise reader.fail(
            "image",
            "no image: set the step's image, spec.defaults.image or spec.image, "
            "or use jobDefinition",
        )
    if step.vcpus is None or step.memory is None:
        key = "vcpus" if step.vcpus is None else "memory"
        raise reader.fail(
            key, "is required for an inline container (on the step or in spec.defaults)"
        )
    if step.platform == "FARGATE":
        if step.vcpus not in FARGATE_VCPUS:
            raise reader.fail("vcpus", "Fargate supports 0.25, 0.5, 1, 2, 4, 8, 16 or 32 vCPUs")
        if step.gpus:
            raise reader.fail("gpus", "GPUs are not available on Fargate")
        if step.execution_role_arn is None:
            raise reader.fail("executionRoleArn", "is required on Fargate")
        _check_fargate_container(step, reader)
    else:
        if not step.vcpus.is_integer():
            raise reader.fail("vcpus", "must be a whole number on EC2 (at least 1)")
        for key in _FARGATE_ONLY:
            if key in step.batch_fields:
                raise reader.fail(key, "is for jobs on Fargate only (platform: FARGATE)")


# "Jobs that are running on Amazon EC2 resources must not specify this parameter."
# (ContainerProperties.networkConfiguration and .fargatePlatformConfiguration,
# https://docs.aws.amazon.com/batch/latest/APIReference/API_ContainerProperties.html)
_FARGATE_ONLY: Final = ("networkConfiguration", "fargatePlatformConfiguration")
# "This parameter isn't applicable to jobs that are running on Fargate resources and shouldn't
# be provided" (ContainerProperties.privileged and .ulimits; LinuxParameters.devices,
# .sharedMemorySize, .tmpfs, .maxSwap, .swappiness:
# https://docs.aws.amazon.com/batch/latest/APIReference/API_LinuxParameters.html)
_NOT_ON_FARGATE_LINUX: Final = ("devices", "sharedMemorySize", "tmpfs", "maxSwap", "swappiness")


def _check_fargate_container(step: StepSpec, reader: FieldReader) -> None:
    if step.batch_fields.get("privileged") is True:
        raise reader.fail("privileged", "Fargate does not run privileged containers")
    if "ulimits" in step.batch_fields:
        raise reader.fail("ulimits", "is not available on Fargate")
    linux = step.batch_fields.get("linuxParameters")
    if isinstance(linux, Mapping):
        for key in _NOT_ON_FARGATE_LINUX:
            if linux.get(key) is not None:
                raise reader.fail(f"linuxParameters.{key}", "is not available on Fargate")


def check_inherited_kind(step: StepSpec, reader: FieldReader) -> None:
    """A step whose kind of job comes from spec.defaults may not set what that kind ignores:
    a setting is refused, never silently dropped."""
    if step.kind != "jobDefinition":
        for key in sorted(SUBMIT_OVERRIDES):
            if reader.has(key):
                raise reader.fail(key, "only applies to a step that uses jobDefinition")
    if step.kind in JOB_PROPERTIES:
        for key in CONTAINER_RESOURCE_FIELDS:
            if reader.has(key):
                raise reader.fail(key, f"belongs in the containers of {step.kind}, not on the step")


def _check_overrides(step: StepSpec, reader: FieldReader) -> None:
    """vcpus, memory, gpus and environment are the short form of containerOverrides: one
    value may not be given twice."""
    overrides = step.batch_fields.get("containerOverrides")
    if not isinstance(overrides, Mapping):
        return
    if overrides.get("resourceRequirements") is not None and (
        step.vcpus is not None or step.memory is not None or step.gpus is not None
    ):
        raise reader.fail(
            "containerOverrides.resourceRequirements",
            "cannot be set together with vcpus, memory or gpus (their short form)",
        )
    if overrides.get("environment") is not None and step.environment:
        raise reader.fail(
            "containerOverrides.environment",
            "cannot be set together with environment (its short form)",
        )


def _check_multinode(step: StepSpec, reader: FieldReader) -> None:
    """Multi-node parallel jobs run on EC2 only and are never array jobs: "Multi-node parallel
    jobs aren't supported on Fargate" and "you can't submit multi-node parallel jobs as array
    jobs" (AWS Batch User Guide, "Multi-node parallel jobs",
    https://docs.aws.amazon.com/batch/latest/userguide/multi-node-parallel-jobs.html)."""
    if step.platform == "FARGATE":
        raise reader.fail("platform", "multi-node parallel jobs do not run on Fargate")
    if step.array_size is not None:
        raise reader.fail("arraySize", "a multi-node parallel job cannot be an array job")
    nodes = step.batch_fields["nodeProperties"]
    assert isinstance(nodes, Mapping)
    count, main = nodes.get("numNodes"), nodes.get("mainNode")
    if isinstance(count, int) and isinstance(main, int) and not 0 <= main < count:
        raise reader.fail(
            "nodeProperties.mainNode", f"must be a node index below numNodes ({count})"
        )
