"""kopf registrations, one module per kind. Importing this package registers every handler."""

from __future__ import annotations

from batchops.handlers import compute, pipeline, queue, startup

__all__ = ["compute", "pipeline", "queue", "startup"]
