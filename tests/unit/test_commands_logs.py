"""`batchops logs --attempt N` picks the N-th attempt's stream the way DescribeJobs reports it:
ended attempts in `attempts[]`, the attempt in progress only in the job's `container`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest

from batchops.aws.batch import BatchApi
from batchops.commands.logs import _attempt_stream, _Step
from batchops.commands.objects import UsageError

STEP = _Step(name="etl", status="RUNNING", job_id="j-1", log_stream=None)


class OneJob:
    """Stands in for BatchApi: DescribeJobs answers with one job."""

    def __init__(self, status: str, ended_streams: Sequence[str], container_stream: str | None):
        self.job: dict[str, Any] = {
            "jobId": "j-1",
            "status": status,
            "attempts": [{"container": {"logStreamName": s}} for s in ended_streams],
            "container": {} if container_stream is None else {"logStreamName": container_stream},
        }

    def describe_jobs(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        return [self.job]


def stream(job: OneJob, attempt: int) -> str:
    return _attempt_stream(cast(BatchApi, job), STEP, attempt)


def test_a_running_first_attempt_is_attempt_1_and_reads_the_containers_stream() -> None:
    assert stream(OneJob("RUNNING", [], "jd/default/t1"), 1) == "jd/default/t1"


def test_ended_attempts_and_the_running_one_each_have_their_own_stream() -> None:
    job = OneJob("RUNNING", ["jd/default/t1"], "jd/default/t2")
    assert [stream(job, 1), stream(job, 2)] == ["jd/default/t1", "jd/default/t2"]
    with pytest.raises(UsageError, match=r"has no attempt 3 \(2 so far\)"):
        stream(job, 3)


def test_an_attempt_still_starting_has_no_stream_even_if_the_container_shows_the_last_one() -> None:
    job = OneJob("STARTING", ["jd/default/t1"], "jd/default/t1")
    with pytest.raises(UsageError, match="attempt 2 is STARTING and has no log stream yet"):
        stream(job, 2)


def test_a_job_waiting_to_retry_has_only_its_ended_attempts() -> None:
    job = OneJob("RUNNABLE", ["jd/default/t1"], "jd/default/t1")
    assert stream(job, 1) == "jd/default/t1"
    with pytest.raises(UsageError, match=r"has no attempt 2 \(1 so far\)"):
        stream(job, 2)


class ForgottenJob:
    """Batch no longer knows the job: asking it is a bug when status has the history."""

    def describe_jobs(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        raise AssertionError("the history in status must be enough")


def test_attempts_come_from_the_steps_history_after_batch_forgot_the_jobs() -> None:
    history = (
        {"jobId": "j-0", "attempt": 1, "logStream": "jd/default/first", "interrupted": True},
        {"jobId": "j-1", "attempt": 1, "resubmission": 1, "logStream": "jd/default/second"},
    )
    step = _Step(name="etl", status="SUCCEEDED", job_id="j-1", log_stream=None, history=history)
    assert _attempt_stream(cast(BatchApi, ForgottenJob()), step, 1) == "jd/default/first"
    assert _attempt_stream(cast(BatchApi, ForgottenJob()), step, 2) == "jd/default/second"
    with pytest.raises(UsageError, match="has no attempt 3 \\(2 so far\\)"):
        _attempt_stream(cast(BatchApi, ForgottenJob()), step, 3)
