"""Job definitions: the RegisterJobDefinition request, its content name, reuse and retirement."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from batchops.model.keys import CONTENT_HASH_TAG
from batchops.model.observed import ObservedJobDefinition
from batchops.model.pipeline import StepSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.jobdefs import (
    DefinitionScope,
    batch_name,
    content_hash,
    job_definition_name,
    job_definition_request,
    pick_reusable_revision,
    plan_job_definitions,
    retirable_definitions,
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
    return job_definition_request(DefinitionScope("default"), step)["tags"][CONTENT_HASH_TAG]


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
        DefinitionScope("default"), one_step(command=["python", "src/run1.py", "Ref::date"])
    )
    assert request["jobDefinitionName"] == f"default_{request['tags'][CONTENT_HASH_TAG]}"
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
    assert set(request["tags"]) == {CONTENT_HASH_TAG}
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
    request = job_definition_request(DefinitionScope("default"), step)
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
    request = job_definition_request(DefinitionScope("default"), step)
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


def test_hash_ignores_the_name_and_the_hash_tag_derived_from_it() -> None:
    request = job_definition_request(DefinitionScope("default"), one_step())
    assert content_hash(request) == request["tags"][CONTENT_HASH_TAG]
    assert content_hash({**request, "jobDefinitionName": "x"}) == content_hash(request)


def test_identical_steps_of_different_pipelines_and_names_ask_for_one_definition() -> None:
    def request_of(pipeline_step: str) -> object:
        spec = parse_pipeline_spec(
            {
                "queue": "q",
                "image": IMAGE,
                "steps": [{"name": pipeline_step, "vcpus": 1, "memory": 512}],
            }
        )
        return job_definition_request(DefinitionScope("team-a"), spec.steps[0])

    assert request_of("extract") == request_of("load")


def test_the_same_step_in_two_namespaces_gets_two_definitions() -> None:
    step = one_step()
    first = job_definition_request(DefinitionScope("team-a"), step)["jobDefinitionName"]
    second = job_definition_request(DefinitionScope("team-b"), step)["jobDefinitionName"]
    assert first != second
    assert first.startswith("team-a_") and second.startswith("team-b_")


def test_active_revision_with_the_same_hash_is_reused_newest_first() -> None:
    observed = [revision(1, "aaa"), revision(2, "bbb"), revision(3, "aaa"), revision(4, "ccc")]
    reused = pick_reusable_revision("aaa", observed)
    assert reused is not None and reused.revision == 3


def test_inactive_or_foreign_revisions_are_never_reused() -> None:
    observed = [revision(1, "aaa", status="INACTIVE"), revision(2, None)]
    assert pick_reusable_revision("aaa", observed) is None


def test_a_namespaces_definitions_retire_unless_named_in_status_or_held() -> None:
    observed = [
        revision(1, "a", name="ns_a1"),
        revision(1, "b", name="ns_b2"),
        revision(3, "c", name="ns_pipe_step"),  # an earlier release's per-pipeline name
        revision(1, None, name="ns_mine"),  # not ours: never touched
        revision(1, "e", status="INACTIVE", name="ns_e5"),
        revision(1, "f", name="other_f6"),  # another namespace's
        revision(1, "g", name="ns_g7"),
    ]
    in_use = {revision(1, "b", name="ns_b2").arn, "ns_g7:1"}
    retired = retirable_definitions(DefinitionScope("ns"), observed, in_use)
    assert [d.name for d in retired] == ["ns_a1", "ns_pipe_step"]


def test_a_namespace_prefix_is_not_another_namespaces_prefix() -> None:
    # '_' cannot occur in a namespace name: "team" never reaches "team-a"'s definitions.
    observed = [revision(1, "a", name="team-a_abc")]
    assert retirable_definitions(DefinitionScope("team"), observed, set()) == []


def test_plan_names_existing_definitions_as_written_and_asks_for_inline_ones() -> None:
    spec = parse_pipeline_spec(
        {
            "queue": "q",
            "image": IMAGE,
            "defaults": {"vcpus": 1, "memory": 1024},
            "steps": [
                {"name": "job1"},
                {"name": "job2", "dependsOn": ["job1"], "command": ["two"]},
                {"name": "ext", "jobDefinition": "shared-def:4"},
            ],
        }
    )
    plan = plan_job_definitions(spec, DefinitionScope("ns"))
    assert plan.job_definitions == {"ext": "shared-def:4"}
    assert sorted(plan.register) == ["job1", "job2"]
    for wanted in plan.register.values():
        assert wanted.request["tags"][CONTENT_HASH_TAG] == wanted.content_hash
        assert wanted.name == f"ns_{wanted.content_hash}" == wanted.request["jobDefinitionName"]
    assert plan.register["job1"].name != plan.register["job2"].name


def test_job_definition_names_are_valid_bounded_and_deterministic() -> None:
    long_name = job_definition_name("n" * 63, "0123456789abcdef")
    assert BATCH_NAME.match(long_name)
    assert long_name == job_definition_name("n" * 63, "0123456789abcdef")


def test_batch_name_keeps_the_tail_whole_when_cutting() -> None:
    name = batch_name("p" * 300, "abc123")
    assert len(name) == 128 and name.endswith("-abc123")
    assert batch_name("p" * 300, "abc123") != batch_name("p" * 299 + "q", "abc123")


def test_two_clusters_sharing_an_account_and_a_namespace_name_never_share_definitions() -> None:
    step = one_step()
    here = job_definition_request(DefinitionScope("default", cluster="uid-a"), step)
    there = job_definition_request(DefinitionScope("default", cluster="uid-b"), step)
    assert here["jobDefinitionName"] != there["jobDefinitionName"]
    assert here["tags"]["batchops.io/cluster"] == "uid-a"
    theirs = ObservedJobDefinition(
        there["jobDefinitionName"], "arn:x/theirs:1", 1, "ACTIVE", there["tags"]
    )
    assert retirable_definitions(DefinitionScope("default", cluster="uid-a"), [theirs], ()) == []


def test_definitions_of_an_earlier_release_still_retire_with_their_namespace() -> None:
    legacy = ObservedJobDefinition(
        "team-a_nightly_job1",
        "arn:x/team-a_nightly_job1:3",
        3,
        "ACTIVE",
        {CONTENT_HASH_TAG: "abc", "batchops.io/pipeline": "team-a/nightly"},
    )
    scope = DefinitionScope("team-a", cluster="uid-a")
    assert retirable_definitions(scope, [legacy], ()) == [legacy]
    assert retirable_definitions(scope, [legacy], {legacy.arn}) == []
