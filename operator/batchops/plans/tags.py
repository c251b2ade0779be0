"""Resource tags: what TagResource / UntagResource must do so AWS shows the desired tags.

Tags are not part of any Update* call in Batch, so every kind diffs them the same way. Keys
starting with `aws:` belong to AWS and are never removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from batchops.model.common import empty_map, frozen_map


@dataclass(frozen=True)
class TagChanges:
    """TagResource / UntagResource work for one resource."""

    to_add: Mapping[str, str] = field(default_factory=empty_map)
    to_remove: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.to_add or self.to_remove)


def diff_tags(desired: Mapping[str, str], observed: Mapping[str, str]) -> TagChanges:
    """Tags to set and keys to remove so that `observed` equals `desired` (aws: keys are AWS's)."""
    return TagChanges(
        to_add=frozen_map({k: v for k, v in desired.items() if observed.get(k) != v}),
        to_remove=tuple(
            sorted(k for k in observed if k not in desired and not k.lower().startswith("aws:"))
        ),
    )
