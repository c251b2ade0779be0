"""Every AWS call goes through `invoke`: errors translated, calls counted per outcome.

The counters are in-process and thread-safe; the metrics module reads their snapshots. A call
is counted once in `CALLS` however many HTTP attempts botocore's adaptive retries made inside
it; `THROTTLED_ATTEMPTS` counts every throttled HTTP attempt, including those botocore retried
successfully, because those are the ones that say the operator is pushing AWS too hard.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from batchops.aws.errors import Throttled, is_throttling, translate

T = TypeVar("T")

Outcome = Literal["success", "throttled", "error"]


class CallCounter:
    """AWS calls per (operation, outcome)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, Outcome]] = Counter()

    def add(self, operation: str, outcome: Outcome) -> None:
        """Count one call."""
        with self._lock:
            self._counts[(operation, outcome)] += 1

    def snapshot(self) -> dict[tuple[str, Outcome], int]:
        """A copy of the counts, keyed by (operation, outcome)."""
        with self._lock:
            return dict(self._counts)


CALLS = CallCounter()
"""The process-wide counter every API wrapper uses unless given another."""


class AttemptCounter:
    """Throttled HTTP attempts per operation, fed by botocore's `response-received` event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def on_response(self, event_name: str = "", **kwargs: Any) -> None:
        """botocore event handler: count the attempt if AWS answered with throttling."""
        response = kwargs.get("response_dict") or {}
        parsed = kwargs.get("parsed_response") or {}
        code = str(parsed.get("Error", {}).get("Code", ""))
        if is_throttling(code, response.get("status_code")):
            operation = event_name.rsplit(".", 1)[-1]
            with self._lock:
                self._counts[operation] += 1

    def snapshot(self) -> dict[str, int]:
        """A copy of the counts, keyed by operation."""
        with self._lock:
            return dict(self._counts)


THROTTLED_ATTEMPTS = AttemptCounter()
"""Every client `session.client_for` builds reports its throttled attempts here."""


def invoke(operation: str, call: Callable[[], T], counter: CallCounter) -> T:
    """Run one AWS call; count it and raise botocore failures as `AwsError` subclasses."""
    try:
        result = call()
    except (ClientError, BotoCoreError) as exc:
        error = translate(exc, operation)
        counter.add(operation, "throttled" if isinstance(error, Throttled) else "error")
        raise error from exc
    counter.add(operation, "success")
    return result
