"""A CronPipeline's `status.usage`: the running total of what its finished runs used.

The runs themselves do not last (history limits prune them, `ttlSecondsAfterFinished` deletes
them), so the total cannot be summed from the runs present; and an operator may restart at any
moment, so it cannot be kept in memory. The design:

- The total is the sum, over every finished run the CronPipeline created, of that run's
  `status.usage` as last seen, and `runs` counts those runs.
- `status.usage.countedRuns` lists the counted runs that still exist, each with the usage the
  total holds for it. A pass adds a finished run that is not listed (`runs` + 1); for a listed
  run whose usage changed since (its last jobs stopped after it finished, or `retry-failed` ran
  steps again and it finished again) it adds the difference; a listed run that is gone leaves the
  list, and what it added stays in the total. A run running again after `retry-failed` keeps
  its entry until it finishes again.
- The total and the list are written in one status patch, so a pass repeated after a crash, or
  the first pass after a restart (which reads the status back), sees exactly what was counted:
  no run is counted twice. The list only holds runs that exist, so it is bounded by the history
  limits plus the active runs, however long the schedule runs.
- The CronPipeline prunes a finished run only once a written status lists it (`prunable`), so
  pruning never removes a run before its usage is in the total. Only a run someone else deletes
  between its end and the CronPipeline's next pass is missed; every change of a run wakes the
  CronPipeline, so that window is one pass long.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from batchops.model.cron import CountedRunEntry, CronUsageEntry
from batchops.model.cron_runs import ChildRun
from batchops.plans.usage import Usage


@dataclass(frozen=True)
class CronUsage:
    """The running total, how many finished runs it holds, and what it holds for each run that
    still exists."""

    total: Usage = field(default_factory=Usage)
    runs: int = 0
    counted: Mapping[str, Usage] = field(default_factory=lambda: MappingProxyType({}))

    def to_status(self) -> CronUsageEntry:
        """`status.usage`: the total's fields, `runs`, and `countedRuns` by name."""
        counted = [
            CountedRunEntry(name=name, usage=self.counted[name].to_status())
            for name in sorted(self.counted)
        ]
        return {**self.total.to_status(), "runs": self.runs, "countedRuns": counted}

    @classmethod
    def from_status(cls, raw: object) -> CronUsage:
        """Read `status.usage` back; nothing counted yet when it is absent or unreadable."""
        total = Usage.from_status(raw)
        if total is None or not isinstance(raw, Mapping):
            return cls()
        runs = raw.get("runs")
        counted: dict[str, Usage] = {}
        listed = raw.get("countedRuns")
        for item in listed if isinstance(listed, Sequence) else ():
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                continue
            counted[item["name"]] = Usage.from_status(item.get("usage")) or Usage()
        return cls(
            total,
            runs if isinstance(runs, int) and not isinstance(runs, bool) else len(counted),
            MappingProxyType(counted),
        )


def accumulate_usage(previous: CronUsage, children: Sequence[ChildRun]) -> CronUsage:
    """Fold the runs present into the running total (see the module docstring)."""
    total, runs = previous.total, previous.runs
    counted: dict[str, Usage] = {}
    for child in children:
        was = previous.counted.get(child.name)
        if child.active:
            if was is not None:
                counted[child.name] = was  # running again after retry-failed
            continue
        now = Usage.from_status(child.usage) or Usage()
        if was is None:
            total, runs = total + now, runs + 1
        else:
            total += now - was
        counted[child.name] = now
    return CronUsage(total, runs, MappingProxyType(counted))


def prunable(names: Collection[str], counted_before: CronUsage) -> list[str]:
    """Of the runs the history limits would delete, those whose usage a written status already
    holds; the others wait one pass."""
    return [name for name in names if name in counted_before.counted]
