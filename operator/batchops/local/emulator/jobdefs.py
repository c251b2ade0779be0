"""Job definitions: numbered revisions per name, ACTIVE until deregistered, then INACTIVE.

Revision numbers are never reused, also after deregistration. A reference is a name (its latest
ACTIVE revision), name:revision, or an ARN with or without the revision.

RegisterJobDefinition takes every member of its request shape; AWS's combination rules are
checked first (jobrules.py). DescribeJobDefinitions returns each member as it was registered;
only containerProperties gets the empty lists Batch fills in (command, volumes, environment,
mountPoints, ulimits, secrets, resourceRequirements).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass

from batchops.local.emulator import account, errors, jobrules
from batchops.local.emulator.paging import page
from batchops.local.emulator.tags import TagStore
from batchops.local.emulator.wire import (
    JsonObject,
    optional_int,
    optional_object,
    optional_str,
    required_str,
    str_list,
    str_map,
)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


# RegisterJobDefinition members JobDefinition keeps in fields of their own; every other member
# is kept in `extra` and echoed as given.
_OWN_FIELDS = frozenset(
    {
        "jobDefinitionName",
        "type",
        "parameters",
        "containerProperties",
        "retryStrategy",
        "timeout",
        "platformCapabilities",
        "propagateTags",
        "tags",
        "nodeProperties",
        "ecsProperties",
        "eksProperties",
        "consumableResourceProperties",
    }
)


@dataclass(eq=False)
class JobDefinition:
    """One revision of a job definition."""

    name: str
    revision: int
    type: str
    container_properties: JsonObject | None
    parameters: dict[str, str]
    retry_strategy: JsonObject | None
    timeout: JsonObject | None
    platform_capabilities: list[str]
    propagate_tags: bool
    extra: JsonObject  # other RegisterJobDefinition members (schedulingPriority), echoed back
    node_properties: JsonObject | None = None
    ecs_properties: JsonObject | None = None
    eks_properties: JsonObject | None = None
    consumable_resource_properties: JsonObject | None = None
    status: str = "ACTIVE"

    @property
    def arn(self) -> str:
        """This revision's ARN."""
        return f"{account.batch_arn_prefix()}:job-definition/{self.name}:{self.revision}"

    @property
    def kind(self) -> str:
        """What its jobs run: jobrules.CONTAINER, ECS, EKS or MULTINODE."""
        payloads = [
            key
            for key, value in (
                ("containerProperties", self.container_properties),
                ("ecsProperties", self.ecs_properties),
                ("eksProperties", self.eks_properties),
                ("nodeProperties", self.node_properties),
            )
            if value is not None
        ]
        return jobrules.kind_of(self.type, payloads)

    @property
    def is_fargate(self) -> bool:
        """Whether its jobs run on Fargate (platformCapabilities FARGATE)."""
        return jobrules.FARGATE in self.platform_capabilities

    def describe(self, tags: dict[str, str]) -> JsonObject:
        """The JobDefinition shape."""
        detail: JsonObject = {
            **copy.deepcopy(self.extra),
            "jobDefinitionName": self.name,
            "jobDefinitionArn": self.arn,
            "revision": self.revision,
            "status": self.status,
            "type": self.type,
            "parameters": dict(self.parameters),
            "tags": tags,
            "propagateTags": self.propagate_tags,
            # API_JobDefinition.html: containerOrchestrationType is ECS (default) or EKS.
            "containerOrchestrationType": "EKS" if self.kind == jobrules.EKS else "ECS",
        }
        optional: JsonObject = {
            "containerProperties": self.container_properties,
            "nodeProperties": self.node_properties,
            "ecsProperties": self.ecs_properties,
            "eksProperties": self.eks_properties,
            "consumableResourceProperties": self.consumable_resource_properties,
            "retryStrategy": self.retry_strategy,
            "timeout": self.timeout,
            "platformCapabilities": self.platform_capabilities or None,
        }
        detail.update(
            {key: copy.deepcopy(value) for key, value in optional.items() if value is not None}
        )
        return detail


class JobDefinitions:
    """Every revision of every job definition, and the operations on them.

    `check_consumable_resources` refuses consumableResourceProperties that name a consumable
    resource that does not exist (consumableresources.ConsumableResources.check_requirements).
    """

    def __init__(
        self, tags: TagStore, check_consumable_resources: Callable[[JsonObject | None], None]
    ) -> None:
        self._tags = tags
        self._check_consumable_resources = check_consumable_resources
        self._revisions: dict[str, list[JobDefinition]] = {}

    def clear(self) -> None:
        """Forget everything (emulator reset)."""
        self._revisions.clear()

    def register(self, body: JsonObject) -> JsonObject:
        """RegisterJobDefinition: a new revision, ACTIVE."""
        name = required_str(body, "jobDefinitionName")
        if not NAME_PATTERN.match(name):
            raise errors.invalid_parameter("Job definition name should match valid pattern")
        definition_type = required_str(body, "type")
        if definition_type not in (jobrules.CONTAINER, jobrules.MULTINODE):
            raise errors.invalid_parameter(f"Invalid job definition type {definition_type}")
        jobrules.check_job_definition(body)
        jobrules.check_scheduling_priority(
            "schedulingPriority", optional_int(body, "schedulingPriority")
        )
        self._check_consumable_resources(optional_object(body, "consumableResourceProperties"))
        retry = optional_object(body, "retryStrategy")
        if retry is not None:
            check_retry_strategy(retry)
        timeout = optional_object(body, "timeout")
        if timeout is not None:
            check_timeout(timeout)
        eks = optional_object(body, "eksProperties")
        revisions = self._revisions.setdefault(name, [])
        definition = JobDefinition(
            name=name,
            revision=len(revisions) + 1,
            type=definition_type,
            container_properties=_with_container_defaults(
                optional_object(body, "containerProperties")
            ),
            parameters=str_map(body, "parameters"),
            retry_strategy=copy.deepcopy(retry),
            timeout=copy.deepcopy(timeout),
            # "If no value is specified, it defaults to EC2", except for EKS job definitions,
            # which must not specify one (API reference RegisterJobDefinition).
            platform_capabilities=str_list(body, "platformCapabilities")
            or ([] if eks is not None else [jobrules.EC2]),
            propagate_tags=bool(body.get("propagateTags", False)),
            extra={
                key: copy.deepcopy(value) for key, value in body.items() if key not in _OWN_FIELDS
            },
            node_properties=copy.deepcopy(optional_object(body, "nodeProperties")),
            ecs_properties=copy.deepcopy(optional_object(body, "ecsProperties")),
            eks_properties=copy.deepcopy(eks),
            consumable_resource_properties=copy.deepcopy(
                optional_object(body, "consumableResourceProperties")
            ),
        )
        revisions.append(definition)
        self._tags.add(definition.arn, str_map(body, "tags"))
        return {
            "jobDefinitionName": name,
            "jobDefinitionArn": definition.arn,
            "revision": definition.revision,
        }

    def deregister(self, body: JsonObject) -> JsonObject:
        """DeregisterJobDefinition: that revision becomes INACTIVE."""
        reference = required_str(body, "jobDefinition")
        name, revision = _split(reference)
        if revision is None:
            raise errors.invalid_parameter(
                "jobDefinition must be name:revision or a job definition ARN with a revision"
            )
        definition = self._revision(name, revision)
        if definition is None:
            raise errors.job_definition_not_found(reference)
        definition.status = "INACTIVE"
        return {}

    def describe(self, body: JsonObject) -> JsonObject:
        """DescribeJobDefinitions: by references, or filtered by name and status; paginated."""
        references = str_list(body, "jobDefinitions")
        name = optional_str(body, "jobDefinitionName")
        status = optional_str(body, "status")
        if references and (name or status):
            raise errors.invalid_parameter("jobDefinitions can't be used with other parameters")
        if references:
            selected = [d for ref in references for d in self._matching(ref)]
        else:
            selected = [
                d
                for revisions in self._revisions.values()
                for d in revisions
                if (name is None or d.name == name) and (status is None or d.status == status)
            ]
        items, token = page(
            selected, optional_int(body, "maxResults"), optional_str(body, "nextToken"), 100
        )
        result: JsonObject = {"jobDefinitions": [d.describe(self._tags.of(d.arn)) for d in items]}
        if token:
            result["nextToken"] = token
        return result

    def for_submission(self, reference: str) -> JobDefinition:
        """The revision SubmitJob uses for `reference` (a bare name: the latest ACTIVE one)."""
        name, revision = _split(reference)
        if revision is None:
            active = [d for d in self._revisions.get(name, []) if d.status == "ACTIVE"]
            if not active:
                raise errors.job_definition_not_found(reference)
            return active[-1]
        definition = self._revision(name, revision)
        if definition is None:
            raise errors.job_definition_not_found(reference)
        if definition.status != "ACTIVE":
            raise errors.job_definition_inactive(definition.arn)
        return definition

    def _revision(self, name: str, revision: int) -> JobDefinition | None:
        revisions = self._revisions.get(name, [])
        return revisions[revision - 1] if 0 < revision <= len(revisions) else None

    def _matching(self, reference: str) -> list[JobDefinition]:
        name, revision = _split(reference)
        if revision is None:
            return list(self._revisions.get(name, []))
        definition = self._revision(name, revision)
        return [definition] if definition else []


def _split(reference: str) -> tuple[str, int | None]:
    """(name, revision or None) of a name, name:revision or job definition ARN."""
    text = reference.split("job-definition/", 1)[1] if reference.startswith("arn:") else reference
    name, _, revision = text.partition(":")
    if not revision:
        return name, None
    if not revision.isdigit():
        raise errors.invalid_parameter(f"Invalid job definition revision in {reference}")
    return name, int(revision)


def _with_container_defaults(container: JsonObject | None) -> JsonObject | None:
    if container is None:
        return None
    result = copy.deepcopy(container)
    for key in ("command", "volumes", "environment", "mountPoints", "ulimits", "secrets"):
        result.setdefault(key, [])
    result.setdefault("resourceRequirements", [])
    return result


def check_retry_strategy(retry: JsonObject) -> None:
    """retryStrategy needs attempts 1..10 and at most 5 evaluateOnExit conditions."""
    attempts = optional_int(retry, "attempts")
    if attempts is None:
        raise errors.retry_attempts_required()
    if not 1 <= attempts <= 10:
        raise errors.invalid_parameter("Retry attempts must be between 1 and 10")
    conditions = retry.get("evaluateOnExit") or []
    if not isinstance(conditions, list) or len(conditions) > 5:
        raise errors.invalid_parameter("evaluateOnExit can have at most 5 conditions")
    for condition in conditions:
        if str(condition.get("action", "")).upper() not in ("RETRY", "EXIT"):
            raise errors.invalid_parameter("evaluateOnExit action must be RETRY or EXIT")


def check_timeout(timeout: JsonObject) -> None:
    """A job timeout is at least 60 seconds."""
    seconds = optional_int(timeout, "attemptDurationSeconds")
    if seconds is not None and seconds < 60:
        raise errors.invalid_parameter("attemptDurationSeconds must be greater than or equal to 60")
