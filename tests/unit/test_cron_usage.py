"""A CronPipeline's usage: `status.lastRun.usage` and the running total `status.usage`, counted
once per run however often a pass runs, across operator restarts, pruning and retries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from batchops.model.common import format_time
from batchops.model.cron_runs import ChildRun
from batchops.model.keys import SCHEDULED_TIME_ANNOTATION
from batchops.model.observed import Phase
from batchops.plans.cron_usage import CronUsage, accumulate_usage, prunable
from batchops.plans.schedule import child_name
from batchops.plans.usage import Usage
from batchops.reconcile.common import ObjectSnapshot, Timing
from batchops.reconcile.cron import Children, CronReconciler

NOW = datetime(2026, 11, 28, 10, 0, 30, tzinfo=UTC)
TICK = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def run(name: str, phase: Phase | None, vcpu_seconds: float | None = None) -> ChildRun:
    usage = None if vcpu_seconds is None else Usage(vcpu_seconds, vcpu_seconds / 2).to_status()
    return ChildRun(name=name, phase=phase, usage=usage)


def test_a_finished_run_is_added_once_however_many_passes_see_it() -> None:
    first = accumulate_usage(CronUsage(), [run("a", "Succeeded", 100), run("b", "Running", 50)])
    again = accumulate_usage(first, [run("a", "Succeeded", 100), run("b", "Running", 60)])
    assert (again.total, again.runs) == (Usage(100, 50), 1)
    assert set(again.counted) == {"a"}


def test_a_run_whose_usage_changes_after_it_finished_adds_the_difference() -> None:
    # Its last jobs were still stopping when the run failed; they stopped later.
    counted = accumulate_usage(CronUsage(), [run("a", "Failed", 100)])
    later = accumulate_usage(counted, [run("a", "Failed", 130)])
    assert (later.total, later.runs) == (Usage(130, 65), 1)


def test_a_run_retried_keeps_its_count_while_running_and_adds_what_it_used_again() -> None:
    failed = accumulate_usage(CronUsage(), [run("a", "Failed", 100)])
    running = accumulate_usage(failed, [run("a", "Running", 120)])
    assert (running.total, running.runs, set(running.counted)) == (Usage(100, 50), 1, {"a"})
    again = accumulate_usage(running, [run("a", "Succeeded", 160)])
    assert (again.total, again.runs) == (Usage(160, 80), 1)


def test_a_pruned_run_leaves_the_list_and_its_usage_stays_in_the_total() -> None:
    counted = accumulate_usage(CronUsage(), [run("a", "Succeeded", 100), run("b", "Failed", 10)])
    after_prune = accumulate_usage(counted, [run("b", "Failed", 10), run("c", "Succeeded", 5)])
    assert (after_prune.total, after_prune.runs) == (Usage(115, 57.5), 3)
    assert set(after_prune.counted) == {"b", "c"}


def test_a_finished_run_without_usage_counts_as_a_run_of_zero() -> None:
    counted = accumulate_usage(CronUsage(), [run("invalid", "Failed")])
    assert (counted.total, counted.runs) == (Usage(), 1)


def test_the_total_reads_back_what_it_writes() -> None:
    counted = accumulate_usage(
        CronUsage(), [run("a", "Succeeded", 100), run("b", "Succeeded", 7200)]
    )
    status = counted.to_status()
    assert status["vcpuHours"] == "2.03"
    assert status["runs"] == 2
    assert [entry["name"] for entry in status["countedRuns"]] == ["a", "b"]
    assert CronUsage.from_status(status) == counted
    assert CronUsage.from_status(None) == CronUsage()


def test_only_runs_a_written_status_counted_may_be_pruned() -> None:
    counted = accumulate_usage(CronUsage(), [run("a", "Succeeded", 1)])
    assert prunable(["a", "b"], counted) == ["a"]
    assert prunable(["a"], CronUsage()) == []


# --- through the reconciler ---------------------------------------------------------------------


@dataclass
class SeenRuns(Children):
    """The runs a CronPipeline lists; deletions are recorded and take the run away."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def list(self, namespace: str, cron: str) -> list[dict[str, Any]]:
        return list(self.runs)

    def create(self, namespace: str, body: Mapping[str, Any]) -> bool:
        raise AssertionError(f"nothing is due, yet {body['metadata']['name']} was created")

    def delete(self, namespace: str, name: str) -> None:
        self.deleted.append(name)
        self.runs = [r for r in self.runs if r["metadata"]["name"] != name]


def child(hours_ago: int, phase: str, vcpu_seconds: float) -> dict[str, Any]:
    scheduled = TICK - timedelta(hours=hours_ago)
    return {
        "metadata": {
            "name": child_name("etl", scheduled),
            "annotations": {SCHEDULED_TIME_ANNOTATION: format_time(scheduled)},
        },
        "status": {
            "phase": phase,
            "finishedAt": format_time(scheduled + timedelta(minutes=1)),
            "usage": {
                "vcpuSeconds": vcpu_seconds,
                "memoryGiBSeconds": vcpu_seconds * 2,
                "vcpuHours": f"{vcpu_seconds / 3600:.2f}",
                "onDemand": {"vcpuSeconds": vcpu_seconds, "memoryGiBSeconds": vcpu_seconds * 2},
            },
        },
    }


def cron(status: Mapping[str, Any]) -> ObjectSnapshot:
    return ObjectSnapshot.of(
        {
            "metadata": {
                "name": "etl",
                "namespace": "ns",
                "uid": "u-1",
                "generation": 1,
                "creationTimestamp": format_time(TICK - timedelta(days=1)),
            },
            "spec": {
                "schedule": "0 * * * *",
                "successfulRunsHistoryLimit": 1,
                "pipelineTemplate": {
                    "spec": {
                        "queue": "q",
                        "image": "img",
                        "steps": [{"name": "a", "vcpus": 1, "memory": 512}],
                    }
                },
            },
            "status": {"lastScheduleTime": format_time(TICK), **status},
        }
    )


def reconcile(status: Mapping[str, Any], children: SeenRuns) -> dict[str, Any]:
    """One pass by a reconciler of its own: a fresh operator process each time."""
    reconciler = CronReconciler(Timing(), children, now=lambda: NOW)
    return dict(reconciler.reconcile(cron(status)).status)


def test_the_last_run_usage_and_the_total_survive_restarts_and_pruning() -> None:
    children = SeenRuns([child(2, "Succeeded", 3600), child(1, "Succeeded", 1800)])
    first = reconcile({}, children)
    assert first["lastRun"]["usage"]["vcpuSeconds"] == 1800
    assert (first["usage"]["runs"], first["usage"]["vcpuSeconds"]) == (2, 5400)
    assert first["usage"]["onDemand"]["vcpuSeconds"] == 5400
    # The older run is beyond the history limit, but the status that counts it is not written
    # yet: it stays one pass longer.
    assert children.deleted == []

    second = reconcile(first, children)  # a restarted operator reads the written status back
    assert children.deleted == [child(2, "Succeeded", 0)["metadata"]["name"]]
    third = reconcile(second, children)
    for status in (second, third):
        assert (status["usage"]["runs"], status["usage"]["vcpuSeconds"]) == (2, 5400)
        assert status["usage"]["vcpuHours"] == "1.50"
    assert [entry["name"] for entry in third["usage"]["countedRuns"]] == [
        child(1, "Succeeded", 0)["metadata"]["name"]
    ]
