"""BatchPipeline runs through kubectl, against the Batch emulator."""

from __future__ import annotations

from typing import Any

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, events_of, example, wait_condition, wait_until_live
from tests.e2e.builders import (
    pipeline,
    pipeline_status,
    step,
    steps_by_name,
    wait_phase,
)
from tests.waits import wait_for


def test_walkthrough_chain_runs_in_order_on_alternating_queues(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(example("01-walkthrough-infra.yaml"), namespace)
    kubectl.apply(example("03-walkthrough-pipeline.yaml"), namespace)
    progress_seen: list[str] = []

    def succeeded() -> bool:
        status = pipeline_status(kubectl, namespace, "nightly-etl")
        if status.get("progress") and (
            not progress_seen or progress_seen[-1] != status["progress"]
        ):
            progress_seen.append(status["progress"])
        return status.get("phase") == "Succeeded"

    wait_for(succeeded, timeout=90, message="the walkthrough chain to succeed")
    status = pipeline_status(kubectl, namespace, "nightly-etl")
    steps = steps_by_name(status)
    assert status["progress"] == "3/3"
    # Which progress values a kubectl poll catches depends on timing (at emulator speed 20 a
    # step can finish between two polls); what must hold is that progress only moves forward.
    assert progress_seen == sorted(progress_seen) and progress_seen[-1] == "3/3"
    assert set(progress_seen) <= {"0/3", "1/3", "2/3", "3/3"}
    assert steps["job1"]["stoppedAt"] <= steps["job2"]["startedAt"]
    assert steps["job2"]["stoppedAt"] <= steps["job3"]["startedAt"]
    jobs = batch.describe_jobs(jobs=[steps[s]["jobId"] for s in ("job1", "job2", "job3")])["jobs"]
    queues = {job["jobName"].split("-")[2]: job["jobQueue"].rsplit("/", 1)[1] for job in jobs}
    assert queues == {"job1": "queue_72", "job2": "queue_simple", "job3": "queue_72"}
    assert all(entry.get("queueWaitSeconds") is not None for entry in steps.values())
    listing = kubectl.run("get", "batchpipelines", "-n", namespace).stdout
    assert "Succeeded" in listing and "3/3" in listing
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Complete"]["status"] == "True"


def test_diamond_fans_out_and_in(kubectl: Kubectl, namespace: str, queue: str, batch: Any) -> None:
    kubectl.apply(
        pipeline("diamond", [step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")]),
        namespace,
    )
    status = wait_phase(kubectl, namespace, "diamond", "Succeeded")
    steps = steps_by_name(status)
    assert steps["a"]["stoppedAt"] <= min(steps["b"]["startedAt"], steps["c"]["startedAt"])
    assert max(steps["b"]["stoppedAt"], steps["c"]["stoppedAt"]) <= steps["d"]["startedAt"]
    d = batch.describe_jobs(jobs=[steps["d"]["jobId"]])["jobs"][0]
    assert sorted(dep["jobId"] for dep in d["dependsOn"]) == sorted(
        [steps["b"]["jobId"], steps["c"]["jobId"]]
    )


def test_fan_in_beyond_batchs_20_dependencies(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any
) -> None:
    parents = [step(f"p{i:02d}") for i in range(25)]
    kubectl.apply(
        pipeline("wide", [*parents, step("join", *(p["name"] for p in parents))]), namespace
    )
    status = wait_phase(kubectl, namespace, "wide", "Succeeded", timeout=120)
    steps = steps_by_name(status)
    assert status["progress"] == "26/26"
    last_parent = max(steps[f"p{i:02d}"]["stoppedAt"] for i in range(25))
    assert last_parent <= steps["join"]["startedAt"]
    join = batch.describe_jobs(jobs=[steps["join"]["jobId"]])["jobs"][0]
    assert not join.get("dependsOn"), "held by the operator, submitted without dependsOn"


def test_failing_step_with_fail_fast_fails_the_run_and_stops_the_rest(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, batch: Any
) -> None:
    emulator.set_scenario(
        rules=[
            {"jobName": "ff-bad-*", "attempt": None, "durationSeconds": 0.5, "exitCode": 3},
            {"jobName": "ff-slow-*", "attempt": None, "durationSeconds": 600, "exitCode": 0},
        ]
    )
    kubectl.apply(pipeline("ff", [step("bad"), step("slow"), step("after", "bad")]), namespace)
    status = wait_phase(kubectl, namespace, "ff", "Failed")
    steps = steps_by_name(status)
    assert steps["bad"]["status"] == "FAILED" and steps["bad"]["exitCode"] == 3
    wait_condition(kubectl, "bpl/ff", namespace, "Failed")

    def slow_stopped() -> bool:
        job = batch.describe_jobs(jobs=[steps["slow"]["jobId"]])["jobs"][0]
        return bool(job["status"] == "FAILED")

    wait_for(slow_stopped, timeout=30, message="the independent running step to be terminated")
    assert "bad" in status["message"]


def test_step_failing_its_first_attempt_succeeds_on_retry(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator
) -> None:
    emulator.set_scenario(
        rules=[{"jobName": "flaky-once-*", "attempt": 1, "durationSeconds": 0.2, "exitCode": 1}]
    )
    kubectl.apply(pipeline("flaky", [step("once", retry={"attempts": 2})]), namespace)
    status = wait_phase(kubectl, namespace, "flaky", "Succeeded")
    entry = steps_by_name(status)["once"]
    assert entry["attempts"] == 2 and entry["exitCode"] == 0


def test_array_job_runs_every_child(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any
) -> None:
    kubectl.apply(pipeline("arr", [step("fan", arraySize=4), step("after", "fan")]), namespace)
    status = wait_phase(kubectl, namespace, "arr", "Succeeded")
    fan = steps_by_name(status)["fan"]
    job = batch.describe_jobs(jobs=[fan["jobId"]])["jobs"][0]
    assert job["arrayProperties"]["size"] == 4
    assert job["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 4


def test_cycle_is_rejected_and_nothing_is_submitted(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator
) -> None:
    kubectl.apply(pipeline("loop", [step("a", "c"), step("b", "a"), step("c", "b")]), namespace)
    status = wait_phase(kubectl, namespace, "loop", "Failed")
    assert "cycle" in status["message"]
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert stalled["status"] == "True" and stalled["reason"] == "InvalidSpec"
    warnings = [e for e in events_of(kubectl, namespace, "loop") if e["type"] == "Warning"]
    assert warnings and warnings[0]["reason"] == "InvalidSpec"
    counters = emulator.counters()
    assert counters.get("SubmitJob", 0) == 0 and counters.get("RegisterJobDefinition", 0) == 0


def test_deleting_a_running_pipeline_terminates_its_jobs(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, batch: Any
) -> None:
    emulator.set_scenario(
        rules=[{"jobName": "doomed-*", "attempt": None, "durationSeconds": 600, "exitCode": 0}]
    )
    kubectl.apply(pipeline("doomed", [step("long"), step("next", "long")]), namespace)

    def running_job() -> str | None:
        entry = steps_by_name(pipeline_status(kubectl, namespace, "doomed")).get("long", {})
        return entry.get("jobId") if entry.get("status") == "RUNNING" else None

    job_id = wait_for(running_job, timeout=60, message="the first step to run")
    kubectl.run("delete", "bpl/doomed", "-n", namespace, "--timeout=60s")
    job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
    wait_for(
        lambda: batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"] == "FAILED",
        timeout=30,
        message="the running job to be terminated",
    )
    assert job["status"] in ("RUNNING", "FAILED")


def test_terminate_annotation_cancels_the_run_and_stops_its_jobs_and_a_rerun_starts_fresh(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, batch: Any
) -> None:
    emulator.set_scenario(
        rules=[{"jobName": "halt-*", "attempt": None, "durationSeconds": 600, "exitCode": 0}]
    )
    kubectl.apply(pipeline("halt", [step("long"), step("next", "long")]), namespace)

    def running_job() -> str | None:
        entry = steps_by_name(pipeline_status(kubectl, namespace, "halt")).get("long", {})
        return entry.get("jobId") if entry.get("status") == "RUNNING" else None

    job_id = wait_for(running_job, timeout=60, message="the first step to run")
    kubectl.run("annotate", "bpl/halt", "-n", namespace, "batchops.io/terminate=stop-1")
    status = wait_phase(kubectl, namespace, "halt", "Cancelled")
    assert status["message"] == "terminated on request (batchops.io/terminate)"
    assert status["terminateToken"] == "stop-1"
    wait_for(
        lambda: batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"] == "FAILED",
        timeout=30,
        message="the running job to be terminated",
    )
    # Batch reports the terminated job FAILED: the run stays Cancelled, not Failed.
    wait_for(
        lambda: pipeline_status(kubectl, namespace, "halt")["steps"][0]["status"] == "FAILED",
        timeout=30,
        message="the job's end in status",
    )
    cancelled = pipeline_status(kubectl, namespace, "halt")
    assert cancelled["phase"] == "Cancelled"
    conditions = {c["type"]: c for c in cancelled["conditions"]}
    assert conditions["Failed"]["status"] == "False"
    assert conditions["Reconciling"]["status"] == "False"
    assert any(e["reason"] == "RunTerminated" for e in events_of(kubectl, namespace, "halt"))

    # A rerun is a new run: the old terminate request does not stop it.
    emulator.set_scenario()
    kubectl.run("annotate", "bpl/halt", "-n", namespace, "batchops.io/rerun=1")
    rerun = wait_phase(kubectl, namespace, "halt", "Succeeded")
    assert rerun["runId"] != cancelled["runId"]


def test_rerun_annotation_starts_a_new_run_with_new_jobs(
    kubectl: Kubectl, namespace: str, queue: str
) -> None:
    kubectl.apply(pipeline("again", [step("a")]), namespace)
    first = wait_phase(kubectl, namespace, "again", "Succeeded")
    kubectl.run("annotate", "bpl/again", "-n", namespace, "batchops.io/rerun=1")

    def second_run() -> dict[str, Any] | None:
        status = pipeline_status(kubectl, namespace, "again")
        done = status.get("phase") == "Succeeded" and status.get("runId") != first["runId"]
        return status if done else None

    second = wait_for(second_run, timeout=60, message="a second run after the rerun annotation")
    assert second["steps"][0]["jobId"] != first["steps"][0]["jobId"]
    assert second["rerunToken"] == "1"


def test_spec_change_after_a_finished_run_starts_a_new_run(
    kubectl: Kubectl, namespace: str, queue: str
) -> None:
    kubectl.apply(pipeline("edit", [step("a")]), namespace)
    first = wait_phase(kubectl, namespace, "edit", "Succeeded")
    kubectl.apply(pipeline("edit", [step("a"), step("b", "a")]), namespace)

    def new_run() -> dict[str, Any] | None:
        status = pipeline_status(kubectl, namespace, "edit")
        ok = status.get("runId") != first["runId"] and status.get("phase") == "Succeeded"
        return status if ok else None

    status = wait_for(new_run, timeout=60, message="a new run for the changed spec")
    assert status["progress"] == "2/2"


def test_active_deadline_fails_the_run_and_stops_its_jobs(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, batch: Any
) -> None:
    emulator.set_scenario(
        rules=[{"jobName": "late-*", "attempt": None, "durationSeconds": 600, "exitCode": 0}]
    )
    kubectl.apply(pipeline("late", [step("slow")], activeDeadlineSeconds=3), namespace)
    status = wait_phase(kubectl, namespace, "late", "Failed", timeout=60)
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "DeadlineExceeded"
    job_id = status["steps"][0]["jobId"]
    wait_for(
        lambda: batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"] == "FAILED",
        timeout=30,
        message="the job stopped at the deadline",
    )


def test_finished_pipeline_is_deleted_after_its_ttl(
    kubectl: Kubectl, namespace: str, queue: str
) -> None:
    kubectl.apply(pipeline("brief", [step("a")], ttlSecondsAfterFinished=2), namespace)
    wait_phase(kubectl, namespace, "brief", "Succeeded")
    wait_for(
        lambda: kubectl.run("get", "bpl/brief", "-n", namespace, check=False).returncode != 0,
        timeout=60,
        message="the pipeline deleted after its TTL",
    )


def definition_status(batch: Any, arn: str) -> str:
    """ACTIVE or INACTIVE, as Batch reports the job definition."""
    (found,) = batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"]
    return str(found["status"])


def definition_of(kubectl: Kubectl, namespace: str, pipeline_name: str, step_name: str) -> str:
    steps = steps_by_name(pipeline_status(kubectl, namespace, pipeline_name))
    return str(steps[step_name]["jobDefinition"])


def delete_and_wait_gone(kubectl: Kubectl, namespace: str, name: str) -> None:
    kubectl.run("delete", f"bpl/{name}", "-n", namespace, "--wait=true", "--timeout=60s")


def test_changed_step_gets_a_new_definition_and_the_old_one_is_retired(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any
) -> None:
    kubectl.apply(pipeline("rev", [step("a")]), namespace)
    first = wait_phase(kubectl, namespace, "rev", "Succeeded")
    old = steps_by_name(first)["a"]["jobDefinition"]
    kubectl.apply(pipeline("rev", [step("a", command=["echo", "changed"])]), namespace)

    def second_run() -> dict[str, Any] | None:
        status = pipeline_status(kubectl, namespace, "rev")
        ok = status.get("runId") != first["runId"] and status.get("phase") == "Succeeded"
        return status if ok else None

    new = steps_by_name(wait_for(second_run, timeout=60, message="the changed spec's run"))["a"]
    assert new["jobDefinition"] != old
    assert new["jobDefinition"].split("/")[-1].startswith(f"{namespace}_")
    wait_for(
        lambda: definition_status(batch, old) == "INACTIVE", timeout=30, message="the old retired"
    )
    assert definition_status(batch, new["jobDefinition"]) == "ACTIVE"


def test_identical_steps_of_two_pipelines_share_a_definition_until_the_last_one_goes(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any, emulator: Emulator
) -> None:
    for name in ("left", "right"):
        kubectl.apply(pipeline(name, [step("a"), step("b", "a")]), namespace)
    for name in ("left", "right"):
        wait_phase(kubectl, namespace, name, "Succeeded")
    shared = {step_name: definition_of(kubectl, namespace, "left", step_name) for step_name in "ab"}
    assert shared == {s: definition_of(kubectl, namespace, "right", s) for s in "ab"}
    assert emulator.counters().get("RegisterJobDefinition") == 2
    # Tagged with this cluster, so another cluster on the account never shares or retires them.
    cluster = kubectl.get_json("namespace/kube-system")["metadata"]["uid"]
    (described,) = batch.describe_job_definitions(jobDefinitions=[shared["a"]])["jobDefinitions"]
    assert described["tags"]["batchops.io/cluster"] == cluster

    delete_and_wait_gone(kubectl, namespace, "left")
    assert {definition_status(batch, arn) for arn in shared.values()} == {"ACTIVE"}
    delete_and_wait_gone(kubectl, namespace, "right")
    # The last user's finalizer retires them before it lets the object go.
    assert {definition_status(batch, arn) for arn in shared.values()} == {"INACTIVE"}


def test_a_restarted_operator_keeps_the_definitions_a_finished_pipeline_names(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any, operator: OperatorProcess
) -> None:
    kubectl.apply(pipeline("earlier", [step("a")]), namespace)
    wait_phase(kubectl, namespace, "earlier", "Succeeded")
    kept = definition_of(kubectl, namespace, "earlier", "a")
    operator.stop()
    operator.start()
    wait_until_live(operator)
    # A run that settles retires whatever is unused. Nothing of this process holds `kept`; only
    # the earlier pipeline's status (the index rebuilt at start) says it is in use.
    kubectl.apply(pipeline("later", [step("z")]), namespace)
    replaced = steps_by_name(wait_phase(kubectl, namespace, "later", "Succeeded"))["z"]
    kubectl.apply(pipeline("later", [step("z", command=["echo", "again"])]), namespace)
    wait_for(
        lambda: definition_status(batch, replaced["jobDefinition"]) == "INACTIVE",
        timeout=60,
        message="the later pipeline's first definition retired (a retirement pass ran)",
    )
    assert definition_status(batch, kept) == "ACTIVE"
    delete_and_wait_gone(kubectl, namespace, "earlier")
    assert definition_status(batch, kept) == "INACTIVE"


def test_unchanged_step_reuses_its_job_definition_revision(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator
) -> None:
    kubectl.apply(pipeline("same", [step("a")]), namespace)
    first = wait_phase(kubectl, namespace, "same", "Succeeded")
    kubectl.run("annotate", "bpl/same", "-n", namespace, "batchops.io/rerun=again")
    wait_for(
        lambda: (
            (s := pipeline_status(kubectl, namespace, "same")).get("runId") != first["runId"]
            and s.get("phase") == "Succeeded"
        ),
        timeout=60,
        message="the rerun",
    )
    assert emulator.counters().get("RegisterJobDefinition") == 1
