"""Properties of BatchComputeEnvironment and BatchJobQueue parsing and compute planning.

Parsing only fails with FieldError naming a field; the create request of any parsed spec is one
botocore accepts; classifying a spec against AWS is deterministic and blind to the order of
set-valued fields; and a spec compared with the CE AWS reports after creating it from that very
spec is in sync: no false drift, so no needless update or replacement.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from hypothesis import event, given, settings
from hypothesis import strategies as st

from batchops.model.common import FieldError
from batchops.model.compute import (
    ComputeSpec,
    ObservedComputeEnvironment,
)
from batchops.model.compute_parsing import parse_compute_spec
from batchops.model.queue import parse_queue_spec
from batchops.plans.compute import ComputeUpdatePlan, UpdateKind, classify_compute_update
from batchops.plans.compute_request import desired_create_request
from batchops.plans.naming import aws_name
from batchops.plans.replacement import successor_name
from tests.unit.botocore_requests import botocore_errors

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import ComputeEnvironmentDetailTypeDef
from tests.unit.strategies import (
    SERVICE_LINKED_ROLE_ARN,
    Document,
    Draw,
    compute_specs,
    json_documents,
    mutated,
    queue_specs,
    reordered_mapping,
    shuffled,
    tag_maps,
)

OPERATOR_TAGS = {"batchops.io/owner": "default/ce", "batchops.io/cluster": "local"}
ACCOUNT = "123456789012"
ARN = f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/ce"
_BATCH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")

compute_fields = st.sampled_from(
    ["type", "state", "serviceRole", "computeResources", "updatePolicy", "tags", "name",
     "region", "deletionPolicy", "adopt"]
)  # fmt: skip
resource_fields = st.sampled_from(
    ["type", "maxvCpus", "minvCpus", "desiredvCpus", "allocationStrategy", "instanceTypes",
     "subnets", "securityGroupIds", "instanceRole", "spotIamFleetRole", "bidPercentage",
     "ec2KeyPair", "launchTemplate", "ec2Configuration", "tags"]
)  # fmt: skip
compute_shaped_documents = st.dictionaries(compute_fields, json_documents(8), max_size=5).flatmap(
    lambda spec: st.dictionaries(resource_fields, json_documents(4), max_size=8).map(
        lambda resources: {**spec, "computeResources": resources}
    )
)
queue_shaped_documents = st.dictionaries(
    st.sampled_from(
        [
            "priority",
            "computeEnvironments",
            "state",
            "jobStateTimeLimitActions",
            "tags",
            "name",
            "region",
            "schedulingPolicyArn",
            "deletionPolicy",
            "adopt",
        ]
    ),
    json_documents(8),
    max_size=6,
)


def assert_parses_or_names_the_field(parse: Callable[[Document], object], raw: Document) -> None:
    try:
        parse(raw)
        event("outcome: parsed")
    except FieldError as exc:
        event("outcome: FieldError")
        assert exc.field_path.startswith("spec"), exc.field_path
        assert str(exc).startswith(f"{exc.field_path}: ")


# --- 1. bad input ------------------------------------------------------------------------------


@settings(max_examples=100)
@given(
    st.one_of(
        st.dictionaries(st.text(max_size=8), json_documents(), max_size=4),
        compute_shaped_documents,
        compute_specs(),
        mutated(compute_specs()),
    )
)
def test_compute_parser_only_raises_field_errors_that_name_the_field(raw: Document) -> None:
    """Arbitrary and near-valid BatchComputeEnvironment specs parse or raise FieldError naming
    the field; no KeyError, TypeError, AttributeError or ValueError of an enum escapes."""
    assert_parses_or_names_the_field(parse_compute_spec, raw)


@settings(max_examples=100)
@given(
    st.one_of(
        st.dictionaries(st.text(max_size=8), json_documents(), max_size=4),
        queue_shaped_documents,
        queue_specs,
        mutated(queue_specs),
    )
)
def test_queue_parser_only_raises_field_errors_that_name_the_field(raw: Document) -> None:
    """The same for BatchJobQueue specs."""
    assert_parses_or_names_the_field(parse_queue_spec, raw)


# --- requests sent to AWS ----------------------------------------------------------------------


@settings(max_examples=100)
@given(
    raw=compute_specs(),
    namespace=st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True),
    name=st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,252}[a-z0-9])?", fullmatch=True),
)
def test_create_request_of_any_parsed_spec_is_accepted_by_botocore(
    raw: Document, namespace: str, name: str
) -> None:
    """CreateComputeEnvironment gets a valid name (even from a long, dotted Kubernetes name),
    required members, known enum values and non-empty tag maps."""
    spec = parse_compute_spec(raw)
    request = desired_create_request(spec, aws_name(namespace, name, spec.name), OPERATOR_TAGS)
    assert botocore_errors("CreateComputeEnvironment", request) == ""
    assert _BATCH_NAME.fullmatch(request["computeEnvironmentName"]), request
    assert len(request.get("tags", {})) <= 50


# --- 5. no false drift -------------------------------------------------------------------------


def _role_arn(role: str, kind: str) -> str:
    """How AWS reports an IAM role or instance profile given by name: as an ARN."""
    if role.startswith("arn:"):
        return role
    if role == "AWSServiceRoleForBatch":
        return SERVICE_LINKED_ROLE_ARN
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{role}"


ORDERED_STRATEGIES = ("BEST_FIT_PROGRESSIVE_ORDERED", "SPOT_CAPACITY_OPTIMIZED_PRIORITIZED")


def reorder_set_fields(resources: dict[str, Any], draw: Draw) -> None:
    """Shuffle the set-valued lists of a `computeResources` in place and redraw its tags' key
    order; instanceTypes keep their order under the two strategies that honour it."""
    ordered = resources.get("allocationStrategy") in ORDERED_STRATEGIES
    for key in ("subnets", "securityGroupIds", "ec2Configuration", "instanceTypes"):
        if isinstance(resources.get(key), list) and not (key == "instanceTypes" and ordered):
            resources[key] = shuffled(draw, resources[key])
    if isinstance(resources.get("tags"), dict):
        resources["tags"] = reordered_mapping(draw, resources["tags"])


def as_aws_reports_it(
    spec: ComputeSpec, request: Mapping[str, Any], draw: Draw
) -> ComputeEnvironmentDetailTypeDef:
    """The DescribeComputeEnvironments item of a CE created from `request` and since updated to
    `spec`: set-valued lists in any order, roles as ARNs, AWS's defaults filled in, AWS's own
    tags added."""
    policy = spec.update_policy
    detail: dict[str, Any] = {
        "computeEnvironmentName": request["computeEnvironmentName"],
        "computeEnvironmentArn": ARN,
        "type": request["type"],
        "state": spec.state.value,
        "status": "VALID",
        "serviceRole": _role_arn(request.get("serviceRole", SERVICE_LINKED_ROLE_ARN), "role"),
        "updatePolicy": {
            "terminateJobsOnUpdate": bool(policy and policy.terminate_jobs_on_update),
            "jobExecutionTimeoutMinutes": (policy and policy.job_execution_timeout_minutes) or 30,
        },
        "tags": reordered_mapping(
            draw, {**request.get("tags", {}), "aws:cloudformation:stack-name": "x"}
        ),
    }
    if "computeResources" in request:
        resources: dict[str, Any] = copy.deepcopy(dict(request["computeResources"]))
        reorder_set_fields(resources, draw)
        for key, kind in (("instanceRole", "instance-profile"), ("spotIamFleetRole", "role")):
            if key in resources:
                resources[key] = _role_arn(resources[key], kind)
        template = resources.get("launchTemplate")
        if template is not None:
            # AWS reports both identifiers and the version it resolved the default to.
            template.setdefault("launchTemplateId", "lt-0123456789abcdef0")
            template.setdefault("launchTemplateName", "batch-template")
            template.setdefault("version", "$Default")
        if "minvCpus" in resources:
            # desiredvCpus moves with demand; AWS always reports a value.
            low, high = resources["minvCpus"], resources["maxvCpus"]
            resources["desiredvCpus"] = draw(st.integers(low, max(low, high)))
        detail["computeResources"] = reordered_mapping(draw, resources)
    return cast("ComputeEnvironmentDetailTypeDef", reordered_mapping(draw, detail))


@settings(max_examples=100)
@given(raw=compute_specs(), operator_tags=tag_maps, data=st.data())
def test_a_spec_compared_with_itself_as_aws_reports_it_is_in_sync(
    raw: Document, operator_tags: dict[str, str], data: st.DataObject
) -> None:
    """No false drift: a CE that AWS created from the spec's own request, reported with
    instanceTypes, subnets, securityGroupIds, ec2Configuration and tags in another order, roles
    as ARNs and defaults filled in, needs no update, no replacement and no tag change."""
    spec = parse_compute_spec(raw)
    request = desired_create_request(spec, "ce", operator_tags)
    observed = ObservedComputeEnvironment.from_describe(as_aws_reports_it(spec, request, data.draw))
    plan = classify_compute_update(spec, observed, operator_tags=operator_tags)
    assert plan.kind is UpdateKind.NONE, plan.changes
    assert plan.in_sync, plan.tags


def with_set_fields_reordered(raw: Document, draw: Draw) -> Document:
    """`raw` with its set-valued lists shuffled and its maps' keys in another order."""
    again: dict[str, Any] = copy.deepcopy(raw)
    if "computeResources" in again:
        reorder_set_fields(again["computeResources"], draw)
    if "tags" in again:
        again["tags"] = reordered_mapping(draw, again["tags"])
    return again


def decision(plan: ComputeUpdatePlan) -> tuple[object, ...]:
    """What a plan decides, leaving out the request's list order."""
    return (plan.kind, plan.changes, plan.replace_reasons, plan.ignored, plan.tags)


@settings(max_examples=100)
@given(desired=compute_specs(), current=compute_specs(), data=st.data())
def test_classification_is_deterministic_and_blind_to_set_order(
    desired: Document, current: Document, data: st.DataObject
) -> None:
    """Classifying any spec against any observed CE gives the same decision every time, and the
    same decision (and the same successor name) when the spec lists its set-valued fields in
    another order."""
    spec = parse_compute_spec(desired)
    current_spec = parse_compute_spec(current)
    request = desired_create_request(current_spec, "ce", OPERATOR_TAGS)
    observed = ObservedComputeEnvironment.from_describe(
        as_aws_reports_it(current_spec, request, data.draw)
    )
    plan = classify_compute_update(spec, observed, operator_tags=OPERATOR_TAGS)
    assert classify_compute_update(spec, observed, operator_tags=OPERATOR_TAGS) == plan

    reordered = parse_compute_spec(with_set_fields_reordered(desired, data.draw))
    assert decision(classify_compute_update(reordered, observed, operator_tags=OPERATOR_TAGS)) == (
        decision(plan)
    )
    assert successor_name(reordered, "ce", "ce-old") == successor_name(spec, "ce", "ce-old")
