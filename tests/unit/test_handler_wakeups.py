"""Event handlers wake an object's loop at once on what it has not acted on yet: a new spec
(a metadata.generation the loop has not read) or a new annotation request. kopf computes no
diffs for batchops (handlers/startup.NoDiffBase), so these handlers are what notices both."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import kopf
import pytest

from batchops.config import OperatorConfig
from batchops.handlers import (
    compute,
    consumable,
    cron,
    loops,
    pipeline,
    queue,
    scheduling,
    startup,
)
from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import Loops, ObjectLoop
from batchops.kube.client import KINDS_BY_NAME, PIPELINE
from batchops.model import keys
from batchops.reconcile.common import ObjectSnapshot, PassRecorder
from tests.waits import until

# kopf's decorator types a handler as its whole keyword protocol; these tests pass only the
# keywords the handlers read.
Handler = Callable[..., Coroutine[Any, Any, None]]
cron_pipeline_changed = cast(Handler, cron.cron_pipeline_changed)
pipeline_changed = cast(Handler, pipeline.pipeline_changed)

SPEC_HANDLERS: dict[str, Any] = {
    "BatchComputeEnvironment": compute.compute_environment_changed,
    "BatchJobQueue": queue.job_queue_changed,
    "BatchSchedulingPolicy": scheduling.scheduling_policy_changed,
    "BatchConsumableResource": consumable.consumable_resource_changed,
    "CronPipeline": cron.cron_pipeline_changed,
    "BatchPipeline": pipeline.pipeline_changed,
}
"""The event handler of each kind with a reconcile loop, which wakes it on a new spec."""


@dataclass
class Quiet:
    """A pass that changes nothing and asks for the next one in an hour."""

    status: Mapping[str, Any]
    recorder: PassRecorder
    delay: float = 3600.0


KEY = ("ns", "obj")


def with_a_waiting_loop(
    kind: str, scenario: Callable[[Loops, SimpleNamespace], Awaitable[None]]
) -> None:
    """Run `scenario` beside the host, once the loop of ns/obj (generation 3) has made its first
    pass and sleeps for an hour."""

    async def main() -> None:
        context = OperatorContext(OperatorConfig())
        passes: list[int] = []

        async def reconcile(obj: ObjectSnapshot, _: Any) -> Quiet:
            passes.append(obj.generation)
            return Quiet(obj.status, PassRecorder(obj))

        body = {"metadata": {"namespace": "ns", "name": "obj", "generation": 3}, "status": {}}
        context.loops.observe(
            KINDS_BY_NAME[kind], "ADDED", body, lambda: ObjectLoop(KINDS_BY_NAME[kind], reconcile)
        )
        await until(lambda: context.loops.next_pass_in((kind, *KEY)) is not None and passes)
        await scenario(context.loops, SimpleNamespace(context=context))
        await context.loops.close()

    asyncio.run(main())


def woken(loops: Loops, kind: str) -> bool:
    return loops.next_pass_in((kind, *KEY)) == 0.0


async def deliver(handler: Any, memo: SimpleNamespace, **event: Any) -> None:
    """One watch event, with the keywords every handler may read."""
    kwargs: dict[str, Any] = {
        "namespace": "ns",
        "name": "obj",
        "meta": {"generation": 3},
        "annotations": {},
        "status": {},
        "labels": {},
        "memo": memo,
        keys.QUEUE_REFS.name: {},  # the indexes kopf passes to every handler
        keys.QUEUE_POLICY_REFS.name: {},
    }
    kwargs.update(event)
    kwargs.setdefault("event", {"type": "MODIFIED"})
    await handler(**kwargs)


def annotated(annotations: Mapping[str, str], status: Mapping[str, Any]) -> dict[str, Any]:
    return {"annotations": dict(annotations), "status": dict(status)}


def expect(kind: str, handler: Any, wakes: bool, **event: Any) -> None:
    async def scenario(loops: Loops, memo: SimpleNamespace) -> None:
        assert not woken(loops, kind)
        await deliver(handler, memo, **event)
        assert woken(loops, kind) is wakes

    with_a_waiting_loop(kind, scenario)


@pytest.mark.parametrize("kind", sorted(SPEC_HANDLERS))
def test_new_generation_wakes_the_loop_that_read_an_older_one(kind: str) -> None:
    expect(kind, SPEC_HANDLERS[kind], True, meta={"generation": 4})


@pytest.mark.parametrize("kind", sorted(SPEC_HANDLERS))
def test_status_write_of_the_generation_read_leaves_the_loop_asleep(kind: str) -> None:
    expect(kind, SPEC_HANDLERS[kind], False, meta={"generation": 3}, status={"phase": "Running"})


def test_a_loop_of_an_object_deleted_and_created_again_starts_afresh() -> None:
    async def scenario(loops: Loops, memo: SimpleNamespace) -> None:
        body = {"metadata": {"namespace": "ns", "name": "obj", "generation": 1}}
        loops.observe(PIPELINE, "DELETED", body, lambda: pytest.fail("no loop for a deletion"))
        assert loops.next_pass_in(("BatchPipeline", *KEY)) is None
        made: list[str] = []

        def make() -> ObjectLoop[Any]:
            made.append("new")
            return ObjectLoop(PIPELINE, lambda obj, _: pytest.fail("not run in this test"))

        loops.observe(PIPELINE, "ADDED", body, make)
        assert made == ["new"] and woken(loops, "BatchPipeline")

    with_a_waiting_loop("BatchPipeline", scenario)


def test_kopf_sees_no_change_to_diff() -> None:
    """kopf builds no essence of the body and stores none: no deep copy per event, no
    last-handled-configuration annotation, and so no on.create/on.update cause."""
    storage = startup.NoDiffBase()
    body: Any = {"spec": {"steps": [{"name": "a"}]}, "status": {"phase": "Running"}}
    assert storage.build(body=body) == storage.fetch(body=body) == {}
    patch = kopf.Patch()
    storage.store(body=body, patch=patch, essence=storage.build(body=body))
    assert not patch


def test_new_trigger_value_wakes_the_cron_loop() -> None:
    event = annotated({"batchops.io/trigger": "2"}, {"lastTrigger": "1"})
    expect("CronPipeline", cron_pipeline_changed, True, **event)


def test_trigger_already_acted_on_leaves_the_cron_loop_asleep() -> None:
    event = annotated({"batchops.io/trigger": "1"}, {"lastTrigger": "1"})
    expect("CronPipeline", cron_pipeline_changed, False, **event)


def test_new_rerun_value_wakes_the_pipeline_loop() -> None:
    event = annotated({"batchops.io/rerun": "again"}, {"rerunToken": None})
    expect("BatchPipeline", pipeline_changed, True, **event)


def test_status_write_without_a_new_rerun_value_leaves_the_pipeline_loop_asleep() -> None:
    expect("BatchPipeline", pipeline_changed, False, **annotated({}, {"phase": "Running"}))


def test_new_terminate_value_wakes_the_pipeline_loop() -> None:
    event = annotated({"batchops.io/terminate": "now"}, {"terminateToken": None})
    expect("BatchPipeline", pipeline_changed, True, **event)


def test_a_pass_whose_status_differs_only_by_unset_fields_writes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The API server drops a merge patch's nulls: a status that still says finishedAt: None
    # is what the stored object already says by not having it.
    patches: list[Mapping[str, Any]] = []
    monkeypatch.setattr(loops, "patch_status", lambda kind, ns, name, body: patches.append(body))
    stored = {"phase": "Running", "runId": "r1"}
    obj = ObjectSnapshot.of(
        {"metadata": {"name": "p", "namespace": "n"}, "spec": {}, "status": stored}
    )
    quiet = {**stored, "finishedAt": None, "submittingSince": None, "compacted": None}
    asyncio.run(loops.write_status_if_changed(PIPELINE, obj, quiet))
    assert patches == []
    # Clearing a field the object has is a change, written as a null.
    asyncio.run(loops.write_status_if_changed(PIPELINE, obj, {"phase": "Running", "runId": None}))
    assert patches == [{"phase": "Running", "runId": None}]
