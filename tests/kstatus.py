"""cli-utils' kstatus verdict on a custom resource, in Python, and the Argo CD health it matches.

kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status) is what Flux, kpt and `cli-utils` wait on.
For a kind without built-in rules (every custom resource) `status.Compute` is
`checkGenericProperties` and then a fallback; this module follows, rule for rule,
`pkg/kstatus/status/generic.go` (checkGenericProperties, checkGeneration) and
`pkg/kstatus/status/status.go` (Compute, the Status values and the Reconciling/Stalled condition
types) of kubernetes-sigs/cli-utils:

1. `metadata.deletionTimestamp` set -> Terminating ("Resource scheduled for deletion").
2. `metadata.generation` and `status.observedGeneration` both present and different ->
   InProgress (reason LatestGenerationNotObserved). An absent observedGeneration skips the check.
3. The first condition in `status.conditions` (in list order) that is `Reconciling=True` ->
   InProgress, or `Stalled=True` -> Failed, with that condition's message. (So an object with
   both set is read by whichever comes first: the operator must never set both.)
4. Otherwise (no legacy rules for custom resources): Current ("Resource is current"). kstatus
   does not read `Ready`, `phase` or anything else.

The Argo CD side is the object's shipped health.lua run by gitops-engine's
`health.GetResourceHealth`, which answers "Progressing: Pending deletion" for an object with a
deletionTimestamp before any custom check runs (pkg/health/health.go of argoproj/gitops-engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

KStatus = Literal["InProgress", "Failed", "Current", "Terminating"]
ArgoHealth = Literal["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"]

AGREEING_HEALTH: Final[Mapping[KStatus, frozenset[str]]] = {
    "Current": frozenset({"Healthy", "Suspended"}),
    "InProgress": frozenset({"Progressing"}),
    "Failed": frozenset({"Degraded"}),
    # gitops-engine reports every object with a deletionTimestamp as Progressing.
    "Terminating": frozenset({"Progressing"}),
}
"""The Argo CD health statuses that say the same as each kstatus verdict. kstatus has no
Suspended: a suspended object that needs nothing is Current."""


@dataclass(frozen=True)
class Result:
    """kstatus's `Result`: the status, its message and the standard condition it came from."""

    status: KStatus
    message: str
    reason: str = ""


def _generation(value: object) -> int | None:
    """`unstructured.NestedInt64`: an int64 (JSON numbers decode as int64 or float64; only
    whole numbers count here, and bool is no number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def compute(obj: Mapping[str, object]) -> Result:
    """kstatus's `status.Compute` for a custom resource given as its JSON object."""
    metadata = obj.get("metadata")
    meta: Mapping[str, object] = metadata if isinstance(metadata, Mapping) else {}
    raw_status = obj.get("status")
    status: Mapping[str, object] = raw_status if isinstance(raw_status, Mapping) else {}

    deletion = meta.get("deletionTimestamp")
    if isinstance(deletion, str) and deletion:
        return Result("Terminating", "Resource scheduled for deletion")

    generation = _generation(meta.get("generation"))
    observed = _generation(status.get("observedGeneration"))
    if generation is not None and observed is not None and observed != generation:
        kind = obj.get("kind", "")
        message = f"{kind} generation is {generation}, but latest observed generation is {observed}"
        return Result("InProgress", message, "LatestGenerationNotObserved")

    conditions = status.get("conditions")
    for condition in conditions if isinstance(conditions, list) else []:
        if not isinstance(condition, Mapping) or condition.get("status") != "True":
            continue
        message = str(condition.get("message") or "")
        reason = str(condition.get("reason") or "")
        if condition.get("type") == "Reconciling":
            return Result("InProgress", message, reason)
        if condition.get("type") == "Stalled":
            return Result("Failed", message, reason)

    return Result("Current", "Resource is current")


def agrees(kstatus: KStatus, argo_health: str) -> bool:
    """Whether an Argo CD health status says the same as a kstatus verdict."""
    return argo_health in AGREEING_HEALTH[kstatus]
