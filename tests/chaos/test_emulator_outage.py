"""The emulator outage the chaos suite relies on: refused connections, state kept, jobs going on."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from batchops.local.emulator import Emulator
from tests.conftest import REGION
from tests.emulator.waits import (
    create_ce,
    create_queue,
    default_account,
    ec2_resources,
    register,
    wait_job_status,
)


def impatient_batch(emulator: Emulator) -> Any:
    """A Batch client that tries each call once, so a refused connection surfaces at once."""
    return boto3.client(
        "batch",
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_outage_refuses_connections_and_jobs_finish_behind_it(chaos_emulator: Emulator) -> None:
    batch = impatient_batch(chaos_emulator)
    create_ce(batch, "ce", ec2_resources(default_account(chaos_emulator)))
    create_queue(batch, "q", "ce")
    register(batch, "d")
    job_id = batch.submit_job(jobName="j", jobQueue="q", jobDefinition="d")["jobId"]

    chaos_emulator.take_down()
    assert chaos_emulator.is_down
    with pytest.raises(EndpointConnectionError):
        batch.describe_jobs(jobs=[job_id])
    chaos_emulator.bring_back()

    wait_job_status(batch, job_id, "SUCCEEDED")
    assert [q["jobQueueName"] for q in batch.describe_job_queues()["jobQueues"]] == ["q"]


def test_injected_faults_are_counted_per_operation_and_kind(chaos_emulator: Emulator) -> None:
    batch = impatient_batch(chaos_emulator)
    chaos_emulator.set_faults(operations={"DescribeJobQueues": {"throttleRate": 1.0}})
    for _ in range(3):
        with pytest.raises(ClientError):
            batch.describe_job_queues()
    chaos_emulator.set_faults(operations={"*": {"errorRate": 1.0}})
    with pytest.raises(ClientError):
        batch.list_jobs(jobQueue="q")
    assert chaos_emulator.injected_faults() == {
        "DescribeJobQueues": {"throttled": 3},
        "ListJobs": {"serverError": 1},
    }
    assert chaos_emulator.counters()["DescribeJobQueues"] == 3
