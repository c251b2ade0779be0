"""Waiting for conditions in tests: poll until true or fail with what was last seen."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold within the timeout."""


def wait_for(
    probe: Callable[[], T | None],
    timeout: float = 30.0,
    interval: float = 0.1,
    message: str = "condition",
) -> T:
    """Call `probe` until it returns something truthy and return that; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {message}; last: {last!r}")
        time.sleep(interval)  # the poll interval of a condition wait


async def until(
    probe: Callable[[], T | None],
    within: float = 10.0,
    interval: float = 0.01,
    message: str = "condition",
) -> T:
    """`wait_for` on a running event loop: poll `probe` between the loop's other work until it
    returns something truthy and return that; fail after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        last = probe()
        if last:
            return last
        if loop.time() >= deadline:
            raise WaitTimeout(f"timed out after {within}s waiting for {message}; last: {last!r}")
        await asyncio.sleep(interval)  # the poll interval of a condition wait


def run_in_threads(target: Callable[[], object], count: int, timeout: float = 30.0) -> None:
    """Run `target` in `count` threads at once and wait for all of them; fail if one is still
    running after `timeout` s (a test that asserted on what unfinished threads had collected
    so far would pass or fail by chance)."""
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    running = sum(1 for thread in threads if thread.is_alive())
    if running:
        raise WaitTimeout(f"{running} of {count} threads still running after {timeout:g}s")
