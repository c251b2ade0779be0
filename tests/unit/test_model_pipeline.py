"""Parsing a BatchPipeline spec (with defaults merged) and what Batch reports about jobs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from batchops.model.common import SpecError
from batchops.model.observed import (
    ListedJob,
    ObservedJob,
    ObservedJobDefinition,
    RunRecord,
    StepStatus,
)
from batchops.model.pipeline import (
    EnvVar,
    ExitCondition,
    PipelineSpec,
    RetrySpec,
    SecretRef,
)
from batchops.model.pipeline_parsing import parse_pipeline_spec

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch_image:latest"


def parse(*steps: Mapping[str, object], **fields: object) -> PipelineSpec:
    return parse_pipeline_spec(
        {"queue": "queue-72", "image": IMAGE, "steps": list(steps), **fields}
    )


def spec_error(raw: Mapping[str, object]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_pipeline_spec(raw)
    return caught.value


def test_walkthrough_steps_inherit_the_pipeline_queue_and_image() -> None:
    spec = parse(
        {"name": "job1", "command": ["python", "src/run1.py", "Ref::date"], "vcpus": 72,
         "memory": 102400},
        {"name": "job2", "queue": "queue-simple", "command": ["python", "src/run2.py"],
         "vcpus": 1, "memory": 1024, "dependsOn": ["job1"]},
        parameters={"date": "2026-11-28"},
    )  # fmt: skip
    job1, job2 = spec.steps
    assert (job1.queue, job1.image, job1.vcpus, job1.memory) == ("queue-72", IMAGE, 72, 102400)
    assert job1.command == ("python", "src/run1.py", "Ref::date")
    assert job1.platform == "EC2" and job1.inline
    assert (job2.queue, job2.depends_on) == ("queue-simple", ("job1",))
    assert spec.parameters == {"date": "2026-11-28"}
    assert spec.fail_fast is True and spec.terminate_on_delete is True


def test_step_fields_win_over_defaults_and_maps_merge_by_key() -> None:
    spec = parse(
        {"name": "a", "vcpus": 4, "environment": [{"name": "MODE", "value": "step"}],
         "tags": {"team": "step"}, "parameters": {"p": "step"}},
        {"name": "b"},
        defaults={
            "vcpus": 2, "memory": 2048, "image": "default-image", "queue": "default-queue",
            "environment": [{"name": "MODE", "value": "default"}, {"name": "LOG", "value": "1"}],
            "tags": {"team": "default", "cost": "x"}, "parameters": {"p": "default", "q": "d"},
            "retry": {"attempts": 3}, "timeoutSeconds": 600,
        },
    )  # fmt: skip
    a, b = spec.steps
    assert (a.vcpus, a.memory, a.image, a.queue) == (4, 2048, "default-image", "default-queue")
    assert set(a.environment) == {EnvVar("MODE", "step"), EnvVar("LOG", "1")}
    assert a.tags == {"team": "step", "cost": "x"}
    assert a.parameters == {"p": "step", "q": "d"}
    assert a.retry == RetrySpec(attempts=3) and a.timeout_seconds == 600
    assert (b.vcpus, b.environment) == (2, (EnvVar("MODE", "default"), EnvVar("LOG", "1")))


def test_job_definition_step_ignores_container_defaults_but_keeps_the_rest() -> None:
    spec = parse(
        {"name": "ext", "jobDefinition": "shared:3", "memory": 4096},
        defaults={"vcpus": 2, "memory": 2048, "environment": [{"name": "A", "value": "1"}],
                  "retry": {"attempts": 2}, "tags": {"team": "t"}},
    )  # fmt: skip
    ext = spec.steps[0]
    assert not ext.inline
    assert (ext.job_definition, ext.image, ext.platform) == ("shared:3", None, None)
    assert (ext.vcpus, ext.memory, ext.environment) == (None, 4096, ())
    assert ext.retry == RetrySpec(attempts=2) and ext.tags == {"team": "t"}


def test_default_job_definition_applies_only_to_steps_without_a_container() -> None:
    spec = parse(
        {"name": "uses-default"},
        {"name": "inline", "command": ["echo"], "vcpus": 1, "memory": 512},
        defaults={"jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/jd:2"},
    )
    assert spec.step("uses-default").job_definition is not None
    assert spec.step("inline").inline and spec.step("inline").image == IMAGE


def test_retry_secrets_and_fargate_are_parsed() -> None:
    step = parse(
        {"name": "a", "platform": "FARGATE", "vcpus": 0.5, "memory": 1024,
         "executionRoleArn": "arn:aws:iam::1:role/exec",
         "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/t"}],
         "retry": {"attempts": 3, "evaluateOnExit": [
             {"onExitCode": "137", "action": "RETRY"}, {"onReason": "*", "action": "EXIT"}]}},
    ).steps[0]  # fmt: skip
    assert step.platform == "FARGATE" and step.vcpus == 0.5
    assert step.secrets == (SecretRef("TOKEN", "arn:aws:ssm:us-east-1:1:parameter/t"),)
    assert step.retry == RetrySpec(
        3, (ExitCondition("RETRY", on_exit_code="137"), ExitCondition("EXIT", on_reason="*"))
    )


@pytest.mark.parametrize(
    ("raw", "path", "words"),
    [
        ({"steps": [{"name": "a", "vcpus": 1, "memory": 4}]}, "spec.steps[0].queue", "no queue"),
        ({"queue": "q", "steps": [{"name": "a", "vcpus": 1, "memory": 4}]},
         "spec.steps[0].image", "no image"),
        ({"queue": "q", "image": "i", "steps": [{"name": "a", "memory": 4}]},
         "spec.steps[0].vcpus", "required"),
        ({"queue": "q", "image": "i", "steps": [{"name": "a", "vcpus": 1.5, "memory": 4}]},
         "spec.steps[0].vcpus", "whole number"),
        ({"queue": "q", "image": "i", "steps": [{"name": "a", "vcpus": 0, "memory": 4}]},
         "spec.steps[0].vcpus", "positive"),
        ({"queue": "q", "image": "i", "steps": [{"name": "a", "vcpus": 1, "memory": 2}]},
         "spec.steps[0].memory", "between 4"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 3, "memory": 4, "platform": "FARGATE",
             "executionRoleArn": "r"}]}, "spec.steps[0].vcpus", "Fargate"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4, "platform": "FARGATE"}]},
         "spec.steps[0].executionRoleArn", "required on Fargate"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4, "timeoutSeconds": 30}]},
         "spec.steps[0].timeoutSeconds", "between 60"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4, "arrayDependency": "N_TO_N"}]},
         "spec.steps[0].arrayDependency", "arraySize"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4, "arraySize": 1}]},
         "spec.steps[0].arraySize", "between 2"),
        ({"queue": "q", "steps": [{"name": "a", "jobDefinition": "jd", "image": "i"}]},
         "spec.steps[0].image", "jobDefinition"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4,
             "environment": [{"name": "AWS_BATCH_X", "value": "1"}]}]},
         "spec.steps[0].environment[0].name", "reserved"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4, "tags": {"batchops.io/x": "1"}}]},
         "spec.steps[0].tags", "reserved"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4, "retry": {"attempts": 11}}]},
         "spec.steps[0].retry.attempts", "between 1 and 10"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4,
             "retry": {"evaluateOnExit": [{"action": "RETRY"}]}}]},
         "spec.steps[0].retry.evaluateOnExit[0]", "at least one"),
        ({"queue": "q", "image": "i", "steps": [{"name": "-a", "vcpus": 1, "memory": 4}]},
         "spec.steps[0].name", "letter or digit"),
        ({"queue": "q", "image": "i", "steps": [
            {"name": "a", "vcpus": 1, "memory": 4, "dependsOn": ["b", "b"]}, {"name": "b"}]},
         "spec.steps[0].dependsOn", "more than once"),
        ({"queue": "q", "image": "i", "steps": [{"name": "a", "vcpu": 1}]},
         "spec.steps[0].vcpu", "unknown field"),
        ({"queue": "q", "image": "i", "steps": []}, "spec.steps", "1 to 5000"),
    ],
)  # fmt: skip
def test_invalid_specs_name_the_field(raw: Mapping[str, object], path: str, words: str) -> None:
    error = spec_error(raw)
    assert error.field_path == path
    assert words in error.message


def test_tags_over_the_limit_count_the_defaults_too() -> None:
    error = spec_error(
        {
            "queue": "q",
            "image": "i",
            "defaults": {"vcpus": 1, "memory": 4, "tags": {f"d{i}": "x" for i in range(30)}},
            "steps": [{"name": "a", "tags": {f"s{i}": "x" for i in range(11)}}],
        }
    )
    assert (error.field_path, "at most 40" in error.message) == ("spec.steps[0].tags", True)


def describe_item(**fields: object) -> dict[str, object]:
    return {"jobId": "j-1", "jobName": "p-job1-r", "status": "RUNNING", **fields}


def test_observed_job_reads_every_field_of_describe_jobs() -> None:
    job = ObservedJob.from_describe(
        describe_item(
            status="FAILED",
            jobArn="arn:j",
            jobQueue="arn:q",
            jobDefinition="arn:jd:1",
            statusReason="Essential container in task exited",
            createdAt=1000,
            startedAt=5000,
            stoppedAt=9000,
            container={"exitCode": 2, "logStreamName": "s/1", "reason": "OOM"},
            attempts=[{"startedAt": 2000, "container": {"exitCode": 1}}, {"startedAt": 5000}],
            isCancelled=False,
        )
    )
    assert (job.job_id, job.job_name, job.status, job.attempts) == ("j-1", "p-job1-r", "FAILED", 2)
    assert (job.exit_code, job.log_stream, job.container_reason) == (2, "s/1", "OOM")
    assert (job.created_at, job.started_at, job.first_started_at, job.stopped_at) == (
        1000,
        5000,
        2000,
        9000,
    )
    assert (job.job_arn, job.job_queue, job.job_definition) == ("arn:j", "arn:q", "arn:jd:1")
    assert job.finished and not job.stop_requested


def test_exit_code_and_log_stream_fall_back_to_the_last_attempt() -> None:
    job = ObservedJob.from_describe(
        describe_item(
            status="FAILED",
            attempts=[{"container": {"exitCode": 1, "logStreamName": "first"}},
                      {"container": {"exitCode": 3, "logStreamName": "last"}}],
        )
    )  # fmt: skip
    assert (job.exit_code, job.log_stream, job.attempts) == (3, "last", 2)


def test_array_parent_reports_its_children() -> None:
    job = ObservedJob.from_describe(
        describe_item(arrayProperties={"size": 3, "statusSummary": {"RUNNING": 2, "FAILED": 1}})
    )
    assert job.array_size == 3
    assert job.array_status_summary == {"RUNNING": 2, "FAILED": 1}


def test_the_attempt_running_now_is_counted() -> None:
    job = ObservedJob.from_describe(
        describe_item(status="RUNNING", attempts=[{"container": {"exitCode": 1}}])
    )
    assert job.attempts == 2


def test_a_running_first_attempt_counts_as_one_and_none_ended() -> None:
    # DescribeJobs lists ended attempts only, so a first attempt RUNNING shows `attempts: []`.
    job = ObservedJob.from_describe(
        describe_item(status="RUNNING", attempts=[], container={"logStreamName": "jd/default/t1"})
    )
    assert (job.attempts, job.ended_attempts, job.log_stream) == (1, 0, "jd/default/t1")


def test_a_job_waiting_to_retry_counts_only_its_ended_attempt() -> None:
    job = ObservedJob.from_describe(
        describe_item(status="RUNNABLE", attempts=[{"container": {"exitCode": 1}}])
    )
    assert (job.attempts, job.ended_attempts, job.exit_code) == (1, 1, 1)


def test_a_job_being_terminated_is_marked() -> None:
    assert ObservedJob.from_describe(describe_item(isTerminated=True)).stop_requested


def test_garbage_from_describe_jobs_is_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        ObservedJob.from_describe(describe_item(status="EXPLODED"))
    with pytest.raises(ValueError, match="jobId"):
        ObservedJob.from_describe({"status": "RUNNING"})


def test_list_jobs_summary_and_job_definition_are_parsed() -> None:
    listed = ListedJob.from_summary(
        {"jobId": "j", "jobName": "n", "createdAt": 5, "status": "RUNNABLE"}
    )
    assert listed == ListedJob("n", "j", 5, "RUNNABLE")
    definition = ObservedJobDefinition.from_describe(
        {
            "jobDefinitionName": "jd",
            "jobDefinitionArn": "arn:jd:2",
            "revision": 2,
            "status": "INACTIVE",
            "tags": {"batchops.io/content-hash": "abc"},
        }
    )
    assert (definition.revision, definition.active) == (2, False)
    assert definition.tags == {"batchops.io/content-hash": "abc"}


def test_status_record_round_trips_the_step_entries() -> None:
    status_entry = StepStatus(
        name="job1",
        status="FAILED",
        queue="queue-72",
        job_id="j-1",
        job_name="p-job1-r",
        job_arn="arn:j",
        job_definition="arn:jd:1",
        status_reason="boom",
        attempts=2,
        exit_code=1,
        created_at=1_764_291_600_000,
        started_at=1_764_291_630_000,
        stopped_at=1_764_291_700_000,
        queue_wait_seconds=30,
        log_stream="s/1",
        array_status_summary={"FAILED": 2},
    ).to_status()
    record = RunRecord.from_status(
        {
            "runId": "r",
            "phase": "Failed",
            "specHash": "h",
            "rerunToken": "t",
            "startedAt": "2025-11-28T01:00:00Z",
            "finishedAt": "2025-11-28T01:01:40Z",
            "steps": [status_entry, {"name": "job2", "status": "WAITING", "queue": "q"}],
        }
    )
    assert (record.run_id, record.phase, record.spec_hash, record.rerun_token) == (
        "r",
        "Failed",
        "h",
        "t",
    )
    assert record.finished
    assert record.started_at == datetime(2025, 11, 28, 1, 0, tzinfo=UTC)
    assert record.job_ids == {"job1": "j-1"}
    job = record.jobs["job1"]
    assert (job.status, job.attempts, job.exit_code, job.log_stream) == ("FAILED", 2, 1, "s/1")
    assert (job.created_at, job.started_at, job.stopped_at) == (
        1_764_291_600_000,
        1_764_291_630_000,
        1_764_291_700_000,
    )
    assert job.array_status_summary == {"FAILED": 2}


def test_empty_status_is_a_record_without_a_run() -> None:
    record = RunRecord.from_status({})
    assert record.run_id is None and record.phase is None and not record.finished
