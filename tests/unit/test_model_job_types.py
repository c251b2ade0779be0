"""Steps of every Batch job type: which kind a step is (its own fields, then spec.defaults),
which pass-through fields apply to it, AWS's combination rules on the merged step, and the
RegisterJobDefinition / SubmitJob requests they become."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from batchops.model.common import SpecError
from batchops.model.pipeline import PipelineSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.jobdefs import DefinitionScope, job_definition_request
from batchops.plans.run_submission import plan_submissions
from batchops.plans.runs import RunRef

NODES: Mapping[str, Any] = {
    "numNodes": 2,
    "mainNode": 0,
    "nodeRangeProperties": [{"targetNodes": "0:", "container": {"image": "mpi"}}],
}
FARGATE: Mapping[str, Any] = {
    "platform": "FARGATE",
    "vcpus": 1,
    "memory": 2048,
    "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
}


def parse(*steps: Mapping[str, object], **fields: object) -> PipelineSpec:
    return parse_pipeline_spec({"queue": "q", "image": "busybox", "steps": list(steps), **fields})


def refused(*steps: Mapping[str, object], **fields: object) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse(*steps, **fields)
    return caught.value


def test_a_step_with_node_properties_is_a_multinode_job_without_image_or_resources() -> None:
    step = parse({"name": "mpi", "nodeProperties": NODES}).steps[0]
    assert step.kind == "nodeProperties"
    assert (step.image, step.vcpus, step.memory) == (None, None, None)
    request = job_definition_request(DefinitionScope("ns"), step)
    assert request["type"] == "multinode"
    assert request["nodeProperties"] == NODES
    assert "containerProperties" not in request
    assert request["platformCapabilities"] == ["EC2"]


def test_an_eks_step_registers_no_platform_capabilities() -> None:
    pod = {"podProperties": {"containers": [{"image": "busybox"}]}}
    step = parse({"name": "pod", "eksProperties": pod}).steps[0]
    request = job_definition_request(DefinitionScope("ns"), step)
    assert request["eksProperties"] == pod
    assert "platformCapabilities" not in request


def test_container_fields_reach_container_properties_as_written() -> None:
    volumes = [{"name": "refs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]
    step = parse(
        {"name": "a", "vcpus": 1, "memory": 512, "volumes": volumes, "user": "1000"}
    ).steps[0]
    container = job_definition_request(DefinitionScope("ns"), step)["containerProperties"]
    assert container["volumes"] == volumes
    assert container.get("user") == "1000"


def test_a_step_inherits_its_job_type_from_defaults_and_its_own_container_wins() -> None:
    spec = parse(
        {"name": "nodes"},
        {"name": "inline", "command": ["true"], "vcpus": 1, "memory": 512},
        defaults={"nodeProperties": NODES},
    )
    assert [s.kind for s in spec.steps] == ["nodeProperties", "container"]
    assert "nodeProperties" not in spec.steps[1].batch_fields


def test_resources_on_a_step_that_inherits_node_properties_are_refused_not_dropped() -> None:
    error = refused({"name": "a", "vcpus": 1}, defaults={"nodeProperties": NODES})
    assert error.field_path == "spec.steps[0].vcpus"


def test_defaults_container_fields_apply_to_containers_only() -> None:
    spec = parse(
        {"name": "inline", "vcpus": 1, "memory": 512},
        {"name": "existing", "jobDefinition": "etl:3"},
        defaults={"ulimits": [{"name": "nofile", "softLimit": 1, "hardLimit": 2}]},
    )
    assert "ulimits" in spec.steps[0].batch_fields
    assert spec.steps[1].batch_fields == {}


def test_overrides_go_with_a_job_definition_inherited_from_defaults() -> None:
    spec = parse(
        {"name": "run", "containerOverrides": {"command": ["echo", "x"]}, "memory": 1024},
        defaults={"jobDefinition": "etl:3"},
    )
    plan = plan_submissions(spec, RunRef("ns", "p", "r1"), {}, {}, {"run": "etl:3"}, {"q": "arn:q"})
    request = plan.submit[0].request({})
    assert request["containerOverrides"] == {
        "command": ["echo", "x"],
        "resourceRequirements": [{"type": "MEMORY", "value": "1024"}],
    }


def test_overrides_on_an_inline_step_are_refused_not_dropped() -> None:
    error = refused({"name": "a", "vcpus": 1, "memory": 512, "nodeOverrides": {"numNodes": 2}})
    assert error.field_path == "spec.steps[0].nodeOverrides"


def test_a_value_given_twice_in_overrides_and_its_short_form_is_refused() -> None:
    overrides = {"resourceRequirements": [{"type": "VCPU", "value": "2"}]}
    error = refused({"name": "a", "jobDefinition": "etl:3", "vcpus": 1,
                     "containerOverrides": overrides})  # fmt: skip
    assert "short form" in str(error)


@pytest.mark.parametrize(
    ("fields", "field_path"),
    [
        ({**FARGATE, "ulimits": [{"name": "nofile", "softLimit": 1, "hardLimit": 2}]}, "ulimits"),
        ({**FARGATE, "privileged": True}, "privileged"),
        ({**FARGATE, "linuxParameters": {"tmpfs": []}}, "linuxParameters.tmpfs"),
        ({"vcpus": 1, "memory": 512, "networkConfiguration": {"assignPublicIp": "ENABLED"}},
         "networkConfiguration"),
        ({"nodeProperties": NODES, "arraySize": 3}, "arraySize"),
        ({"nodeProperties": NODES, "platform": "FARGATE"}, "platform"),
        ({"nodeProperties": {**NODES, "mainNode": 2}}, "nodeProperties.mainNode"),
        ({"eksProperties": {"podProperties": {}}, "platform": "EC2"}, "platform"),
        ({"nodeProperties": NODES, "image": "x"}, "image"),
        ({"jobDefinition": "etl:3", "ecsProperties": {"taskProperties": []}}, "ecsProperties"),
    ],
)  # fmt: skip
def test_aws_combination_rules_name_the_field(fields: Mapping[str, Any], field_path: str) -> None:
    assert refused({"name": "a", **fields}).field_path == f"spec.steps[0].{field_path}"


def test_the_platform_inherited_from_defaults_decides_the_fargate_rules() -> None:
    error = refused(
        {"name": "a", "ulimits": [{"name": "nofile", "softLimit": 1, "hardLimit": 2}]},
        defaults=dict(FARGATE),
    )
    assert error.field_path == "spec.steps[0].ulimits"


def test_fargate_fields_pass_on_fargate() -> None:
    step = parse(
        {"name": "a", **FARGATE, "networkConfiguration": {"assignPublicIp": "ENABLED"},
         "ephemeralStorage": {"sizeInGiB": 50}},
    ).steps[0]  # fmt: skip
    container = job_definition_request(DefinitionScope("ns"), step)["containerProperties"]
    assert container["networkConfiguration"] == {"assignPublicIp": "ENABLED"}
    assert container["ephemeralStorage"] == {"sizeInGiB": 50}
