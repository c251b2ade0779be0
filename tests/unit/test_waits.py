"""The test helpers that wait: they must fail, not pass, when what they wait for never ends."""

from __future__ import annotations

import threading

import pytest

from tests.waits import WaitTimeout, run_in_threads


def test_run_in_threads_waits_for_every_thread() -> None:
    done: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        with lock:
            done.append(1)

    run_in_threads(work, 5)
    assert len(done) == 5


def test_run_in_threads_fails_when_a_thread_is_still_running() -> None:
    release = threading.Event()
    try:
        with pytest.raises(WaitTimeout, match="3 of 3 threads still running"):
            run_in_threads(release.wait, 3, timeout=0.2)
    finally:
        release.set()
