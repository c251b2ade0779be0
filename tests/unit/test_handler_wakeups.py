"""Event handlers wake an object's loop at once on what it has not acted on yet: a new spec
(a metadata.generation the loop has not read) or a new annotation request. kopf computes no
diffs for batchops (handlers/startup.NoDiffBase), so these handlers are what notices both."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
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
from batchops.kube.client import PIPELINE
from batchops.model import keys
from batchops.reconcile.common import ObjectSnapshot

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


def memo_with_waiting_loop(kind: str) -> tuple[SimpleNamespace, OperatorContext]:
    context = OperatorContext(OperatorConfig())
    context.wakeups.event((kind, "ns", "obj"))  # the loop of ns/obj is waiting
    return SimpleNamespace(context=context), context


def woken(context: OperatorContext, kind: str) -> bool:
    return context.wakeups.event((kind, "ns", "obj")).is_set()


def deliver(handler: Any, memo: SimpleNamespace, **event: Any) -> None:
    """One watch event, with the keywords every handler may read."""
    kwargs: dict[str, Any] = {
        "namespace": "ns",
        "name": "obj",
        "meta": {"generation": 1},
        "annotations": {},
        "status": {},
        "labels": {},
        "memo": memo,
        keys.QUEUE_REFS.name: {},  # the indexes kopf passes to every handler
        keys.QUEUE_POLICY_REFS.name: {},
    }
    kwargs.update(event)
    kwargs.setdefault("event", {"type": "MODIFIED"})
    asyncio.run(handler(**kwargs))


def annotated(annotations: Mapping[str, str], status: Mapping[str, Any]) -> dict[str, Any]:
    return {"annotations": dict(annotations), "status": dict(status)}


@pytest.mark.parametrize("kind", sorted(SPEC_HANDLERS))
def test_new_generation_wakes_the_loop_that_read_an_older_one(kind: str) -> None:
    memo, context = memo_with_waiting_loop(kind)
    context.wakeups.read_generation((kind, "ns", "obj"), 3)
    deliver(SPEC_HANDLERS[kind], memo, meta={"generation": 4})
    assert woken(context, kind)


@pytest.mark.parametrize("kind", sorted(SPEC_HANDLERS))
def test_status_write_of_the_generation_read_leaves_the_loop_asleep(kind: str) -> None:
    memo, context = memo_with_waiting_loop(kind)
    context.wakeups.read_generation((kind, "ns", "obj"), 4)
    deliver(SPEC_HANDLERS[kind], memo, meta={"generation": 4}, status={"phase": "Running"})
    assert not woken(context, kind)


def test_event_before_the_loops_first_read_leaves_it_to_that_read() -> None:
    memo, context = memo_with_waiting_loop("BatchJobQueue")
    deliver(queue.job_queue_changed, memo, meta={"generation": 7})
    assert not woken(context, "BatchJobQueue")


def test_ended_loop_forgets_the_generation_it_read() -> None:
    memo, context = memo_with_waiting_loop("BatchPipeline")
    key = ("BatchPipeline", "ns", "obj")
    context.wakeups.read_generation(key, 1)
    context.wakeups.forget(key)
    context.wakeups.event(key)  # a new loop of a re-created object, not yet read
    deliver(pipeline_changed, memo, meta={"generation": 2})
    assert not woken(context, "BatchPipeline")


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
    memo, context = memo_with_waiting_loop("CronPipeline")
    deliver(
        cron_pipeline_changed, memo, **annotated({"batchops.io/trigger": "2"}, {"lastTrigger": "1"})
    )
    assert woken(context, "CronPipeline")


def test_trigger_already_acted_on_leaves_the_cron_loop_asleep() -> None:
    memo, context = memo_with_waiting_loop("CronPipeline")
    deliver(
        cron_pipeline_changed, memo, **annotated({"batchops.io/trigger": "1"}, {"lastTrigger": "1"})
    )
    assert not woken(context, "CronPipeline")


def test_new_rerun_value_wakes_the_pipeline_loop() -> None:
    memo, context = memo_with_waiting_loop("BatchPipeline")
    deliver(
        pipeline_changed, memo, **annotated({"batchops.io/rerun": "again"}, {"rerunToken": None})
    )
    assert woken(context, "BatchPipeline")


def test_status_write_without_a_new_rerun_value_leaves_the_pipeline_loop_asleep() -> None:
    memo, context = memo_with_waiting_loop("BatchPipeline")
    deliver(pipeline_changed, memo, **annotated({}, {"phase": "Running"}))
    assert not woken(context, "BatchPipeline")


def test_new_terminate_value_wakes_the_pipeline_loop() -> None:
    memo, context = memo_with_waiting_loop("BatchPipeline")
    deliver(
        pipeline_changed,
        memo,
        **annotated({"batchops.io/terminate": "now"}, {"terminateToken": None}),
    )
    assert woken(context, "BatchPipeline")


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
