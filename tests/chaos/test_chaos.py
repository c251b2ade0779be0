"""Chaos (issue #9): under a steady load of pipelines, SIGKILL the operator again and again,
restart the API server, throttle and fail Batch calls, take the emulator away; then every
step has exactly one Batch job, every run ends in the phase its scenario dictates, and the
infrastructure converges to its spec.

`make test` runs the small plan; `make chaos` (BATCHOPS_CHAOS=full) the full one.
BATCHOPS_CHAOS_SEED=<seed> replays a run's timeline; the seed is printed first.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from batchops.local.cluster import LocalCluster
from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from batchops.plans.runs import job_name
from tests.chaos import workload
from tests.chaos.scenario import (
    ChaosDriver,
    ChaosPlan,
    ChaosStack,
    ChaosTally,
    plan_from_env,
    seed_from_env,
    tally_as_dict,
)
from tests.conftest import REPO_ROOT, Kubectl, wait_condition
from tests.e2e.builders import jobs_named
from tests.waits import wait_for

# Emulated delays run 20 times faster than real time; job durations are scaled to match.
EMULATOR_SPEED = 20.0
FINAL_PHASES = ("Succeeded", "Failed", "Cancelled")
RESULTS = REPO_ROOT / "bench" / "results"
# How kopf reports a handler or daemon that raised something other than its own errors.
DAEMON_DIED = "failed with an exception and will try again"


def test_every_run_ends_as_scripted_with_one_batch_job_per_step_under_chaos(
    chaos_cluster: LocalCluster,
    chaos_kubectl: Kubectl,
    chaos_namespace: str,
    chaos_operator: OperatorProcess,
    chaos_emulator: Emulator,
    batch: Any,
) -> None:
    plan, seed = plan_from_env(), seed_from_env()
    print(f"\nchaos plan {plan.name}, seed {seed} (replay with BATCHOPS_CHAOS_SEED={seed})")
    kubectl, namespace = chaos_kubectl, chaos_namespace
    stack = ChaosStack(chaos_cluster, kubectl, namespace, chaos_operator, chaos_emulator)
    driver = ChaosDriver(plan, seed, stack)
    chaos_emulator.set_speed(EMULATOR_SPEED)
    chaos_emulator.set_scenario(
        rules=workload.job_rules(driver.cases, plan.job_seconds * EMULATOR_SPEED)
    )
    old_replaced_arn = _start_infrastructure(kubectl, namespace)
    kubectl.apply(workload.cron_pipeline(), namespace)

    began = time.monotonic()
    try:
        tally = driver.run()
    finally:
        driver.restore()
        print("chaos done:", json.dumps(tally_as_dict(driver.tally)))
    pipelines = _wait_until_every_run_ends(kubectl, namespace, driver, plan)
    converged = round(time.monotonic() - began - tally.chaos_seconds, 1)
    jobs = {
        p["metadata"]["name"]: jobs_named(batch, f"{p['metadata']['name']}-") for p in pipelines
    }
    _report(plan, seed, tally, pipelines, jobs, chaos_emulator, chaos_operator, converged)

    expected = {case.name: case.expected_phase for case in driver.all_cases}
    cron_runs = [p for p in pipelines if _cron_of(p) == workload.CRON_NAME]
    expected.update({p["metadata"]["name"]: "Succeeded" for p in cron_runs})
    phases = {p["metadata"]["name"]: p["status"]["phase"] for p in pipelines}
    wrong = {name: (phases.get(name), want) for name, want in expected.items()}
    wrong = {name: pair for name, pair in wrong.items() if pair[0] != pair[1]}
    assert not wrong, f"seed {seed}: runs not in their scripted phase (got, want): {wrong}"
    assert set(phases) == set(expected), f"seed {seed}: unexpected pipelines {set(phases)}"

    _assert_one_job_per_step(pipelines, jobs, seed)
    _assert_retries_retried(pipelines, driver, seed)
    _assert_cron_ran_once_per_scheduled_time(cron_runs, plan, seed)
    _assert_infrastructure_converged(kubectl, namespace, batch, old_replaced_arn)
    assert not tally.unplanned_exits, (
        f"seed {seed}: the operator exited without being killed:\n"
        + "\n---\n".join(tally.unplanned_exits)
    )
    _assert_operator_recovered_from_apiserver_restarts(tally, chaos_operator, seed)


# --- setting up ----------------------------------------------------------------------------------


def _start_infrastructure(kubectl: Kubectl, namespace: str) -> str:
    """Both compute environments and queues, Ready; the ARN of the CE that will be replaced."""
    kubectl.apply(workload.scaled_compute_environment(workload.MAX_VCPUS_BEFORE), namespace)
    kubectl.apply(workload.replaced_compute_environment(workload.INSTANCE_TYPES_BEFORE), namespace)
    kubectl.apply(workload.job_queue(workload.SCALED_QUEUE, workload.SCALED_CE), namespace)
    kubectl.apply(workload.job_queue(workload.REPLACED_QUEUE, workload.REPLACED_CE), namespace)
    for queue in (workload.SCALED_QUEUE, workload.REPLACED_QUEUE):
        wait_condition(kubectl, f"bjq/{queue}", namespace, "Ready", timeout=90)
    return str(_status(kubectl, namespace, f"bce/{workload.REPLACED_CE}")["arn"])


# --- waiting for the end ------------------------------------------------------------------------


def _wait_until_every_run_ends(
    kubectl: Kubectl, namespace: str, driver: ChaosDriver, plan: ChaosPlan
) -> list[dict[str, Any]]:
    """Every BatchPipeline in the namespace, once all have a final phase; none applied is lost."""
    applied = {case.name for case in driver.all_cases}

    def all_final() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = kubectl.get_json("bpl", "-n", namespace)["items"]
        names = {item["metadata"]["name"] for item in items}
        final = all((item.get("status") or {}).get("phase") in FINAL_PHASES for item in items)
        return items if final and applied <= names else None

    try:
        return wait_for(all_final, timeout=plan.converge_seconds, interval=1.0, message="runs")
    except AssertionError:
        items = kubectl.get_json("bpl", "-n", namespace)["items"]
        stuck = {
            item["metadata"]["name"]: (item.get("status") or {}).get("message")
            for item in items
            if (item.get("status") or {}).get("phase") not in FINAL_PHASES
        }
        lost = applied - {item["metadata"]["name"] for item in items}
        raise AssertionError(
            f"seed {driver.seed}: runs stuck after {plan.converge_seconds}s: {stuck}; lost: {lost}"
        ) from None


# --- the assertions -----------------------------------------------------------------------------


def _assert_one_job_per_step(
    pipelines: list[dict[str, Any]], jobs: dict[str, list[dict[str, Any]]], seed: int
) -> None:
    """Each step's job carries its deterministic name, exists exactly once in Batch, and is the
    job the status records; a Succeeded run has a job for every step."""
    problems: list[str] = []
    for pipeline in pipelines:
        name, status = pipeline["metadata"]["name"], pipeline["status"]
        in_aws = jobs[name]
        per_name = Counter(job["jobName"] for job in in_aws)
        duplicates = {job: count for job, count in per_name.items() if count > 1}
        if duplicates:
            problems.append(f"{name}: duplicate jobs {duplicates}")
        recorded = {s["name"]: s for s in status.get("steps", []) if s.get("jobId")}
        for step_name, entry in recorded.items():
            if entry.get("jobName") != job_name(name, step_name, status["runId"]):
                problems.append(f"{name}/{step_name}: job name {entry.get('jobName')}")
        spec_steps = {s["name"] for s in pipeline["spec"]["steps"]}
        if status["phase"] == "Succeeded" and set(recorded) != spec_steps:
            problems.append(f"{name}: steps without a job {sorted(spec_steps - set(recorded))}")
        recorded_ids = {entry["jobId"] for entry in recorded.values()}
        aws_ids = {job["jobId"] for job in in_aws}
        if recorded_ids != aws_ids:
            problems.append(
                f"{name}: status records {sorted(recorded_ids - aws_ids)} not in Batch, "
                f"Batch has {sorted(aws_ids - recorded_ids)} not in status"
            )
    assert not problems, f"seed {seed}: exactly-once broken:\n" + "\n".join(problems)


def _assert_retries_retried(
    pipelines: list[dict[str, Any]], driver: ChaosDriver, seed: int
) -> None:
    by_name = {p["metadata"]["name"]: p for p in pipelines}
    for case in driver.cases:
        if case.shape == "retry":
            flaky = _step_status(by_name[case.name], "flaky")
            assert flaky.get("attempts") == 2, f"seed {seed}: {case.name} flaky: {flaky}"
        if case.shape == "fail-fast":
            bad = _step_status(by_name[case.name], "bad")
            assert bad.get("exitCode") == 3, f"seed {seed}: {case.name} bad: {bad}"


def _assert_cron_ran_once_per_scheduled_time(
    runs: list[dict[str, Any]], plan: ChaosPlan, seed: int
) -> None:
    times = Counter(run["metadata"]["annotations"]["batchops.io/scheduled-time"] for run in runs)
    assert len(runs) >= plan.min_cron_runs, f"seed {seed}: only {len(runs)} cron runs"
    assert max(times.values()) == 1, f"seed {seed}: two runs for one scheduled time: {times}"


def _assert_infrastructure_converged(
    kubectl: Kubectl, namespace: str, batch: Any, old_replaced_arn: str
) -> None:
    """Ready everywhere; AWS holds the spec's values; the replacement left exactly one CE."""
    for resource in (
        f"bce/{workload.SCALED_CE}",
        f"bce/{workload.REPLACED_CE}",
        f"bjq/{workload.SCALED_QUEUE}",
        f"bjq/{workload.REPLACED_QUEUE}",
    ):
        wait_condition(kubectl, resource, namespace, "Ready", timeout=120)
    scaled = _status(kubectl, namespace, f"bce/{workload.SCALED_CE}")
    replaced = _status(kubectl, namespace, f"bce/{workload.REPLACED_CE}")
    assert (replaced.get("replacement") or {}).get("phase") == "Completed", replaced
    assert replaced["arn"] != old_replaced_arn

    def settled() -> dict[str, dict[str, Any]] | None:
        listed = batch.describe_compute_environments()["computeEnvironments"]
        by_arn = {ce["computeEnvironmentArn"]: ce for ce in listed}
        return by_arn if set(by_arn) == {scaled["arn"], replaced["arn"]} else None

    by_arn = wait_for(settled, timeout=60, message="AWS to hold exactly the two current CEs")
    assert by_arn[scaled["arn"]]["computeResources"]["maxvCpus"] == workload.MAX_VCPUS_AFTER
    instance_types = by_arn[replaced["arn"]]["computeResources"]["instanceTypes"]
    assert sorted(instance_types) == sorted(workload.INSTANCE_TYPES_AFTER)
    queue_arn = _status(kubectl, namespace, f"bjq/{workload.REPLACED_QUEUE}")["arn"]
    queue = batch.describe_job_queues(jobQueues=[queue_arn])["jobQueues"][0]
    assert [e["computeEnvironment"] for e in queue["computeEnvironmentOrder"]] == [replaced["arn"]]


def _assert_operator_recovered_from_apiserver_restarts(
    tally: ChaosTally, operator: OperatorProcess, seed: int
) -> None:
    """Without being restarted, the operator picked up a new pipeline and its cron went on
    scheduling; no reconcile loop died on an exception (kopf would retry it only after 60 s)."""
    died = [line for line in operator.log_text().splitlines() if DAEMON_DIED in line]
    assert not died, f"seed {seed}: reconcile loops died on an exception:\n" + "\n".join(died)
    for recovery in tally.apiserver_restarts:
        assert recovery.probe_picked_up_seconds is not None, f"seed {seed}: {recovery}"
        assert recovery.cron_resumed_seconds is not None, f"seed {seed}: {recovery}"


# --- reading and reporting ----------------------------------------------------------------------


def _status(kubectl: Kubectl, namespace: str, resource: str) -> dict[str, Any]:
    return dict(kubectl.get_json(resource, "-n", namespace).get("status") or {})


def _step_status(pipeline: dict[str, Any], step: str) -> dict[str, Any]:
    entries = {entry["name"]: entry for entry in pipeline["status"].get("steps", [])}
    return dict(entries.get(step) or {})


def _cron_of(pipeline: dict[str, Any]) -> str | None:
    labels = pipeline["metadata"].get("labels") or {}
    return labels.get("batchops.io/cron")


def _report(
    plan: ChaosPlan,
    seed: int,
    tally: ChaosTally,
    pipelines: list[dict[str, Any]],
    jobs: dict[str, list[dict[str, Any]]],
    emulator: Emulator,
    operator: OperatorProcess,
    converge_seconds: float,
) -> None:
    """Print the counts; in full mode also write them to bench/results/chaos-full.json."""
    steps = [entry for p in pipelines for entry in p["status"].get("steps", [])]
    counters = emulator.counters()
    report = {
        "plan": plan.name,
        "seed": seed,
        **tally_as_dict(tally),
        "operator_starts": operator.starts,
        "converge_seconds": converge_seconds,
        "pipelines": len(pipelines),
        "phases": dict(Counter(p["status"]["phase"] for p in pipelines)),
        "cron_runs": sum(1 for p in pipelines if _cron_of(p) == workload.CRON_NAME),
        "jobs": sum(len(found) for found in jobs.values()),
        "steps_retried": sum(1 for entry in steps if (entry.get("attempts") or 0) > 1),
        "batch_calls": {op: counters[op] for op in sorted(counters) if ":" not in op},
        "operator_log_tracebacks": operator.log_text().count("Traceback"),
        "operator_loops_died": operator.log_text().count(DAEMON_DIED),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if plan.name == "full":
        path: Path = RESULTS / "chaos-full.json"
        path.write_text(text + "\n")
