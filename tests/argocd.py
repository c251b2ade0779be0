"""Argo CD's health verdict on a batchops object, as an Argo CD controller would compute it.

gitops-engine's `health.GetResourceHealth` (pkg/health/health.go of argoproj/gitops-engine)
answers "Progressing: Pending deletion" for any object with a deletionTimestamp, and otherwise
runs the kind's custom health check: here the shipped
manifests/argocd/resource_customizations/batchops.io/<Kind>/health.lua, in the copy of Argo CD's
Lua sandbox that tests/unit/test_argocd_lua.py builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tests.unit.test_argocd_lua import CUSTOMIZATIONS, run_script


@dataclass(frozen=True)
class Health:
    """An Argo CD health assessment."""

    status: str
    message: str


def health(obj: Mapping[str, object]) -> Health:
    """Argo CD's health of one batchops.io object given as its JSON object."""
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping) and metadata.get("deletionTimestamp"):
        return Health("Progressing", "Pending deletion")
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.split("/", 1)[0]
    script = CUSTOMIZATIONS / group / str(obj.get("kind", "")) / "health.lua"
    result = run_script(script, obj)
    if not isinstance(result, Mapping):
        raise AssertionError(f"{script} returned {result!r}, not a health table")
    return Health(str(result.get("status", "")), str(result.get("message", "")))
