"""DescribeJobs for reconcile passes: parsed, and answered from the shared watch when it can.

A pipeline's pass asks about the jobs of its run on every pass; the poller already describes
every tracked job, so a pass only reaches AWS for ids the watch has never seen. Finalizers want
the truth now and describe afresh, recording what they learn for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from batchops.aws.batch import BatchApi
from batchops.jobs.watch import JobWatch
from batchops.model.observed import DESCRIBE_JOBS_FIELDS, ObservedJob

JobDescriber = Callable[[Sequence[str]], list[ObservedJob]]
"""DescribeJobs by id, parsed; jobs Batch no longer knows are absent from the answer."""


def describe_jobs(api: BatchApi, job_ids: Sequence[str]) -> list[ObservedJob]:
    """DescribeJobs (chunked by the AWS layer), parsed: each call's raw answer, trimmed to the
    fields `ObservedJob` reads, is parsed and dropped before the next call, so only the parsed
    jobs outlive it."""
    return [
        ObservedJob.from_describe(item)
        for answer in api.describe_jobs_by_call(job_ids, DESCRIBE_JOBS_FIELDS)
        for item in answer
    ]


def cached_describer(watch: JobWatch, describe: JobDescriber) -> JobDescriber:
    """DescribeJobs through the watch's cache: only never-seen ids reach AWS."""

    def describe_known(job_ids: Sequence[str]) -> list[ObservedJob]:
        known, missing = watch.cached(job_ids)
        if missing:
            fresh = describe(missing)
            watch.record(fresh)
            known += fresh
        return known

    return describe_known


def fresh_describer(watch: JobWatch, describe: JobDescriber) -> JobDescriber:
    """DescribeJobs always asking AWS, recording the answer in the watch."""

    def describe_fresh(job_ids: Sequence[str]) -> list[ObservedJob]:
        fresh = describe(job_ids)
        watch.record(fresh)
        return fresh

    return describe_fresh
