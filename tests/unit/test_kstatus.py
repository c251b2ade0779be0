"""tests/kstatus.py against the rules of cli-utils' kstatus for custom resources
(pkg/kstatus/status/generic.go and status.go), one test per rule, with kstatus's own wording."""

from __future__ import annotations

from typing import Any

import pytest

from tests import kstatus


def obj(
    *,
    generation: int | None = 1,
    status: dict[str, Any] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "x", "namespace": "ns"}
    if generation is not None:
        metadata["generation"] = generation
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-28T02:00:00Z"
    body: dict[str, Any] = {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "Thing",
        "metadata": metadata,
    }
    if status is not None:
        body["status"] = status
    return body


def cond(type_: str, status: str, reason: str = "Why", message: str = "") -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def test_a_custom_resource_with_no_status_is_current() -> None:
    # The fallback for kinds without legacy rules: what kstatus says of a just-created object
    # whose CRD gives status no default.
    assert kstatus.compute(obj()) == kstatus.Result("Current", "Resource is current")


def test_an_observed_generation_behind_the_generation_is_in_progress() -> None:
    result = kstatus.compute(obj(generation=2, status={"observedGeneration": 1}))
    assert result == kstatus.Result(
        "InProgress",
        "Thing generation is 2, but latest observed generation is 1",
        "LatestGenerationNotObserved",
    )


def test_an_observed_generation_of_zero_makes_a_just_created_object_in_progress() -> None:
    assert kstatus.compute(obj(status={"observedGeneration": 0})).status == "InProgress"


def test_any_difference_counts_not_only_behind() -> None:
    result = kstatus.compute(obj(generation=2, status={"observedGeneration": 3}))
    assert result.status == "InProgress"


def test_the_generation_check_comes_before_the_conditions() -> None:
    stalled = {"observedGeneration": 1, "conditions": [cond("Stalled", "True")]}
    assert kstatus.compute(obj(generation=2, status=stalled)).status == "InProgress"


def test_a_missing_observed_generation_or_generation_skips_the_check() -> None:
    assert kstatus.compute(obj(generation=5, status={"conditions": []})).status == "Current"
    assert kstatus.compute(obj(generation=None, status={"observedGeneration": 3})).status == (
        "Current"
    )


def test_reconciling_true_is_in_progress_with_its_message() -> None:
    status = {"observedGeneration": 1, "conditions": [cond("Reconciling", "True", "Creating", "m")]}
    assert kstatus.compute(obj(status=status)) == kstatus.Result("InProgress", "m", "Creating")


def test_stalled_true_is_failed_with_its_message() -> None:
    status = {"observedGeneration": 1, "conditions": [cond("Stalled", "True", "StepFailed", "m")]}
    assert kstatus.compute(obj(status=status)) == kstatus.Result("Failed", "m", "StepFailed")


@pytest.mark.parametrize(
    ("first", "expected"), [("Reconciling", "InProgress"), ("Stalled", "Failed")]
)
def test_with_both_abnormal_conditions_true_the_first_listed_decides(
    first: str, expected: str
) -> None:
    other = "Stalled" if first == "Reconciling" else "Reconciling"
    status = {"conditions": [cond(first, "True"), cond(other, "True")]}
    assert kstatus.compute(obj(status=status)).status == expected


@pytest.mark.parametrize("value", ["False", "Unknown"])
def test_abnormal_conditions_that_are_not_true_are_ignored(value: str) -> None:
    status = {"conditions": [cond("Reconciling", value), cond("Stalled", value)]}
    assert kstatus.compute(obj(status=status)).status == "Current"


def test_ready_phase_and_other_conditions_are_not_read() -> None:
    status = {
        "observedGeneration": 1,
        "phase": "Failed",
        "conditions": [cond("Ready", "False"), cond("Failed", "True"), cond("Synced", "False")],
    }
    assert kstatus.compute(obj(status=status)).status == "Current"


def test_a_deletion_timestamp_is_terminating_whatever_the_status() -> None:
    status = {"observedGeneration": 1, "conditions": [cond("Stalled", "True")]}
    assert kstatus.compute(obj(status=status, deleting=True)) == kstatus.Result(
        "Terminating", "Resource scheduled for deletion"
    )


@pytest.mark.parametrize(
    ("verdict", "health", "agree"),
    [
        ("Current", "Healthy", True),
        ("Current", "Suspended", True),
        ("InProgress", "Progressing", True),
        ("Failed", "Degraded", True),
        ("Terminating", "Progressing", True),
        ("Current", "Progressing", False),
        ("Failed", "Healthy", False),
        ("InProgress", "Degraded", False),
    ],
)
def test_agreement_maps_each_verdict_to_the_argo_cd_health_saying_the_same(
    verdict: kstatus.KStatus, health: str, agree: bool
) -> None:
    assert kstatus.agrees(verdict, health) is agree
