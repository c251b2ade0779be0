"""Where jobs leave traces: CloudWatch Logs and EventBridge (moto's backends in this process).

Job output goes to the log group /aws/batch/job, stream `<jobDefinitionName>/default/<task id>`,
one stream per attempt, as real Batch names them.

Job state changes are published as EventBridge "Batch Job State Change" events (source
`aws.batch`, detail shaped like DescribeJobs' job) on the default event bus, so a real
`events.put_rule` + `events.put_targets` configuration decides where they go; a rule with an SQS
target (for example the pattern {"source": ["aws.batch"]}) delivers them to that queue, as in
AWS. No rule, no event work.
"""

from __future__ import annotations

import json
import threading

from moto.events.models import events_backends
from moto.logs.models import logs_backends

from batchops.local.emulator.account import ACCOUNT_ID, BATCH_LOG_GROUP, REGION
from batchops.local.emulator.wire import JsonObject


class JobLogs:
    """Writes job output lines into CloudWatch Logs."""

    def __init__(self) -> None:
        # moto's log streams are not thread-safe; the timer thread and process readers both write.
        self._lock = threading.Lock()

    def write(self, stream: str, lines: list[tuple[int, str]]) -> None:
        """Append (timestamp ms, message) lines to a stream of /aws/batch/job, creating it."""
        backend = logs_backends[ACCOUNT_ID][REGION]
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
    bus = events_backends[ACCOUNT_ID][REGION].event_buses.get("default")
    return bool(bus and bus.rules)


def publish_job_state_change(detail: JsonObject) -> None:
    """Put one "Batch Job State Change" event on the default bus (its rules route it)."""
    events_backends[ACCOUNT_ID][REGION].put_events(
        [
            {
                "Source": "aws.batch",
                "DetailType": "Batch Job State Change",
                "Detail": json.dumps(detail),
                "Resources": [detail["jobArn"]],
            }
        ]
    )
