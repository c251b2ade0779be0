"""kopf registrations, one module per kind. Importing this package registers every handler."""

from __future__ import annotations

from batchops.handlers import (
    account,
    compute,
    consumable,
    cron,
    pipeline,
    queue,
    scheduling,
    startup,
)

__all__ = ["account", "compute", "consumable", "cron", "pipeline", "queue", "scheduling", "startup"]
