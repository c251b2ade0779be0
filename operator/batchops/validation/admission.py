"""Python equivalents of the CRDs' CEL rules that the operator's model does not repeat, and the
API server's own checks of `metadata`.

Most CEL rules of BatchPipeline and CronPipeline have a twin in `batchops.model` (the operator
re-checks what it relies on), and `batchops validate` calls those. The rules below exist only as
CEL: the API server enforces them at `kubectl apply`, so the operator never sees a violation,
but an offline check must. Each message is the CRD's, word for word, so CI output and kubectl
agree; `tests/unit/test_validate.py` runs every CEL rule's corpus case through validate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from batchops.validation.paths import FieldPath

Finding = tuple[FieldPath, str]

_DNS_SUBDOMAIN: Final = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_MAX_NAME: Final = 253
MAX_CRON_NAME: Final = 52
_FARGATE: Final = ("FARGATE", "FARGATE_SPOT")
_NOT_FOR_FARGATE: Final = (
    "instanceTypes",
    "instanceRole",
    "allocationStrategy",
    "minvCpus",
    "desiredvCpus",
    "bidPercentage",
    "spotIamFleetRole",
    "ec2KeyPair",
    "launchTemplate",
    "ec2Configuration",
    "tags",
)


def metadata_findings(body: Mapping[str, Any]) -> Iterator[Finding]:
    """What the API server checks of every object's name before any schema."""
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not name:
        yield ("metadata", "name"), "Required value: name is required"
    elif len(name) > _MAX_NAME or not _DNS_SUBDOMAIN.match(name):
        yield (
            ("metadata", "name"),
            (
                f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
                "case alphanumeric characters, '-' or '.', and must start and end with an "
                "alphanumeric character"
            ),
        )


def _has(obj: Mapping[str, Any], key: str) -> bool:
    return obj.get(key) is not None


def _compute_environment(body: Mapping[str, Any]) -> Iterator[Finding]:
    spec = body.get("spec") or {}
    ce_type = spec.get("type", "MANAGED")
    if ce_type != "MANAGED" and not _has(spec, "serviceRole"):
        yield ("spec", "serviceRole"), "UNMANAGED compute environments need an explicit serviceRole"
    resources = spec.get("computeResources")
    if isinstance(resources, Mapping):
        yield from _compute_resources(resources, ("spec", "computeResources"))


def _compute_resources(cr: Mapping[str, Any], at: FieldPath) -> Iterator[Finding]:
    cr_type, strategy = cr.get("type"), cr.get("allocationStrategy")
    minimum, maximum, desired = cr.get("minvCpus"), cr.get("maxvCpus"), cr.get("desiredvCpus")
    if minimum is not None and maximum < minimum:
        yield (*at, "maxvCpus"), "maxvCpus must be at least minvCpus"
    if desired is not None and (desired > maximum or (minimum is not None and desired < minimum)):
        yield (*at, "desiredvCpus"), "desiredvCpus must lie between minvCpus and maxvCpus"
    if cr_type in _FARGATE:
        if any(_has(cr, key) for key in _NOT_FOR_FARGATE):
            yield (
                at,
                (
                    "FARGATE and FARGATE_SPOT take only maxvCpus, subnets and securityGroupIds; "
                    + ", ".join(_NOT_FOR_FARGATE[:-1])
                    + f" and {_NOT_FOR_FARGATE[-1]} don't apply to Fargate"
                ),
            )
        groups = cr.get("securityGroupIds")
        if groups is None or len(groups) > 5 or len(cr.get("subnets") or []) > 16:
            yield (
                (*at, "securityGroupIds"),
                ("Fargate needs securityGroupIds (at most 5) and at most 16 subnets"),
            )
    elif not _has(cr, "instanceRole"):
        yield (*at, "instanceRole"), "EC2 and SPOT compute resources need an instanceRole"
    if _has(cr, "bidPercentage") and cr_type != "SPOT":
        yield (*at, "bidPercentage"), "bidPercentage applies only to SPOT compute resources"
    if _has(cr, "spotIamFleetRole") and cr_type != "SPOT":
        yield (*at, "spotIamFleetRole"), "spotIamFleetRole applies only to SPOT compute resources"
    if cr_type == "SPOT" and not _has(cr, "spotIamFleetRole") and strategy in (None, "BEST_FIT"):
        yield (
            (*at, "spotIamFleetRole"),
            ("SPOT with the BEST_FIT allocation strategy (the default) needs a spotIamFleetRole"),
        )
    if isinstance(strategy, str) and strategy.startswith("SPOT_") and cr_type != "SPOT":
        yield (
            (*at, "allocationStrategy"),
            ("SPOT_* allocation strategies are only available for SPOT compute resources"),
        )
    if strategy == "BEST_FIT_PROGRESSIVE_ORDERED" and cr_type != "EC2":
        yield (
            (*at, "allocationStrategy"),
            (
                "BEST_FIT_PROGRESSIVE_ORDERED is only available for EC2 (On-Demand) compute "
                "resources"
            ),
        )
    template = cr.get("launchTemplate")
    if isinstance(template, Mapping) and _has(template, "launchTemplateId") == _has(
        template, "launchTemplateName"
    ):
        yield (
            (*at, "launchTemplate"),
            ("set exactly one of launchTemplateId and launchTemplateName"),
        )


def _job_queue(body: Mapping[str, Any]) -> Iterator[Finding]:
    spec = body.get("spec") or {}
    policy = spec.get("schedulingPolicy")
    if policy is not None and _has(spec, "schedulingPolicyArn"):
        yield ("spec", "schedulingPolicy"), "set schedulingPolicy or schedulingPolicyArn, not both"
    if isinstance(policy, Mapping) and _has(policy, "ref") == _has(policy, "arn"):
        yield ("spec", "schedulingPolicy"), "set exactly one of ref or arn"
    at: FieldPath = ("spec", "computeEnvironments")
    entries = [e for e in (body.get("spec") or {}).get("computeEnvironments") or [] if e]
    orders = [entry.get("order") for entry in entries]
    if len(set(orders)) != len(orders):
        yield at, "order values must be unique"
    refs = [entry["ref"] for entry in entries if _has(entry, "ref")]
    if len(set(refs)) != len(refs):
        yield at, "a BatchComputeEnvironment may be listed only once"
    arns = [entry["arn"] for entry in entries if _has(entry, "arn")]
    if len(set(arns)) != len(arns):
        yield at, "a compute environment ARN may be listed only once"


def _cron_pipeline(body: Mapping[str, Any]) -> Iterator[Finding]:
    name = (body.get("metadata") or {}).get("name") or ""
    if len(name) > MAX_CRON_NAME:
        yield (
            ("metadata", "name"),
            (
                f"a CronPipeline name is at most {MAX_CRON_NAME} characters, so that run names "
                "(<name>-<unix time>) fit in 63"
            ),
        )


_BY_KIND: Final[Mapping[str, Callable[[Mapping[str, Any]], Iterator[Finding]]]] = {
    "BatchComputeEnvironment": _compute_environment,
    "BatchJobQueue": _job_queue,
    "CronPipeline": _cron_pipeline,
}


def cel_findings(kind: str, body: Mapping[str, Any]) -> list[Finding]:
    """Violations of the kind's CEL rules that `batchops.model` does not check itself. Call only
    on a body that passed the schema (as the API server does), so the types are right."""
    check = _BY_KIND.get(kind)
    return list(check(body)) if check else []
