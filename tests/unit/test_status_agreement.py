"""kstatus (Flux, kpt, cli-utils) and Argo CD read every batchops object alike, in every phase.

Two cheap sources of objects: the stored Argo CD test objects (tests/unit/testdata/argocd), and
statuses the operator's own code computes for each phase (the run planner for BatchPipeline,
the CronPipeline reconciler with a fake for its child runs). On each, tests/kstatus.py gives
kstatus's verdict and tests/argocd.py runs the shipped health.lua; they must agree
(Current-Healthy/Suspended, InProgress-Progressing, Failed-Degraded). The live counterpart is
tests/e2e/test_status_agreement.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batchops.kube.status import merge_conditions
from batchops.model.common import format_time
from batchops.model.keys import SCHEDULED_TIME_ANNOTATION
from batchops.model.observed import JobStatus, ObservedJob
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans import run_status, runs
from batchops.reconcile.common import ObjectSnapshot, Timing
from batchops.reconcile.cron import Children, CronReconciler
from tests import argocd, kstatus
from tests.unit.test_argocd_lua import TESTDATA, load_yaml

# --- the stored Argo CD test objects -------------------------------------------------------------

KNOWN_DIVERGENCES: Mapping[str, tuple[kstatus.KStatus, str]] = {
    # A CRD without the status default (older install): kstatus's fallback calls an object
    # without status Current. The shipped CRDs default status.observedGeneration to 0.
    "BatchComputeEnvironment/no-status": ("Current", "Progressing"),
    "BatchPipeline/no-status": ("Current", "Progressing"),
    "CronPipeline/no-status": ("Current", "Progressing"),
    # A rerun / run-now request is an annotation, which kstatus does not read; the operator acts
    # on it at once and then both agree again (Progressing/InProgress while the new run runs).
    "BatchPipeline/rerun-requested": ("Current", "Progressing"),
    "CronPipeline/trigger-requested": ("Current", "Progressing"),
}
"""Stored objects on which the two readers cannot agree, and what each says."""


def _stored_objects() -> Iterator[Any]:
    for path in sorted(TESTDATA.glob("*/*/testdata/*.yaml")):
        yield pytest.param(path, id=f"{path.parent.parent.name}/{path.stem}")


@pytest.mark.parametrize("path", list(_stored_objects()))
def test_stored_object_reads_alike_in_kstatus_and_argo_cd(path: Path) -> None:
    obj = load_yaml(path)
    verdict = kstatus.compute(obj)
    health = argocd.health(obj)
    case = f"{path.parent.parent.name}/{path.stem}"
    if case in KNOWN_DIVERGENCES:
        assert (verdict.status, health.status) == KNOWN_DIVERGENCES[case]
    else:
        assert kstatus.agrees(verdict.status, health.status), (verdict, health)


def test_just_created_objects_of_every_kind_are_in_progress_for_both() -> None:
    for kind_dir in sorted(TESTDATA.glob("*/*")):
        path = kind_dir / "testdata" / "just-created.yaml"
        assert path.is_file(), f"{kind_dir.name} has no just-created.yaml test object"
        obj = load_yaml(path)
        assert obj["status"] == {"observedGeneration": 0}
        assert (kstatus.compute(obj).status, argocd.health(obj).status) == (
            "InProgress",
            "Progressing",
        ), kind_dir.name


def test_known_divergences_name_stored_objects() -> None:
    stored = {f"{p.parent.parent.name}/{p.stem}" for p in TESTDATA.glob("*/*/testdata/*.yaml")}
    assert set(KNOWN_DIVERGENCES) <= stored


# --- BatchPipeline: the statuses the run planner writes ------------------------------------------

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
RAW_SPEC: Mapping[str, Any] = {
    "queue": "q",
    "image": "img",
    "activeDeadlineSeconds": 3600,
    "defaults": {"vcpus": 1, "memory": 1024},
    "steps": [{"name": "a"}, {"name": "b", "dependsOn": ["a"]}],
}
RUN = runs.RunRef("ns", "etl", "abc123def0")


def _job(step: str, status: JobStatus, stopped: float | None = None) -> ObservedJob:
    item: dict[str, object] = {
        "jobId": f"id-{step}",
        "jobName": RUN.job_name(step),
        "status": status,
        "createdAt": int(T0.timestamp() * 1000),
    }
    if stopped is not None:
        item["startedAt"] = int(T0.timestamp() * 1000)
        item["stoppedAt"] = int((T0 + timedelta(seconds=stopped)).timestamp() * 1000)
    if status == "FAILED":
        item["statusReason"] = "Essential container in task exited"
    return ObservedJob.from_describe(item)


def _pipeline(
    assessment: run_status.RunAssessment, previous: Sequence[Mapping[str, object]] = ()
) -> dict[str, Any]:
    """The BatchPipeline as the operator's pass leaves it (conditions merged over the
    previous pass's, whose order kstatus depends on)."""
    status: dict[str, Any] = dict(assessment.status_fields())
    status["observedGeneration"] = 1
    status["conditions"] = merge_conditions(previous, assessment.conditions)
    return {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": RUN.pipeline, "namespace": RUN.namespace, "generation": 1},
        "spec": dict(RAW_SPEC),
        "status": status,
    }


def _assess(
    observed: Mapping[str, ObservedJob], *, seconds: float = 60, terminated: bool = False
) -> run_status.RunAssessment:
    return run_status.aggregate_status(
        parse_pipeline_spec(RAW_SPEC),
        observed,
        T0 + timedelta(seconds=seconds),
        T0,
        generation=1,
        run=RUN,
        terminated_at=T0 + timedelta(seconds=30) if terminated else None,
    )


PIPELINE_PHASES: Mapping[str, tuple[run_status.RunAssessment, kstatus.KStatus, str]] = {
    "pending": (_assess({}), "InProgress", "Progressing"),
    "running": (_assess({"a": _job("a", "RUNNING")}), "InProgress", "Progressing"),
    "succeeded": (
        _assess({"a": _job("a", "SUCCEEDED", 10), "b": _job("b", "SUCCEEDED", 20)}),
        "Current",
        "Healthy",
    ),
    "step failed": (
        _assess({"a": _job("a", "FAILED", 10), "b": _job("b", "FAILED", 11)}),
        "Failed",
        "Degraded",
    ),
    "step failed, jobs still stopping": (
        _assess({"a": _job("a", "FAILED", 10), "b": _job("b", "RUNNING")}),
        "Failed",
        "Degraded",
    ),
    "deadline exceeded": (
        _assess({"a": _job("a", "RUNNING")}, seconds=3601),
        "Failed",
        "Degraded",
    ),
    "cancelled": (
        _assess({"a": _job("a", "FAILED", 31), "b": _job("b", "FAILED", 31)}, terminated=True),
        "Failed",
        "Degraded",
    ),
    "invalid spec": (
        run_status.invalid_spec_assessment("steps[1].dependsOn: no step named z", T0, generation=1),
        "Failed",
        "Degraded",
    ),
}


@pytest.mark.parametrize("case", list(PIPELINE_PHASES))
def test_every_run_phase_reads_alike_in_kstatus_and_argo_cd(case: str) -> None:
    assessment, verdict, health = PIPELINE_PHASES[case]
    # Fresh, or after a pass of a running run whose conditions listed in either order: kstatus
    # reads the first abnormal-true condition, so the order must not matter.
    running: list[Mapping[str, object]] = _pipeline(PIPELINE_PHASES["running"][0])["status"][
        "conditions"
    ]
    for previous in ([], running, running[::-1]):
        obj = _pipeline(assessment, previous)
        assert (kstatus.compute(obj).status, argocd.health(obj).status) == (verdict, health)


def test_failed_and_cancelled_runs_are_stalled_with_the_runs_reason() -> None:
    reasons = {
        case: next(c.reason for c in PIPELINE_PHASES[case][0].conditions if c.type == "Stalled")
        for case in ("step failed", "deadline exceeded", "cancelled", "invalid spec")
    }
    assert reasons == {
        "step failed": "StepFailed",
        "deadline exceeded": "DeadlineExceeded",
        "cancelled": "Terminated",
        "invalid spec": "InvalidSpec",
    }


def test_a_run_never_carries_both_abnormal_conditions() -> None:
    for case, (assessment, _, _) in PIPELINE_PHASES.items():
        true = {c.type for c in assessment.conditions if c.status == "True"}
        assert not {"Reconciling", "Stalled"} <= true, case


def test_failed_and_complete_conditions_keep_their_meaning() -> None:
    def flags(case: str) -> tuple[str, str]:
        by_type = {c.type: c.status for c in PIPELINE_PHASES[case][0].conditions}
        return by_type["Complete"], by_type["Failed"]

    assert flags("succeeded") == ("True", "False")
    assert flags("step failed") == ("False", "True")
    assert flags("deadline exceeded") == ("False", "True")
    assert flags("cancelled") == ("False", "False")
    assert flags("running") == ("False", "False")


# --- CronPipeline: the statuses its reconciler writes --------------------------------------------

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@dataclass
class FakeChildren(Children):
    """The runs a CronPipeline sees, without an API server."""

    runs: list[dict[str, Any]] = field(default_factory=list)

    def list(self, namespace: str, cron: str) -> list[dict[str, Any]]:
        return self.runs

    def create(self, namespace: str, body: Mapping[str, Any]) -> bool:
        raise AssertionError(f"nothing is due, yet {body['metadata']['name']} was created")

    def delete(self, namespace: str, name: str) -> None:
        raise AssertionError(f"nothing is beyond the history limits, yet {name} was deleted")


def _run(phase: str | None, minutes_ago: int, message: str = "") -> dict[str, Any]:
    scheduled = NOW - timedelta(minutes=minutes_ago)
    status: dict[str, Any] = {"phase": phase, "progress": "0/1", "message": message}
    if phase in ("Succeeded", "Failed", "Cancelled"):
        status["finishedAt"] = format_time(scheduled + timedelta(minutes=1))
    return {
        "metadata": {
            "name": f"etl-{int(scheduled.timestamp())}",
            "annotations": {SCHEDULED_TIME_ANNOTATION: format_time(scheduled)},
        },
        "status": status if phase else {},
    }


def _cron(
    runs_seen: list[dict[str, Any]],
    *,
    suspend: bool = False,
    schedule: str = "@every 1h",
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The CronPipeline after one pass of the real reconciler over `runs_seen`."""
    body: dict[str, Any] = {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "CronPipeline",
        "metadata": {
            "name": "etl",
            "namespace": "ns",
            "uid": "u-1",
            "generation": 1,
            "creationTimestamp": format_time(NOW - timedelta(minutes=30)),
        },
        "spec": {
            "schedule": schedule,
            "suspend": suspend,
            "failedRunsHistoryLimit": 5,
            "pipelineTemplate": {
                "spec": {
                    "queue": "q",
                    "image": "img",
                    "steps": [{"name": "a", "vcpus": 1, "memory": 512}],
                }
            },
        },
        "status": dict(previous or {"observedGeneration": 0}),
    }
    reconciler = CronReconciler(Timing(), FakeChildren(runs_seen), now=lambda: NOW)
    body["status"] = dict(reconciler.reconcile(ObjectSnapshot.of(body)).status)
    return body


CRON_PHASES: Mapping[str, tuple[dict[str, Any], kstatus.KStatus, str]] = {
    "never run": (_cron([]), "Current", "Healthy"),
    "run active": (_cron([_run("Running", 5)]), "Current", "Healthy"),
    "last run succeeded": (_cron([_run("Succeeded", 5)]), "Current", "Healthy"),
    "last run failed": (_cron([_run("Failed", 5, "a failed: boom")]), "Failed", "Degraded"),
    "last run cancelled": (_cron([_run("Cancelled", 5)]), "Failed", "Degraded"),
    "failed, then a newer run started": (
        _cron([_run("Failed", 65), _run(None, 5)]),
        "Current",
        "Healthy",
    ),
    "failed, then a newer run succeeded": (
        _cron([_run("Failed", 65), _run("Succeeded", 5)]),
        "Current",
        "Healthy",
    ),
    "suspended after a failed run": (
        _cron([_run("Failed", 5)], suspend=True),
        "Current",
        "Suspended",
    ),
    "invalid schedule": (_cron([], schedule="0 2 * *"), "Failed", "Degraded"),
}


@pytest.mark.parametrize("case", list(CRON_PHASES))
def test_every_cron_state_reads_alike_in_kstatus_and_argo_cd(case: str) -> None:
    obj, verdict, health = CRON_PHASES[case]
    assert (kstatus.compute(obj).status, argocd.health(obj).status) == (verdict, health)


def test_a_failed_last_run_stalls_the_cron_with_the_runs_story_until_a_run_succeeds() -> None:
    failed = CRON_PHASES["last run failed"][0]
    stalled = next(c for c in failed["status"]["conditions"] if c["type"] == "Stalled")
    name = failed["status"]["lastRun"]["name"]
    assert (stalled["status"], stalled["reason"]) == ("True", "LastRunFailed")
    assert stalled["message"] == f"Last run {name} failed: a failed: boom"
    assert argocd.health(failed).message == stalled["message"]
    ready = next(c for c in failed["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"  # the schedule itself is valid and followed

    recovered = _cron([_run("Failed", 65), _run("Succeeded", 5)], previous=failed["status"])
    by_type = {c["type"]: c["status"] for c in recovered["status"]["conditions"]}
    assert by_type["Stalled"] == "False"
    assert kstatus.compute(recovered).status == "Current"


def test_an_invalid_schedule_after_a_failed_run_is_failed_for_both() -> None:
    failed = CRON_PHASES["last run failed"][0]
    broken = _cron([], schedule="61 * * * *", previous=failed["status"])
    assert (kstatus.compute(broken).status, argocd.health(broken).status) == ("Failed", "Degraded")
    stalled = next(c for c in broken["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "InvalidSchedule"
