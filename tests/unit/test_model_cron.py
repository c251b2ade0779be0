"""Parsing a CronPipeline spec into CronSpec."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from batchops.model.common import SpecError
from batchops.model.cron import ConcurrencyPolicy, CronSpec, parse_cron_spec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.cron_expr import CronSchedule, parse_schedule

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "manifests" / "examples" / "04-walkthrough-cron.yaml"
)
TEMPLATE_SPEC = {"queue": "q", "image": "i", "steps": [{"name": "a", "vcpus": 1, "memory": 4}]}


def minimal(**fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"schedule": "@hourly", "pipelineTemplate": {"spec": TEMPLATE_SPEC}}
    spec.update(fields)
    return spec


def spec_error(raw: dict[str, Any]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_cron_spec(raw)
    return caught.value


def test_walkthrough_example_parses_with_its_template_valid_as_a_pipeline() -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    spec = parse_cron_spec(document["spec"])
    assert spec.schedule == "0 2 * * *"
    assert spec.time_zone == ZoneInfo("Asia/Seoul")
    assert spec.concurrency_policy is ConcurrencyPolicy.FORBID
    assert isinstance(parse_schedule(spec.schedule), CronSchedule)
    pipeline = parse_pipeline_spec(spec.template.child_spec())
    assert [(s.name, s.queue, s.vcpus, s.memory, s.command) for s in pipeline.steps] == [
        ("job1", "queue-72", 72, 102400, ("python", "src/run1.py")),
        ("job2", "queue-simple", 1, 1024, ("python", "src/run2.py")),
        ("job3", "queue-72", 72, 102400, ("python", "src/run3.py")),
    ]
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch_image:latest"
    assert {s.image for s in pipeline.steps} == {image}


def test_defaults_follow_cronjob() -> None:
    spec = parse_cron_spec(minimal())
    assert spec == CronSpec(
        schedule="@hourly",
        template=spec.template,
        time_zone=ZoneInfo("UTC"),
        concurrency_policy=ConcurrencyPolicy.ALLOW,
        starting_deadline_seconds=None,
        suspend=False,
        successful_runs_history_limit=3,
        failed_runs_history_limit=1,
    )
    assert spec.template.labels == {} and spec.template.annotations == {}


def test_every_field_is_read() -> None:
    spec = parse_cron_spec(
        minimal(
            schedule="*/5 * * * *",
            timeZone="Europe/Berlin",
            concurrencyPolicy="Replace",
            startingDeadlineSeconds=300,
            suspend=True,
            successfulRunsHistoryLimit=0,
            failedRunsHistoryLimit=5,
            pipelineTemplate={
                "metadata": {"labels": {"team": "etl"}, "annotations": {"note": "nightly run"}},
                "spec": TEMPLATE_SPEC,
            },
        )
    )
    assert spec.time_zone.key == "Europe/Berlin"
    assert spec.concurrency_policy is ConcurrencyPolicy.REPLACE
    assert (spec.starting_deadline_seconds, spec.suspend) == (300, True)
    assert (spec.successful_runs_history_limit, spec.failed_runs_history_limit) == (0, 5)
    assert dict(spec.template.labels) == {"team": "etl"}
    assert dict(spec.template.annotations) == {"note": "nightly run"}


def test_the_template_spec_is_a_private_copy_and_each_child_gets_a_fresh_one() -> None:
    raw = minimal()
    spec = parse_cron_spec(raw)
    raw["pipelineTemplate"]["spec"]["steps"][0]["name"] = "changed"
    first = spec.template.child_spec()
    steps = first["steps"]
    assert steps == [{"name": "a", "vcpus": 1, "memory": 4}]
    assert isinstance(steps, list)
    steps.append({"name": "b"})
    assert spec.template.child_spec()["steps"] == [{"name": "a", "vcpus": 1, "memory": 4}]
    with pytest.raises(TypeError):
        spec.template.spec["queue"] = "other"  # type: ignore[index]


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        ({"pipelineTemplate": {"spec": TEMPLATE_SPEC}}, "spec.schedule", "is required"),
        (minimal(schedule="  "), "spec.schedule", "must be 1 to 256 characters"),
        (minimal(schedule="* " * 200), "spec.schedule", "must be 1 to 256 characters"),
        (minimal(schedule=5), "spec.schedule", "must be a string"),
        (minimal(timeZone="Mars/Olympus"), "spec.timeZone", "unknown time zone 'Mars/Olympus'"),
        (minimal(timeZone="../../etc/passwd"), "spec.timeZone", "unknown time zone"),
        (minimal(timeZone="Local"), "spec.timeZone", "'Local' is not allowed"),
        (minimal(concurrencyPolicy="Sometimes"), "spec.concurrencyPolicy", "must be one of"),
        (minimal(startingDeadlineSeconds=0), "spec.startingDeadlineSeconds", "at least 1"),
        (minimal(suspend="yes"), "spec.suspend", "must be a boolean"),
        (
            minimal(successfulRunsHistoryLimit=-1),
            "spec.successfulRunsHistoryLimit",
            "at least 0",
        ),
        (minimal(failedRunsHistoryLimit=1.5), "spec.failedRunsHistoryLimit", "an integer"),
        (minimal(scheduel="@daily"), "spec.scheduel", "unknown field"),
        ({"schedule": "@daily"}, "spec.pipelineTemplate", "is required"),
        (minimal(pipelineTemplate={}), "spec.pipelineTemplate.spec", "is required"),
        (minimal(pipelineTemplate={"spec": []}), "spec.pipelineTemplate.spec", "is required"),
        (
            minimal(pipelineTemplate={"spec": TEMPLATE_SPEC, "extra": 1}),
            "spec.pipelineTemplate.extra",
            "unknown field",
        ),
        (
            minimal(pipelineTemplate={"spec": TEMPLATE_SPEC, "metadata": {"name": "x"}}),
            "spec.pipelineTemplate.metadata.name",
            "unknown field",
        ),
        (
            minimal(pipelineTemplate={"spec": TEMPLATE_SPEC, "metadata": {"labels": {"a": 1}}}),
            "spec.pipelineTemplate.metadata.labels",
            "map of strings",
        ),
        (
            minimal(pipelineTemplate={"spec": TEMPLATE_SPEC, "metadata": {"labels": {"a b": "x"}}}),
            "spec.pipelineTemplate.metadata.labels",
            "'a b' is not a valid label key",
        ),
        (
            minimal(pipelineTemplate={"spec": TEMPLATE_SPEC, "metadata": {"labels": {"a": "-x"}}}),
            "spec.pipelineTemplate.metadata.labels",
            "value of 'a' is not a valid label value",
        ),
    ],
)
def test_invalid_specs_name_the_field(raw: dict[str, Any], path: str, fragment: str) -> None:
    error = spec_error(raw)
    assert error.field_path == path
    assert fragment in error.message


def test_valid_label_keys_with_prefixes_and_empty_values_are_accepted() -> None:
    labels = {"app.kubernetes.io/part-of": "walkthrough", "example.com/empty": "", "x": "a.b_c-d"}
    spec = parse_cron_spec(
        minimal(pipelineTemplate={"spec": TEMPLATE_SPEC, "metadata": {"labels": labels}})
    )
    assert dict(spec.template.labels) == labels


def test_the_schedule_text_is_kept_as_written_for_the_schedule_parser() -> None:
    assert parse_cron_spec(minimal(schedule="@every 1h30m")).schedule == "@every 1h30m"
