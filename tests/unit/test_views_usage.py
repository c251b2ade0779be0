"""`batchops usage` from objects alone: one row per pipeline and per CronPipeline, runs in the
window, success rate, nearest-rank percentiles, vCPU-hours, queue-wait share, and cost from a
user's price table, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchops.commands.objects import UsageError
from batchops.commands.usage import parse_since
from batchops.model.common import format_time
from batchops.plans.usage import Usage
from batchops.views.usage import (
    CronFacts,
    PriceError,
    Rate,
    build_report,
    cron_facts,
    parse_prices,
    percentile,
    render,
    run_facts,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=7)


def bpl(
    name: str,
    phase: str | None,
    *,
    started: datetime | None = None,
    minutes: float = 10,
    vcpu_seconds: float = 3600,
    cron: str | None = None,
    steps: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    started = started or NOW - timedelta(hours=1)
    status: dict[str, Any] = {
        "phase": phase,
        "startedAt": format_time(started),
        "usage": usage or {"vcpuSeconds": vcpu_seconds, "memoryGiBSeconds": vcpu_seconds * 2},
        "steps": steps or [],
    }
    if phase in ("Succeeded", "Failed", "Cancelled"):
        status["finishedAt"] = format_time(started + timedelta(minutes=minutes))
    meta: dict[str, Any] = {"name": name, "namespace": "team"}
    if cron:
        meta["labels"] = {"batchops.io/cron": cron}
    return {"metadata": meta, "status": status}


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10
    assert percentile(values, 95) == 19
    assert percentile([7.0], 95) == 7
    assert percentile([], 50) is None


def test_a_cron_run_belongs_to_its_cron_by_label_or_owner_reference() -> None:
    labelled = run_facts(bpl("etl-1", "Succeeded", cron="etl"))
    owned = bpl("etl-2", "Succeeded")
    owned["metadata"]["ownerReferences"] = [{"kind": "CronPipeline", "name": "etl", "uid": "u"}]
    assert (labelled.owner, labelled.owner_kind) == ("etl", "CronPipeline")
    assert (run_facts(owned).owner, run_facts(owned).owner_kind) == ("etl", "CronPipeline")
    assert run_facts(bpl("adhoc", "Failed")).owner_kind == "BatchPipeline"


def test_queue_wait_share_is_waits_over_waits_plus_attempt_run_time() -> None:
    start = NOW - timedelta(hours=1)
    history = [
        {"jobId": "j", "attempt": 1, "startedAt": format_time(start), "stoppedAt": format_time(start + timedelta(seconds=20))},  # noqa: E501
        {"jobId": "j", "attempt": 2, "startedAt": format_time(start + timedelta(seconds=30)), "stoppedAt": format_time(start + timedelta(seconds=60))},  # noqa: E501
    ]  # fmt: skip
    steps = [
        {"name": "a", "queueWaitSeconds": 50, "history": history},
        # No history (written before the operator kept one): the step's own times.
        {
            "name": "b",
            "queueWaitSeconds": 0,
            "startedAt": format_time(start),
            "stoppedAt": format_time(start + timedelta(seconds=100)),
        },
    ]
    facts = run_facts(bpl("p", "Succeeded", steps=steps))
    assert (facts.queue_wait_seconds, facts.step_seconds) == (50, 200)
    row = build_report([facts], [], SINCE).rows[0]
    assert row.queue_wait_share == pytest.approx(0.25)


def test_rows_count_the_finished_runs_of_the_window() -> None:
    runs = [
        bpl("nightly-1", "Succeeded", minutes=10, vcpu_seconds=3600, cron="nightly"),
        bpl("nightly-2", "Failed", minutes=30, vcpu_seconds=1800, cron="nightly"),
        bpl("nightly-3", "Succeeded", minutes=20, vcpu_seconds=900, cron="nightly"),
        bpl("nightly-4", "Running", cron="nightly"),
        bpl("nightly-0", "Succeeded", started=NOW - timedelta(days=8), cron="nightly"),
        bpl("adhoc", "Succeeded", minutes=5, vcpu_seconds=360),
        bpl("old", "Succeeded", started=NOW - timedelta(days=30)),
    ]
    crons = [CronFacts("team", "nightly", Usage(99_999), 40), CronFacts("team", "idle")]
    report = build_report([run_facts(r) for r in runs], crons, SINCE)
    rows = {row.name: row for row in report.rows}
    assert list(rows) == ["adhoc", "idle", "nightly", "old"]
    nightly = rows["nightly"]
    assert (nightly.kind, nightly.runs, nightly.succeeded, nightly.active) == (
        "CronPipeline",
        3,
        2,
        1,
    )
    assert nightly.success_rate == pytest.approx(2 / 3)
    assert (nightly.p50_seconds, nightly.p95_seconds) == (1200, 1800)
    assert nightly.usage.vcpu_seconds == 6300
    assert (nightly.total, nightly.total_runs) == (Usage(99_999), 40)
    idle = rows["idle"]
    assert (idle.runs, idle.success_rate, idle.p50_seconds) == (0, None, None)
    assert (rows["old"].kind, rows["old"].runs) == ("BatchPipeline", 0)


def test_a_price_table_prices_spot_and_on_demand_parts_at_their_own_rates() -> None:
    prices = parse_prices(
        {
            "currency": "USD",
            "vcpuHour": 0.04,
            "memoryGiBHour": 0.004,
            "spot": {"vcpuHour": 0.01},
        }
    )
    assert prices.on_demand == prices.base == Rate(0.04, 0.004, 0.0)
    assert prices.spot == Rate(0.01, 0.004, 0.0)
    # One vCPU-hour on Spot, one on demand, one on unknown capacity; two GiB-hours on each.
    usage = Usage(
        3 * 3600,
        6 * 3600,
        spot=Usage(3600, 2 * 3600),
        on_demand=Usage(3600, 2 * 3600),
    )
    assert prices.cost(usage) == pytest.approx(0.01 + 0.04 + 0.04 + 6 * 0.004)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([1, 2], "a price table is a mapping"),
        ({"vcpuHour": -1}, "vcpuHour: must be a number, at least 0"),
        ({"vcpuHour": "cheap"}, "vcpuHour: must be a number"),
        ({"vcpu": 1}, "vcpu: unknown field"),
        ({"spot": {"gpu": 1}}, "spot.gpu: unknown field"),
        ({"onDemand": 3}, "onDemand: must be a mapping"),
    ],
)
def test_a_price_table_that_cannot_be_used_says_which_field(raw: object, message: str) -> None:
    with pytest.raises(PriceError, match=message):
        parse_prices(raw)


def test_with_prices_each_row_has_a_cost_and_each_day_a_line() -> None:
    day1, day2 = NOW - timedelta(days=2), NOW - timedelta(days=1)
    runs = [
        bpl("etl-1", "Succeeded", started=day1, vcpu_seconds=7200, cron="etl"),
        bpl("etl-2", "Succeeded", started=day2, vcpu_seconds=3600, cron="etl"),
        bpl("etl-3", "Succeeded", started=day2 + timedelta(hours=1), vcpu_seconds=3600, cron="etl"),
    ]
    prices = parse_prices({"vcpuHour": 0.5, "currency": "EUR"})
    report = build_report([run_facts(r) for r in runs], [], SINCE, prices)
    assert report.rows[0].cost == pytest.approx(2.0)
    assert [(d.day.isoformat(), d.runs, round(d.cost, 6)) for d in report.days] == [
        ("2026-11-26", 1, 1.0),
        ("2026-11-27", 2, 1.0),
    ]
    data = json.loads(render(report, "json"))
    assert data["currency"] == "EUR"
    assert [day["cost"] for day in data["days"]] == [1.0, 1.0]
    table = render(report, "table")
    assert "COST (EUR)" in table
    assert "2026-11-27   etl    2      2.00         1.00" in table


def test_json_and_csv_carry_the_same_row() -> None:
    usage = {
        "vcpuSeconds": 7200,
        "memoryGiBSeconds": 3600,
        "onDemand": {"vcpuSeconds": 7200, "memoryGiBSeconds": 3600},
    }
    report = build_report([run_facts(bpl("p", "Succeeded", usage=usage))], [], SINCE)
    row = json.loads(render(report, "json"))["pipelines"][0]
    assert row == {
        "namespace": "team",
        "name": "p",
        "kind": "BatchPipeline",
        "runs": 1,
        "succeeded": 1,
        "active": 0,
        "successRate": 1.0,
        "p50DurationSeconds": 600.0,
        "p95DurationSeconds": 600.0,
        "vcpuHours": 2.0,
        "memoryGiBHours": 1.0,
        "gpuHours": 0.0,
        "spotVcpuHours": None,
        "onDemandVcpuHours": 2.0,
        "queueWaitShare": None,
    }
    (line,) = csv.DictReader(io.StringIO(render(report, "csv")))
    assert line["vcpuHours"] == "2.0" and line["spotVcpuHours"] == ""
    assert line["onDemandVcpuHours"] == "2.0" and "cost" not in line


def test_the_table_shows_one_line_per_row_and_a_dash_for_what_is_unknown() -> None:
    runs = [
        bpl("nightly-1", "Succeeded", minutes=3, vcpu_seconds=4500, cron="nightly"),
        bpl("nightly-2", "Running", cron="nightly"),
    ]
    report = build_report([run_facts(r) for r in runs], [CronFacts("team", "weekly")], SINCE)
    assert render(report, "table") == (
        "NAME      KIND           RUNS            SUCCESS   P50   P95   VCPU-HOURS   QUEUE-WAIT\n"
        "nightly   CronPipeline   1 (+1 active)   100%      3m    3m    1.25         -\n"
        "weekly    CronPipeline   0               -         -     -     0.00         -\n"
    )


def test_a_cron_reads_its_running_total_from_status() -> None:
    cron = {
        "metadata": {"name": "etl", "namespace": "team"},
        "status": {"usage": {"runs": 12, "vcpuSeconds": 36_000, "memoryGiBSeconds": 1}},
    }
    assert cron_facts(cron) == CronFacts("team", "etl", Usage(36_000, 1), 12)
    assert cron_facts({"metadata": {"name": "new"}}).total is None


def test_since_takes_a_span_or_a_time() -> None:
    assert parse_since("7d", NOW) == NOW - timedelta(days=7)
    assert parse_since("12h", NOW) == NOW - timedelta(hours=12)
    assert parse_since("2w", NOW) == NOW - timedelta(weeks=2)
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T02:00:00Z", NOW) == datetime(2026, 11, 1, 2, tzinfo=UTC)
    with pytest.raises(UsageError, match="7d"):
        parse_since("a week", NOW)
