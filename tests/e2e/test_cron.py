"""CronPipeline through kubectl: runs on schedule, concurrency policies, history, downtime."""

from __future__ import annotations

import json
import time
from typing import Any

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from batchops.model.common import parse_time
from tests.conftest import Kubectl, events_of, example, wait_until_live
from tests.e2e.builders import step
from tests.waits import wait_for


def cron(name: str, schedule: str, steps: list[dict[str, Any]], **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "CronPipeline",
            "metadata": {"name": name},
            "spec": {
                "schedule": schedule,
                "pipelineTemplate": {
                    "spec": {"queue": "q", "image": "busybox:latest", "steps": steps}
                },
                **spec,
            },
        }
    )


def runs_of(kubectl: Kubectl, namespace: str, name: str) -> list[dict[str, Any]]:
    items = kubectl.get_json("bpl", "-n", namespace, "-l", f"batchops.io/cron={name}")["items"]
    return sorted(items, key=lambda i: i["metadata"]["name"])


def cron_status(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    return dict(kubectl.get_json(f"cpl/{name}", "-n", namespace).get("status") or {})


def long_jobs(emulator: Emulator) -> None:
    emulator.set_scenario(
        rules=[{"jobName": "*", "attempt": None, "durationSeconds": 600, "exitCode": 0}]
    )


CHAIN = [step("job1"), step("job2", "job1"), step("job3", "job2")]


def test_walkthrough_chain_runs_on_schedule_with_job_status_on_the_cron(
    kubectl: Kubectl, namespace: str, queue: str
) -> None:
    kubectl.apply(cron("etl", "@every 3s", CHAIN), namespace)

    def two_succeeded() -> list[dict[str, Any]] | None:
        runs = runs_of(kubectl, namespace, "etl")
        done = [r for r in runs if (r.get("status") or {}).get("phase") == "Succeeded"]
        return runs if len(done) >= 2 else None

    runs = wait_for(two_succeeded, timeout=60, message="two scheduled runs to succeed")
    uid = kubectl.get_json("cpl/etl", "-n", namespace)["metadata"]["uid"]
    for run in runs:
        meta = run["metadata"]
        scheduled = parse_time(meta["annotations"]["batchops.io/scheduled-time"])
        assert meta["name"] == f"etl-{int(scheduled.timestamp())}"
        assert meta["ownerReferences"][0]["uid"] == uid
    status = wait_for(
        lambda: (s := cron_status(kubectl, namespace, "etl")).get("lastSuccessfulTime") and s,
        message="lastSuccessfulTime",
    )
    assert status["nextScheduleTime"] > status["lastScheduleTime"]
    last = status["lastRun"]
    assert [s["name"] for s in last["steps"]] == ["job1", "job2", "job3"]
    assert all(s.get("jobId") for s in last["steps"] if last["phase"] == "Succeeded")
    listing = kubectl.run("get", "cpl", "-n", namespace).stdout
    assert "@every 3s" in listing


def test_walkthrough_cron_example_is_accepted_and_scheduled(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    kubectl.apply(example("04-walkthrough-cron.yaml"), namespace)
    status = wait_for(
        lambda: cron_status(kubectl, namespace, "nightly-etl-cron").get("nextScheduleTime"),
        message="the next schedule time",
    )
    # 02:00 in Seoul is 17:00 UTC.
    assert status.endswith("T17:00:00Z")


def test_forbid_skips_while_a_run_is_active(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator
) -> None:
    long_jobs(emulator)
    kubectl.apply(
        cron("forbid", "@every 2s", [step("long")], concurrencyPolicy="Forbid"), namespace
    )
    wait_for(
        lambda: any(e["reason"] == "Skipped" for e in events_of(kubectl, namespace, "forbid")),
        timeout=30,
        message="a skipped schedule",
    )
    assert len(runs_of(kubectl, namespace, "forbid")) == 1


def test_replace_cancels_the_active_run_and_its_jobs(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, batch: Any
) -> None:
    long_jobs(emulator)
    kubectl.apply(cron("repl", "@every 4s", [step("long")], concurrencyPolicy="Replace"), namespace)

    def first_job() -> tuple[str, str] | None:
        for run in runs_of(kubectl, namespace, "repl"):
            for entry in (run.get("status") or {}).get("steps", []):
                if entry.get("jobId"):
                    return run["metadata"]["name"], entry["jobId"]
        return None

    first, job_id = wait_for(first_job, timeout=30, message="the first run's job")
    wait_for(
        lambda: (
            first not in [r["metadata"]["name"] for r in runs_of(kubectl, namespace, "repl")]
            and runs_of(kubectl, namespace, "repl")
        ),
        timeout=30,
        message="the first run replaced by the next",
    )
    wait_for(
        lambda: batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"] == "FAILED",
        timeout=30,
        message="the replaced run's job terminated",
    )


def test_allow_lets_runs_overlap(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator
) -> None:
    long_jobs(emulator)
    kubectl.apply(cron("allow", "@every 2s", [step("long")]), namespace)
    wait_for(
        lambda: cron_status(kubectl, namespace, "allow").get("activeCount", 0) >= 2,
        timeout=30,
        message="two active runs at once",
    )


def test_suspended_cron_creates_no_runs_and_resumes(
    kubectl: Kubectl, namespace: str, queue: str
) -> None:
    kubectl.apply(cron("sus", "@every 2s", [step("a")], suspend=True), namespace)
    wait_for(
        lambda: any(
            c["type"] == "Ready" and c["reason"] == "Suspended"
            for c in cron_status(kubectl, namespace, "sus").get("conditions", [])
        ),
        message="the suspended condition",
    )
    assert runs_of(kubectl, namespace, "sus") == []
    assert cron_status(kubectl, namespace, "sus").get("nextScheduleTime") is None
    kubectl.run(
        "patch", "cpl/sus", "-n", namespace, "--type=merge", "-p", '{"spec":{"suspend":false}}'
    )
    wait_for(lambda: runs_of(kubectl, namespace, "sus"), timeout=30, message="a run after resume")


def test_history_limits_prune_old_runs(kubectl: Kubectl, namespace: str, queue: str) -> None:
    kubectl.apply(cron("hist", "@every 2s", [step("a")], successfulRunsHistoryLimit=1), namespace)
    wait_for(
        lambda: cron_status(kubectl, namespace, "hist").get("lastSuccessfulTime"),
        timeout=30,
        message="a successful run",
    )
    created: set[str] = set()

    def pruned() -> bool:
        runs = runs_of(kubectl, namespace, "hist")
        created.update(r["metadata"]["name"] for r in runs)
        succeeded = [r for r in runs if (r.get("status") or {}).get("phase") == "Succeeded"]
        return len(created) >= 4 and len(succeeded) <= 1

    wait_for(pruned, timeout=60, message="old successful runs pruned to the limit")


def test_manual_trigger_runs_now(kubectl: Kubectl, namespace: str, queue: str) -> None:
    kubectl.apply(cron("manual", "@every 1h", [step("a")]), namespace)
    wait_for(
        lambda: cron_status(kubectl, namespace, "manual").get("nextScheduleTime"),
        message="scheduled",
    )
    for value in ("1", "2"):
        kubectl.run(
            "annotate", "--overwrite", "cpl/manual", "-n", namespace, f"batchops.io/trigger={value}"
        )

        def handled(expected: str = value) -> bool:
            return bool(cron_status(kubectl, namespace, "manual").get("lastTrigger") == expected)

        wait_for(
            handled,
            timeout=30,
            message=f"trigger {value} handled",
        )
        # Exactly one run per trigger value, however many passes saw the annotation.
        assert len(runs_of(kubectl, namespace, "manual")) == int(value)


def test_missed_times_after_downtime_give_one_catch_up_and_an_event(
    kubectl: Kubectl, namespace: str, queue: str, operator: OperatorProcess
) -> None:
    kubectl.apply(cron("down", "@every 2s", [step("a")], startingDeadlineSeconds=3600), namespace)
    wait_for(lambda: runs_of(kubectl, namespace, "down"), timeout=30, message="a first run")
    operator.kill()
    before = {r["metadata"]["name"] for r in runs_of(kubectl, namespace, "down")}
    killed_at = time.time()
    # Downtime is the condition waited for: at least three due times must pass unseen.
    wait_for(
        lambda: time.time() - killed_at > 7,
        timeout=15,
        interval=0.5,
        message="three schedule times to pass",
    )
    operator.start()
    wait_until_live(operator)
    wait_for(
        lambda: any(
            e["reason"] == "MissedSchedules" for e in events_of(kubectl, namespace, "down")
        ),
        timeout=30,
        message="the missed-schedules event",
    )
    new = {r["metadata"]["name"] for r in runs_of(kubectl, namespace, "down")} - before
    catch_up = [n for n in new if int(n.rsplit("-", 1)[1]) < time.time() - 1.5]
    assert len(catch_up) <= 1, new


def test_restart_mid_tick_creates_no_duplicate_run(
    kubectl: Kubectl, namespace: str, queue: str, operator: OperatorProcess
) -> None:
    kubectl.apply(cron("dup", "@every 2s", [step("a")]), namespace)
    for _ in range(3):
        count = len(runs_of(kubectl, namespace, "dup"))

        def next_run(before: int = count) -> bool:
            return len(runs_of(kubectl, namespace, "dup")) > before

        wait_for(
            next_run,
            timeout=30,
            message="the next run",
        )
        operator.kill()
        operator.start()
        wait_until_live(operator)
    runs = runs_of(kubectl, namespace, "dup")
    times = [r["metadata"]["annotations"]["batchops.io/scheduled-time"] for r in runs]
    assert len(times) == len(set(times)), "one run per scheduled time"


def test_schedule_the_parser_rejects_is_reported_not_crashed_on(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    kubectl.apply(cron("bad", "61 * * * *", [step("a")]), namespace)
    status = wait_for(
        lambda: (s := cron_status(kubectl, namespace, "bad")).get("conditions") and s,
        message="the CronPipeline's conditions",
    )
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert stalled["status"] == "True" and stalled["reason"] == "InvalidSchedule"
    assert "61" in stalled["message"]
    warnings = [e for e in events_of(kubectl, namespace, "bad") if e["type"] == "Warning"]
    assert warnings and warnings[0]["reason"] == "InvalidSchedule"
    assert runs_of(kubectl, namespace, "bad") == []


def test_unknown_time_zone_is_reported_as_an_invalid_schedule(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    kubectl.apply(cron("mars", "0 2 * * *", [step("a")], timeZone="Mars/Olympus_Mons"), namespace)
    status = wait_for(
        lambda: (s := cron_status(kubectl, namespace, "mars")).get("conditions") and s,
        message="the CronPipeline's conditions",
    )
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "InvalidSchedule" and "Mars/Olympus_Mons" in stalled["message"]
