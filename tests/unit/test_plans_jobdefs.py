"""Job definitions: the RegisterJobDefinition request, its content hash, reuse and cleanup."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from batchops.model.keys import CONTENT_HASH_TAG
from batchops.model.observed import ObservedJobDefinition
from batchops.model.pipeline import StepSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.jobdefs import (
    batch_name,
    content_hash,
    job_definition_name,
    job_definition_request,
    pick_reusable_revision,
    plan_job_definitions,
    revisions_to_deregister,
)

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch_image:latest"
BATCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def one_step(**fields: object) -> StepSpec:
    spec = parse_pipeline_spec(
        {
            "queue": "queue-72",
            "image": IMAGE,
            "steps": [{"name": "job1", "vcpus": 72, "memory": 102400, **fields}],
        }
    )
    return spec.steps[0]


def digest(step: StepSpec) -> str:
    return job_definition_request("default", "nightly-etl", step)["tags"][CONTENT_HASH_TAG]


def revision(
    number: int, content: str | None, status: str = "ACTIVE", name: str = "jd"
) -> ObservedJobDefinition:
    tags: Mapping[str, str] = {CONTENT_HASH_TAG: content} if content else {}
    return ObservedJobDefinition(
        name=name,
        arn=f"arn:aws:batch:us-east-1:123456789012:job-definition/{name}:{number}",
        revision=number,
        status=status,
        tags=tags,
    )


def test_walkthrough_step_registers_a_container_definition() -> None:
    request = job_definition_request(
        "default", "nightly-etl", one_step(command=["python", "src/run1.py", "Ref::date"])
    )
    assert request["jobDefinitionName"] == "default_nightly-etl_job1"
    assert request["type"] == "container"
    assert request["platformCapabilities"] == ["EC2"]
    assert request["containerProperties"] == {
        "image": IMAGE,
        "command": ["python", "src/run1.py", "Ref::date"],
        "resourceRequirements": [
            {"type": "VCPU", "value": "72"},
            {"type": "MEMORY", "value": "102400"},
        ],
    }
    assert request["tags"]["batchops.io/pipeline"] == "default/nightly-etl"
    assert re.fullmatch(r"[0-9a-f]{16}", request["tags"][CONTENT_HASH_TAG])


def test_every_optional_field_reaches_the_request() -> None:
    step = one_step(
        gpus=2,
        environment=[{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
        secrets=[{"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:t"}],
        jobRoleArn="arn:aws:iam::1:role/job",
        executionRoleArn="arn:aws:iam::1:role/exec",
        retry={"attempts": 3, "evaluateOnExit": [{"onExitCode": "137", "action": "RETRY"}]},
        timeoutSeconds=3600,
        parameters={"date": "default"},
        tags={"team": "data"},
        propagateTags=True,
    )
    request = job_definition_request("default", "nightly-etl", step)
    container = request["containerProperties"]
    assert container["resourceRequirements"][-1] == {"type": "GPU", "value": "2"}
    assert container["environment"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert container["secrets"] == [
        {"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:t"}
    ]
    assert container["jobRoleArn"] == "arn:aws:iam::1:role/job"
    assert container["executionRoleArn"] == "arn:aws:iam::1:role/exec"
    assert request["retryStrategy"] == {
        "attempts": 3,
        "evaluateOnExit": [{"action": "RETRY", "onExitCode": "137"}],
    }
    assert request["timeout"] == {"attemptDurationSeconds": 3600}
    assert request["parameters"] == {"date": "default"}
    assert request["propagateTags"] is True
    assert request["tags"]["team"] == "data"


def test_fargate_step_asks_for_fargate_with_fractional_vcpus() -> None:
    step = one_step(
        platform="FARGATE", vcpus=0.25, memory=512, executionRoleArn="arn:aws:iam::1:role/exec"
    )
    request = job_definition_request("default", "p", step)
    assert request["platformCapabilities"] == ["FARGATE"]
    assert request["containerProperties"]["resourceRequirements"][0] == {
        "type": "VCPU",
        "value": "0.25",
    }


def test_hash_is_the_same_whatever_the_order_of_maps_and_environment() -> None:
    first = one_step(
        environment=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        tags={"x": "1", "y": "2"},
        parameters={"p": "1", "q": "2"},
    )
    second = one_step(
        environment=[{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
        tags={"y": "2", "x": "1"},
        parameters={"q": "2", "p": "1"},
    )
    assert digest(first) == digest(second)
    assert digest(one_step()) == digest(one_step())


@pytest.mark.parametrize(
    "change",
    [
        {"image": "other:latest"},
        {"command": ["python", "other.py"]},
        {"vcpus": 36},
        {"memory": 2048},
        {"gpus": 1},
        {"environment": [{"name": "A", "value": "changed"}]},
        {"secrets": [{"name": "S", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/s"}]},
        {"jobRoleArn": "arn:aws:iam::1:role/other"},
        {"retry": {"attempts": 2}},
        {"timeoutSeconds": 60},
        {"parameters": {"date": "x"}},
        {"tags": {"team": "other"}},
        {"propagateTags": True},
    ],
)
def test_any_change_to_the_definition_changes_the_hash(change: dict[str, object]) -> None:
    base = one_step(environment=[{"name": "A", "value": "1"}])
    changed = one_step(**{"environment": [{"name": "A", "value": "1"}], **change})
    assert digest(base) != digest(changed)


def test_hash_ignores_the_hash_tag_itself() -> None:
    request = job_definition_request("default", "p", one_step())
    assert content_hash(request) == request["tags"][CONTENT_HASH_TAG]


def test_active_revision_with_the_same_hash_is_reused_newest_first() -> None:
    observed = [revision(1, "aaa"), revision(2, "bbb"), revision(3, "aaa"), revision(4, "ccc")]
    reused = pick_reusable_revision("aaa", observed)
    assert reused is not None and reused.revision == 3


def test_inactive_or_foreign_revisions_are_never_reused() -> None:
    observed = [revision(1, "aaa", status="INACTIVE"), revision(2, None)]
    assert pick_reusable_revision("aaa", observed) is None


def test_old_revisions_go_unless_in_use_or_newest() -> None:
    observed = [
        revision(1, "a"),
        revision(2, "b"),
        revision(3, "c"),
        revision(4, None),  # not ours: never touched
        revision(5, "e", status="INACTIVE"),
        revision(6, "f"),
    ]
    in_use = {revision(2, "b").arn, "jd:3"}
    assert revisions_to_deregister(observed, in_use) == [revision(1, "a").arn]


def test_newest_revision_is_kept_per_name() -> None:
    observed = [revision(1, "a", name="x"), revision(7, "b", name="y")]
    assert revisions_to_deregister(observed, set()) == []


def test_plan_reuses_a_matching_revision_and_registers_the_rest() -> None:
    spec = parse_pipeline_spec(
        {
            "queue": "q",
            "image": IMAGE,
            "defaults": {"vcpus": 1, "memory": 1024},
            "steps": [
                {"name": "job1"},
                {"name": "job2", "dependsOn": ["job1"]},
                {"name": "ext", "jobDefinition": "shared-def:4"},
            ],
        }
    )
    existing = job_definition_request("ns", "p", spec.steps[0])
    observed = {
        existing["jobDefinitionName"]: [
            revision(9, existing["tags"][CONTENT_HASH_TAG], name=existing["jobDefinitionName"])
        ]
    }
    plan = plan_job_definitions(spec, "ns", "p", observed)
    assert plan.job_definitions == {
        "job1": "arn:aws:batch:us-east-1:123456789012:job-definition/ns_p_job1:9",
        "ext": "shared-def:4",
    }
    assert [(r.step, r.name) for r in plan.register] == [("job2", "ns_p_job2")]
    assert plan.register[0].request["tags"][CONTENT_HASH_TAG] == plan.register[0].content_hash


def test_job_definition_names_are_valid_bounded_and_deterministic() -> None:
    long_name = job_definition_name("team-a", "x" * 200, "step")
    assert BATCH_NAME.match(long_name)
    assert long_name == job_definition_name("team-a", "x" * 200, "step")
    dotted = job_definition_name("default", "nightly.etl", "job1")
    assert BATCH_NAME.match(dotted)
    assert dotted != job_definition_name("default", "nightly-etl", "job1")


def test_job_definition_names_of_different_parts_never_collide() -> None:
    assert job_definition_name("team-a", "etl", "s") != job_definition_name("team", "a-etl", "s")


def test_batch_name_keeps_the_tail_whole_when_cutting() -> None:
    name = batch_name("p" * 300, "abc123")
    assert len(name) == 128 and name.endswith("-abc123")
    assert batch_name("p" * 300, "abc123") != batch_name("p" * 299 + "q", "abc123")
