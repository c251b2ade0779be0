"""The test helpers that wait: they must fail, not pass, when what they wait for never ends."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.waits import WaitTimeout, run_in_threads, until


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


def test_until_returns_what_the_probe_found_once_the_loop_made_it_true() -> None:
    async def main() -> str:
        seen: list[str] = []
        asyncio.get_running_loop().call_later(0.05, seen.append, "done")
        return await until(lambda: seen[0] if seen else None)

    assert asyncio.run(main()) == "done"


def test_until_fails_when_the_probe_never_holds() -> None:
    async def main() -> None:
        await until(lambda: None, within=0.05, message="nothing")

    with pytest.raises(WaitTimeout, match="nothing"):
        asyncio.run(main())
