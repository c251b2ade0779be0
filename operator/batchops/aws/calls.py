"""Every AWS call goes through `invoke`: errors translated, calls counted per outcome.

The counter is in-process and thread-safe; the metrics module reads `CALLS.snapshot()`. A call
is counted once however many HTTP attempts botocore's adaptive retries made inside it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Literal, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from batchops.aws.errors import Throttled, translate

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
