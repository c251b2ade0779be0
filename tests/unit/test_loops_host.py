"""The loop host (`handlers/loops.Loops`): what kopf's daemons did for each object's loop, and
what the host does instead, on a real event loop with kopf's own pause toggles."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from kopf._cogs.aiokits import aiotoggles
from kopf._cogs.clients import watching

from batchops.handlers import loops as loops_module
from batchops.handlers import watch_stream
from batchops.handlers.loops import FAILED_PASS_RETRY_SECONDS, Loops, ObjectLoop
from batchops.kube.client import PIPELINE
from batchops.reconcile.common import ObjectSnapshot, PassRecorder
from tests.waits import until

KEY = ("BatchPipeline", "ns", "run")


@dataclass
class Quiet:
    """A pass that changes nothing and asks for the next one in an hour."""

    status: Mapping[str, Any]
    recorder: PassRecorder
    delay: float = 3600.0


def body(**metadata: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": "run", "generation": 1, **metadata}}


def run(scenario: Callable[[Loops], Awaitable[None]]) -> None:
    async def main() -> None:
        host = Loops()
        try:
            await scenario(host)
        finally:
            await host.close()

    asyncio.run(main())


def test_a_new_object_gets_a_pass_at_once_and_then_one_per_delay() -> None:
    seen: list[Mapping[str, Any]] = []

    async def reconcile(obj: ObjectSnapshot, _: Any) -> Quiet:
        seen.append(obj.body)
        return Quiet(obj.status, PassRecorder(obj))

    async def scenario(host: Loops) -> None:
        labelled = body(labels={"a": "b"})
        host.observe(PIPELINE, "ADDED", labelled, lambda: ObjectLoop(PIPELINE, reconcile))
        await until(lambda: seen and host.next_pass_in(KEY) is not None)
        assert seen[0]["metadata"]["labels"] == {"a": "b"}  # the body, kept and handed back
        assert 3590 < (host.next_pass_in(KEY) or 0) <= 3600

    run(scenario)


def test_the_pass_reads_the_latest_body_the_host_was_given() -> None:
    generations: list[int] = []

    async def reconcile(obj: ObjectSnapshot, _: Any) -> Quiet:
        generations.append(obj.generation)
        return Quiet(obj.status, PassRecorder(obj))

    async def scenario(host: Loops) -> None:
        host.observe(PIPELINE, "ADDED", body(), lambda: ObjectLoop(PIPELINE, reconcile))
        await until(lambda: generations == [1] and host.next_pass_in(KEY))
        host.observe(PIPELINE, "MODIFIED", body(generation=2), lambda: pytest.fail("made once"))
        host.wake_on_new_generation(KEY, 2)
        await until(lambda: generations == [1, 2])

    run(scenario)


def test_a_wake_during_a_pass_runs_the_next_pass_right_after_it() -> None:
    passes = 0
    release = asyncio.Event()

    async def reconcile(obj: ObjectSnapshot, _: Any) -> Quiet:
        nonlocal passes
        passes += 1
        if passes == 1:
            await release.wait()
        return Quiet(obj.status, PassRecorder(obj))

    async def scenario(host: Loops) -> None:
        host.observe(PIPELINE, "ADDED", body(), lambda: ObjectLoop(PIPELINE, reconcile))
        await until(lambda: passes == 1)
        host.wake(KEY)  # a job changed while the pass ran
        assert host.next_pass_in(KEY) is None  # one pass at a time
        release.set()
        await until(lambda: passes == 2)

    run(scenario)


def test_stop_waits_for_the_pass_in_flight_and_no_pass_starts_after_it() -> None:
    release = asyncio.Event()
    ended: list[str] = []
    passes = 0

    async def reconcile(obj: ObjectSnapshot, _: Any) -> Quiet:
        nonlocal passes
        passes += 1
        await release.wait()
        ended.append("pass")
        return Quiet(obj.status, PassRecorder(obj))

    async def scenario(host: Loops) -> None:
        host.observe(PIPELINE, "ADDED", body(), lambda: ObjectLoop(PIPELINE, reconcile))
        await until(lambda: passes == 1)
        deleting = body(deletionTimestamp="2026-12-08T00:00:00Z")
        host.observe(PIPELINE, "MODIFIED", deleting, lambda: pytest.fail("made once"))
        calling: list[str] = []

        async def finalizer() -> None:
            calling.append("stop")
            await host.stop(KEY)
            ended.append("finalizer")

        finalizing = asyncio.ensure_future(finalizer())
        await until(lambda: calling)
        assert ended == []  # the finalizer waits for the pass
        release.set()
        await finalizing
        host.wake(KEY)
        assert ended == ["pass", "finalizer"] and host.next_pass_in(KEY) is None
        host.observe(PIPELINE, "DELETED", deleting, lambda: pytest.fail("made once"))
        assert passes == 1

    run(scenario)


def test_an_object_seen_first_while_being_deleted_gets_no_loop() -> None:
    async def scenario(host: Loops) -> None:
        deleting = body(deletionTimestamp="2026-12-08T00:00:00Z")
        host.observe(PIPELINE, None, deleting, lambda: pytest.fail("no loop"))
        assert host.next_pass_in(KEY) is None
        await host.stop(KEY)  # its finalizer does not wait for anything

    run(scenario)


def test_a_pass_that_raises_is_logged_and_retried_after_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def reconcile(obj: ObjectSnapshot, _: Any) -> Quiet:
        raise RuntimeError("a bug")

    async def scenario(host: Loops) -> None:
        host.observe(PIPELINE, "ADDED", body(), lambda: ObjectLoop(PIPELINE, reconcile))
        await until(lambda: host.next_pass_in(KEY))
        assert (host.next_pass_in(KEY) or 0) > FAILED_PASS_RETRY_SECONDS - 10

    with caplog.at_level(logging.ERROR, logger=loops_module.__name__):
        run(scenario)
    failure = next(r for r in caplog.records if "pass failed" in r.getMessage())
    assert failure.exc_info is not None and "a bug" in str(failure.exc_info[1])


def test_pausing_ends_every_loop_and_starts_none_until_kopf_resumes() -> None:
    ended: list[str] = []

    async def reconcile(obj: ObjectSnapshot, _: Any) -> Quiet:
        return Quiet(obj.status, PassRecorder(obj))

    def make() -> ObjectLoop[Quiet]:
        return ObjectLoop(PIPELINE, reconcile, on_end=lambda: ended.append("untracked"))

    async def scenario(host: Loops) -> None:
        paused = aiotoggles.ToggleSet(any)  # kopf's own: peering turns a toggle on
        conflict = await paused.make_toggle(False, name="a peer with a higher priority")
        host.follow(paused)
        host.observe(PIPELINE, "ADDED", body(), make)
        await until(lambda: host.next_pass_in(KEY))
        await conflict.turn_to(True)
        await until(lambda: ended == ["untracked"] and host.paused)
        host.observe(PIPELINE, "MODIFIED", body(), make)  # a late event of the old watch
        assert host.next_pass_in(KEY) is None
        await conflict.turn_to(False)
        await until(lambda: not host.paused)
        host.observe(PIPELINE, None, body(), make)  # kopf lists the objects again
        await until(lambda: host.next_pass_in(KEY))

    run(scenario)


def test_kopfs_pause_toggles_reach_the_host_through_the_watch_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fake_watch(**kwargs: Any) -> AsyncIterator[Any]:
        yield {"type": "ADDED", "object": {"metadata": {"name": "p"}}}

    handed: list[object] = []
    monkeypatch.setattr(watching, "infinite_watch", fake_watch)
    watch_stream.install(follow_pauses=handed.append)
    toggles = object()

    async def consume() -> None:
        installed: Any = watching.infinite_watch
        async for _ in installed(resource="r", operator_paused=toggles):
            pass

    asyncio.run(consume())
    assert handed == [toggles]
