"""Passes run on threads of their own: a pass that waits for the SubmitJob quota must not hold
back the short calls (status writes, object reads, poll sweeps) that `asyncio.to_thread` runs."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

from batchops.handlers.loops import PASS_THREADS, in_pass_thread
from batchops.handlers.running import IO_THREADS


def test_passes_blocked_on_the_quota_leave_status_writes_a_thread() -> None:
    quota = threading.Event()  # every pass waits for it, as SubmitJob waits for its token

    def submitting_pass() -> str:
        quota.wait(timeout=30)
        return "submitted"

    def status_write() -> str:
        return "written"

    async def scenario() -> tuple[str, list[str]]:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=IO_THREADS))
        # More blocked passes than either pool has threads.
        passes = [
            asyncio.ensure_future(in_pass_thread(submitting_pass))
            for _ in range(PASS_THREADS + IO_THREADS)
        ]
        try:
            written = await asyncio.wait_for(asyncio.to_thread(status_write), timeout=10)
        finally:
            quota.set()
        return written, await asyncio.gather(*passes)

    written, passed = asyncio.run(scenario())
    assert written == "written"
    assert passed == ["submitted"] * (PASS_THREADS + IO_THREADS)


def test_a_pass_runs_with_the_callers_context_variables() -> None:
    # kopf keeps the object's logger context in context variables, as to_thread would copy.
    current = contextvars.ContextVar("current", default="none")

    async def scenario() -> str:
        current.set("ns/obj")
        return await in_pass_thread(current.get)

    assert asyncio.run(scenario()) == "ns/obj"
