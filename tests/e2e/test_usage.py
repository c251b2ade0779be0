"""What runs used, through the real API server and the emulator: a CronPipeline's last-run usage
and running total, the usage counter on /metrics, and `batchops usage` over live objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, batchops
from tests.e2e.builders import pipeline, pipeline_status, scrape, step, value, wait_phase
from tests.e2e.test_cron import cron, cron_status, runs_of
from tests.waits import wait_for


@pytest.fixture
def jobs_run_a_second(emulator: Emulator) -> None:
    """Every job runs long enough to reserve a measurable number of vCPU-seconds (20 emulated
    seconds, one real second at the tests' emulator speed)."""
    emulator.set_scenario(rules=[{"jobName": "*", "attempt": None, "durationSeconds": 20}])


def trigger(kubectl: Kubectl, namespace: str, name: str, value: str) -> None:
    kubectl.run(
        "annotate", "--overwrite", f"cpl/{name}", "-n", namespace, f"batchops.io/trigger={value}"
    )


def finished_runs(kubectl: Kubectl, namespace: str, name: str, count: int) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        runs = runs_of(kubectl, namespace, name)
        finished = [r for r in runs if (r.get("status") or {}).get("phase") == "Succeeded"]
        return finished if len(finished) >= count else None

    return wait_for(done, timeout=60, message=f"{count} run(s) of {name} to succeed")


def run_vcpu_seconds(run: dict[str, Any]) -> float:
    return float(run["status"]["usage"]["vcpuSeconds"])


def test_a_finished_cron_run_sets_last_run_usage_the_total_and_the_counter(
    kubectl: Kubectl,
    namespace: str,
    queue: str,
    operator: OperatorProcess,
    batch: Any,
    jobs_run_a_second: None,
) -> None:
    before = scrape(operator)
    kubectl.apply(cron("metered", "@every 1h", [step("a"), step("b", "a")]), namespace)
    trigger(kubectl, namespace, "metered", "1")
    (run,) = finished_runs(kubectl, namespace, "metered", 1)
    used = run_vcpu_seconds(run)
    # One vCPU per step times the run time Batch itself reports for each job.
    jobs = batch.describe_jobs(jobs=[s["jobId"] for s in run["status"]["steps"]])["jobs"]
    assert used == pytest.approx(
        sum(j["stoppedAt"] - j["startedAt"] for j in jobs) / 1000, abs=0.15
    )
    assert used > 1
    # The queue's only compute environment is EC2: all of it ran on demand.
    assert run["status"]["usage"]["onDemand"]["vcpuSeconds"] == used

    def counted(runs: int) -> dict[str, Any] | None:
        status = cron_status(kubectl, namespace, "metered")
        total = status.get("usage") or {}
        return status if total.get("runs") == runs and status.get("lastRun") else None

    status = wait_for(lambda: counted(1), message="the run in the cron's usage")
    assert status["lastRun"]["usage"]["vcpuSeconds"] == used
    assert status["usage"]["vcpuSeconds"] == used
    assert [entry["name"] for entry in status["usage"]["countedRuns"]] == [run["metadata"]["name"]]

    def scraped() -> float | None:
        grown = value(
            scrape(operator),
            "batchops_usage_vcpu_seconds_total",
            namespace=namespace,
            pipeline="metered",
        ) - value(
            before, "batchops_usage_vcpu_seconds_total", namespace=namespace, pipeline="metered"
        )
        return grown or None

    assert wait_for(scraped, timeout=10, message="the usage counter") == pytest.approx(used)

    # A second run adds to the total; the first is not counted again.
    trigger(kubectl, namespace, "metered", "2")
    runs = finished_runs(kubectl, namespace, "metered", 2)
    both = sum(run_vcpu_seconds(r) for r in runs)
    status = wait_for(lambda: counted(2), message="the second run in the cron's usage")
    assert status["usage"]["vcpuSeconds"] == pytest.approx(both)
    assert wait_for(
        lambda: (grown := scraped()) is not None and grown > used and grown,
        timeout=10,
        message="the counter to take the second run",
    ) == pytest.approx(both)


def test_usage_command_reports_each_pipeline_and_cron_from_live_status(
    kubectl: Kubectl,
    namespace: str,
    queue: str,
    cli_env: dict[str, str],
    jobs_run_a_second: None,
    tmp_path: Path,
) -> None:
    kubectl.apply(pipeline("adhoc", [step("only")]), namespace)
    kubectl.apply(cron("nightly", "@every 1h", [step("a")]), namespace)
    trigger(kubectl, namespace, "nightly", "1")
    trigger(kubectl, namespace, "nightly", "2")
    runs = finished_runs(kubectl, namespace, "nightly", 2)
    adhoc = wait_phase(kubectl, namespace, "adhoc", "Succeeded")

    shown = batchops("usage", "-n", namespace, "-o", "json", env=cli_env)
    assert shown.returncode == 0, shown.stderr
    rows = {row["name"]: row for row in json.loads(shown.stdout)["pipelines"]}
    assert set(rows) == {"adhoc", "nightly"}
    nightly = rows["nightly"]
    assert (nightly["kind"], nightly["runs"], nightly["succeeded"]) == ("CronPipeline", 2, 2)
    assert nightly["vcpuHours"] == pytest.approx(
        sum(run_vcpu_seconds(r) for r in runs) / 3600, abs=1e-6
    )
    assert nightly["onDemandVcpuHours"] == pytest.approx(nightly["vcpuHours"])
    assert (rows["adhoc"]["kind"], rows["adhoc"]["runs"]) == ("BatchPipeline", 1)
    assert rows["adhoc"]["vcpuHours"] == pytest.approx(
        pipeline_status(kubectl, namespace, "adhoc")["usage"]["vcpuSeconds"] / 3600, abs=1e-6
    )
    assert adhoc["usage"]["vcpuSeconds"] > 0

    prices = tmp_path / "prices.yaml"
    prices.write_text("currency: USD\nvcpuHour: 3600\nmemoryGiBHour: 0\n")
    priced = batchops(
        "usage", "-A", "--since", "1d", "--prices", str(prices), "-o", "json", env=cli_env
    )
    assert priced.returncode == 0, priced.stderr
    report = json.loads(priced.stdout)
    mine = {row["name"]: row for row in report["pipelines"] if row["namespace"] == namespace}
    # At 3600 a vCPU-hour, a vCPU-second costs 1.
    assert mine["nightly"]["cost"] == pytest.approx(sum(run_vcpu_seconds(r) for r in runs))
    assert sum(d["runs"] for d in report["days"] if d["namespace"] == namespace) == 3

    table = batchops("usage", "-n", namespace, env=cli_env)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:3] == ["NAME", "KIND", "RUNS"]
    assert any(
        line.split()[:3] == ["nightly", "CronPipeline", "2"] for line in table.stdout.splitlines()
    )
