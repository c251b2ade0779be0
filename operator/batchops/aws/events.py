"""Batch job state changes from an SQS queue (EventBridge rule "Batch Job State Change" → SQS).

In event mode these replace most DescribeJobs polling: each message carries the job as
DescribeJobs would describe it. A message is deleted only after its job was recorded, so a
consumer that dies in between leaves it to come back after the queue's visibility timeout
(recording it again changes nothing); a lost or reordered event is repaired by the slow
safety-net poll.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from batchops.aws.calls import CALLS, CallCounter, invoke

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef

EVENT_SOURCE = "aws.batch"
EVENT_DETAIL_TYPE = "Batch Job State Change"


def job_of_event(body: str) -> Mapping[str, Any] | None:
    """The job detail of one message body, or None if it is not a Batch job state change."""
    try:
        event = json.loads(body)
    except json.JSONDecodeError:
        return None
    if isinstance(event, dict) and "Message" in event and "source" not in event:
        return job_of_event(str(event["Message"]))  # delivered through SNS
    if not isinstance(event, dict) or event.get("source") != EVENT_SOURCE:
        return None
    if event.get("detail-type") != EVENT_DETAIL_TYPE or not isinstance(event.get("detail"), dict):
        return None
    detail: Mapping[str, Any] = event["detail"]
    return detail


@dataclass(frozen=True)
class EventBatch:
    """What one ReceiveMessage returned: the Batch jobs in it, and every message's receipt
    handle (jobs or not), for `JobEventQueue.delete` once the jobs are recorded."""

    jobs: tuple[Mapping[str, Any], ...]
    receipts: tuple[str, ...]


class JobEventQueue:
    """Long-polls one SQS queue for Batch job state changes."""

    def __init__(self, client: SQSClient, queue_url: str, counter: CallCounter = CALLS) -> None:
        self._client = client
        self._url = queue_url
        self._counter = counter

    def receive(self, wait_seconds: int = 10) -> EventBatch:
        """Up to 10 messages (long poll); none is deleted yet."""
        response = invoke(
            "sqs:ReceiveMessage",
            lambda: self._client.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            ),
            self._counter,
        )
        messages = response.get("Messages", [])
        return EventBatch(
            tuple(job for m in messages if (job := job_of_event(m.get("Body", ""))) is not None),
            tuple(m["ReceiptHandle"] for m in messages),
        )

    def delete(self, batch: EventBatch) -> None:
        """Delete a batch's messages (DeleteMessageBatch is authorized by sqs:DeleteMessage)."""
        if not batch.receipts:
            return
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": receipt} for i, receipt in enumerate(batch.receipts)
        ]
        invoke(
            "sqs:DeleteMessageBatch",
            lambda: self._client.delete_message_batch(QueueUrl=self._url, Entries=entries),
            self._counter,
        )
