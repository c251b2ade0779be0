"""Jobs behave as the AWS Batch documentation and real error reports say.

Sources (rule → where it is written down):
- job states and their order: user guide "Job states"; createdAt/startedAt/stoppedAt: API
  reference JobDetail;
- dependencies (at most 20; a failed dependency fails the dependent, PENDING → FAILED; N_TO_N and
  SEQUENTIAL for array jobs): user guide "Job dependencies",
  https://docs.aws.amazon.com/batch/latest/userguide/job_dependencies.html;
- "Job cannot have more than 20 dependencies": OpenNeuroOrg/openneuro#100 (real SubmitJob error,
  wrapped as "Error executing request, Exception : ..., RequestId: ...");
- "Maximum number of jobs supported is  100" (sic, two spaces): pegasus-isi/pegasus#2086 (real
  DescribeJobs error); the API reference says "A list of up to 100 job IDs";
- "Job attempt duration exceeded timeout": the statusReason real timed-out jobs carry, matched
  verbatim by clients such as insitro/redun (redun/executors/aws_batch.py,
  BATCH_JOB_TIMEOUT_ERROR); the 60 s minimum: API reference JobTimeout;
- "Dependent Job failed": only seen in a public client's table of real statusReasons (matched
  case-insensitively there), so it is matched case-insensitively here too;
- CancelJob/TerminateJob: the reason "is returned by future DescribeJobs operations on the
  job"; RUNNABLE jobs are cancelled to FAILED: API reference CancelJob, TerminateJob;
- retryStrategy / evaluateOnExit (EXIT stops retrying; no match means retry): API reference
  RetryStrategy, EvaluateOnExit;
- ListJobs: no jobStatus lists RUNNING jobs only; a filter makes jobStatus ignored; JOB_NAME is
  case-insensitive and a trailing '*' matches a prefix; AFTER_CREATED_AT takes milliseconds
  since the epoch: API reference ListJobs (botocore's model carries the same text);
- logs: group /aws/batch/job, one stream per attempt, named jobDefinitionName/default/<task>:
  API reference ContainerDetail.logStreamName; user guide "Job states" (quoted in
  SumoLogic/sumologic-aws-lambda#98);
- attempts[] lists ended attempts only (AttemptDetail.startedAt/stoppedAt are the RUNNING ->
  terminal window; the example event of an unfinished job has "attempts": []): API reference
  AttemptDetail, https://docs.aws.amazon.com/batch/latest/APIReference/API_AttemptDetail.html,
  and https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html;
- task and container instance ARNs name the ECS cluster (ECS's long ARN format,
  https://docs.aws.amazon.com/AmazonECS/latest/userguide/ecs-resource-ids.html), the compute
  environment's ecsClusterArn; Fargate tasks run on no container instance and have their own
  network interface (botocore's NetworkInterface shape);
- ListJobs returns arrayProperties.size and statusSummary for array parents: API reference
  ArrayPropertiesSummary,
  https://docs.aws.amazon.com/batch/latest/APIReference/API_ArrayPropertiesSummary.html;
- the walkthrough: /work/shared/walkthrough/README.md.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable

from mypy_boto3_batch import BatchClient
from mypy_boto3_batch.type_defs import JobDetailTypeDef, JobSummaryTypeDef, KeyValuesPairTypeDef
from mypy_boto3_logs import CloudWatchLogsClient

from batchops.local.emulator import Emulator
from tests.conftest import aws_client
from tests.emulator.waits import (
    IMAGE,
    client_error,
    create_ce,
    create_queue,
    default_account,
    describe_jobs,
    ec2_resources,
    fargate_resources,
    find_ce,
    job_status,
    register,
    wait_finished,
    wait_job_status,
    wait_until,
)

STATE_ORDER = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
PLACED = ("STARTING", "RUNNING")
LOG_GROUP = "/aws/batch/job"


def one_queue(batch: BatchClient, emulator: Emulator, max_vcpus: int = 256, vcpus: int = 1) -> None:
    """A compute environment `ce` of `max_vcpus`, a queue `q` over it, a job definition `jd`."""
    create_ce(batch, "ce", ec2_resources(default_account(emulator), max_vcpus=max_vcpus))
    create_queue(batch, "q", "ce")
    register(batch, "jd", vcpus=vcpus)


def submit(batch: BatchClient, name: str, **kwargs: object) -> str:
    """SubmitJob of `jd` to `q` (unless given); the job id."""
    request: dict[str, object] = {"jobName": name, "jobQueue": "q", "jobDefinition": "jd"}
    request.update(kwargs)
    return batch.submit_job(**request)["jobId"]  # type: ignore[arg-type]


def job_ids(summaries: Iterable[JobSummaryTypeDef]) -> set[str]:
    """The jobId of each ListJobs summary."""
    return {summary["jobId"] for summary in summaries}


def list_ids(batch: BatchClient, **kwargs: object) -> set[str]:
    """ListJobs on `q` (unless a queue or an array job is given), one page; the job ids."""
    request: dict[str, object] = {} if "arrayJobId" in kwargs else {"jobQueue": "q"}
    request.update(kwargs)
    return job_ids(batch.list_jobs(**request)["jobSummaryList"])  # type: ignore[arg-type]


def job_name_filter(*values: str) -> list[KeyValuesPairTypeDef]:
    """ListJobs filters for JOB_NAME."""
    return [{"name": "JOB_NAME", "values": list(values)}]


def max_overlap(jobs: list[JobDetailTypeDef]) -> int:
    """The most jobs running at one instant, from their startedAt/stoppedAt."""
    edges = sorted(
        [(job["startedAt"], 1) for job in jobs] + [(job["stoppedAt"], -1) for job in jobs]
    )
    running = peak = 0
    for _, delta in edges:
        running += delta
        peak = max(peak, running)
    return peak


def children(batch: BatchClient, parent_id: str, size: int) -> list[JobDetailTypeDef]:
    """The child jobs `<parent>:0` … `<parent>:<size-1>` of an array job."""
    return describe_jobs(batch, *(f"{parent_id}:{index}" for index in range(size)))


# --- states and dependencies ------------------------------------------------------------------


def test_job_moves_through_documented_states_with_ordered_timestamps(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "progress", "durationSeconds": 10}])
    job_id = submit(batch, "progress")
    seen: list[str] = []

    def finished() -> bool:
        status = job_status(batch, job_id)
        if not seen or seen[-1] != status:
            seen.append(status)
        return status == "SUCCEEDED"

    wait_until(finished, "job SUCCEEDED")

    assert [STATE_ORDER.index(status) for status in seen] == sorted(
        STATE_ORDER.index(status) for status in seen
    )
    assert "RUNNING" in seen
    job = describe_jobs(batch, job_id)[0]
    assert job["createdAt"] <= job["startedAt"] <= job["stoppedAt"]


def test_job_depending_on_one_job_waits_pending_until_it_succeeds(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "first", "durationSeconds": 10}])
    first = submit(batch, "first")
    second = submit(batch, "second", dependsOn=[{"jobId": first}])

    wait_job_status(batch, first, "RUNNING")
    assert job_status(batch, second) == "PENDING"

    done_first, done_second = wait_finished(batch, first, second)
    assert (done_first["status"], done_second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert done_second["startedAt"] >= done_first["stoppedAt"]
    assert done_second["dependsOn"] == [{"jobId": first}]


def test_more_than_20_dependencies_are_rejected_with_client_exception(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    upstream = [submit(batch, f"up-{index}") for index in range(21)]

    error = client_error(
        lambda: submit(batch, "fan-in", dependsOn=[{"jobId": job} for job in upstream])
    )

    assert (error.code, error.http_status) == ("ClientException", 400)
    assert "Job cannot have more than 20 dependencies" in error.message
    submit(batch, "fan-in-20", dependsOn=[{"jobId": job} for job in upstream[:20]])


def test_dependent_of_a_failed_job_fails_with_a_status_reason(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "upstream", "exitCode": 1}])
    upstream = submit(batch, "upstream")
    dependent = submit(batch, "dependent", dependsOn=[{"jobId": upstream}])

    failed_upstream, failed_dependent = wait_finished(batch, upstream, dependent)

    assert (failed_upstream["status"], failed_dependent["status"]) == ("FAILED", "FAILED")
    assert "dependent job failed" in failed_dependent["statusReason"].lower()


# --- capacity and queue state -----------------------------------------------------------------


def test_ten_jobs_of_10_vcpus_on_36_vcpus_run_at_most_three_at_a_time(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator, max_vcpus=36, vcpus=10)
    emulator.set_scenario(rules=[{"jobName": "wide-*", "durationSeconds": 10}])
    jobs = [submit(batch, f"wide-{index}") for index in range(10)]
    most_placed = 0

    def all_finished() -> bool:
        nonlocal most_placed
        statuses = [job["status"] for job in describe_jobs(batch, *jobs)]
        most_placed = max(most_placed, sum(status in PLACED for status in statuses))
        return all(status == "SUCCEEDED" for status in statuses)

    wait_until(all_finished, "ten jobs SUCCEEDED", timeout=15)

    assert most_placed <= 3
    assert max_overlap(describe_jobs(batch, *jobs)) == 3


def test_jobs_stay_runnable_while_their_queue_is_disabled(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator), max_vcpus=10))
    create_queue(batch, "held", "ce")
    create_queue(batch, "open", "ce")
    register(batch, "jd", vcpus=10)
    emulator.set_scenario(rules=[{"jobName": "blocker", "durationSeconds": 20}])
    blocker = submit(batch, "blocker", jobQueue="held")
    wait_job_status(batch, blocker, "RUNNING")
    waiting = submit(batch, "waiting", jobQueue="held")
    wait_job_status(batch, waiting, "RUNNABLE")

    batch.update_job_queue(jobQueue="held", state="DISABLED")
    wait_job_status(batch, blocker, "SUCCEEDED")
    # A job on an enabled queue gets the freed capacity and finishes: the scheduler had its
    # chance to place `waiting` and did not.
    marker = submit(batch, "marker", jobQueue="open")
    wait_job_status(batch, marker, "SUCCEEDED")

    assert job_status(batch, waiting) == "RUNNABLE"
    batch.update_job_queue(jobQueue="held", state="ENABLED")
    wait_job_status(batch, waiting, "SUCCEEDED")


# --- retries, timeouts, cancel and terminate --------------------------------------------------


def test_retry_strategy_retries_a_failed_first_attempt_and_records_both_attempts(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "flaky", "attempt": 1, "exitCode": 1}])

    job_id = submit(batch, "flaky", retryStrategy={"attempts": 2})

    job = wait_finished(batch, job_id)[0]
    assert job["status"] == "SUCCEEDED"
    assert [attempt["container"]["exitCode"] for attempt in job["attempts"]] == [1, 0]


def test_evaluate_on_exit_exit_action_stops_retries_and_unmatched_exits_retry(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(
        rules=[{"jobName": "fatal", "exitCode": 3}, {"jobName": "transient", "exitCode": 4}]
    )
    strategy = {"attempts": 3, "evaluateOnExit": [{"onExitCode": "3", "action": "EXIT"}]}

    fatal = submit(batch, "fatal", retryStrategy=strategy)
    transient = submit(batch, "transient", retryStrategy=strategy)

    stopped, retried = wait_finished(batch, fatal, transient)
    assert (stopped["status"], len(stopped["attempts"])) == ("FAILED", 1)
    assert (retried["status"], len(retried["attempts"])) == ("FAILED", 3)


def test_attempt_duration_timeout_fails_the_job_with_the_batch_status_reason(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "stuck", "durationSeconds": 3600}])
    emulator.set_speed(60)  # the 60 s minimum timeout passes in one real second

    job_id = submit(batch, "stuck", timeout={"attemptDurationSeconds": 60})

    job = wait_finished(batch, job_id)[0]
    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Job attempt duration exceeded timeout"


def test_cancelling_a_runnable_job_fails_it_with_the_given_reason(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator, max_vcpus=10, vcpus=10)
    emulator.set_scenario(rules=[{"jobName": "blocker", "durationSeconds": 3600}])
    blocker = submit(batch, "blocker")
    wait_job_status(batch, blocker, "RUNNING")
    victim = submit(batch, "victim")
    wait_job_status(batch, victim, "RUNNABLE")

    batch.cancel_job(jobId=victim, reason="superseded by a newer run")

    job = wait_job_status(batch, victim, "FAILED")
    assert job["statusReason"] == "superseded by a newer run"
    assert job_status(batch, blocker) == "RUNNING"


def test_cancelling_a_running_job_succeeds_but_leaves_it_running(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "long", "durationSeconds": 20}])
    job_id = submit(batch, "long")
    wait_job_status(batch, job_id, "RUNNING")

    batch.cancel_job(jobId=job_id, reason="too late to cancel")

    assert wait_finished(batch, job_id)[0]["status"] == "SUCCEEDED"


def test_terminating_a_running_job_fails_it_with_the_given_reason(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "long", "durationSeconds": 3600}])
    job_id = submit(batch, "long")
    wait_job_status(batch, job_id, "RUNNING")

    batch.terminate_job(jobId=job_id, reason="stopped by the operator")

    job = wait_job_status(batch, job_id, "FAILED")
    assert job["statusReason"] == "stopped by the operator"


# --- array jobs -------------------------------------------------------------------------------


def test_array_job_has_indexed_children_and_a_status_summary(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)

    parent_id = submit(batch, "fan-out", arrayProperties={"size": 3})

    parent = wait_finished(batch, parent_id)[0]
    assert parent["status"] == "SUCCEEDED"
    assert parent["arrayProperties"]["size"] == 3
    assert parent["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 3
    kids = children(batch, parent_id, 3)
    assert [kid["jobId"] for kid in kids] == [f"{parent_id}:{index}" for index in range(3)]
    assert [kid["arrayProperties"]["index"] for kid in kids] == [0, 1, 2]
    assert {kid["status"] for kid in kids} == {"SUCCEEDED"}
    listed = list_ids(batch, arrayJobId=parent_id, jobStatus="SUCCEEDED")
    assert listed == {kid["jobId"] for kid in kids}


def test_array_parent_is_pending_while_its_children_run(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "fan-out", "durationSeconds": 10}])

    parent_id = submit(batch, "fan-out", arrayProperties={"size": 2})

    wait_job_status(batch, f"{parent_id}:0", "RUNNING")
    assert job_status(batch, parent_id) == "PENDING"
    # A JOB_NAME filter lists the parent, never its children.
    assert list_ids(batch, filters=job_name_filter("fan-out")) == {parent_id}


def test_n_to_n_array_dependency_waits_for_the_same_index_only(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "first", "arrayIndex": 0, "durationSeconds": 10}])
    first = submit(batch, "first", arrayProperties={"size": 3})
    second = submit(
        batch, "second", arrayProperties={"size": 3}, dependsOn=[{"jobId": first, "type": "N_TO_N"}]
    )

    wait_finished(batch, first, second)

    before, after = children(batch, first, 3), children(batch, second, 3)
    for index in range(3):
        assert after[index]["startedAt"] >= before[index]["stoppedAt"]
    # Index 1 did not wait for the slow index 0 of the first array.
    assert after[1]["startedAt"] < before[0]["stoppedAt"]


def test_sequential_array_dependency_runs_children_one_after_another(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)

    parent_id = submit(
        batch, "in-order", arrayProperties={"size": 3}, dependsOn=[{"type": "SEQUENTIAL"}]
    )

    assert wait_finished(batch, parent_id)[0]["status"] == "SUCCEEDED"
    kids = children(batch, parent_id, 3)
    for earlier, later in itertools.pairwise(kids):
        assert later["startedAt"] >= earlier["stoppedAt"]


# --- ListJobs and DescribeJobs ----------------------------------------------------------------


def test_list_jobs_by_status_and_without_status_lists_running_jobs_only(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "long", "durationSeconds": 3600}])
    done = [submit(batch, f"done-{index}") for index in range(2)]
    wait_finished(batch, *done)
    running = submit(batch, "long")
    wait_job_status(batch, running, "RUNNING")

    assert list_ids(batch, jobStatus="SUCCEEDED") == set(done)
    assert list_ids(batch) == {running}


def test_list_jobs_job_name_filter_matches_the_whole_name_case_insensitively(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    wanted = submit(batch, "etl-load")
    others = [submit(batch, "etl-loader"), submit(batch, "other")]
    wait_finished(batch, wanted, *others)

    # With a filter, jobStatus is ignored: finished jobs are listed although RUNNING is asked.
    listed = list_ids(batch, filters=job_name_filter("ETL-LOAD"), jobStatus="RUNNING")

    assert listed == {wanted}


def test_list_jobs_job_name_filter_with_trailing_asterisk_matches_a_prefix(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    wanted = [submit(batch, "etl-load"), submit(batch, "etl-loader"), submit(batch, "ETL-Load2")]
    other = submit(batch, "report-etl-load")
    wait_finished(batch, *wanted, other)

    page = batch.list_jobs(jobQueue="q", filters=job_name_filter("etl-load*"))

    # Filtered results come most recent first.
    assert [job["jobId"] for job in page["jobSummaryList"]] == wanted[::-1]


def test_list_jobs_after_created_at_lists_only_later_jobs(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    earlier = submit(batch, "earlier")
    mark = wait_finished(batch, earlier)[0]["createdAt"] + 1
    later = submit(batch, "later")
    wait_finished(batch, later)

    listed = list_ids(batch, filters=[{"name": "AFTER_CREATED_AT", "values": [str(mark)]}])

    assert listed == {later}


def test_list_jobs_paginates_with_max_results_and_next_token(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    submitted = [submit(batch, f"page-{index}") for index in range(5)]
    wait_finished(batch, *submitted)

    page = batch.list_jobs(jobQueue="q", jobStatus="SUCCEEDED", maxResults=2)
    pages = [job_ids(page["jobSummaryList"])]
    while "nextToken" in page and len(pages) <= len(submitted):  # bounded if tokens never end
        page = batch.list_jobs(
            jobQueue="q", jobStatus="SUCCEEDED", maxResults=2, nextToken=page["nextToken"]
        )
        pages.append(job_ids(page["jobSummaryList"]))

    assert [len(ids) for ids in pages] == [2, 2, 1]
    assert set().union(*pages) == set(submitted)


def test_describe_jobs_with_101_ids_is_rejected(batch: BatchClient) -> None:
    ids = [str(uuid.uuid4()) for _ in range(101)]

    error = client_error(lambda: batch.describe_jobs(jobs=ids))

    assert (error.code, error.http_status) == ("ClientException", 400)
    assert "Maximum number of jobs supported is" in error.message
    assert batch.describe_jobs(jobs=ids[:100])["jobs"] == []


# --- logs -------------------------------------------------------------------------------------


def test_job_output_goes_to_the_attempt_log_stream_in_aws_batch_job(
    batch: BatchClient, logs: CloudWatchLogsClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    create_queue(batch, "q", "ce")
    register(batch, "hello", command=("echo", "hello from batch"))
    emulator.set_scenario(mode="process")

    job_id = submit(batch, "say-hello", jobDefinition="hello")

    job = wait_finished(batch, job_id)[0]
    assert job["status"] == "SUCCEEDED"
    stream = job["container"]["logStreamName"]
    assert stream.startswith("hello/default/")

    def messages() -> list[str] | None:
        events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)["events"]
        found = [event["message"] for event in events]
        return found if "hello from batch" in found else None

    wait_until(messages, "the job's output in CloudWatch Logs")


# --- attempts, tasks and where they run -------------------------------------------------------


def test_a_running_first_attempt_is_not_listed_in_attempts_but_in_the_container(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "long", "durationSeconds": 3600}])
    job_id = submit(batch, "long")

    running = wait_job_status(batch, job_id, "RUNNING")

    assert running["attempts"] == []
    assert running["container"]["logStreamName"].startswith("jd/default/")
    assert running["container"]["taskArn"].endswith(
        "/" + running["container"]["logStreamName"].rsplit("/", 1)[-1]
    )
    batch.terminate_job(jobId=job_id, reason="done looking")
    stopped = wait_job_status(batch, job_id, "FAILED")
    assert [attempt["container"]["taskArn"] for attempt in stopped["attempts"]] == [
        running["container"]["taskArn"]
    ]


def test_a_retried_job_lists_only_its_ended_attempt_while_the_next_one_runs(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(
        rules=[
            {"jobName": "flaky", "attempt": 1, "durationSeconds": 1, "exitCode": 1},
            {"jobName": "flaky", "durationSeconds": 3600},
        ]
    )
    job_id = submit(batch, "flaky", retryStrategy={"attempts": 2})

    def second_attempt_running() -> JobDetailTypeDef | None:
        job = describe_jobs(batch, job_id)[0]
        return job if job["status"] == "RUNNING" and job["attempts"] else None

    job = wait_until(second_attempt_running, "the second attempt RUNNING")
    (first,) = job["attempts"]
    assert first["container"]["exitCode"] == 1
    assert first["startedAt"] <= first["stoppedAt"] <= job["startedAt"]
    assert first["container"]["logStreamName"] != job["container"]["logStreamName"]
    batch.terminate_job(jobId=job_id, reason="done looking")


def test_task_arns_name_the_ecs_cluster_of_the_compute_environment(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    cluster_arn = find_ce(batch, "ce")["ecsClusterArn"]  # type: ignore[index]
    cluster_name = cluster_arn.split(":cluster/", 1)[1]

    job = wait_finished(batch, submit(batch, "plain"))[0]

    (attempt,) = job["attempts"]
    for container in (job["container"], attempt["container"]):
        assert container["taskArn"].startswith(cluster_arn.replace(":cluster/", ":task/") + "/"), (
            container["taskArn"]
        )
        assert f":container-instance/{cluster_name}/" in container["containerInstanceArn"]
        assert container["networkInterfaces"] == []


def test_fargate_jobs_run_on_no_container_instance_and_have_a_network_interface(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "fargate", fargate_resources(default_account(emulator)))
    create_queue(batch, "q", "fargate")
    execution_role = aws_client("iam", emulator).get_role(RoleName="ecsTaskExecutionRole")
    batch.register_job_definition(
        jobDefinitionName="jd",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": IMAGE,
            "command": ["echo", "hi"],
            "executionRoleArn": execution_role["Role"]["Arn"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "0.25"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )
    cluster_arn = find_ce(batch, "fargate")["ecsClusterArn"]  # type: ignore[index]

    job = wait_finished(batch, submit(batch, "serverless"))[0]

    (attempt,) = job["attempts"]
    for container in (job["container"], attempt["container"]):
        assert "containerInstanceArn" not in container
        assert container["taskArn"].startswith(cluster_arn.replace(":cluster/", ":task/") + "/")
        (interface,) = container["networkInterfaces"]
        assert interface["attachmentId"] and interface["privateIpv4Address"].count(".") == 3
    assert attempt["container"]["networkInterfaces"] == job["container"]["networkInterfaces"]


def test_list_jobs_returns_the_size_and_status_summary_of_array_parents(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "fan-out", "durationSeconds": 3600}])
    parent_id = submit(batch, "fan-out", arrayProperties={"size": 3})
    for index in range(3):
        wait_job_status(batch, f"{parent_id}:{index}", "RUNNING")

    (summary,) = batch.list_jobs(jobQueue="q", jobStatus="PENDING")["jobSummaryList"]

    assert summary["jobId"] == parent_id
    assert summary["arrayProperties"]["size"] == 3
    assert summary["arrayProperties"]["statusSummary"]["RUNNING"] == 3
    assert "statusSummaryLastUpdatedAt" in summary["arrayProperties"]
    batch.terminate_job(jobId=parent_id, reason="done looking")


# --- the walkthrough --------------------------------------------------------------------------


def test_walkthrough_job1_job2_job3_chain_across_two_queues_succeeds_in_order(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    for name, instance_types in (
        ("env_72", ("c5.18xlarge", "m5.24xlarge", "m5.12xlarge")),
        ("env_simple", ("r3.xlarge",)),
    ):
        resources = ec2_resources(
            account, instance_types=instance_types, allocation_strategy="BEST_FIT"
        )
        resources["spotIamFleetRole"] = account.spot_fleet_role_arn
        create_ce(batch, name, resources, service_role=account.service_role_arn)
    create_queue(batch, "queue_72", "env_72", priority=100)
    create_queue(batch, "queue_simple", "env_simple", priority=100)
    register(batch, "Job1", vcpus=72, memory=102400)
    register(batch, "Job2", vcpus=1, memory=1024)
    register(batch, "Job3", vcpus=72, memory=102400)

    # The walkthrough's own loop: each job depends on the job submitted before it.
    chain: list[str] = []
    for job, queue in (("Job1", "queue_72"), ("Job2", "queue_simple"), ("Job3", "queue_72")):
        depends = [{"jobId": chain[-1]}] if chain else []
        chain.append(submit(batch, job, jobQueue=queue, jobDefinition=job, dependsOn=depends))

    job1, job2, job3 = wait_finished(batch, *chain)
    assert [job["status"] for job in (job1, job2, job3)] == ["SUCCEEDED"] * 3
    assert job1["stoppedAt"] <= job2["startedAt"]
    assert job2["stoppedAt"] <= job3["startedAt"]
    assert job2["jobQueue"].endswith(":job-queue/queue_simple")
    assert job3["jobQueue"].endswith(":job-queue/queue_72")
