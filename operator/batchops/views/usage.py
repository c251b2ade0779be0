"""What pipelines used, for `batchops usage`: one row per BatchPipeline a person created and one per
CronPipeline (its runs together), from the objects' status alone.

Status is all there is after Batch forgot the jobs, and it is what platform teams are asked
about: how often a pipeline ran, how often it worked, how long it took, what it reserved, how
much of its steps' time went to waiting for capacity, and, given a price table, what that cost.

A run belongs to the window (and to a day) by when it started; only finished runs count, and
the rows say how many are still active. Durations are `finishedAt - startedAt`; percentiles are
nearest-rank. The queue-wait share is the steps' summed queue waits over their summed wall time,
where a step's wall time is its queue wait plus its attempts' run time. Pure: the clock is a
parameter and rendering returns text.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, Literal

from batchops.model.attempts import AttemptRecord
from batchops.model.common import format_time, parse_time
from batchops.model.keys import creating_cron
from batchops.model.observed import FINISHED_PHASES
from batchops.plans.run_status import human_duration
from batchops.plans.usage import Usage

RowKind = Literal["BatchPipeline", "CronPipeline"]
FORMATS: Final = ("table", "json", "csv")
_SECONDS_PER_HOUR: Final = 3600.0


# --- reading the objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFacts:
    """One run, as its BatchPipeline's status tells it; `owner` is the row it belongs to (the
    pipeline itself, or the CronPipeline that created it)."""

    namespace: str
    owner: str
    owner_kind: RowKind
    name: str
    phase: str | None
    started_at: datetime | None
    finished_at: datetime | None
    usage: Usage = field(default_factory=Usage)
    queue_wait_seconds: float = 0.0
    step_seconds: float = 0.0
    """Summed over steps: queue wait plus the attempts' run time."""

    @property
    def finished(self) -> bool:
        """The run has a final phase."""
        return self.phase in FINISHED_PHASES

    @property
    def duration_seconds(self) -> float | None:
        """Its wall time, once finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


@dataclass(frozen=True)
class CronFacts:
    """A CronPipeline: its name and the running total its status keeps (pruned runs included)."""

    namespace: str
    name: str
    total: Usage | None = None
    total_runs: int | None = None


def run_facts(obj: Mapping[str, object]) -> RunFacts:
    """A BatchPipeline object (as the API returns it) as one run."""
    meta = _mapping(obj.get("metadata"))
    status = _mapping(obj.get("status"))
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    labels = {str(k): str(v) for k, v in _mapping(meta.get("labels")).items()}
    cron = creating_cron(labels) or _cron_owner(meta.get("ownerReferences"))
    waits = 0.0
    steps = 0.0
    raw_steps = status.get("steps")
    for raw in raw_steps if isinstance(raw_steps, list) else []:
        step = _mapping(raw)
        wait = _number(step.get("queueWaitSeconds"))
        waits += wait
        steps += wait + _run_seconds(step)
    phase = status.get("phase")
    return RunFacts(
        namespace=namespace,
        owner=cron or name,
        owner_kind="CronPipeline" if cron else "BatchPipeline",
        name=name,
        phase=phase if isinstance(phase, str) else None,
        started_at=_moment(status.get("startedAt")) or _moment(meta.get("creationTimestamp")),
        finished_at=_moment(status.get("finishedAt")),
        usage=Usage.from_status(status.get("usage")) or Usage(),
        queue_wait_seconds=waits,
        step_seconds=steps,
    )


def cron_facts(obj: Mapping[str, object]) -> CronFacts:
    """A CronPipeline object with its `status.usage` running total."""
    meta = _mapping(obj.get("metadata"))
    raw = _mapping(obj.get("status")).get("usage")
    runs = _mapping(raw).get("runs")
    return CronFacts(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        total=Usage.from_status(raw),
        total_runs=runs if isinstance(runs, int) and not isinstance(runs, bool) else None,
    )


def _run_seconds(step: Mapping[str, object]) -> float:
    """The step's attempts' run time: from its history, else its own start and stop."""
    history = step.get("history")
    attempts = [
        record
        for raw in (history if isinstance(history, list) else [])
        if isinstance(raw, Mapping) and (record := AttemptRecord.from_status(raw)) is not None
    ]
    if attempts:
        return sum(
            (a.stopped_at - a.started_at) / 1000
            for a in attempts
            if a.started_at is not None and a.stopped_at is not None
        )
    started, stopped = _moment(step.get("startedAt")), _moment(step.get("stoppedAt"))
    if started is None or stopped is None:
        return 0.0
    return max(0.0, (stopped - started).total_seconds())


def _cron_owner(references: object) -> str | None:
    for raw in references if isinstance(references, list) else []:
        reference = _mapping(raw)
        if reference.get("kind") == "CronPipeline" and isinstance(reference.get("name"), str):
            return str(reference["name"])
    return None


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


# --- prices -------------------------------------------------------------------------------------


class PriceError(ValueError):
    """The price table cannot be used; the message names the field."""


@dataclass(frozen=True)
class Rate:
    """Prices per resource-hour."""

    vcpu_hour: float = 0.0
    memory_gib_hour: float = 0.0
    gpu_hour: float = 0.0

    def cost(self, usage: Usage) -> float:
        """What `usage` (its totals, not its parts) costs at this rate."""
        return (
            usage.vcpu_seconds * self.vcpu_hour
            + usage.memory_gib_seconds * self.memory_gib_hour
            + usage.gpu_seconds * self.gpu_hour
        ) / _SECONDS_PER_HOUR


@dataclass(frozen=True)
class Prices:
    """A user's price table: the base rate, and optional rates for the parts known to have run
    on Spot or on-demand capacity (each defaults to the base)."""

    base: Rate
    spot: Rate
    on_demand: Rate
    currency: str = ""

    def cost(self, usage: Usage) -> float:
        """Spot part at the spot rate, on-demand part at the on-demand rate, the rest (capacity
        not known) at the base rate."""
        spot, on_demand = usage.spot or Usage(), usage.on_demand or Usage()
        rest = usage.unsplit - spot - on_demand
        return self.spot.cost(spot) + self.on_demand.cost(on_demand) + self.base.cost(rest)


_RATE_FIELDS: Final = {"vcpuHour", "memoryGiBHour", "gpuHour"}


def parse_prices(raw: object) -> Prices:
    """Read a price table (the YAML or JSON file's content); PriceError if it is not one."""
    if not isinstance(raw, Mapping):
        raise PriceError("a price table is a mapping: vcpuHour, memoryGiBHour, gpuHour, ...")
    unknown = sorted(set(map(str, raw)) - _RATE_FIELDS - {"currency", "spot", "onDemand"})
    if unknown:
        raise PriceError(f"{unknown[0]}: unknown field")
    currency = raw.get("currency", "")
    if not isinstance(currency, str):
        raise PriceError("currency: must be text, e.g. USD")
    base = _rate(raw, "", Rate())
    return Prices(
        base=base,
        spot=_rate(raw.get("spot"), "spot.", base) if "spot" in raw else base,
        on_demand=_rate(raw.get("onDemand"), "onDemand.", base) if "onDemand" in raw else base,
        currency=currency,
    )


def _rate(raw: object, path: str, default: Rate) -> Rate:
    if not isinstance(raw, Mapping):
        raise PriceError(
            f"{path.rstrip('.')}: must be a mapping of vcpuHour, memoryGiBHour, gpuHour"
        )
    unknown = sorted(set(map(str, raw)) - _RATE_FIELDS) if path else []
    if unknown:
        raise PriceError(f"{path}{unknown[0]}: unknown field")

    def price(key: str, fallback: float) -> float:
        value = raw.get(key, fallback)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PriceError(f"{path}{key}: must be a number, at least 0")
        return float(value)

    return Rate(
        price("vcpuHour", default.vcpu_hour),
        price("memoryGiBHour", default.memory_gib_hour),
        price("gpuHour", default.gpu_hour),
    )


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageRow:
    """One pipeline or CronPipeline over the window."""

    namespace: str
    name: str
    kind: RowKind
    runs: int = 0
    """Finished runs that started in the window."""
    succeeded: int = 0
    active: int = 0
    p50_seconds: float | None = None
    p95_seconds: float | None = None
    usage: Usage = field(default_factory=Usage)
    queue_wait_share: float | None = None
    cost: float | None = None
    total: Usage | None = None
    """A CronPipeline's running total since it was created (`status.usage`)."""
    total_runs: int | None = None

    @property
    def success_rate(self) -> float | None:
        """Succeeded over finished runs."""
        return self.succeeded / self.runs if self.runs else None


@dataclass(frozen=True)
class DayRow:
    """One pipeline's finished runs that started on one day (UTC)."""

    day: date
    namespace: str
    name: str
    kind: RowKind
    runs: int
    usage: Usage
    cost: float


@dataclass(frozen=True)
class UsageReport:
    """Every row, and with a price table the per-day breakdown."""

    since: datetime
    rows: tuple[UsageRow, ...]
    days: tuple[DayRow, ...] = ()
    prices: Prices | None = None
    all_namespaces: bool = False


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank `q`th percentile (0 < q <= 100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def build_report(
    runs: Iterable[RunFacts],
    crons: Iterable[CronFacts],
    since: datetime,
    prices: Prices | None = None,
    *,
    all_namespaces: bool = False,
) -> UsageReport:
    """A row for every BatchPipeline no CronPipeline created and one for every CronPipeline
    (`runs` holds every BatchPipeline), over the runs that started at or after `since`."""
    keys: dict[tuple[str, str, RowKind], CronFacts | None] = {}
    grouped: dict[tuple[str, str, RowKind], list[RunFacts]] = defaultdict(list)
    for run in runs:
        key = (run.namespace, run.owner, run.owner_kind)
        if run.owner_kind == "BatchPipeline":
            keys[key] = None
        if run.started_at is not None and run.started_at >= since:
            grouped[key].append(run)
    for cron in crons:
        keys[(cron.namespace, cron.name, "CronPipeline")] = cron
    rows = tuple(
        _row(key, grouped.get(key, []), keys.get(key), prices)
        for key in sorted(keys.keys() | grouped.keys())
    )
    days: list[DayRow] = []
    if prices is not None:
        for key in sorted(grouped):
            by_day: dict[date, list[RunFacts]] = defaultdict(list)
            for run in grouped[key]:
                if run.finished and run.started_at is not None:
                    by_day[run.started_at.date()].append(run)
            for day in sorted(by_day):
                used = _sum(r.usage for r in by_day[day])
                days.append(DayRow(day, *key, len(by_day[day]), used, prices.cost(used)))
    days.sort(key=lambda d: (d.day, d.namespace, d.name))
    return UsageReport(since, rows, tuple(days), prices, all_namespaces)


def _row(
    key: tuple[str, str, RowKind],
    runs: Sequence[RunFacts],
    cron: CronFacts | None,
    prices: Prices | None,
) -> UsageRow:
    finished = [r for r in runs if r.finished]
    durations = [d for r in finished if (d := r.duration_seconds) is not None]
    used = _sum(r.usage for r in finished)
    wall = sum(r.step_seconds for r in finished)
    return UsageRow(
        namespace=key[0],
        name=key[1],
        kind=key[2],
        runs=len(finished),
        succeeded=sum(1 for r in finished if r.phase == "Succeeded"),
        active=len(runs) - len(finished),
        p50_seconds=percentile(durations, 50),
        p95_seconds=percentile(durations, 95),
        usage=used,
        queue_wait_share=sum(r.queue_wait_seconds for r in finished) / wall if wall else None,
        cost=prices.cost(used) if prices is not None else None,
        total=cron.total if cron is not None else None,
        total_runs=cron.total_runs if cron is not None else None,
    )


def _sum(usages: Iterable[Usage]) -> Usage:
    total = Usage()
    for usage in usages:
        total += usage
    return total


# --- rendering ----------------------------------------------------------------------------------


def render(report: UsageReport, output: str) -> str:
    """The report as `output` (table, json or csv)."""
    if output == "json":
        return json.dumps(report_json(report), indent=2) + "\n"
    if output == "csv":
        return render_csv(report)
    return render_table(report)


def render_table(report: UsageReport) -> str:
    """kubectl-style columns; with a price table a COST column and a per-day table below."""
    prices = report.prices
    cost_header = f"COST ({prices.currency})" if prices and prices.currency else "COST"
    header = ["NAME", "KIND", "RUNS", "SUCCESS", "P50", "P95", "VCPU-HOURS", "QUEUE-WAIT"]
    if report.all_namespaces:
        header.insert(0, "NAMESPACE")
    if prices is not None:
        header.append(cost_header)
    lines = [header]
    for row in report.rows:
        cells = [
            row.name,
            row.kind,
            str(row.runs) + (f" (+{row.active} active)" if row.active else ""),
            _percent(row.success_rate),
            _duration(row.p50_seconds),
            _duration(row.p95_seconds),
            f"{row.usage.vcpu_seconds / _SECONDS_PER_HOUR:.2f}",
            _percent(row.queue_wait_share),
        ]
        if report.all_namespaces:
            cells.insert(0, row.namespace)
        if row.cost is not None:
            cells.append(f"{row.cost:.2f}")
        lines.append(cells)
    text = _columns(lines) if report.rows else "no BatchPipeline or CronPipeline found\n"
    if prices is not None and report.days:
        day_lines = [["DAY", "NAME", "RUNS", "VCPU-HOURS", cost_header]]
        if report.all_namespaces:
            day_lines[0].insert(1, "NAMESPACE")
        for day in report.days:
            cells = [
                day.day.isoformat(),
                day.name,
                str(day.runs),
                f"{day.usage.vcpu_seconds / _SECONDS_PER_HOUR:.2f}",
                f"{day.cost:.2f}",
            ]
            if report.all_namespaces:
                cells.insert(1, day.namespace)
            day_lines.append(cells)
        text += "\n" + _columns(day_lines)
    return text


def report_json(report: UsageReport) -> dict[str, object]:
    """The report as JSON-ready data (hours, shares as fractions, seconds for durations)."""
    data: dict[str, object] = {
        "since": format_time(report.since),
        "pipelines": [_row_json(row) for row in report.rows],
    }
    if report.prices is not None:
        data["currency"] = report.prices.currency
        data["days"] = [
            {
                "day": day.day.isoformat(),
                "namespace": day.namespace,
                "name": day.name,
                "kind": day.kind,
                "runs": day.runs,
                **_hours(day.usage),
                "cost": round(day.cost, 6),
            }
            for day in report.days
        ]
    return data


CSV_COLUMNS: Final = (
    "namespace",
    "name",
    "kind",
    "runs",
    "succeeded",
    "active",
    "successRate",
    "p50DurationSeconds",
    "p95DurationSeconds",
    "vcpuHours",
    "memoryGiBHours",
    "gpuHours",
    "spotVcpuHours",
    "onDemandVcpuHours",
    "queueWaitShare",
)


def render_csv(report: UsageReport) -> str:
    """One line per row, CSV_COLUMNS (and `cost` with a price table); empty cells for unknown."""
    columns = [*CSV_COLUMNS, *(["cost"] if report.prices is not None else [])]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        data = _row_json(row)
        writer.writerow({key: "" if data.get(key) is None else data[key] for key in columns})
    return buffer.getvalue()


def _row_json(row: UsageRow) -> dict[str, object]:
    data: dict[str, object] = {
        "namespace": row.namespace,
        "name": row.name,
        "kind": row.kind,
        "runs": row.runs,
        "succeeded": row.succeeded,
        "active": row.active,
        "successRate": _rounded(row.success_rate),
        "p50DurationSeconds": _rounded(row.p50_seconds),
        "p95DurationSeconds": _rounded(row.p95_seconds),
        **_hours(row.usage),
        "queueWaitShare": _rounded(row.queue_wait_share),
    }
    if row.cost is not None:
        data["cost"] = round(row.cost, 6)
    if row.total is not None:
        data["total"] = {"runs": row.total_runs, **_hours(row.total)}
    return data


def _hours(usage: Usage) -> dict[str, float | None]:
    def hours(seconds: float) -> float:
        return round(seconds / _SECONDS_PER_HOUR, 6)

    return {
        "vcpuHours": hours(usage.vcpu_seconds),
        "memoryGiBHours": hours(usage.memory_gib_seconds),
        "gpuHours": hours(usage.gpu_seconds),
        "spotVcpuHours": hours(usage.spot.vcpu_seconds) if usage.spot else None,
        "onDemandVcpuHours": hours(usage.on_demand.vcpu_seconds) if usage.on_demand else None,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else human_duration(seconds)


def _columns(lines: Sequence[Sequence[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "".join(
        "   ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in lines
    )
