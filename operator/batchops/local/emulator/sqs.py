"""moto's SQS, made safe for several readers of one queue (the operator's event consumers), and
as fast with a backlog as without.

moto's ReceiveMessage scans a queue's messages and its in-flight set with no lock, while the
server answers each request on a thread of its own. With several readers, two scans could take
the same visible message (SQS gives a message to one reader per visibility timeout), and a scan
iterating the in-flight set while another reader's DeleteMessageBatch changed it failed with
"Set changed size during iteration", a 500 to ReceiveMessage that real SQS never returns.

Each call that reads or changes a queue's messages here holds that queue's own condition (moto's
`_messages_lock`, which SendMessage already takes) for one scan or one change. A long poll
scans, then waits on the condition without holding it (as moto's own loop does), so a 20-second
poll blocks neither other readers nor senders.

moto reads the clock through a datetime round trip (10 us a reading) and reads it for every
message of the queue in each SendMessage (the queue's attributes count visible, in-flight and
delayed messages) and, per message received, in each ReceiveMessage: with 400 messages waiting a
send took 10 ms and a receive of 10 took 500 ms, so a backlog of Batch events slowed its own
delivery. SQS's own latency does not grow with the backlog. The module's clock here reads
`time.time()`, the same instant moto's arithmetic gives (seconds since the epoch, UTC), and the
retention check of a received message reads the retention period, not all the queue's
attributes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import moto.sqs.models as moto_sqs
from moto.core.utils import unix_time as datetime_seconds
from moto.sqs.models import Message, SQSBackend

F = TypeVar("F", bound=Callable[..., Any])

_CHANGES = ("delete_message", "change_message_visibility", "purge_queue")
_INSTALLED = "_batchops_queue_locked"
"""Marks the installed ReceiveMessage, so installing twice wraps nothing twice."""


def _under_queue_lock(method: F) -> F:
    @functools.wraps(method)
    def locked(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        with self.get_queue(queue_name)._messages_lock:
            return method(self, queue_name, *args, **kwargs)

    return locked  # type: ignore[return-value]


def _scans_under_queue_lock(receive: Callable[..., list[Message]]) -> Callable[..., list[Message]]:
    @functools.wraps(receive)
    def receive_message(
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Message]:
        queue = self.get_queue(queue_name)
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            with queue._messages_lock:  # one scan: moto returns at once when told not to wait
                result = receive(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result
            queue.wait_for_messages(min(1.0, remaining))  # type: ignore[arg-type]

    setattr(receive_message, _INSTALLED, True)
    return receive_message


def _seconds(dt: Any = None) -> float:
    return time.time() if dt is None else datetime_seconds(dt)


def _milliseconds(dt: Any = None) -> float:
    return _seconds(dt) * 1000.0


def _retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_seconds = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return retention_seconds + message.sent_timestamp / 1000 > time.time()  # type: ignore[operator]


def patch_moto_sqs() -> None:
    """Make moto's SQS calls that touch one queue's messages take turns, and its clock cheap
    (idempotent)."""
    if getattr(SQSBackend.receive_message, _INSTALLED, False):
        return
    moto_sqs.unix_time = _seconds  # type: ignore[attr-defined]  # the names its functions call
    moto_sqs.unix_time_millis = _milliseconds  # type: ignore[attr-defined]
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign]
    SQSBackend.receive_message = _scans_under_queue_lock(SQSBackend.receive_message)  # type: ignore[method-assign]
    for name in _CHANGES:
        setattr(SQSBackend, name, _under_queue_lock(getattr(SQSBackend, name)))
