"""The user-facing CLI against the real control plane and the emulator: `batchops graph`,
`watch`, `logs`, `trigger`, `rerun`, and the same program as the kubectl plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from batchops.local.emulator import Emulator
from tests.conftest import EXAMPLES, Kubectl, batchops
from tests.e2e.builders import pipeline, pipeline_status, step, steps_by_name, wait_phase
from tests.waits import wait_for

WALKTHROUGH = EXAMPLES / "03-walkthrough-pipeline.yaml"
VENV_BIN = Path(sys.executable).parent


def test_graph_draws_the_walkthrough_chain_as_text_mermaid_and_dot() -> None:
    text = batchops("graph", str(WALKTHROUGH))
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == ["job1", "└── job2", "    └── job3"]

    mermaid = batchops("graph", str(WALKTHROUGH), "--format", "mermaid").stdout.splitlines()
    assert mermaid[0] == "flowchart TD"
    assert '    s0["job1"]' in mermaid and "    s0 --> s1" in mermaid and "    s1 --> s2" in mermaid

    dot = batchops("graph", str(WALKTHROUGH), "--format", "dot").stdout
    assert dot.startswith('digraph "nightly-etl" {')
    assert '"job1" -> "job2";' in dot and '"job2" -> "job3";' in dot


def test_kubectl_lists_the_plugin_and_runs_it() -> None:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    listing = subprocess.run(
        ["kubectl", "plugin", "list"], env=env, capture_output=True, text=True, timeout=30
    )
    assert str(VENV_BIN / "kubectl-batchops") in listing.stdout, listing.stdout + listing.stderr
    graph = subprocess.run(
        ["kubectl", "batchops", "graph", str(WALKTHROUGH)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert graph.returncode == 0, graph.stderr
    assert "└── job2" in graph.stdout


def test_watch_follows_a_run_to_success_then_rerun_starts_a_new_run(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, cli_env: dict[str, str]
) -> None:
    # 4 s of real time per step (at the tests' speed), so watch sees the steps move even on a
    # loaded machine, where the CLI itself takes seconds to start.
    emulator.set_scenario(rules=[{"jobName": "chain-*", "durationSeconds": 80, "exitCode": 0}])
    kubectl.apply(pipeline("chain", [step("first"), step("second", "first")]), namespace)
    watched = batchops("watch", "bpl/chain", "-n", namespace, "--timeout=60", env=cli_env)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert "chain: Succeeded 2/2" in watched.stdout
    assert "  second: " in watched.stdout and "-> SUCCEEDED" in watched.stdout
    table = watched.stdout.split("\n\n")[-1].splitlines()
    assert [row.split()[:2] for row in table[2:4]] == [
        ["first", "SUCCEEDED"],
        ["second", "SUCCEEDED"],
    ]

    live = batchops("graph", "batchpipeline/chain", "-n", namespace, env=cli_env)
    assert live.returncode == 0, live.stderr
    assert [line.split()[-2] for line in live.stdout.splitlines()] == ["SUCCEEDED"] * 2
    coloured = batchops("graph", "bpl/chain", "-n", namespace, "-o", "mermaid", env=cli_env)
    assert "    class s0,s1 succeeded" in coloured.stdout

    first_run = pipeline_status(kubectl, namespace, "chain")["runId"]
    rerun = batchops("rerun", "bpl/chain", "-n", namespace, env=cli_env)
    assert rerun.returncode == 0, rerun.stderr
    annotations = kubectl.get_json("bpl/chain", "-n", namespace)["metadata"]["annotations"]
    assert annotations["batchops.io/rerun"] in rerun.stdout

    def new_run() -> str | None:
        run_id = pipeline_status(kubectl, namespace, "chain").get("runId")
        return run_id if run_id != first_run else None

    wait_for(new_run, timeout=30, message="the rerun to start a new run")
    wait_phase(kubectl, namespace, "chain", "Succeeded")


def test_watch_exits_1_when_a_step_fails(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, cli_env: dict[str, str]
) -> None:
    emulator.set_scenario(
        rules=[{"jobName": "broken-bad-*", "durationSeconds": 0.2, "exitCode": 4}]
    )
    kubectl.apply(pipeline("broken", [step("bad"), step("never", "bad")]), namespace)
    watched = batchops("watch", "bpl/broken", "-n", namespace, "--timeout=60", env=cli_env)
    assert watched.returncode == 1, watched.stdout + watched.stderr
    assert "broken: Failed" in watched.stdout
    assert "bad: " in watched.stdout and "FAILED" in watched.stdout and "exit 4" in watched.stdout


def test_watch_exits_2_when_the_run_outlasts_the_timeout(
    kubectl: Kubectl, namespace: str, crds: list[str], cli_env: dict[str, str]
) -> None:
    # No operator and no queue here: the run never moves.
    kubectl.apply(pipeline("stuck", [step("a")]), namespace)
    watched = batchops("watch", "bpl/stuck", "-n", namespace, "--timeout=1", env=cli_env)
    assert watched.returncode == 2, watched.stdout + watched.stderr
    assert "timed out" in watched.stderr


def test_logs_print_and_follow_a_steps_output(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, cli_env: dict[str, str]
) -> None:
    emulator.set_scenario(mode="process")
    kubectl.apply(
        pipeline(
            "talk",
            [
                step("hello", command=["sh", "-c", "echo hello from hello; echo second line"]),
                step("bye", "hello", command=["echo", "bye now"]),
            ],
        ),
        namespace,
    )
    # Started before the step ran: -f waits for the stream and returns once the step finished.
    followed = batchops("logs", "bpl/talk", "bye", "-f", "-n", namespace, env=cli_env)
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.splitlines() == ["bye now"]

    printed = batchops("logs", "bpl/talk", "hello", "-n", namespace, env=cli_env)
    assert printed.stdout.splitlines() == ["hello from hello", "second line"]
    first = batchops("logs", "bpl/talk", "hello", "--attempt=1", "-n", namespace, env=cli_env)
    assert first.stdout == printed.stdout

    ambiguous = batchops("logs", "bpl/talk", "-n", namespace, env=cli_env)
    assert ambiguous.returncode == 1
    assert "name one of: hello, bye" in ambiguous.stderr


# Each attempt says which it is; the first attempt of `retried` fails, every other attempt keeps
# running (the test namespace's teardown terminates the jobs).
ATTEMPT_SCRIPT = (
    'echo "attempt $AWS_BATCH_JOB_ATTEMPT"; '
    '[ "$AWS_BATCH_JOB_ATTEMPT" = 1 ] && [ "$FAIL_FIRST" = yes ] && exit 3; sleep 120'
)


def test_running_attempts_count_once_and_logs_attempt_n_reads_the_nth_attempt(
    kubectl: Kubectl,
    namespace: str,
    queue: str,
    emulator: Emulator,
    batch: Any,
    cli_env: dict[str, str],
) -> None:
    # Batch lists ended attempts only; the attempt running now is the job's container. A first
    # attempt RUNNING is attempt 1, not 2, and --attempt N picks the N-th attempt's stream.
    emulator.set_scenario(mode="process")
    kubectl.apply(
        pipeline(
            "tries",
            [
                step("steady", command=["sh", "-c", ATTEMPT_SCRIPT]),
                step(
                    "retried",
                    command=["sh", "-c", ATTEMPT_SCRIPT],
                    environment=[{"name": "FAIL_FIRST", "value": "yes"}],
                    retry={"attempts": 2},
                ),
            ],
        ),
        namespace,
    )

    def batch_job(step_name: str) -> dict[str, Any] | None:
        job_id = steps_by_name(pipeline_status(kubectl, namespace, "tries")).get(step_name, {})
        if "jobId" not in job_id:
            return None
        found = batch.describe_jobs(jobs=[job_id["jobId"]])["jobs"]
        return found[0] if found else None

    def in_attempt(step_name: str, ended: int) -> dict[str, Any] | None:
        # Batch runs attempt ended+1 and the pipeline's status has caught up with it.
        job = batch_job(step_name)
        if job is None or job["status"] != "RUNNING" or len(job["attempts"]) != ended:
            return None
        entry = steps_by_name(pipeline_status(kubectl, namespace, "tries"))[step_name]
        caught_up = entry.get("logStream") == job["container"]["logStreamName"]
        return entry if caught_up and entry.get("status") == "RUNNING" else None

    steady = wait_for(lambda: in_attempt("steady", 0), timeout=60, message="steady attempt 1")
    retried = wait_for(lambda: in_attempt("retried", 1), timeout=60, message="retried attempt 2")
    assert steady["attempts"] == 1
    assert retried["attempts"] == 2

    def logs_of(step_name: str, attempt: int) -> str | None:
        printed = batchops(
            "logs", "bpl/tries", step_name, f"--attempt={attempt}", "-n", namespace, env=cli_env
        )
        return printed.stdout if printed.returncode == 0 and printed.stdout else None

    for step_name, attempt in (("steady", 1), ("retried", 1), ("retried", 2)):
        printed = wait_for(
            lambda: logs_of(step_name, attempt),  # noqa: B023 (called before the loop moves on)
            timeout=30,
            message=f"the log of {step_name} attempt {attempt}",
        )
        assert printed.splitlines() == [f"attempt {attempt}"]
    beyond = batchops("logs", "bpl/tries", "retried", "--attempt=3", "-n", namespace, env=cli_env)
    assert beyond.returncode == 1
    assert "has no attempt 3 (2 so far)" in beyond.stderr


def test_trigger_creates_the_run_it_names(
    kubectl: Kubectl, namespace: str, queue: str, cli_env: dict[str, str]
) -> None:
    kubectl.apply(
        json.dumps(
            {
                "apiVersion": "batchops.io/v1alpha1",
                "kind": "CronPipeline",
                "metadata": {"name": "yearly"},
                "spec": {
                    "schedule": "0 0 1 1 *",
                    "pipelineTemplate": {
                        "spec": {"queue": "q", "image": "busybox", "steps": [step("only")]}
                    },
                },
            }
        ),
        namespace,
    )
    triggered = batchops("trigger", "cpl/yearly", "-n", namespace, "-o", "name", env=cli_env)
    assert triggered.returncode == 0, triggered.stderr
    run = triggered.stdout.strip()
    assert run.startswith("bpl/yearly-m")

    def created() -> bool:
        return kubectl.run("get", run, "-n", namespace, check=False).returncode == 0

    wait_for(created, timeout=30, message=f"{run} to be created")
    wait_phase(kubectl, namespace, run.removeprefix("bpl/"), "Succeeded")
    graph = batchops("graph", "cpl/yearly", "-n", namespace, env=cli_env)
    assert graph.stdout.split()[:2] == ["only", "SUCCEEDED"], graph.stdout + graph.stderr


def test_timeline_of_a_finished_chain_prints_a_row_per_step(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, cli_env: dict[str, str]
) -> None:
    emulator.set_scenario(rules=[{"jobName": "etl-*", "durationSeconds": 20, "exitCode": 0}])
    kubectl.apply(
        pipeline("etl", [step("job1"), step("job2", "job1"), step("job3", "job2")]), namespace
    )
    wait_phase(kubectl, namespace, "etl", "Succeeded")
    drawn = batchops("timeline", "bpl/etl", "-n", namespace, env=cli_env)
    assert drawn.returncode == 0, drawn.stderr
    lines = drawn.stdout.splitlines()
    assert lines[0].startswith("etl  Succeeded  wall ")
    rows = [line for line in lines if " │" in line]
    # A chain is its own critical path: every row is starred, and each one ran.
    assert [row.split(" │")[0] for row in rows] == ["*job1", "*job2", "*job3"]
    assert all("█" in row for row in rows)
    assert max(len(line) for line in lines) <= 80
    assert "critical path: job1 → job2 → job3" in drawn.stdout
