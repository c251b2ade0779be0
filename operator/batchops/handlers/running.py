"""Run the operator: kopf's event loop with every batchops handler registered."""

from __future__ import annotations

import asyncio

import kopf

import batchops.handlers  # noqa: F401  (registers the handlers)
from batchops.config import OperatorConfig
from batchops.handlers.context import OperatorContext


def run_operator(config: OperatorConfig) -> None:
    """Block running the operator until SIGINT/SIGTERM."""
    kopf.configure(verbose=config.verbose)
    liveness = f"http://0.0.0.0:{config.liveness_port}/healthz" if config.liveness_port else None
    asyncio.run(
        kopf.operator(
            clusterwide=not config.namespaces,
            namespaces=config.namespaces,
            standalone=config.standalone,
            # Naming a peering makes it mandatory in kopf: only when leader election is on.
            peering_name=None if config.standalone else config.peering_name,
            liveness_endpoint=liveness,
            memo=kopf.Memo(context=OperatorContext(config)),
        )
    )
