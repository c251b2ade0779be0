"""Jobs claim consumable resources as the AWS Batch documentation says.

Sources (each test's docstring names the rule it checks):
- user guide "Specify the resources needed to run a job",
  https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-for-jobs.html:
  "the Batch scheduler ensures that your job runs only when the specified resource dependencies
  are available"; "the job will wait in RUNNABLE state until all the required resources become
  available"; "Resources are locked once the job moves to STARTING and are then unlocked when
  the job moves to SUCCEEDED or FAILED"; "You can specify up to 5 resources for each job";
- user guide "Check how many resources are in-use and available",
  https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-check-resources-check-resources.html:
  REPLENISHABLE quantities "will be added back to the available quantity", NON_REPLENISHABLE
  ones are "subtracted from both the total and available quantities and won't be added back";
- user guide "Delete a consumable resource" (resource-aware-scheduling-how-to-delete.html);
- API reference SubmitJob (consumableResourcePropertiesOverride), ConsumableResourceRequirement,
  ListJobsByConsumableResource and ListJobsByConsumableResourceSummary.
AWS documents neither the statusReason of a job waiting for consumable resources nor the
rejections' wording: the tests check the emulator's (assumed) texts where a client would need
them, and the error class otherwise. Jobs are held in a state with the emulator's holds and kept
running with scenario durations, never by sleeping.
"""

from __future__ import annotations

from typing import Any

import pytest
from mypy_boto3_batch import BatchClient
from mypy_boto3_batch.type_defs import JobDetailTypeDef

from batchops.local.emulator import Emulator
from tests.emulator.waits import (
    FINISHED,
    IMAGE,
    ErrorResponse,
    client_error,
    create_ce,
    create_queue,
    default_account,
    describe_jobs,
    ec2_resources,
    wait_finished,
    wait_job_status,
    wait_until,
)

ARN_PREFIX = "arn:aws:batch:us-east-1:123456789012:consumable-resource/"
STARTED = ("STARTING", "RUNNING")


def one_queue(batch: BatchClient, emulator: Emulator, max_vcpus: int = 16) -> None:
    """An EC2 compute environment `ce` with room for `max_vcpus` 1-vCPU jobs, a queue `q`."""
    create_ce(batch, "ce", ec2_resources(default_account(emulator), max_vcpus=max_vcpus))
    create_queue(batch, "q", "ce")


def claims(*entries: tuple[str, int]) -> dict[str, Any]:
    """consumableResourceProperties claiming these (resource, quantity) pairs."""
    return {
        "consumableResourceList": [
            {"consumableResource": resource, "quantity": quantity} for resource, quantity in entries
        ]
    }


def register(batch: BatchClient, name: str, properties: dict[str, Any] | None) -> str:
    """RegisterJobDefinition of a 1-vCPU container job claiming `properties`; its ARN."""
    request: dict[str, Any] = {
        "jobDefinitionName": name,
        "type": "container",
        "containerProperties": {
            "image": IMAGE,
            "command": ["run"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "1024"},
            ],
        },
    }
    if properties is not None:
        request["consumableResourceProperties"] = properties
    return batch.register_job_definition(**request)["jobDefinitionArn"]


def submit(batch: BatchClient, name: str, definition: str = "jd", **extra: Any) -> str:
    """SubmitJob to `q`; the job id."""
    return batch.submit_job(jobName=name, jobQueue="q", jobDefinition=definition, **extra)["jobId"]


def quantities(batch: BatchClient, resource: str) -> tuple[int, int, int]:
    """(totalQuantity, inUseQuantity, availableQuantity) of a consumable resource."""
    found = batch.describe_consumable_resource(consumableResource=resource)
    return found["totalQuantity"], found["inUseQuantity"], found["availableQuantity"]


def listed(batch: BatchClient, resource: str, **request: Any) -> list[str]:
    """The names of the jobs ListJobsByConsumableResource lists for a resource."""
    answer = batch.list_jobs_by_consumable_resource(consumableResource=resource, **request)
    return [job["jobName"] for job in answer["jobs"]]


def waiting(batch: BatchClient, job_id: str) -> JobDetailTypeDef:
    """Wait until the job is RUNNABLE with a statusReason; its description."""

    def probe() -> JobDetailTypeDef | None:
        job = describe_jobs(batch, job_id)[0]
        return job if job["status"] == "RUNNABLE" and job.get("statusReason") else None

    return wait_until(probe, f"job {job_id} waiting with a reason")


def reason(resource: str, needs: int, available: int) -> str:
    """The emulator's (assumed) statusReason of a job waiting for one consumable resource."""
    return f"Waiting for consumable resources: {resource} (needs {needs}, {available} available)"


def assert_client_exception(error: ErrorResponse) -> None:
    assert error.code == "ClientException"
    assert error.http_status == 400


# --- a replenishable resource limits how many jobs run at once -----------------------------------


def test_ten_jobs_claiming_one_of_two_licences_run_two_at_a_time_and_all_succeed(
    batch: BatchClient, emulator: Emulator
) -> None:
    """A compute environment with room for all ten jobs; each claims 1 of a REPLENISHABLE
    resource with totalQuantity 2. "the job will wait in RUNNABLE state until all the required
    resources become available"; "Resources are locked once the job moves to STARTING and are
    then unlocked when the job moves to SUCCEEDED or FAILED"
    (resource-aware-scheduling-how-to-for-jobs.html); inUseQuantity and availableQuantity show
    it (resource-aware-scheduling-how-to-check-resources-check-resources.html);
    ListJobsByConsumableResource "Returns a list of Batch jobs that require a specific
    consumable resource" (API reference)."""
    one_queue(batch, emulator, max_vcpus=16)
    batch.create_consumable_resource(consumableResourceName="licenses", totalQuantity=2)
    register(batch, "jd", claims(("licenses", 1)))
    emulator.set_scenario(rules=[{"jobName": "fan-*", "durationSeconds": 4}])
    emulator.set_holds([{"jobName": "fan-*", "status": "STARTING"}])

    job_ids = [submit(batch, f"fan-{index}") for index in range(10)]

    # Held in STARTING, the two that got the licences keep them: the moment is exact.
    def statuses() -> list[str]:
        return sorted(job["status"] for job in describe_jobs(batch, *job_ids))

    wait_until(
        lambda: statuses() == ["RUNNABLE"] * 8 + ["STARTING"] * 2,
        "two jobs STARTING, eight RUNNABLE",
    )
    assert quantities(batch, "licenses") == (2, 2, 0)
    summaries = batch.list_consumable_resources()["consumableResources"]
    assert [(s["consumableResourceName"], s["inUseQuantity"]) for s in summaries] == [
        ("licenses", 2)
    ]
    wait_until(
        lambda: all(
            job.get("statusReason") == reason("licenses", 1, 0)
            for job in describe_jobs(batch, *job_ids)
            if job["status"] == "RUNNABLE"
        ),
        "every RUNNABLE job says it waits for the licences",
    )
    assert listed(batch, "licenses") == [f"fan-{index}" for index in range(10)]
    assert len(listed(batch, "licenses", filters=[{"name": "JOB_STATUS", "values": ["STARTING"]}]))
    assert listed(batch, "licenses", filters=[{"name": "JOB_NAME", "values": ["FAN-9"]}]) == [
        "fan-9"
    ]

    emulator.set_holds([])
    most_at_once = 0
    in_use_seen: set[int] = set()

    def all_finished() -> list[JobDetailTypeDef] | None:
        nonlocal most_at_once
        jobs = describe_jobs(batch, *job_ids)
        most_at_once = max(most_at_once, sum(job["status"] in STARTED for job in jobs))
        in_use_seen.add(quantities(batch, "licenses")[1])
        return jobs if all(job["status"] in FINISHED for job in jobs) else None

    jobs = wait_until(all_finished, "every fan-out job finished", timeout=30)

    assert most_at_once == 2
    assert [job["status"] for job in jobs] == ["SUCCEEDED"] * 10
    assert in_use_seen <= {0, 1, 2} and 2 in in_use_seen
    assert quantities(batch, "licenses") == (2, 0, 2)
    assert jobs[0]["consumableResourceProperties"] == claims(("licenses", 1))


def test_list_jobs_by_consumable_resource_summarizes_each_claiming_job_and_pages(
    batch: BatchClient, emulator: Emulator
) -> None:
    """ListJobsByConsumableResourceSummary has jobArn, jobQueueArn, jobName, jobDefinitionArn,
    jobStatus, quantity, createdAt and consumableResourceProperties, and statusReason and
    startedAt once there is one; maxResults and nextToken page (API reference
    ListJobsByConsumableResource). quantity and createdAt are the job's (assumed: see
    jobs.Job.summarize_claim)."""
    one_queue(batch, emulator)
    batch.create_consumable_resource(consumableResourceName="db", totalQuantity=10)
    definition = register(batch, "jd", claims(("db", 3)))
    register(batch, "plain", None)
    emulator.set_holds([{"jobName": "*", "status": "SUBMITTED"}])
    first, second = submit(batch, "etl-1"), submit(batch, "etl-2")
    submit(batch, "no-claim", definition="plain")

    page = batch.list_jobs_by_consumable_resource(consumableResource="db", maxResults=1)
    rest = batch.list_jobs_by_consumable_resource(
        consumableResource=f"{ARN_PREFIX}db", maxResults=1, nextToken=page["nextToken"]
    )

    (summary,) = page["jobs"]
    created = describe_jobs(batch, first)[0]["createdAt"]
    assert summary == {
        "jobArn": f"arn:aws:batch:us-east-1:123456789012:job/{first}",
        "jobQueueArn": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        "jobName": "etl-1",
        "jobDefinitionArn": definition,
        "jobStatus": "SUBMITTED",
        "quantity": 3,
        "createdAt": created,
        "consumableResourceProperties": claims(("db", 3)),
    }
    assert [job["jobArn"].rsplit("/", 1)[1] for job in rest["jobs"]] == [second]
    assert "nextToken" not in rest


def test_a_failed_or_terminated_job_gives_a_replenishable_resource_back(
    batch: BatchClient, emulator: Emulator
) -> None:
    """REPLENISHABLE: "the number of consumed resources will be added back to the available
    quantity as soon as the job has moved to either the SUCCEEDED or FAILED state"
    (resource-aware-scheduling-how-to-check-resources-check-resources.html). An attempt that is
    retried gives back too, and its retry claims again (assumed)."""
    one_queue(batch, emulator)
    batch.create_consumable_resource(consumableResourceName="seat", totalQuantity=1)
    register(batch, "jd", claims(("seat", 1)))
    emulator.set_scenario(
        rules=[
            {"jobName": "fails", "exitCode": 1},
            {"jobName": "retried", "attempt": 1, "exitCode": 1},
            {"jobName": "endless", "durationSeconds": 3600},
        ]
    )

    failed = wait_finished(batch, submit(batch, "fails"))[0]
    retried = wait_finished(batch, submit(batch, "retried", retryStrategy={"attempts": 2}))[0]
    endless = submit(batch, "endless")
    wait_job_status(batch, endless, "RUNNING")
    assert quantities(batch, "seat") == (1, 1, 0)
    batch.terminate_job(jobId=endless, reason="enough")
    wait_job_status(batch, endless, "FAILED")

    assert failed["status"] == "FAILED"
    assert (retried["status"], len(retried["attempts"])) == ("SUCCEEDED", 2)
    assert quantities(batch, "seat") == (1, 0, 1)
    after = wait_finished(batch, submit(batch, "after"))[0]
    assert after["status"] == "SUCCEEDED"


# --- a non-replenishable resource is used up ----------------------------------------------------


def test_a_non_replenishable_resource_is_used_up_and_jobs_wait_until_it_is_added_to(
    batch: BatchClient, emulator: Emulator
) -> None:
    """NON_REPLENISHABLE: "the number of consumed resources is subtracted from both the total
    and available quantities and won't be added back whether the job moves to the SUCCEEDED or
    FAILED state" (resource-aware-scheduling-how-to-check-resources-check-resources.html). A job
    needing more than is left waits in RUNNABLE, and runs once UpdateConsumableResource ADDs
    enough (API reference UpdateConsumableResource: ADD "Increases the quantity")."""
    one_queue(batch, emulator)
    batch.create_consumable_resource(
        consumableResourceName="credits", totalQuantity=3, resourceType="NON_REPLENISHABLE"
    )
    register(batch, "jd", claims(("credits", 1)))
    emulator.set_scenario(rules=[{"jobName": "spender", "durationSeconds": 3600}])

    spender = submit(batch, "spender")
    wait_job_status(batch, spender, "RUNNING")
    assert quantities(batch, "credits") == (3, 1, 2)
    batch.terminate_job(jobId=spender, reason="done spending")
    wait_job_status(batch, spender, "FAILED")
    assert quantities(batch, "credits") == (2, 0, 2)
    wait_finished(batch, submit(batch, "one"))
    assert quantities(batch, "credits") == (1, 0, 1)

    greedy = submit(batch, "greedy", consumableResourcePropertiesOverride=claims(("credits", 2)))
    assert waiting(batch, greedy)["statusReason"] == reason("credits", 2, 1)
    batch.update_consumable_resource(consumableResource="credits", operation="ADD", quantity=1)

    assert wait_finished(batch, greedy)[0]["status"] == "SUCCEEDED"
    assert quantities(batch, "credits") == (0, 0, 0)


# --- the override, and what a job may claim ------------------------------------------------------


def test_submit_override_replaces_the_definitions_claim(
    batch: BatchClient, emulator: Emulator
) -> None:
    """consumableResourcePropertiesOverride: "An object that contains overrides for the
    consumable resources of a job" (API reference SubmitJob): the job claims the override's
    list, not the definition's. A job that can't get its resources does not hold up the jobs
    behind it (the emulator's queues let a job that does not fit be passed, as for vCPUs)."""
    one_queue(batch, emulator)
    batch.create_consumable_resource(consumableResourceName="gpu-licences", totalQuantity=0)
    batch.create_consumable_resource(consumableResourceName="cpu-licences", totalQuantity=1)
    register(batch, "jd", claims(("gpu-licences", 1)))

    plain = submit(batch, "plain")
    overridden = submit(
        batch,
        "overridden",
        consumableResourcePropertiesOverride=claims((f"{ARN_PREFIX}cpu-licences", 1)),
    )

    assert wait_finished(batch, overridden)[0]["status"] == "SUCCEEDED"
    assert waiting(batch, plain)["statusReason"] == reason("gpu-licences", 1, 0)
    shown = [
        job.get("consumableResourceProperties") for job in describe_jobs(batch, plain, overridden)
    ]
    assert shown == [claims(("gpu-licences", 1)), claims((f"{ARN_PREFIX}cpu-licences", 1))]
    assert listed(batch, "gpu-licences") == ["plain"]
    assert listed(batch, "cpu-licences") == ["overridden"]


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (claims(("missing", 1)), "Consumable resource missing does not exist"),
        (claims((f"{ARN_PREFIX}missing", 1)), f"Consumable resource {ARN_PREFIX}missing does"),
        (claims(("licenses", 0)), "quantity of consumable resource licenses must be at least 1"),
        (claims(*[("licenses", 1)] * 6), "A job can require at most 5 consumable resources"),
        ({"consumableResourceList": [{"quantity": 1}]}, "consumableResource is required"),
    ],
    ids=["unknown-name", "unknown-arn", "quantity-0", "six-resources", "no-resource"],
)
def test_claims_of_unknown_resources_or_below_one_are_refused_at_register_and_submit(
    batch: BatchClient, emulator: Emulator, properties: dict[str, Any], message: str
) -> None:
    """ "When you register a job you can specify the name of one or more resources you created
    (consumableResource) and the quantity of that resource each instance of the job requires
    (quantity)"; "You can specify up to 5 resources for each job you define"
    (resource-aware-scheduling-how-to-for-jobs.html). The wording of the rejections is
    assumed."""
    one_queue(batch, emulator)
    batch.create_consumable_resource(consumableResourceName="licenses", totalQuantity=5)
    register(batch, "jd", None)

    at_register = client_error(lambda: register(batch, "claims", properties))
    at_submit = client_error(
        lambda: submit(batch, "job", consumableResourcePropertiesOverride=properties)
    )

    for error in (at_register, at_submit):
        assert_client_exception(error)
        assert message in error.message
    assert batch.describe_job_definitions(jobDefinitionName="claims")["jobDefinitions"] == []
    assert (
        batch.list_jobs(jobQueue="q", filters=[{"name": "JOB_NAME", "values": ["*"]}])[
            "jobSummaryList"
        ]
        == []
    )


def test_each_array_child_claims_the_quantity_on_its_own(
    batch: BatchClient, emulator: Emulator
) -> None:
    """ "the quantity of that resource each instance of the job requires"
    (resource-aware-scheduling-how-to-for-jobs.html); resource-aware scheduling "can be used
    with Array jobs" (resource-aware-scheduling.html). Each child runs, and claims, on its own,
    so with one unit they run one at a time; ListJobsByConsumableResource lists the children
    (the parent never runs; assumed)."""
    one_queue(batch, emulator)
    batch.create_consumable_resource(consumableResourceName="seat", totalQuantity=1)
    register(batch, "jd", claims(("seat", 1)))
    emulator.set_scenario(rules=[{"jobName": "array", "durationSeconds": 2}])

    parent = submit(batch, "array", arrayProperties={"size": 3})
    children = [f"{parent}:{index}" for index in range(3)]
    most_at_once = 0

    def all_finished() -> bool:
        nonlocal most_at_once
        jobs = batch.describe_jobs(jobs=children)["jobs"]
        most_at_once = max(most_at_once, sum(job["status"] in STARTED for job in jobs))
        return len(jobs) == 3 and all(job["status"] in FINISHED for job in jobs)

    wait_until(all_finished, "every child finished", timeout=20)

    assert most_at_once == 1
    assert wait_finished(batch, parent)[0]["status"] == "SUCCEEDED"
    assert listed(batch, "seat") == ["array"] * 3


# --- deleting a resource jobs claim ----------------------------------------------------------


def test_deleting_a_claimed_resource_lets_running_jobs_finish_and_waiting_ones_wait(
    batch: BatchClient, emulator: Emulator
) -> None:
    """ "You can delete a consumable resource at any time, even when the jobs that require the
    resource are still running." and "If you delete a consumable resource and re-create it with
    the same name, it is considered to be the same resource"
    (resource-aware-scheduling-how-to-delete.html). What the jobs that claim it do meanwhile is
    not documented; the emulator's choice (assumed): running ones finish, waiting ones wait
    until a resource of that name exists again, which starts with nothing in use."""
    one_queue(batch, emulator)
    batch.create_consumable_resource(consumableResourceName="seat", totalQuantity=1)
    register(batch, "jd", claims(("seat", 1)))
    emulator.set_scenario(rules=[{"jobName": "holder", "durationSeconds": 3600}])
    holder = submit(batch, "holder")
    wait_job_status(batch, holder, "RUNNING")
    queued = submit(batch, "queued")
    waiting(batch, queued)

    batch.delete_consumable_resource(consumableResource="seat")

    wait_until(
        lambda: describe_jobs(batch, queued)[0].get("statusReason") == reason("seat", 1, 0),
        "the queued job waits for the deleted resource",
    )
    assert describe_jobs(batch, holder)[0]["status"] == "RUNNING"
    batch.create_consumable_resource(consumableResourceName="seat", totalQuantity=1)
    assert wait_finished(batch, queued)[0]["status"] == "SUCCEEDED"
    batch.terminate_job(jobId=holder, reason="enough")
    wait_job_status(batch, holder, "FAILED")
    assert quantities(batch, "seat") == (1, 0, 1)
