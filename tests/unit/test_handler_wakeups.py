"""Annotation requests wake an object's loop at once: kopf's diff leaves out annotations under
our own prefix, so these event handlers are what notices a new trigger or rerun value."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from batchops.config import OperatorConfig
from batchops.handlers import cron, pipeline
from batchops.handlers.context import OperatorContext

# kopf's decorator types a handler as its whole keyword protocol; these tests pass only the
# keywords the handler reads.
cron_pipeline_triggered: Callable[..., object] = cron.cron_pipeline_triggered
pipeline_request_annotated: Callable[..., object] = pipeline.pipeline_request_annotated


def memo_with_waiting_loop(kind: str) -> tuple[SimpleNamespace, OperatorContext]:
    context = OperatorContext(OperatorConfig())
    context.wakeups.event((kind, "ns", "obj"))  # the loop of ns/obj is waiting
    return SimpleNamespace(context=context), context


def woken(context: OperatorContext, kind: str) -> bool:
    return context.wakeups.event((kind, "ns", "obj")).is_set()


def test_new_trigger_value_wakes_the_cron_loop() -> None:
    memo, context = memo_with_waiting_loop("CronPipeline")
    cron_pipeline_triggered(
        namespace="ns",
        name="obj",
        annotations={"batchops.io/trigger": "2"},
        status={"lastTrigger": "1"},
        memo=memo,
    )
    assert woken(context, "CronPipeline")


def test_trigger_already_acted_on_leaves_the_cron_loop_asleep() -> None:
    memo, context = memo_with_waiting_loop("CronPipeline")
    cron_pipeline_triggered(
        namespace="ns",
        name="obj",
        annotations={"batchops.io/trigger": "1"},
        status={"lastTrigger": "1"},
        memo=memo,
    )
    assert not woken(context, "CronPipeline")


def test_new_rerun_value_wakes_the_pipeline_loop() -> None:
    memo, context = memo_with_waiting_loop("BatchPipeline")
    pipeline_request_annotated(
        namespace="ns",
        name="obj",
        annotations={"batchops.io/rerun": "again"},
        status={"rerunToken": None},
        memo=memo,
    )
    assert woken(context, "BatchPipeline")


def test_status_write_without_a_new_rerun_value_leaves_the_pipeline_loop_asleep() -> None:
    memo, context = memo_with_waiting_loop("BatchPipeline")
    pipeline_request_annotated(
        namespace="ns", name="obj", annotations={}, status={"phase": "Running"}, memo=memo
    )
    assert not woken(context, "BatchPipeline")


def test_new_terminate_value_wakes_the_pipeline_loop() -> None:
    memo, context = memo_with_waiting_loop("BatchPipeline")
    pipeline_request_annotated(
        namespace="ns",
        name="obj",
        annotations={"batchops.io/terminate": "now"},
        status={"terminateToken": None},
        memo=memo,
    )
    assert woken(context, "BatchPipeline")
