"""Run the operator: kopf's event loop with every batchops handler registered."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import kopf

import batchops.handlers  # noqa: F401  (registers the handlers)
from batchops import metrics
from batchops.config import OperatorConfig
from batchops.handlers import watch_stream
from batchops.handlers.context import OperatorContext

IO_THREADS = 16
"""Threads for the short blocking calls (`asyncio.to_thread`): status writes, object reads, job
poll sweeps, SQS receives. Passes have threads of their own (`loops.in_pass_thread`)."""


def run_operator(config: OperatorConfig) -> None:
    """Block running the operator until SIGINT/SIGTERM."""
    kopf.configure(verbose=config.verbose)
    liveness = f"http://0.0.0.0:{config.liveness_port}/healthz" if config.liveness_port else None
    asyncio.run(_operate(config, liveness))


async def _operate(config: OperatorConfig, liveness: str | None) -> None:
    # The default pool (cores + 4) would serialise hundreds of pipelines' status writes behind
    # a handful of slow calls.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="io")
    )
    context = OperatorContext(config)
    watch_stream.install(config.shard, follow_pauses=context.loops.follow)
    if config.metrics_port is not None:
        metrics.serve(config.metrics_port, context.jobs)
    await kopf.operator(
        clusterwide=not config.namespaces,
        namespaces=config.namespaces,
        standalone=config.standalone,
        # Naming a peering makes it mandatory in kopf: only when leader election is on.
        peering_name=None if config.standalone else config.peering_name,
        priority=config.peering_priority,
        liveness_endpoint=liveness,
        memo=kopf.Memo(context=context),
    )
