"""Where jobs leave traces: CloudWatch Logs and EventBridge (moto's backends in this process).

Job output goes to the log group /aws/batch/job, stream `<jobDefinitionName>/default/<task id>`,
one stream per attempt, as real Batch names them.

Job state changes are published as EventBridge "Batch Job State Change" events (source
`aws.batch`, detail shaped like DescribeJobs' job) on the default event bus, so a real
`events.put_rule` + `events.put_targets` configuration decides where they go; a rule with an SQS
target (for example the pattern {"source": ["aws.batch"]}) delivers them to that queue, as in
AWS. No rule, no event work.

A RUNNABLE job that blocks its queue (scheduler.py: a MISCONFIGURATION: or CAPACITY: statusReason)
is published as a "Batch Job Queue Blocked" event: source `aws.batch`, resources the job's and
the queue's ARNs, detail shaped like DescribeJobs' job with that statusReason, as the user guide's
example shows (https://docs.aws.amazon.com/batch/latest/userguide/batch-job-queue-blocked-events.html).
One event each time a job's blocking reason appears or changes.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

import jsonpath_ng.ext
import jsonpath_ng.ext.parser
from moto.events.models import events_backends
from moto.logs.models import logs_backends

from batchops.local.emulator.account import BATCH_LOG_GROUP, Partition, current
from batchops.local.emulator.wire import JsonObject

# moto delivers an event to an SQS target through EventTemplateParser.parse, which imports
# `jsonpath_ng.ext.parse` on every call and builds a yacc parser for each of the 8 paths of its
# default input template: 80% of a publish (7-15 ms an event). Every job transition is published
# one after the other on the timer thread, so 20 jobs starting together backed their RUNNING
# events up by over a second. A parsed path is immutable: parse each path once.
# (moto reads `jsonpath_ng.ext.parse` at each call: replacing that name is enough.)
jsonpath_ng.ext.parse = functools.lru_cache(maxsize=128)(jsonpath_ng.ext.parser.parse)  # type: ignore[attr-defined]


class JobLogs:
    """Writes job output lines into CloudWatch Logs."""

    def __init__(self, partition: Partition | None = None) -> None:
        # moto's log streams are not thread-safe; the timer thread and process readers both write.
        self._lock = threading.Lock()
        # Process readers are threads of their own: the account is fixed here, not read there.
        self._partition = partition

    def write(self, stream: str, lines: list[tuple[int, str]]) -> None:
        """Append (timestamp ms, message) lines to a stream of /aws/batch/job, creating it."""
        partition = self._partition or current()
        backend = logs_backends[partition.account_id][partition.region]
        with self._lock:
            backend.ensure_log_group(BATCH_LOG_GROUP)
            backend.ensure_log_stream(BATCH_LOG_GROUP, stream)
            if lines:
                backend.put_log_events(
                    BATCH_LOG_GROUP,
                    stream,
                    [{"timestamp": ts, "message": message} for ts, message in lines],
                )


def events_wanted() -> bool:
    """Whether any EventBridge rule exists on the default bus (else events are not built)."""
    bus = _events().event_buses.get("default")
    return bool(bus and bus.rules)


def publish_job_state_change(detail: JsonObject) -> None:
    """Put one "Batch Job State Change" event on the default bus (its rules route it)."""
    _events().put_events(
        [
            {
                "Source": "aws.batch",
                "DetailType": "Batch Job State Change",
                "Detail": json.dumps(detail),
                "Resources": [detail["jobArn"]],
            }
        ]
    )


def publish_job_queue_blocked(detail: JsonObject) -> None:
    """Put one "Batch Job Queue Blocked" event (a RUNNABLE job blocking its queue) on the
    default bus."""
    _events().put_events(
        [
            {
                "Source": "aws.batch",
                "DetailType": "Batch Job Queue Blocked",
                "Detail": json.dumps(detail),
                "Resources": [detail["jobArn"], detail["jobQueue"]],
            }
        ]
    )


def _events() -> Any:
    partition = current()
    return events_backends[partition.account_id][partition.region]
