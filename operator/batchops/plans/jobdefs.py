"""Job definitions of inline steps: what to register, when an existing revision is reused, and
which definitions may go. Also Batch's naming rule, shared by job definitions and jobs.

A definition is named by its content (`<namespace>_<content hash>`), not by the pipeline that
first needed it: every step of every pipeline in a namespace that asks for the same registration
uses one definition, so 200 runs of one 10-step pipeline register 10 definitions, not 2,000.
A definition is retired (deregistered) once no BatchPipeline of its namespace names it in its
status and no pass of this process is about to submit with it (`jobs/catalog.py`)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from batchops.model.attempts import HOST_LOSS_PATTERN
from batchops.model.keys import CLUSTER_TAG, CONTENT_HASH_TAG, PIPELINE_TAG
from batchops.model.observed import ObservedJobDefinition
from batchops.model.pipeline import PipelineSpec, RetrySpec, StepSpec
from batchops.model.request_surface import PASSTHROUGH, Destination, thaw_json

if TYPE_CHECKING:
    # Type-only: the request shapes boto3 accepts, so the aws layer can pass them through as is.
    from mypy_boto3_batch.type_defs import (
        ConsumableResourcePropertiesTypeDef,
        ConsumableResourceRequirementTypeDef,
        ContainerPropertiesTypeDef,
        EvaluateOnExitTypeDef,
        KeyValuePairTypeDef,
        RegisterJobDefinitionRequestTypeDef,
        ResourceRequirementTypeDef,
        RetryStrategyTypeDef,
    )

BATCH_NAME_MAX: Final = 128
"""Job and job definition names: up to 128 letters, digits, '-' and '_'; a job name starts with
a letter or digit (SubmitJob and RegisterJobDefinition API references)."""
_BATCH_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def batch_name(head: str, tail: str = "") -> str:
    """`<head>-<tail>` as a valid Batch name. A head that is too long or has other characters
    is cleaned, cut and followed by a hash of the exact input, so distinct inputs stay distinct;
    `tail` (already valid, short) is always kept whole at the end."""
    if tail and not (_BATCH_NAME.fullmatch(tail) and len(tail) <= 32):
        raise ValueError(f"name tail {tail!r} must be a short valid Batch name")
    joined = f"{head}-{tail}" if tail else head
    if len(joined) <= BATCH_NAME_MAX and _BATCH_NAME.fullmatch(joined):
        return joined
    digest = hashlib.sha256(f"{head}\0{tail}".encode()).hexdigest()[:10]
    suffix = f"-{digest}-{tail}" if tail else f"-{digest}"
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", head).lstrip("-_") or "x"
    return cleaned[: BATCH_NAME_MAX - len(suffix)].rstrip("-_") + suffix


def job_definition_name(namespace: str, digest: str) -> str:
    """The AWS name of a namespace's definition whose registration request hashes to `digest`.
    '_' cannot occur in Kubernetes names, so `<namespace>_` prefixes exactly one namespace's."""
    return batch_name(f"{namespace}_{digest}")


@dataclass(frozen=True)
class DefinitionScope:
    """Who shares job definitions: the pipelines of one namespace of one cluster. `cluster` is
    the uid of the cluster's kube-system namespace (None leaves the definitions untagged)."""

    namespace: str
    cluster: str | None = None

    def tags(self) -> dict[str, str]:
        """Tags every definition of the scope carries (part of its content, so of its name)."""
        return {CLUSTER_TAG: self.cluster} if self.cluster is not None else {}

    def owns(self, definition: ObservedJobDefinition) -> bool:
        """Whether the operator registered `definition` for this scope: content-hash tag,
        `<namespace>_` name and this cluster's tag. Definitions of earlier releases (named
        `<namespace>_<pipeline>_<step>`, tagged with the pipeline, no cluster) count as the
        namespace's, as they did then."""
        tags = definition.tags
        if CONTENT_HASH_TAG not in tags or not definition.name.startswith(f"{self.namespace}_"):
            return False
        if CLUSTER_TAG in tags:
            return tags[CLUSTER_TAG] == self.cluster
        return self.cluster is None or tags.get(PIPELINE_TAG, "").startswith(f"{self.namespace}/")


def format_vcpus(vcpus: float) -> str:
    """Batch wants vCPUs as a string: "72", "0.25"."""
    return str(int(vcpus)) if vcpus.is_integer() else repr(vcpus)


def resource_requirements(
    vcpus: float | None, memory: int | None, gpus: int | None
) -> list[ResourceRequirementTypeDef]:
    """VCPU / MEMORY / GPU requirements for the values that are set (0 GPUs means none)."""
    result: list[ResourceRequirementTypeDef] = []
    if vcpus is not None:
        result.append({"type": "VCPU", "value": format_vcpus(vcpus)})
    if memory is not None:
        result.append({"type": "MEMORY", "value": str(memory)})
    if gpus:
        result.append({"type": "GPU", "value": str(gpus)})
    return result


def retry_strategy(retry: RetrySpec) -> RetryStrategyTypeDef:
    """The Batch retryStrategy of a step's retry spec. With onInterruption, a first condition
    makes Batch end the job at once when its host went away, without spending an attempt on
    it: the operator resubmits the step instead (`plans.resubmission`)."""
    strategy: RetryStrategyTypeDef = {}
    if retry.attempts is not None:
        strategy["attempts"] = retry.attempts
    conditions: list[EvaluateOnExitTypeDef] = []
    if retry.on_interruption is not None:
        conditions.append({"action": "EXIT", "onStatusReason": HOST_LOSS_PATTERN})
    for condition in retry.evaluate_on_exit:
        entry: EvaluateOnExitTypeDef = {"action": condition.action}
        if condition.on_status_reason is not None:
            entry["onStatusReason"] = condition.on_status_reason
        if condition.on_reason is not None:
            entry["onReason"] = condition.on_reason
        if condition.on_exit_code is not None:
            entry["onExitCode"] = condition.on_exit_code
        conditions.append(entry)
    if conditions:
        strategy["evaluateOnExit"] = conditions
    return strategy


def environment_variables(step: StepSpec) -> list[KeyValuePairTypeDef]:
    """The step's environment sorted by name: order carries no meaning, so it must not change
    the content hash."""
    return [
        {"name": v.name, "value": v.value} for v in sorted(step.environment, key=lambda v: v.name)
    ]


def _container_properties(step: StepSpec) -> ContainerPropertiesTypeDef:
    if step.image is None:
        raise ValueError(f"step {step.name!r} does not define an inline container")
    container: ContainerPropertiesTypeDef = {
        "image": step.image,
        "resourceRequirements": resource_requirements(step.vcpus, step.memory, step.gpus),
    }
    if step.command is not None:
        container["command"] = list(step.command)
    if step.environment:
        container["environment"] = environment_variables(step)
    if step.secrets:
        container["secrets"] = [
            {"name": s.name, "valueFrom": s.value_from}
            for s in sorted(step.secrets, key=lambda s: s.name)
        ]
    if step.job_role_arn is not None:
        container["jobRoleArn"] = step.job_role_arn
    if step.execution_role_arn is not None:
        container["executionRoleArn"] = step.execution_role_arn
    # Shaped as botocore's model says: the CRD schema of these fields is generated from it.
    passed: Any = {
        name: thaw_json(value)
        for name, value in step.batch_fields.items()
        if PASSTHROUGH[name].destination is Destination.CONTAINER
    }
    container.update(passed)
    return container


def job_definition_request(
    scope: DefinitionScope, step: StepSpec
) -> RegisterJobDefinitionRequestTypeDef:
    """RegisterJobDefinition kwargs for an inline step, named after and tagged with their own
    content hash. Nothing of the pipeline or the step's name is in them, so identical steps
    of a namespace's pipelines ask for one definition."""
    if not step.inline:
        raise ValueError(f"step {step.name!r} uses an existing job definition")
    request: RegisterJobDefinitionRequestTypeDef = {
        "jobDefinitionName": "",
        "type": "multinode" if step.kind == "nodeProperties" else "container",
        "tags": {**step.tags, **scope.tags()},
    }
    if step.kind == "container":
        request["containerProperties"] = _container_properties(step)
    else:
        # The member is shaped as botocore's model says: the CRD schema is generated from it.
        properties: Any = thaw_json(step.batch_fields[step.kind])
        if step.kind == "nodeProperties":
            request["nodeProperties"] = properties
        elif step.kind == "eksProperties":
            request["eksProperties"] = properties
        else:
            request["ecsProperties"] = properties
    if step.platform is not None:
        request["platformCapabilities"] = [step.platform]
    if step.retry is not None:
        request["retryStrategy"] = retry_strategy(step.retry)
    if step.timeout_seconds is not None:
        request["timeout"] = {"attemptDurationSeconds": step.timeout_seconds}
    if step.parameters:
        request["parameters"] = dict(step.parameters)
    if step.propagate_tags is not None:
        request["propagateTags"] = step.propagate_tags
    if step.consumable_resources:
        request["consumableResourceProperties"] = consumable_resource_properties(step)
    digest = content_hash(request)
    request["jobDefinitionName"] = job_definition_name(scope.namespace, digest)
    request["tags"] = {**request["tags"], CONTENT_HASH_TAG: digest}
    return request


def consumable_resource_properties(step: StepSpec) -> ConsumableResourcePropertiesTypeDef:
    """The step's claims as Batch's ConsumableResourceProperties, by ARN: an inline step's
    job definition carries them, a jobDefinition step's SubmitJob overrides with them."""
    claims: list[ConsumableResourceRequirementTypeDef] = []
    for claim in step.consumable_resources:
        if claim.arn is None:
            raise ValueError(f"step {step.name!r}: {claim.label} is not resolved to an ARN")
        claims.append({"consumableResource": claim.arn, "quantity": claim.quantity})
    return {"consumableResourceList": claims}


def content_hash(request: RegisterJobDefinitionRequestTypeDef) -> str:
    """Short sha256 of the request as canonical JSON, ignoring the name and the content-hash
    tag (both are derived from it)."""
    tags = {k: v for k, v in request.get("tags", {}).items() if k != CONTENT_HASH_TAG}
    content = {k: v for k, v in request.items() if k != "jobDefinitionName"}
    canonical = json.dumps(
        {**content, "tags": tags}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def pick_reusable_revision(
    content_hash: str, observed_revisions: Iterable[ObservedJobDefinition]
) -> ObservedJobDefinition | None:
    """The newest ACTIVE revision carrying this content hash, which is used instead of
    registering an identical new one."""
    matching = [
        revision
        for revision in observed_revisions
        if revision.active and revision.tags.get(CONTENT_HASH_TAG) == content_hash
    ]
    return max(matching, key=lambda revision: revision.revision, default=None)


def retirable_definitions(
    scope: DefinitionScope, active: Iterable[ObservedJobDefinition], in_use: Collection[str]
) -> list[ObservedJobDefinition]:
    """The ACTIVE definitions the operator registered for `scope` that nothing uses any more:
    `in_use` holds the ARNs (or `name:revision`) that pipelines' status and pending passes
    name. Unfinished runs are among them, so no job that may still be submitted or retried loses
    its definition."""
    return [
        definition
        for definition in sorted(active, key=lambda d: (d.name, d.revision))
        if definition.active
        and scope.owns(definition)
        and definition.arn not in in_use
        and f"{definition.name}:{definition.revision}" not in in_use
    ]


@dataclass(frozen=True)
class RegisterJobDefinition:
    """The definition an inline step needs: an ACTIVE one with `content_hash` if there is one,
    else registered with `request`."""

    step: str
    name: str
    content_hash: str
    request: RegisterJobDefinitionRequestTypeDef


@dataclass(frozen=True)
class JobDefinitionPlan:
    """`job_definitions`: step -> the definition a `jobDefinition:` step names, as written.
    `register`: step -> the registration an inline step needs (reused when one with the same
    content is ACTIVE; `jobs/catalog.py` decides that atomically)."""

    job_definitions: Mapping[str, str]
    register: Mapping[str, RegisterJobDefinition]


def plan_job_definitions(spec: PipelineSpec, scope: DefinitionScope) -> JobDefinitionPlan:
    """Each step's job definition, or the registration it needs."""
    named: dict[str, str] = {}
    register: dict[str, RegisterJobDefinition] = {}
    for step in spec.steps:
        if step.job_definition is not None:
            named[step.name] = step.job_definition
            continue
        request = job_definition_request(scope, step)
        digest = request["tags"][CONTENT_HASH_TAG]
        register[step.name] = RegisterJobDefinition(
            step.name, request["jobDefinitionName"], digest, request
        )
    return JobDefinitionPlan(named, register)
