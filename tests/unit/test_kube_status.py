"""Conditions follow metav1.Condition rules: lastTransitionTime moves only on a status flip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from batchops.kube.status import READY, SYNCED, condition, merge_conditions

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def test_same_status_keeps_last_transition_time_but_takes_new_message() -> None:
    first = merge_conditions([], [condition(READY, False, "Creating", "CREATING", 1, T0)])
    second = merge_conditions(first, [condition(READY, False, "Creating", "still", 2, T1)])
    assert second == [
        {
            "type": READY,
            "status": "False",
            "reason": "Creating",
            "message": "still",
            "lastTransitionTime": "2026-11-28T12:00:00Z",
            "observedGeneration": 2,
        }
    ]


def test_status_flip_moves_last_transition_time() -> None:
    first = merge_conditions([], [condition(READY, False, "Creating", "", 1, T0)])
    second = merge_conditions(first, [condition(READY, True, "Valid", "", 1, T1)])
    assert second[0]["lastTransitionTime"] == "2026-11-28T12:05:00Z"
    assert second[0]["status"] == "True"


def test_conditions_not_updated_are_kept() -> None:
    first = merge_conditions([], [condition(SYNCED, True, "Synced", "", 1, T0)])
    second = merge_conditions(first, [condition(READY, True, "Valid", "", 1, T1)])
    assert [c["type"] for c in second] == [SYNCED, READY]


def test_malformed_existing_condition_is_replaced_not_fatal() -> None:
    merged = merge_conditions(
        [{"type": READY, "status": "Maybe"}], [condition(READY, True, "Valid", "", 1, T0)]
    )
    assert merged[0]["status"] == "True"
