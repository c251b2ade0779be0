"""The step graph: validation, topological order, and which steps the operator must gate."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from batchops.model.pipeline import PipelineSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.dag import (
    BATCH_MAX_DEPENDENCIES,
    dependents_of,
    is_operator_gated,
    native_dependency_count,
    topological_order,
    validate_dag,
)


def pipeline(*steps: Mapping[str, object]) -> PipelineSpec:
    """A pipeline whose steps need nothing but names and dependencies."""
    return parse_pipeline_spec(
        {
            "queue": "queue-72",
            "image": "img",
            "defaults": {"vcpus": 1, "memory": 1024},
            "steps": list(steps),
        }
    )


def step(name: str, *deps: str, **extra: object) -> dict[str, object]:
    return {"name": name, **({"dependsOn": list(deps)} if deps else {}), **extra}


def test_walkthrough_chain_is_valid_and_ordered() -> None:
    spec = pipeline(step("job1"), step("job2", "job1"), step("job3", "job2"))
    assert validate_dag(spec) == []
    assert topological_order(spec) == ["job1", "job2", "job3"]


def test_order_puts_dependencies_first_whatever_the_spec_order() -> None:
    spec = pipeline(step("job3", "job2"), step("job2", "job1"), step("job1"))
    assert topological_order(spec) == ["job1", "job2", "job3"]


def test_diamond_order_is_deterministic_and_keeps_spec_order_between_siblings() -> None:
    spec = pipeline(step("a"), step("c", "a"), step("b", "a"), step("d", "b", "c"))
    assert topological_order(spec) == ["a", "c", "b", "d"]
    assert topological_order(spec) == topological_order(spec)
    assert dependents_of(spec) == {"a": ("c", "b"), "b": ("d",), "c": ("d",), "d": ()}


def test_independent_steps_keep_spec_order() -> None:
    spec = pipeline(step("z"), step("y"), step("x", "z"), step("w"))
    assert topological_order(spec) == ["z", "y", "x", "w"]


def test_cycle_is_reported_with_its_path() -> None:
    spec = pipeline(step("start"), step("a", "start", "c"), step("b", "a"), step("c", "b"))
    problems = validate_dag(spec)
    assert [p.kind for p in problems] == ["cycle"]
    assert problems[0].message == (
        "dependency cycle: a -> c -> b -> a (each step depends on the next)"
    )
    assert problems[0].field_path == "spec.steps[1].dependsOn"
    with pytest.raises(ValueError, match="cycle"):
        topological_order(spec)


def test_two_separate_cycles_are_both_reported() -> None:
    spec = pipeline(step("a", "b"), step("b", "a"), step("c", "d"), step("d", "c"))
    messages = [p.message for p in validate_dag(spec)]
    assert messages == [
        "dependency cycle: a -> b -> a (each step depends on the next)",
        "dependency cycle: c -> d -> c (each step depends on the next)",
    ]


def test_self_dependency_is_its_own_problem_not_a_cycle() -> None:
    problems = validate_dag(pipeline(step("a", "a")))
    assert [(p.kind, p.step) for p in problems] == [("self-dependency", "a")]


def test_unknown_dependency_names_the_missing_step() -> None:
    problems = validate_dag(pipeline(step("a"), step("b", "a", "nope")))
    assert [p.kind for p in problems] == ["unknown-dependency"]
    assert "'nope'" in problems[0].message
    assert problems[0].field_path == "spec.steps[1].dependsOn"


def test_duplicate_step_names_point_at_both_positions() -> None:
    problems = validate_dag(pipeline(step("a"), step("b"), step("a")))
    assert [(p.kind, p.field_path) for p in problems] == [("duplicate-step", "spec.steps[2].name")]
    assert "spec.steps[0]" in problems[0].message


def test_fan_in_of_25_is_gated_by_the_operator() -> None:
    parents = [f"p{i}" for i in range(25)]
    spec = pipeline(*(step(p) for p in parents), step("join", *parents))
    assert validate_dag(spec) == []
    join = spec.step("join")
    assert native_dependency_count(join) == 25
    assert is_operator_gated(join)
    assert topological_order(spec)[-1] == "join"
    assert not any(is_operator_gated(spec.step(p)) for p in parents)


def test_twenty_dependencies_stay_batch_native() -> None:
    parents = [f"p{i}" for i in range(BATCH_MAX_DEPENDENCIES)]
    spec = pipeline(*(step(p) for p in parents), step("join", *parents))
    assert not is_operator_gated(spec.step("join"))


def test_sequential_array_dependency_counts_against_the_limit() -> None:
    parents = [f"p{i}" for i in range(BATCH_MAX_DEPENDENCIES)]
    spec = pipeline(
        *(step(p) for p in parents),
        step("join", *parents, arraySize=4, arrayDependency="SEQUENTIAL"),
    )
    assert native_dependency_count(spec.step("join")) == 21
    assert is_operator_gated(spec.step("join"))


def test_n_to_n_between_arrays_of_different_sizes_is_a_problem() -> None:
    spec = pipeline(
        step("split", arraySize=10),
        step("work", "split", arraySize=20, arrayDependency="N_TO_N"),
    )
    problems = validate_dag(spec)
    assert [p.kind for p in problems] == ["array-size-mismatch"]
    assert "arraySize 20" in problems[0].message


def test_n_to_n_between_arrays_of_the_same_size_is_fine() -> None:
    spec = pipeline(
        step("split", arraySize=10),
        step("work", "split", arraySize=10, arrayDependency="N_TO_N"),
    )
    assert validate_dag(spec) == []


def test_long_chain_is_handled_without_recursion_limits() -> None:
    spec = pipeline(step("s0"), *(step(f"s{i}", f"s{i - 1}") for i in range(1, 500)))
    assert validate_dag(spec) == []
    assert topological_order(spec) == [f"s{i}" for i in range(500)]
