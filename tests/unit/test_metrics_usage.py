"""`batchops_usage_vcpu_seconds_total` counts a run's vCPU-seconds once, when a written status
first shows it finished; a CronPipeline's runs count under the CronPipeline's name."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from batchops.metrics import FinishedRunUsage


def counted(namespace: str, pipeline: str) -> float:
    labels = {"namespace": namespace, "pipeline": pipeline}
    return REGISTRY.get_sample_value("batchops_usage_vcpu_seconds_total", labels) or 0.0


def status(phase: str, vcpu_seconds: float, run_id: str = "r1") -> dict[str, Any]:
    return {"runId": run_id, "phase": phase, "usage": {"vcpuSeconds": vcpu_seconds}}


def test_a_run_counts_when_it_finishes_and_not_again_on_later_passes() -> None:
    runs, before = FinishedRunUsage(), counted("m1", "etl")
    runs.observe("m1", "etl", "etl", status("Running", 40), status("Running", 90))
    assert counted("m1", "etl") == before
    runs.observe("m1", "etl", "etl", status("Running", 90), status("Succeeded", 100))
    runs.observe("m1", "etl", "etl", status("Succeeded", 100), status("Succeeded", 100))
    assert counted("m1", "etl") == before + 100


def test_what_a_finished_run_adds_later_is_added_then() -> None:
    runs, before = FinishedRunUsage(), counted("m2", "etl")
    runs.observe("m2", "etl", "etl", status("Running", 10), status("Failed", 50))
    runs.observe("m2", "etl", "etl", status("Failed", 50), status("Failed", 70))
    assert counted("m2", "etl") == before + 70


def test_a_retried_run_adds_only_what_it_used_since_it_first_finished() -> None:
    runs, before = FinishedRunUsage(), counted("m3", "etl")
    runs.observe("m3", "etl", "etl", status("Running", 10), status("Failed", 50))
    runs.observe("m3", "etl", "etl", status("Failed", 50), status("Running", 60))
    runs.observe("m3", "etl", "etl", status("Running", 60), status("Succeeded", 80))
    assert counted("m3", "etl") == before + 80


def test_a_new_run_of_the_same_pipeline_counts_on_its_own() -> None:
    runs, before = FinishedRunUsage(), counted("m4", "etl")
    runs.observe("m4", "etl", "etl", status("Running", 1), status("Succeeded", 10))
    runs.observe("m4", "etl", "etl", status("Succeeded", 10), status("Running", 0, "r2"))
    runs.observe("m4", "etl", "etl", status("Running", 0, "r2"), status("Succeeded", 5, "r2"))
    assert counted("m4", "etl") == before + 15


def test_runs_of_a_cron_count_under_the_cron_name() -> None:
    runs, before = FinishedRunUsage(), counted("m5", "nightly")
    for name in ("nightly-1", "nightly-2"):
        runs.observe("m5", "nightly", name, status("Running", 0), status("Succeeded", 30))
    assert counted("m5", "nightly") == before + 60
