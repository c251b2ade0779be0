"""The CronPipeline reconciler over a fake `Children` seam: what a pass creates, skips, replaces
and prunes, and what it writes, without an API server (the e2e tests in tests/e2e/test_cron.py
cover the same loop against the real one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchops.model.common import format_time
from batchops.model.keys import SCHEDULED_TIME_ANNOTATION, TRIGGER_ANNOTATION
from batchops.plans.schedule import child_name, triggered_child_name
from batchops.reconcile.common import ObjectSnapshot, Timing
from batchops.reconcile.cron import Children, CronOutcome, CronReconciler

NOW = datetime(2026, 11, 28, 10, 0, 30, tzinfo=UTC)
"""30 s after a 10:00 tick of an hourly schedule."""
TICK = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@dataclass
class RecordingChildren(Children):
    """The runs a CronPipeline sees; records what the pass creates and deletes."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    existing: set[str] = field(default_factory=set)
    """Names whose create answers AlreadyExists."""
    created: list[Mapping[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def list(self, namespace: str, cron: str) -> list[dict[str, Any]]:
        return list(self.runs)

    def create(self, namespace: str, body: Mapping[str, Any]) -> bool:
        if body["metadata"]["name"] in self.existing:
            return False
        self.created.append(body)
        return True

    def delete(self, namespace: str, name: str) -> None:
        self.deleted.append(name)

    @property
    def created_names(self) -> Sequence[str]:
        return [body["metadata"]["name"] for body in self.created]


def child(scheduled: datetime, phase: str | None) -> dict[str, Any]:
    """A run the cron created earlier, as listed from the API server."""
    status: dict[str, Any] = {"phase": phase, "progress": "0/1"} if phase else {}
    if phase in ("Succeeded", "Failed", "Cancelled"):
        status["finishedAt"] = format_time(scheduled + timedelta(minutes=1))
    return {
        "metadata": {
            "name": child_name("etl", scheduled),
            "annotations": {SCHEDULED_TIME_ANNOTATION: format_time(scheduled)},
        },
        "status": status,
    }


def cron(
    *,
    schedule: str = "0 * * * *",
    status: Mapping[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
    **spec: Any,
) -> ObjectSnapshot:
    """A CronPipeline created at 08:30, last scheduled at 09:00 unless `status` says."""
    return ObjectSnapshot.of(
        {
            "metadata": {
                "name": "etl",
                "namespace": "ns",
                "uid": "u-1",
                "generation": 1,
                "creationTimestamp": "2026-11-28T08:30:00Z",
                "annotations": dict(annotations or {}),
            },
            "spec": {
                "schedule": schedule,
                "pipelineTemplate": {
                    "spec": {
                        "queue": "q",
                        "image": "img",
                        "steps": [{"name": "a", "vcpus": 1, "memory": 512}],
                    }
                },
                **spec,
            },
            "status": dict(
                status
                if status is not None
                else {"observedGeneration": 1, "lastScheduleTime": "2026-11-28T09:00:00Z"}
            ),
        }
    )


def reconcile(obj: ObjectSnapshot, children: RecordingChildren) -> CronOutcome:
    return CronReconciler(Timing(), children, now=lambda: NOW).reconcile(obj)


def condition(outcome: CronOutcome, kind: str) -> Mapping[str, Any]:
    return next(c for c in outcome.status["conditions"] if c["type"] == kind)


def test_a_due_time_creates_one_run_named_by_its_scheduled_time() -> None:
    children = RecordingChildren()
    outcome = reconcile(cron(), children)
    assert children.created_names == [child_name("etl", TICK)]
    body = children.created[0]
    assert body["metadata"]["annotations"][SCHEDULED_TIME_ANNOTATION] == format_time(TICK)
    assert outcome.status["lastScheduleTime"] == format_time(TICK)
    assert outcome.status["nextScheduleTime"] == "2026-11-28T11:00:00Z"
    assert [e.reason for e in outcome.recorder.events] == ["Scheduled"]
    # The next pass is due at the next tick, or at the resync interval if that is sooner.
    assert outcome.delay == pytest.approx(min(Timing().resync, 3600 - 30), abs=1)


def test_a_run_that_already_exists_is_not_created_again_nor_announced() -> None:
    children = RecordingChildren(existing={child_name("etl", TICK)})
    outcome = reconcile(cron(), children)
    assert children.created_names == []
    assert outcome.status["lastScheduleTime"] == format_time(TICK)
    assert [e.reason for e in outcome.recorder.events] == []


def test_nothing_is_created_between_ticks() -> None:
    children = RecordingChildren()
    outcome = reconcile(cron(status={"lastScheduleTime": format_time(TICK)}), children)
    assert children.created_names == []
    assert outcome.status["nextScheduleTime"] == "2026-11-28T11:00:00Z"


def test_forbid_skips_a_due_time_while_a_run_is_active() -> None:
    active = child(TICK - timedelta(hours=1), "Running")
    children = RecordingChildren(runs=[active])
    outcome = reconcile(cron(concurrencyPolicy="Forbid"), children)
    assert children.created_names == []
    assert [e.reason for e in outcome.recorder.events] == ["Skipped"]
    assert [entry["name"] for entry in outcome.status["active"]] == [active["metadata"]["name"]]
    # Skipped still counts as handled: the next pass does not try this time again.
    assert outcome.status["lastScheduleTime"] == format_time(TICK)


def test_replace_deletes_the_active_run_before_creating_the_new_one() -> None:
    active = child(TICK - timedelta(hours=1), "Running")
    children = RecordingChildren(runs=[active])
    reconcile(cron(concurrencyPolicy="Replace"), children)
    assert children.deleted == [active["metadata"]["name"]]
    assert children.created_names == [child_name("etl", TICK)]


def test_allow_runs_a_new_time_beside_an_active_run() -> None:
    children = RecordingChildren(runs=[child(TICK - timedelta(hours=1), "Running")])
    outcome = reconcile(cron(), children)
    assert children.deleted == []
    assert children.created_names == [child_name("etl", TICK)]
    assert outcome.status["activeCount"] == 2


def test_a_suspended_cron_creates_nothing_and_has_no_next_time() -> None:
    children = RecordingChildren()
    outcome = reconcile(cron(suspend=True), children)
    assert children.created_names == []
    assert outcome.status["nextScheduleTime"] is None
    assert condition(outcome, "Ready")["reason"] == "Suspended"


def test_a_trigger_value_starts_one_run_once() -> None:
    request = {TRIGGER_ANNOTATION: "2026-11-28T10:00:10Z"}
    children = RecordingChildren()
    obj = cron(annotations=request, status={"lastScheduleTime": format_time(TICK)})
    outcome = reconcile(obj, children)
    assert children.created_names == [triggered_child_name("etl", request[TRIGGER_ANNOTATION])]
    assert outcome.status["lastTrigger"] == request[TRIGGER_ANNOTATION]
    # The same value on the next pass (status now records it) starts nothing.
    again = RecordingChildren()
    reconcile(cron(annotations=request, status=outcome.status), again)
    assert again.created_names == []


def test_history_beyond_the_limits_is_pruned_oldest_first() -> None:
    finished = [child(TICK - timedelta(hours=h), "Succeeded") for h in (1, 2, 3)]
    failed = [child(TICK - timedelta(hours=h), "Failed") for h in (4, 5)]
    children = RecordingChildren(runs=finished + failed)
    limits: dict[str, Any] = {"successfulRunsHistoryLimit": 2, "failedRunsHistoryLimit": 1}
    outcome = reconcile(cron(status={"lastScheduleTime": format_time(TICK)}, **limits), children)
    # A run leaves history only once its usage is in the running total, which may take the
    # pass that first sees it finished: look twice, as the loop does.
    children.runs = [c for c in children.runs if c["metadata"]["name"] not in children.deleted]
    outcome = reconcile(cron(status=outcome.status, **limits), children)
    assert sorted(children.deleted) == sorted(
        [finished[2]["metadata"]["name"], failed[1]["metadata"]["name"]]
    )
    assert outcome.status["lastRun"]["name"] == finished[0]["metadata"]["name"]


def test_an_invalid_schedule_stalls_with_one_warning_and_creates_nothing() -> None:
    children = RecordingChildren()
    outcome = reconcile(cron(schedule="61 * * * *"), children)
    assert children.created_names == []
    stalled = condition(outcome, "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "InvalidSchedule")
    assert [e.reason for e in outcome.recorder.events] == ["InvalidSchedule"]
    # The same invalid generation, already stalled: no second event.
    again = reconcile(cron(schedule="61 * * * *", status=outcome.status), RecordingChildren())
    assert again.recorder.events == []


def test_a_template_with_a_cycle_stalls_before_any_run_exists() -> None:
    children = RecordingChildren()
    template = {
        "spec": {
            "queue": "q",
            "image": "img",
            "steps": [
                {"name": "a", "vcpus": 1, "memory": 512, "dependsOn": ["b"]},
                {"name": "b", "vcpus": 1, "memory": 512, "dependsOn": ["a"]},
            ],
        }
    }
    outcome = reconcile(cron(pipelineTemplate=template), children)
    assert children.created_names == []
    assert condition(outcome, "Stalled")["reason"] == "InvalidSpec"


def test_a_failed_last_run_stalls_the_schedule_until_a_later_run_starts() -> None:
    failed = child(TICK - timedelta(hours=1), "Failed")
    quiet = reconcile(
        cron(status={"lastScheduleTime": format_time(TICK)}), RecordingChildren(runs=[failed])
    )
    assert condition(quiet, "Stalled")["reason"] == "LastRunFailed"
    started = child(TICK, "Running")
    later = reconcile(
        cron(status={"lastScheduleTime": format_time(TICK)}),
        RecordingChildren(runs=[failed, started]),
    )
    assert condition(later, "Stalled")["status"] == "False"
