"""Building `status.conditions` the Kubernetes way.

A merge patch replaces lists wholesale, so the whole conditions list is always rebuilt here, in
one place: conditions not mentioned are kept, and `lastTransitionTime` moves only when a
condition's status flips.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from batchops.model.common import Condition, ConditionDict, ConditionStatus, FieldError

# kstatus reads these: Reconciling (work in progress) and Stalled (a human must act) are
# "abnormal-true" conditions next to the positive Ready / Complete.
READY = "Ready"
SYNCED = "Synced"
RECONCILING = "Reconciling"
STALLED = "Stalled"
COMPLETE = "Complete"
FAILED = "Failed"


def condition(
    type_: str,
    status: bool | ConditionStatus,
    reason: str,
    message: str,
    generation: int,
    now: datetime,
) -> Condition:
    """A condition observed now for the given generation (`status` may be a bool)."""
    if isinstance(status, bool):
        status = "True" if status else "False"
    return Condition(type_, status, reason, message, now, generation)


def _existing(raw: Iterable[Mapping[str, object]]) -> dict[str, Condition]:
    parsed: dict[str, Condition] = {}
    for item in raw:
        try:
            entry = Condition.from_status(item)
        except FieldError:
            continue  # a condition someone else wrote badly is replaced, not fatal
        parsed[entry.type] = entry
    return parsed


def merge_conditions(
    existing: Iterable[Mapping[str, object]] | None, updates: Sequence[Condition]
) -> list[ConditionDict]:
    """The full new conditions list: `updates` replace entries of the same type, keeping the
    old `lastTransitionTime` when the status did not change; other entries stay as they were."""
    merged = _existing(existing or [])
    for update in updates:
        previous = merged.get(update.type)
        if previous is not None and previous.status == update.status:
            update = Condition(
                update.type,
                update.status,
                update.reason,
                update.message,
                previous.last_transition_time,
                update.observed_generation,
            )
        merged[update.type] = update
    return [c.to_status() for c in merged.values()]


def conditions_equal(a: Sequence[Mapping[str, object]], b: Sequence[Mapping[str, object]]) -> bool:
    """Whether two conditions lists say the same (order-insensitive), to skip no-op patches."""

    def key(items: Sequence[Mapping[str, object]]) -> list[tuple[str, ...]]:
        return sorted(tuple(str(item.get(k)) for k in sorted(item)) for item in items)

    return key(a) == key(b)
