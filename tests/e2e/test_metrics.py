"""The operator's Prometheus endpoint, scraped as Prometheus would while real work runs."""

from __future__ import annotations

from typing import Any

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl
from tests.e2e.builders import Samples, pipeline, scrape, step, value, wait_phase
from tests.waits import wait_for


def test_metrics_count_reconciles_aws_calls_submit_latency_status_lag_and_sweeps(
    kubectl: Kubectl, namespace: str, queue: str, operator: OperatorProcess
) -> None:
    before = scrape(operator)
    kubectl.apply(pipeline("metered", [step("a"), step("b", "a"), step("c", "a")]), namespace)
    wait_phase(kubectl, namespace, "metered", "Succeeded")

    def scraped_lag() -> Samples | None:
        # The last job's change reaches the status write and the histogram in the same pass.
        after = scrape(operator)
        seen = value(after, "batchops_job_status_lag_seconds_count", source="poll")
        return (
            after
            if seen > value(before, "batchops_job_status_lag_seconds_count", source="poll")
            else None
        )

    after = wait_for(scraped_lag, timeout=10, message="a status lag observation")

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("batchops_aws_calls_total", operation="SubmitJob", outcome="success") == 3
    assert grew("batchops_reconciles_total", kind="BatchPipeline", result="ok") >= 2
    assert grew("batchops_submit_latency_seconds_count") == 3
    assert grew("batchops_reconcile_duration_seconds_count", kind="BatchPipeline") >= 2
    # Lag runs from Batch's own timestamps; the tests poll every 0.5 s (plus one pass).
    lag_sum = grew("batchops_job_status_lag_seconds_sum", source="poll")
    lag_count = grew("batchops_job_status_lag_seconds_count", source="poll")
    assert 0 <= lag_sum / lag_count < 5
    # The run's jobs were swept while it ran (0.5 s apart in the tests).
    assert grew("batchops_job_sweep_duration_seconds_count") >= 1
    assert ("process_resident_memory_bytes", ()) in after


def test_metrics_count_throttled_attempts_that_botocore_retried(
    kubectl: Kubectl, namespace: str, queue: str, operator: OperatorProcess, emulator: Emulator
) -> None:
    before = scrape(operator)
    emulator.set_faults(operations={"SubmitJob": {"throttleRate": 0.3}}, seed=7)
    try:
        kubectl.apply(pipeline("throttled", [step(f"s{i}") for i in range(6)]), namespace)
        wait_phase(kubectl, namespace, "throttled", "Succeeded")
    finally:
        emulator.set_faults()
    after = scrape(operator)

    def grew(name: str, **labels: Any) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Every step was submitted once; the throttled attempts in between are counted apart.
    assert grew("batchops_aws_calls_total", operation="SubmitJob", outcome="success") == 6
    assert grew("batchops_aws_throttled_attempts_total", operation="SubmitJob") >= 1
