"""The step graph of a BatchPipeline: validation, a deterministic order, and which dependencies
Batch can hold natively versus the ones the operator must gate itself."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from batchops.model.pipeline import PipelineSpec, StepSpec

BATCH_MAX_DEPENDENCIES: Final = 20
"""SubmitJob's `dependsOn` takes at most 20 entries: "A job can depend upon a maximum of 20 jobs"
(https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html#Batch-SubmitJob-request-dependsOn,
and https://docs.aws.amazon.com/batch/latest/userguide/job_dependencies.html). A step needing
more is submitted by the operator, without dependsOn, once every dependency has succeeded."""

ProblemKind = Literal[
    "duplicate-step", "unknown-dependency", "self-dependency", "cycle", "array-size-mismatch"
]


@dataclass(frozen=True)
class DagProblem:
    """One reason the step graph cannot run; `message` is meant for the user."""

    kind: ProblemKind
    step: str
    field_path: str
    message: str


def _index(spec: PipelineSpec) -> dict[str, int]:
    """First spec position of each step name."""
    index: dict[str, int] = {}
    for position, step in enumerate(spec.steps):
        index.setdefault(step.name, position)
    return index


def validate_dag(spec: PipelineSpec) -> list[DagProblem]:
    """Every structural problem of the step graph, in spec order; empty means it can run."""
    problems: list[DagProblem] = []
    index = _index(spec)
    for position, step in enumerate(spec.steps):
        path = f"spec.steps[{position}]"
        if index[step.name] != position:
            problems.append(
                DagProblem(
                    "duplicate-step",
                    step.name,
                    f"{path}.name",
                    f"step name {step.name!r} is also used by spec.steps[{index[step.name]}]",
                )
            )
        for dep in step.depends_on:
            if dep == step.name:
                problems.append(
                    DagProblem(
                        "self-dependency",
                        step.name,
                        f"{path}.dependsOn",
                        f"step {step.name!r} depends on itself",
                    )
                )
            elif dep not in index:
                problems.append(
                    DagProblem(
                        "unknown-dependency",
                        step.name,
                        f"{path}.dependsOn",
                        f"step {step.name!r} depends on {dep!r}, "
                        "which is not a step of this pipeline",
                    )
                )
    for cycle in _cycles(spec, index):
        first = cycle[0]
        problems.append(
            DagProblem(
                "cycle",
                first,
                f"spec.steps[{index[first]}].dependsOn",
                "dependency cycle: "
                + " -> ".join([*cycle, first])
                + " (each step depends on the next)",
            )
        )
    for position, step in enumerate(spec.steps):
        if step.array_dependency != "N_TO_N" or step.array_size is None:
            continue
        for dep in step.depends_on:
            if dep not in index:
                continue
            parent = spec.steps[index[dep]]
            if parent.array_size is not None and parent.array_size != step.array_size:
                problems.append(
                    DagProblem(
                        "array-size-mismatch",
                        step.name,
                        f"spec.steps[{position}].arrayDependency",
                        f"N_TO_N needs array parents of the same size: {step.name!r} has "
                        f"arraySize {step.array_size}, {dep!r} has {parent.array_size}",
                    )
                )
    return problems


def _known_edges(spec: PipelineSpec, index: Mapping[str, int]) -> dict[str, list[str]]:
    """step -> its dependencies that exist and are not itself, in spec order."""
    edges: dict[str, list[str]] = {}
    for step in spec.steps:
        if step.name in edges:
            continue
        deps = {dep for dep in step.depends_on if dep in index and dep != step.name}
        edges[step.name] = sorted(deps, key=index.__getitem__)
    return edges


def _cycles(spec: PipelineSpec, index: Mapping[str, int]) -> list[list[str]]:
    """One concrete cycle per strongly connected group of steps (Tarjan), each starting at its
    earliest step in spec order, so the message names a real path the user can break."""
    edges = _known_edges(spec, index)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    # Iterative, because a 500-step chain would exceed Python's recursion limit.
    for root in edges:
        if root in order:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                order[node] = low[node] = len(order)
                stack.append(node)
                on_stack.add(node)
            children = edges[node]
            if child_index < len(children):
                work.append((node, child_index + 1))
                child = children[child_index]
                if child not in order:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], order[child])
                continue
            if low[node] == order[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])

    cycles = [_cycle_in(sorted(group, key=index.__getitem__), edges) for group in groups]
    return sorted(cycles, key=lambda cycle: index[cycle[0]])


def _cycle_in(group: list[str], edges: Mapping[str, list[str]]) -> list[str]:
    """A shortest dependency cycle through the group's first step (breadth-first search)."""
    members = set(group)
    start = group[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        next_frontier: list[str] = []
        for node in frontier:
            for dep in edges[node]:
                if dep not in members:
                    continue
                if dep == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return list(reversed(path))
                if dep not in came_from:
                    came_from[dep] = node
                    next_frontier.append(dep)
        frontier = next_frontier
    raise AssertionError("a strongly connected group always has a cycle")


def topological_order(spec: PipelineSpec) -> list[str]:
    """Step names with every step after its dependencies; ties keep spec order, so a spec that
    is already ordered comes back unchanged. Raises ValueError on a cycle (validate first)."""
    index = _index(spec)
    edges = _known_edges(spec, index)
    waiting_on = {name: len(deps) for name, deps in edges.items()}
    dependents: dict[str, list[str]] = {name: [] for name in edges}
    for name, deps in edges.items():
        for dep in deps:
            dependents[dep].append(name)
    ready = [index[name] for name, count in waiting_on.items() if count == 0]
    heapq.heapify(ready)
    names = list(edges)
    by_index = {index[name]: name for name in names}
    result: list[str] = []
    while ready:
        name = by_index[heapq.heappop(ready)]
        result.append(name)
        for child in dependents[name]:
            waiting_on[child] -= 1
            if waiting_on[child] == 0:
                heapq.heappush(ready, index[child])
    if len(result) != len(names):
        done = set(result)
        stuck = [name for name in names if name not in done]
        raise ValueError(f"steps form a cycle: {', '.join(stuck)}")
    return result


def native_dependency_count(step: StepSpec) -> int:
    """Entries the step's SubmitJob `dependsOn` would need: one per dependency, plus the
    job-id-less SEQUENTIAL entry of a sequential array job (counted against the limit too)."""
    sequential = step.array_size is not None and step.array_dependency == "SEQUENTIAL"
    return len(step.depends_on) + (1 if sequential else 0)


def is_operator_gated(step: StepSpec) -> bool:
    """True when Batch cannot hold all of the step's dependencies, so the operator submits it
    itself once they all succeeded."""
    return native_dependency_count(step) > BATCH_MAX_DEPENDENCIES


def dependents_of(spec: PipelineSpec) -> dict[str, tuple[str, ...]]:
    """step -> the steps that depend on it directly, in spec order."""
    result: dict[str, list[str]] = {step.name: [] for step in spec.steps}
    for step in spec.steps:
        for dep in step.depends_on:
            if dep in result and step.name not in result[dep]:
                result[dep].append(step.name)
    return {name: tuple(children) for name, children in result.items()}
