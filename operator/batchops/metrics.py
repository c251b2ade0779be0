"""Prometheus metrics: what the operator did, what AWS answered, how far behind Batch it is.

Metrics live in prometheus-client's default registry (which also carries the process's RSS and
CPU seconds). Reconcile loops, the pipeline reconciler and the job watch record into them;
`serve` exposes them on `batchops run --metrics-port`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from batchops.aws.calls import CALLS, THROTTLED_ATTEMPTS
from batchops.jobs.watch import JobWatch, Source
from batchops.model.observed import FINISHED_PHASES, ObservedJob
from batchops.plans.usage import Usage

RECONCILES = Counter(
    "batchops_reconciles",
    "Reconcile passes per kind and result (error: the pass raised and kopf retries it).",
    ["kind", "result"],
)
RECONCILE_SECONDS = Histogram(
    "batchops_reconcile_duration_seconds",
    "Wall time of one reconcile pass, AWS and Kubernetes calls included.",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SUBMIT_LATENCY = Histogram(
    "batchops_submit_latency_seconds",
    "From a run's start to the SubmitJob of each job submitted up front (runs started by this "
    "process; fan-in steps the operator gates wait for their dependencies by design).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
JOB_STATUS_LAG = Histogram(
    "batchops_job_status_lag_seconds",
    "From Batch's own timestamp of a job starting or stopping to the operator seeing it, "
    "per source (poll: the DescribeJobs sweep; event: the SQS event queue).",
    ["source"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120),
)
JOB_SWEEP_SECONDS = Histogram(
    "batchops_job_sweep_duration_seconds",
    "Wall time of one DescribeJobs sweep of every active job; a sweep longer than the poll "
    "interval means status lags by more than the interval (see the README's scale section).",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120),
)

USAGE_VCPU_SECONDS = Counter(
    "batchops_usage_vcpu_seconds",
    "vCPU-seconds the attempts of finished runs reserved (their status.usage), per namespace "
    "and pipeline; a CronPipeline's runs count under the CronPipeline's name, so there is one "
    "series per BatchPipeline or CronPipeline, never one per run.",
    ["namespace", "pipeline"],
)


@contextmanager
def reconcile_pass(kind: str) -> Iterator[None]:
    """Count and time one reconcile pass of `kind`; a pass that raises counts as an error."""
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        RECONCILES.labels(kind, "error").inc()
        raise
    else:
        RECONCILES.labels(kind, "ok").inc()
    finally:
        RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)


def observe_job_change(job: ObservedJob, source: Source) -> None:
    """Status lag of one observed job change, when Batch stamped the change (start or stop)."""
    stamp = job.stopped_at if job.finished else job.started_at if job.status == "RUNNING" else None
    if stamp is not None:
        JOB_STATUS_LAG.labels(source).observe(max(0.0, time.time() - stamp / 1000))


class FinishedRunUsage:
    """Counts each run's vCPU-seconds into `batchops_usage_vcpu_seconds_total` once, when its
    status first shows it finished (the status before and after a written pass tell).

    What a finished run adds later (its last jobs still stopping) is added then. A run that
    `retry-failed` takes back to Running is remembered with what was counted, so finishing
    again adds only the difference; the memory is this process's, like the counter itself."""

    def __init__(self) -> None:
        self._reopened: dict[tuple[str, str, str], float] = {}

    def observe(
        self,
        namespace: str,
        pipeline: str,
        name: str,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
    ) -> None:
        """One pass of BatchPipeline `name` (labelled `pipeline`: its own name, or its
        CronPipeline's) wrote `after` over `before`."""
        run_id = after.get("runId")
        if not isinstance(run_id, str):
            return
        key = (namespace, name, run_id)
        was_finished = before.get("runId") == run_id and before.get("phase") in FINISHED_PHASES
        if after.get("phase") not in FINISHED_PHASES:
            if was_finished:
                self._reopened[key] = _vcpu_seconds(before)
            return
        counted = _vcpu_seconds(before) if was_finished else self._reopened.pop(key, 0.0)
        grown = _vcpu_seconds(after) - counted
        if grown > 0:
            USAGE_VCPU_SECONDS.labels(namespace, pipeline).inc(grown)


def _vcpu_seconds(status: Mapping[str, Any]) -> float:
    usage = Usage.from_status(status.get("usage"))
    return usage.vcpu_seconds if usage is not None else 0.0


class _AwsCalls(Collector):
    """AWS calls per operation and outcome, read from the AWS layer's counters at scrape time."""

    def collect(self) -> Iterable[Metric]:
        calls = CounterMetricFamily(
            "batchops_aws_calls",
            "AWS API calls per operation and outcome (success, throttled, error); a call is "
            "counted once however many HTTP attempts botocore's retries made.",
            labels=["operation", "outcome"],
        )
        for (operation, outcome), count in sorted(CALLS.snapshot().items()):
            calls.add_metric([operation, outcome], count)
        throttles = CounterMetricFamily(
            "batchops_aws_throttled_attempts",
            "HTTP attempts AWS answered with throttling, including those retried successfully.",
            labels=["operation"],
        )
        for operation, count in sorted(THROTTLED_ATTEMPTS.snapshot().items()):
            throttles.add_metric([operation], count)
        return [calls, throttles]


class _TrackedJobs(Collector):
    """Jobs the operator follows, per Batch status, read from the job watch at scrape time."""

    def __init__(self, jobs: JobWatch) -> None:
        self._jobs = jobs

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "batchops_jobs",
            "Jobs of active runs the operator tracks, per status.",
            labels=["status"],
        )
        for status, count in sorted(self._jobs.count_by_status().items()):
            gauge.add_metric([status], count)
        return [gauge]


def serve(port: int, jobs: JobWatch) -> None:
    """Expose every metric on http://0.0.0.0:`port`/metrics (a daemon thread)."""
    REGISTRY.register(_AwsCalls())
    REGISTRY.register(_TrackedJobs(jobs))
    start_http_server(port)
