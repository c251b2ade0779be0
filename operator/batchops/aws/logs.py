"""Reading a job's CloudWatch Logs stream, page by page, for `batchops logs`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from batchops.aws.calls import CALLS, CallCounter, invoke

if TYPE_CHECKING:
    from mypy_boto3_logs.client import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import GetLogEventsRequestTypeDef

BATCH_LOG_GROUP = "/aws/batch/job"
"""Where Batch writes container output unless a job definition names another group."""


@dataclass(frozen=True)
class LogLine:
    """One log event."""

    timestamp_ms: int
    message: str


@dataclass(frozen=True)
class LogPage:
    """One GetLogEvents answer."""

    lines: tuple[LogLine, ...]
    next_token: str
    """Pass back to read the lines written after this page (following the stream)."""
    at_end: bool
    """True when nothing newer exists yet (AWS handed back the token it was given)."""


class LogsApi:
    """One region's CloudWatch Logs client, translated and counted like `BatchApi`."""

    def __init__(self, client: CloudWatchLogsClient, counter: CallCounter = CALLS) -> None:
        self._client = client
        self._counter = counter

    def get_log_lines(
        self,
        group: str,
        stream: str,
        start_from_head: bool = True,
        next_token: str | None = None,
    ) -> LogPage:
        """One page of a stream: from the start (or the newest lines when `start_from_head` is
        False), or after `next_token`. A stream not written yet raises NotFound."""
        request: GetLogEventsRequestTypeDef = {
            "logGroupName": group,
            "logStreamName": stream,
            # AWS requires startFromHead with a forward token, the only kind handed out here.
            "startFromHead": start_from_head or next_token is not None,
        }
        if next_token is not None:
            request["nextToken"] = next_token
        response = invoke(
            "GetLogEvents", lambda: self._client.get_log_events(**request), self._counter
        )
        token = response["nextForwardToken"]
        return LogPage(
            lines=tuple(
                LogLine(event.get("timestamp", 0), event.get("message", ""))
                for event in response["events"]
            ),
            next_token=token,
            at_end=next_token is not None and token == next_token,
        )
