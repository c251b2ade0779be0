"""Multi-node parallel jobs run as the AWS Batch user guide describes.

Sources (https://docs.aws.amazon.com/batch/latest/userguide/multi-node-parallel-jobs.html and
its pages "Node groups", "Environment variables", "Job states"):
- one job, node jobs addressed `<jobId>#<index>`; "The final job status (SUCCEEDED or FAILED) is
  determined by the final job status of the main node"; "If the main node exits, the job is
  considered finished, and the child nodes are stopped"; "If a child node dies, AWS Batch
  doesn't take any action on the other nodes";
- "a main node failure triggers another attempt; child node failures do not";
- AWS_BATCH_JOB_NODE_INDEX, AWS_BATCH_JOB_NUM_NODES, AWS_BATCH_JOB_MAIN_NODE_INDEX on every
  node, AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS "only set in multi-node parallel job child
  nodes";
- nested node ranges: "the 4:5 range properties override the 0:10 properties" (API reference
  NodeRangeProperty); nodeOverrides.numNodes grows the open range (API reference NodeOverrides).
DescribeJobs shapes: the parent has nodeProperties and no container, a node has nodeDetails
(API reference JobDetail; the redun project's test keeps a real multi-node JobDetail).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mypy_boto3_batch import BatchClient
from mypy_boto3_logs import CloudWatchLogsClient

from batchops.local.emulator import Emulator
from tests.emulator.waits import (
    IMAGE,
    create_ce,
    create_queue,
    default_account,
    describe_jobs,
    ec2_resources,
    wait_finished,
    wait_job_status,
    wait_until,
)

LOG_GROUP = "/aws/batch/job"


def node_container(*command: str, vcpus: int = 1) -> dict[str, Any]:
    """A node range's container running `command`."""
    return {
        "image": IMAGE,
        "command": list(command),
        "resourceRequirements": [
            {"type": "VCPU", "value": str(vcpus)},
            {"type": "MEMORY", "value": "1024"},
        ],
    }


def register_multinode(
    batch: BatchClient,
    ranges: list[dict[str, Any]],
    num_nodes: int = 3,
    main_node: int = 0,
    **members: Any,
) -> None:
    """RegisterJobDefinition `mnp` of type multinode with these node ranges."""
    request: dict[str, Any] = {
        "jobDefinitionName": "mnp",
        "type": "multinode",
        "nodeProperties": {
            "numNodes": num_nodes,
            "mainNode": main_node,
            "nodeRangeProperties": ranges,
        },
        **members,
    }
    batch.register_job_definition(**request)


def one_queue(batch: BatchClient, emulator: Emulator, max_vcpus: int = 256) -> None:
    """An EC2 compute environment `ce` of `max_vcpus` and a queue `q` over it."""
    create_ce(batch, "ce", ec2_resources(default_account(emulator), max_vcpus=max_vcpus))
    create_queue(batch, "q", "ce")


def submit(batch: BatchClient, name: str, **request: Any) -> str:
    """SubmitJob of `mnp` to `q`; the job id."""
    return batch.submit_job(jobName=name, jobQueue="q", jobDefinition="mnp", **request)["jobId"]


def nodes(batch: BatchClient, job_id: str, count: int) -> list[dict[str, Any]]:
    """The node jobs `<job_id>#0` … `<job_id>#<count-1>`."""
    return [dict(job) for job in describe_jobs(batch, *(f"{job_id}#{i}" for i in range(count)))]


def log_lines(logs: CloudWatchLogsClient, job: dict[str, Any]) -> list[str]:
    """The log events of a job's current attempt."""
    stream = job["container"]["logStreamName"]
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)["events"]
    return [event["message"] for event in events]


def test_multinode_job_runs_one_node_job_per_node_with_its_range_container(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    register_multinode(
        batch,
        [
            {"targetNodes": "0:", "container": node_container("worker")},
            {"targetNodes": "0", "container": node_container("main")},
        ],
    )

    job_id = submit(batch, "mpi")

    parent = wait_finished(batch, job_id)[0]
    assert parent["status"] == "SUCCEEDED"
    assert "container" not in parent
    assert parent["nodeProperties"]["numNodes"] == 3
    assert [attempt["container"]["exitCode"] for attempt in parent["attempts"]] == [0]
    found = nodes(batch, job_id, 3)
    assert [node["nodeDetails"] for node in found] == [
        {"nodeIndex": 0, "isMainNode": True},
        {"nodeIndex": 1, "isMainNode": False},
        {"nodeIndex": 2, "isMainNode": False},
    ]
    assert [node["container"]["command"] for node in found] == [["main"], ["worker"], ["worker"]]
    assert {node["status"] for node in found} == {"SUCCEEDED"}
    listed = batch.list_jobs(multiNodeJobId=job_id, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert sorted((s["jobId"], s["nodeProperties"]["nodeIndex"]) for s in listed) == [
        (f"{job_id}#{index}", index) for index in range(3)
    ]


def test_process_mode_nodes_see_the_multinode_variables_and_the_main_node_decides(
    batch: BatchClient, logs: CloudWatchLogsClient, emulator: Emulator, tmp_path: Path
) -> None:
    one_queue(batch, emulator)
    marker = tmp_path / "child-node-ran"
    # The child node leaves its pid in a marker and fails; the main node waits until that
    # process is gone (reaped by the emulator, so its exit is recorded; the workload's own wait,
    # not the test's) and succeeds: the job's result is the main node's.
    script = (
        "import os, pathlib, sys, time\n"
        "env = os.environ\n"
        "print(env['AWS_BATCH_JOB_NODE_INDEX'], env['AWS_BATCH_JOB_NUM_NODES'],\n"
        "      env['AWS_BATCH_JOB_MAIN_NODE_INDEX'],\n"
        "      env.get('AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS', '-'),\n"
        "      env['AWS_BATCH_JOB_ID'])\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if env['AWS_BATCH_JOB_NODE_INDEX'] != env['AWS_BATCH_JOB_MAIN_NODE_INDEX']:\n"
        "    marker.write_text(str(os.getpid())); sys.exit(3)\n"
        "while not marker.exists() or not marker.read_text(): time.sleep(0.01)\n"
        "child = int(marker.read_text())\n"
        "while True:\n"
        "    try: os.kill(child, 0)\n"
        "    except ProcessLookupError: break\n"
        "    time.sleep(0.01)\n"
    )
    register_multinode(
        batch,
        [{"targetNodes": "0:", "container": node_container(sys.executable, "-c", script)}],
        num_nodes=2,
        main_node=1,
    )
    emulator.set_scenario(mode="process")

    job_id = submit(batch, "mpi")

    assert wait_finished(batch, job_id)[0]["status"] == "SUCCEEDED"
    child, main = nodes(batch, job_id, 2)
    assert (child["status"], child["container"]["exitCode"]) == ("FAILED", 3)
    assert (main["status"], main["container"]["exitCode"]) == ("SUCCEEDED", 0)
    assert log_lines(logs, child) == [f"0 2 1 127.0.0.1 {job_id}#0"]
    assert log_lines(logs, main) == [f"1 2 1 - {job_id}#1"]


def test_main_node_failure_fails_the_job_and_stops_the_other_nodes(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    script = (
        "import os, signal, sys\n"
        "if os.environ['AWS_BATCH_JOB_NODE_INDEX'] == '0': sys.exit(5)\n"
        "signal.pause()\n"
    )
    register_multinode(
        batch,
        [{"targetNodes": "0:", "container": node_container(sys.executable, "-c", script)}],
        num_nodes=2,
    )
    emulator.set_scenario(mode="process")

    job_id = submit(batch, "mpi")

    parent = wait_finished(batch, job_id)[0]
    assert (parent["status"], parent["attempts"][0]["container"]["exitCode"]) == ("FAILED", 5)
    main, child = nodes(batch, job_id, 2)
    assert (main["status"], main["container"]["exitCode"]) == ("FAILED", 5)
    assert child["status"] == "FAILED" and "exitCode" not in child["container"]
    assert child["stoppedAt"] <= parent["stoppedAt"]


def test_main_node_failure_is_retried_as_a_new_attempt_of_every_node(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    register_multinode(batch, [{"targetNodes": "0:", "container": node_container("run")}])
    emulator.set_scenario(rules=[{"jobName": "mpi", "attempt": 1, "exitCode": 1}])

    job_id = submit(batch, "mpi", retryStrategy={"attempts": 2})

    parent = wait_finished(batch, job_id)[0]
    assert parent["status"] == "SUCCEEDED"
    assert [attempt["container"]["exitCode"] for attempt in parent["attempts"]] == [1, 0]
    for node in nodes(batch, job_id, 3):
        assert node["status"] == "SUCCEEDED"
        assert node["container"]["taskArn"] != parent["attempts"][0]["container"]["taskArn"]


def test_node_overrides_grow_the_open_range_and_override_its_container(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    register_multinode(
        batch,
        [
            {"targetNodes": "0", "container": node_container("main")},
            {"targetNodes": "1:", "container": node_container("worker", "Ref::shard")},
        ],
        num_nodes=2,
        parameters={"shard": "a"},
    )

    job_id = submit(
        batch,
        "mpi",
        parameters={"shard": "b"},
        nodeOverrides={
            "numNodes": 4,
            "nodePropertyOverrides": [
                {
                    "targetNodes": "1:",
                    "containerOverrides": {
                        "environment": [{"name": "MODE", "value": "fast"}],
                        "resourceRequirements": [{"type": "VCPU", "value": "2"}],
                    },
                }
            ],
        },
    )

    parent = wait_finished(batch, job_id)[0]
    assert parent["nodeProperties"]["numNodes"] == 4
    found = nodes(batch, job_id, 4)
    assert [node["container"]["command"] for node in found] == [["main"]] + [["worker", "b"]] * 3
    assert [node["container"]["environment"] for node in found[1:]] == [
        [{"name": "MODE", "value": "fast"}]
    ] * 3
    assert found[0]["container"]["environment"] == []


def test_multinode_job_needs_the_vcpus_of_all_its_nodes_in_one_compute_environment(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator, max_vcpus=4)
    register_multinode(batch, [{"targetNodes": "0:", "container": node_container("x", vcpus=2)}])

    job_id = submit(batch, "too-wide")

    def stuck_reason() -> str | None:
        job = describe_jobs(batch, job_id)[0]
        return job.get("statusReason") if job["status"] == "RUNNABLE" else None

    reason = wait_until(stuck_reason, "the job stays RUNNABLE with a reason")
    assert reason.startswith("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE")
    batch.terminate_job(jobId=job_id, reason="done")


def test_terminating_a_running_multinode_job_stops_every_node(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    register_multinode(batch, [{"targetNodes": "0:", "container": node_container("run")}])
    emulator.set_scenario(rules=[{"jobName": "long", "durationSeconds": 3600}])
    job_id = submit(batch, "long")
    wait_job_status(batch, job_id, "RUNNING")

    batch.terminate_job(jobId=job_id, reason="stopped by the operator")

    parent = wait_job_status(batch, job_id, "FAILED")
    assert (parent["statusReason"], parent["isTerminated"]) == ("stopped by the operator", True)
    assert {node["status"] for node in nodes(batch, job_id, 3)} == {"FAILED"}
