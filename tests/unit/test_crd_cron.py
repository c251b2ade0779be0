"""The CronPipeline CRD: names, printer columns, documented schema, apply-time schedule and time
zone checks, and agreement with the model and the schedule parser.

Whether the apiserver accepts it (structural schema, CEL compiling within the cost budget) is
proved by applying it to the real control plane in the e2e tests.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchops.model.cron import (
    CRON_FIELDS,
    DEFAULT_FAILED_RUNS_HISTORY_LIMIT,
    DEFAULT_SUCCESSFUL_RUNS_HISTORY_LIMIT,
    DEFAULT_TIME_ZONE,
    TEMPLATE_FIELDS,
    TEMPLATE_METADATA_FIELDS,
    ConcurrencyPolicy,
    parse_cron_spec,
)
from batchops.plans.cron_expr import MACROS, ScheduleError, parse_schedule
from batchops.plans.schedule import child_name

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "crds" / "cronpipelines.yaml"
EXAMPLE = ROOT / "manifests" / "examples" / "04-walkthrough-cron.yaml"

VALID_SCHEDULES = [
    "0 2 * * *",
    "* * * * *",
    "*/15 * * * *",
    "1-30/5 0,12 * * *",
    "0 9 * JAN-MAR,dec MON-FRI",
    "0 0 13 * FRI",
    "0 0 ? * 7",
    "50/5 * * * *",
    "  0 2 * * *  ",
    "0  2 * *   *",
    "0 0 29 2 *",
    *MACROS,
    "@every 30s",
    "@every 5m",
    "@every 1h30m",
    "@every 1.5h",
    "@every 2000ms",
    "@every 999999us1000ns",
    "@every 999999µs1000ns",
]
BROKEN_SCHEDULES = [
    "",
    "daily",
    "0 2 * *",
    "0 2 * * * *",
    "0 2 * * * 2026",
    "@reboot",
    "@DAILY",
    "@daily 5",
    "@every",
    "@every 1d",
    "@every 10",
    "@every -5m",
    "@every 1h 30m",
    "0 2 * * MON;",
    "0 2 * * $(reboot)",
    "TZ=UTC 0 2 * * *",
]


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CRD.read_text())
    return document


def version(crd: Mapping[str, Any]) -> dict[str, Any]:
    versions: list[dict[str, Any]] = crd["spec"]["versions"]
    assert [v["name"] for v in versions] == ["v1alpha1"]
    return versions[0]


def schema(crd: Mapping[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = version(crd)["schema"]["openAPIV3Schema"]
    return root


def spec_properties(crd: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = schema(crd)["properties"]["spec"]["properties"]
    return properties


def properties_of(node: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every property below `node`, with its path; `metadata` is Kubernetes' own."""
    for name, child in node.get("properties", {}).items():
        child_path = f"{path}.{name}"
        if child_path == ".metadata":
            continue
        yield child_path, child
        yield from properties_of(child, child_path)
    if "items" in node:
        yield from properties_of(node["items"], f"{path}[]")
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        yield f"{path}{{}}", extra
        yield from properties_of(extra, f"{path}{{}}")


def cel_regexes(rule: str) -> list[str]:
    """The string literals of a CEL rule (the schedule rule concatenates its regex from them)."""
    return re.findall(r'"([^"]*)"', rule)


@pytest.fixture(scope="module")
def schedule_regex(crd: dict[str, Any]) -> re.Pattern[str]:
    rules = spec_properties(crd)["schedule"]["x-kubernetes-validations"]
    assert len(rules) == 1 and rules[0]["rule"].startswith("self.matches(")
    return re.compile("".join(cel_regexes(rules[0]["rule"])))


@pytest.fixture(scope="module")
def time_zone_regex(crd: dict[str, Any]) -> re.Pattern[str]:
    rule = spec_properties(crd)["timeZone"]["x-kubernetes-validations"][0]["rule"]
    return re.compile(cel_regexes(rule)[0])


def test_kind_names_scope_and_category(crd: dict[str, Any]) -> None:
    assert crd["metadata"]["name"] == "cronpipelines.batchops.io"
    assert crd["spec"]["group"] == "batchops.io"
    assert crd["spec"]["scope"] == "Namespaced"
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["singular"]) == (
        "CronPipeline",
        "cronpipelines",
        "cronpipeline",
    )
    assert names["shortNames"] == ["cpl"]
    assert names["categories"] == ["batchops"]
    assert version(crd)["subresources"] == {"status": {}}


def test_printer_columns_show_schedule_activity_and_last_result(crd: dict[str, Any]) -> None:
    columns = [
        (c["name"].upper(), c["jsonPath"], c["type"], c.get("priority", 0))
        for c in version(crd)["additionalPrinterColumns"]
    ]
    assert columns == [
        ("SCHEDULE", ".spec.schedule", "string", 0),
        ("TIMEZONE", ".spec.timeZone", "string", 0),
        ("SUSPEND", ".spec.suspend", "boolean", 0),
        ("ACTIVE", ".status.activeCount", "integer", 0),
        ("LAST-SCHEDULE", ".status.lastScheduleTime", "date", 0),
        ("LAST-RESULT", ".status.lastRun.phase", "string", 0),
        ("AGE", ".metadata.creationTimestamp", "date", 0),
    ]


def test_every_schema_property_has_a_description(crd: dict[str, Any]) -> None:
    undocumented = [
        path for path, node in properties_of(schema(crd), "") if not node.get("description")
    ]
    assert undocumented == []


def test_every_schema_node_has_a_type(crd: dict[str, Any]) -> None:
    untyped = [path for path, node in properties_of(schema(crd), "") if "type" not in node]
    assert untyped == []


def test_spec_fields_match_the_model(crd: dict[str, Any]) -> None:
    spec = spec_properties(crd)
    assert set(spec) == CRON_FIELDS
    template = spec["pipelineTemplate"]
    assert set(template["properties"]) == TEMPLATE_FIELDS
    assert set(template["properties"]["metadata"]["properties"]) == TEMPLATE_METADATA_FIELDS
    assert schema(crd)["properties"]["spec"]["required"] == ["schedule", "pipelineTemplate"]


def test_template_spec_has_the_batchpipeline_spec_schema(crd: dict[str, Any]) -> None:
    template = spec_properties(crd)["pipelineTemplate"]
    assert template["required"] == ["spec"]
    assert template["properties"]["spec"]["type"] == "object"
    assert "steps" in template["properties"]["spec"]["properties"]
    assert template["properties"]["spec"].get("x-kubernetes-validations")


def test_defaults_match_the_model(crd: dict[str, Any]) -> None:
    spec = spec_properties(crd)
    assert spec["timeZone"]["default"] == DEFAULT_TIME_ZONE
    assert spec["concurrencyPolicy"]["default"] == ConcurrencyPolicy.ALLOW
    assert spec["concurrencyPolicy"]["enum"] == [p.value for p in ConcurrencyPolicy]
    assert spec["suspend"]["default"] is False
    assert spec["successfulRunsHistoryLimit"]["default"] == DEFAULT_SUCCESSFUL_RUNS_HISTORY_LIMIT
    assert spec["failedRunsHistoryLimit"]["default"] == DEFAULT_FAILED_RUNS_HISTORY_LIMIT
    assert spec["startingDeadlineSeconds"]["minimum"] == 1
    assert spec["schedule"]["maxLength"] == 256


@pytest.mark.parametrize("text", VALID_SCHEDULES)
def test_schedule_rule_accepts_every_schedule_the_parser_accepts(
    schedule_regex: re.Pattern[str], text: str
) -> None:
    parse_schedule(text)
    assert schedule_regex.match(text), text


@pytest.mark.parametrize("text", BROKEN_SCHEDULES)
def test_schedule_rule_rejects_broken_schedules(schedule_regex: re.Pattern[str], text: str) -> None:
    assert not schedule_regex.match(text), text
    with pytest.raises(ScheduleError):
        parse_schedule(text)


def test_schedule_rule_message_shows_the_three_forms(crd: dict[str, Any]) -> None:
    message = spec_properties(crd)["schedule"]["x-kubernetes-validations"][0]["message"]
    assert "5 cron fields" in message and "@daily" in message and "@every" in message


def test_time_zone_rule_accepts_every_iana_name(time_zone_regex: re.Pattern[str]) -> None:
    names = zoneinfo.available_timezones()
    assert {"Asia/Seoul", "America/New_York", "Etc/GMT+5", "America/Port-au-Prince"} <= names
    rejected = sorted(name for name in names if not time_zone_regex.match(name))
    assert rejected == []


@pytest.mark.parametrize(
    "name", ["", "Asia/", "Asia//Seoul", "/etc/passwd", "../UTC", "-UTC", "Asia Seoul"]
)
def test_time_zone_rule_rejects_names_that_are_not_zone_names(
    time_zone_regex: re.Pattern[str], name: str
) -> None:
    assert not time_zone_regex.match(name)


def test_time_zone_rule_rejects_the_machine_local_zone(crd: dict[str, Any]) -> None:
    rule = spec_properties(crd)["timeZone"]["x-kubernetes-validations"][0]["rule"]
    assert '"Local"' in rule and '"localtime"' in rule


def test_names_are_limited_so_child_names_need_no_cut(crd: dict[str, Any]) -> None:
    rules = schema(crd)["x-kubernetes-validations"]
    assert [r["rule"] for r in rules] == ["self.metadata.name.size() <= 52"]
    longest = "x" * 52
    # The last 10-digit unix time, in 2286.
    latest = datetime(2286, 11, 20, 17, 46, 39, tzinfo=UTC)
    assert child_name(longest, latest) == f"{longest}-9999999999"


def test_status_has_the_cronjob_fields_and_the_last_run(crd: dict[str, Any]) -> None:
    status = schema(crd)["properties"]["status"]["properties"]
    assert set(status) == {
        "lastScheduleTime",
        "nextScheduleTime",
        "lastSuccessfulTime",
        "active",
        "activeCount",
        "lastRun",
        "usage",
        "lastTrigger",
        "observedGeneration",
        "conditions",
    }
    assert set(status["active"]["items"]["properties"]) == {"name", "scheduledTime"}
    last_run = status["lastRun"]["properties"]
    assert set(last_run) == {
        "name",
        "phase",
        "progress",
        "message",
        "startedAt",
        "finishedAt",
        "steps",
        "usage",
    }
    assert set(last_run["steps"]["items"]["properties"]) == {
        "name",
        "status",
        "jobId",
        "statusReason",
        "exitCode",
        "startedAt",
        "stoppedAt",
        "queueWaitSeconds",
    }
    assert status["conditions"]["x-kubernetes-list-type"] == "map"
    assert status["conditions"]["x-kubernetes-list-map-keys"] == ["type"]


def test_status_fields_a_merge_patch_must_clear_are_nullable(crd: dict[str, Any]) -> None:
    status = schema(crd)["properties"]["status"]["properties"]
    last_run = status["lastRun"]
    nullable = [key for key, node in last_run["properties"].items() if node.get("nullable")]
    assert sorted(nullable) == ["finishedAt", "message", "phase", "progress", "startedAt", "usage"]
    assert last_run["nullable"] is True
    for key in ("lastScheduleTime", "nextScheduleTime", "lastSuccessfulTime"):
        assert status[key]["nullable"] is True


def test_walkthrough_example_only_uses_fields_the_crd_defines(
    crd: dict[str, Any], schedule_regex: re.Pattern[str], time_zone_regex: re.Pattern[str]
) -> None:
    example = yaml.safe_load(EXAMPLE.read_text())
    assert (example["apiVersion"], example["kind"]) == ("batchops.io/v1alpha1", "CronPipeline")
    assert len(example["metadata"]["name"]) <= 52

    def check(value: Any, node: Mapping[str, Any], path: str) -> None:
        if node.get("x-kubernetes-preserve-unknown-fields"):
            return
        if isinstance(value, dict) and "properties" in node:
            for key, child in value.items():
                assert key in node["properties"], f"{path}.{key} is not in the CRD"
                check(child, node["properties"][key], f"{path}.{key}")

    check(example["spec"], schema(crd)["properties"]["spec"], "spec")
    assert schedule_regex.match(example["spec"]["schedule"])
    assert time_zone_regex.match(example["spec"]["timeZone"])
    spec = parse_cron_spec(example["spec"])
    assert (spec.schedule, spec.time_zone.key) == ("0 2 * * *", "Asia/Seoul")
