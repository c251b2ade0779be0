"""Properties of BatchPipeline parsing and planning, checked over generated specs.

Parsing only ever fails with SpecError/FieldError naming a field; a spec that parses and passes
`validate_dag` only produces requests AWS Batch accepts; the DAG helpers agree with a simple
reference; a job definition's content hash changes exactly when its content does.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from batchops.model.common import FieldError
from batchops.model.keys import CONTENT_HASH_TAG
from batchops.model.observed import JobStatus
from batchops.model.pipeline import (
    EnvVar,
    PipelineSpec,
    RetrySpec,
    SecretRef,
    StepSpec,
)
from batchops.model.pipeline_parsing import (
    PIPELINE_FIELDS,
    STEP_FIELDS,
    parse_pipeline_spec,
)
from batchops.plans.dag import (
    dependents_of,
    is_operator_gated,
    topological_order,
    validate_dag,
)
from batchops.plans.jobdefs import (
    DefinitionScope,
    content_hash,
    job_definition_request,
    plan_job_definitions,
)
from batchops.plans.run_submission import plan_submissions
from batchops.plans.runs import RunRef, make_run_id
from tests.unit.botocore_requests import botocore_errors
from tests.unit.strategies import (
    Document,
    Draw,
    fan_in_pipeline_specs,
    json_documents,
    mutated,
    pipeline_specs,
    reordered_mapping,
    shuffled,
    step_graphs,
)

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import RegisterJobDefinitionRequestTypeDef

# Kubernetes names: a namespace is a DNS label, a BatchPipeline name a DNS subdomain (dots!).
namespaces = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
pipeline_names = st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,252}[a-z0-9])?", fullmatch=True)

QUEUE_ARNS: Mapping[str, str] = {
    "queue-72": "arn:aws:batch:us-east-1:123456789012:job-queue/queue-72",
    "queue-simple": "arn:aws:batch:us-east-1:123456789012:job-queue/queue-simple",
}


def parse_outcome(raw: object) -> PipelineSpec | FieldError:
    """The parsed spec, or the declared error; anything else propagates and fails the test."""
    try:
        return parse_pipeline_spec(raw)  # type: ignore[arg-type]
    except FieldError as exc:
        return exc


def assert_names_a_field(error: FieldError) -> None:
    assert error.field_path.startswith("spec"), error.field_path
    assert str(error).startswith(f"{error.field_path}: ")


# --- 1. bad input ------------------------------------------------------------------------------


# Documents shaped like a spec (known keys, arbitrary values) get past the unknown-field check.
spec_shaped_documents = st.dictionaries(
    st.sampled_from(sorted(PIPELINE_FIELDS)), json_documents(), max_size=5
) | st.fixed_dictionaries(
    {
        "steps": st.lists(
            st.dictionaries(
                st.sampled_from(sorted(STEP_FIELDS | {"name", "dependsOn"})),
                json_documents(max_leaves=6),
                max_size=8,
            ),
            max_size=3,
        )
    },
    optional={"queue": json_documents(3), "image": json_documents(3)},
)


@settings(max_examples=120)
@given(
    st.one_of(json_documents(), spec_shaped_documents, pipeline_specs(), mutated(pipeline_specs()))
)
def test_pipeline_parser_only_raises_field_errors_that_name_the_field(raw: object) -> None:
    """Arbitrary and near-valid documents either parse or raise FieldError/SpecError naming a
    field path; no KeyError, TypeError, AttributeError or RecursionError escapes, and a spec
    that parses can be checked as a graph without an exception either."""
    outcome = parse_outcome(raw)
    event("outcome: FieldError" if isinstance(outcome, FieldError) else "outcome: parsed")
    if isinstance(outcome, FieldError):
        assert_names_a_field(outcome)
        return
    if not validate_dag(outcome):
        assert sorted(topological_order(outcome)) == sorted(outcome.step_names)


# --- 2. nothing invalid reaches AWS -------------------------------------------------------------

_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_JOB_DEFINITION_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_JOB_DEFINITION_REF = re.compile(r"arn:aws:batch:[^\s]+|[A-Za-z0-9_-]{1,128}(:[1-9][0-9]*)?")
_FARGATE_VCPUS = {"0.25", "0.5", "1", "2", "4", "8", "16", "32"}


def assert_valid_tags(tags: Mapping[str, str]) -> None:
    assert 1 <= len(tags) <= 50
    for key, value in tags.items():
        assert 1 <= len(key) <= 128 and len(value) <= 256, (key, value)


def assert_valid_resources(requirements: Sequence[Mapping[str, str]], *, fargate: bool) -> None:
    kinds = [r["type"] for r in requirements]
    assert len(kinds) == len(set(kinds)), kinds
    for requirement in requirements:
        value = requirement["value"]
        if requirement["type"] == "VCPU" and fargate:
            assert value in _FARGATE_VCPUS, value
        else:
            assert value.isdigit() and int(value) >= 1, requirement
    if any(r["type"] == "MEMORY" for r in requirements):
        assert int(next(r["value"] for r in requirements if r["type"] == "MEMORY")) >= 4


def assert_valid_retry_and_timeout(request: Mapping[str, object]) -> None:
    retry = request.get("retryStrategy")
    if isinstance(retry, Mapping):
        assert 1 <= retry.get("attempts", 1) <= 10, retry
        assert len(retry.get("evaluateOnExit", [])) <= 5, retry
    timeout = request.get("timeout")
    if isinstance(timeout, Mapping):
        assert timeout["attemptDurationSeconds"] >= 60, timeout


def assert_valid_registration(request: Mapping[str, object]) -> None:
    """RegisterJobDefinition: botocore's model, plus the limits the API reference states."""
    assert botocore_errors("RegisterJobDefinition", request) == ""
    assert _JOB_DEFINITION_NAME.fullmatch(str(request["jobDefinitionName"])), request
    container = request["containerProperties"]
    assert isinstance(container, Mapping)
    assert container["image"], container
    fargate = request["platformCapabilities"] == ["FARGATE"]
    assert request["platformCapabilities"] in (["EC2"], ["FARGATE"])
    requirements = container["resourceRequirements"]
    assert {"VCPU", "MEMORY"} <= {r["type"] for r in requirements}, requirements
    assert_valid_resources(requirements, fargate=fargate)
    if fargate:
        assert container.get("executionRoleArn"), container
    assert_valid_retry_and_timeout(request)
    tags = request["tags"]
    assert isinstance(tags, Mapping)
    assert_valid_tags(tags)
    assert tags[CONTENT_HASH_TAG] == content_hash(request)  # type: ignore[arg-type]


def assert_valid_submission(
    request: Mapping[str, object], step: StepSpec, earlier_job_ids: set[str]
) -> None:
    """SubmitJob: botocore's model, the documented limits, and dependencies only on jobs that
    were submitted before this one."""
    assert botocore_errors("SubmitJob", request) == ""
    assert _JOB_NAME.fullmatch(str(request["jobName"])), request["jobName"]
    assert str(request["jobQueue"]).startswith("arn:aws:batch:"), request["jobQueue"]
    assert _JOB_DEFINITION_REF.fullmatch(str(request["jobDefinition"])), request["jobDefinition"]
    depends_on = request.get("dependsOn", [])
    assert isinstance(depends_on, list)
    assert len(depends_on) <= 20, len(depends_on)
    for entry in depends_on:
        if "jobId" in entry:
            assert entry["jobId"] in earlier_job_ids, (entry, earlier_job_ids)
        else:  # only an array job's own SEQUENTIAL entry has no job id
            assert entry == {"type": "SEQUENTIAL"} and step.array_size is not None, entry
    array = request.get("arrayProperties")
    if isinstance(array, Mapping):
        assert 2 <= array["size"] <= 10000, array
    assert_valid_retry_and_timeout(request)
    overrides = request.get("containerOverrides")
    if isinstance(overrides, Mapping):
        assert_valid_resources(overrides.get("resourceRequirements", []), fargate=False)
    tags = request["tags"]
    assert isinstance(tags, Mapping)
    assert_valid_tags(tags)
    assert 0 <= request.get("schedulingPriorityOverride", 0) <= 9999  # type: ignore[operator]
    share = request.get("shareIdentifier")
    assert share is None or re.fullmatch(r"[A-Za-z0-9]{1,255}\*?", str(share)), share


def run_to_completion(spec: PipelineSpec, run: RunRef, jobdef_arns: Mapping[str, str]) -> list[str]:
    """Plan and "submit" rounds until nothing is left, every job succeeding at once; checks
    each SubmitJob request on the way and returns the steps in submission order."""
    submitted: dict[str, str] = {}
    states: dict[str, JobStatus] = {}
    order: list[str] = []
    for _ in range(len(spec.steps) + 1):
        plan = plan_submissions(spec, run, submitted, states, jobdef_arns, QUEUE_ARNS)
        if not plan.submit:
            break
        for job in plan.submit:
            request = job.request(submitted)
            assert_valid_submission(request, spec.step(job.step), set(submitted.values()))
            submitted[job.step] = f"job-{len(submitted)}"
            order.append(job.step)
        states = dict.fromkeys(submitted, "SUCCEEDED")
    return order


@settings(max_examples=100)
@given(
    raw=st.one_of(pipeline_specs(), fan_in_pipeline_specs()),
    namespace=namespaces,
    pipeline=pipeline_names,
    uid=st.uuids().map(str),
    generation=st.integers(1, 10**6),
)
def test_a_spec_that_passes_validation_only_produces_requests_batch_accepts(
    raw: Document, namespace: str, pipeline: str, uid: str, generation: int
) -> None:
    """For any valid spec: every RegisterJobDefinition and SubmitJob request passes botocore's
    validator and Batch's documented limits (names, <=20 dependsOn, array size, retries, timeout,
    resources, tags); every step is submitted exactly once, after all its dependencies (in
    topological order when Batch holds every dependency), under a unique job name."""
    spec = parse_pipeline_spec(raw)
    assume(not validate_dag(spec))
    run = RunRef(namespace, pipeline, make_run_id(uid, generation, None, None))

    jobdefs = plan_job_definitions(spec, DefinitionScope(namespace))
    for registration in jobdefs.register.values():
        assert_valid_registration(registration.request)
    registered = {
        r.step: f"arn:aws:batch:us-east-1:123456789012:job-definition/{r.name}:1"
        for r in jobdefs.register.values()
    }
    jobdef_arns = {**jobdefs.job_definitions, **registered}
    assert set(jobdef_arns) == set(spec.step_names)

    order = run_to_completion(spec, run, jobdef_arns)
    assert sorted(order) == sorted(spec.step_names)
    position = {name: index for index, name in enumerate(order)}
    for step in spec.steps:
        assert all(position[dep] < position[step.name] for dep in step.depends_on)
    if not any(is_operator_gated(step) for step in spec.steps):
        assert order == topological_order(spec)  # all in the first round, in order
    assert len({run.job_name(name) for name in order}) == len(order)


# --- 3. the step graph ---------------------------------------------------------------------------


def graph_spec(graph: Sequence[tuple[str, tuple[str, ...]]]) -> PipelineSpec:
    return PipelineSpec(
        steps=tuple(StepSpec(name=name, queue="q", depends_on=deps) for name, deps in graph)
    )


def reference_has_cycle(graph: Sequence[tuple[str, tuple[str, ...]]]) -> bool:
    """Kahn's algorithm over edges between distinct, existing steps (a self-dependency is its
    own problem kind, not a cycle): a cycle exists iff some step is never freed."""
    names = {name for name, _ in graph}
    deps = {name: {d for d in ds if d in names and d != name} for name, ds in graph}
    done: set[str] = set()
    while True:
        free = {name for name, ds in deps.items() if name not in done and ds <= done}
        if not free:
            return len(done) != len(deps)
        done |= free


@settings(max_examples=150)
@given(step_graphs(unique_names=True))
def test_topological_order_is_a_permutation_that_respects_every_edge(
    graph: list[tuple[str, tuple[str, ...]]],
) -> None:
    """topological_order lists every step once, each after its dependencies, and keeps spec
    order when the spec is already ordered; it raises ValueError exactly when there is a cycle."""
    spec = graph_spec(graph)
    if reference_has_cycle(graph):
        try:
            topological_order(spec)
        except ValueError:
            return
        raise AssertionError("topological_order accepted a cyclic graph")
    order = topological_order(spec)
    assert sorted(order) == sorted(spec.step_names)
    position = {name: index for index, name in enumerate(order)}
    for name, deps in graph:
        assert all(position[dep] < position[name] for dep in deps if dep != name)
    names = spec.step_names
    if all(
        names.index(dep) < names.index(name) for name, deps in graph for dep in deps if dep != name
    ):
        assert order == list(names)


@settings(max_examples=200)
@given(step_graphs(unique_names=True) | step_graphs(unique_names=False))
def test_validate_dag_reports_a_cycle_exactly_when_one_exists(
    graph: list[tuple[str, tuple[str, ...]]],
) -> None:
    """A `cycle` problem is reported iff the reference finds a cycle (among the first steps of
    each name, which are the ones the graph is built from); each reported cycle is a real path
    in which every step depends on the next; and a spec with no problems at all always has a
    topological order."""
    spec = graph_spec(graph)
    problems = validate_dag(spec)
    first: dict[str, tuple[str, ...]] = {}
    for name, deps in graph:
        first.setdefault(name, deps)
    assert any(p.kind == "cycle" for p in problems) == reference_has_cycle(list(first.items()))
    for problem in problems:
        assert problem.field_path.startswith("spec.steps[")
        if problem.kind != "cycle":
            continue
        path = problem.message.removeprefix("dependency cycle: ").split(" (")[0].split(" -> ")
        assert path[0] == path[-1] == problem.step
        assert all(later in first[earlier] for earlier, later in itertools.pairwise(path))
    if not problems:
        assert sorted(topological_order(spec)) == sorted(spec.step_names)


@settings(max_examples=100)
@given(step_graphs(unique_names=True))
def test_dependents_of_is_the_inverse_of_depends_on(
    graph: list[tuple[str, tuple[str, ...]]],
) -> None:
    """b is listed as a dependent of a exactly when b's dependsOn names a, for every step a."""
    dependents = dependents_of(graph_spec(graph))
    assert set(dependents) == {name for name, _ in graph}
    for parent in dependents:
        expected = [name for name, deps in graph if parent in deps]
        assert list(dependents[parent]) == expected


# --- 4. job definition content hashing ----------------------------------------------------------


inline_steps = pipeline_specs(max_steps=1, flavours=("ec2", "fargate"))
"""Specs of one inline step, the kind of step the operator registers a job definition for."""


def only_step(raw: Document) -> StepSpec:
    (step,) = parse_pipeline_spec(raw).steps
    return step


def content_hash_of(step: StepSpec) -> str:
    return job_definition_request(DefinitionScope("ns"), step)["tags"][CONTENT_HASH_TAG]


@settings(max_examples=80)
@given(raw=inline_steps, data=st.data())
def test_content_hash_ignores_key_order_and_the_order_of_environment_and_secrets(
    raw: Document, data: st.DataObject
) -> None:
    """Equal content hashes equally: the step's keys, its parameters and tags, and its
    environment and secrets lists in any order give the same hash, as does the request with its
    keys in any order."""
    step = only_step(raw)
    steps = raw["steps"]
    assert isinstance(steps, list)
    original = steps[0]
    assert isinstance(original, dict)
    reordered: Document = {}
    for key, value in original.items():
        if key in ("environment", "secrets") and isinstance(value, list):
            reordered[key] = shuffled(data.draw, value)
        elif key in ("parameters", "tags") and isinstance(value, dict):
            reordered[key] = reordered_mapping(data.draw, value)
        else:
            reordered[key] = value
    again: Document = {**raw, "steps": [reordered_mapping(data.draw, reordered)]}
    assert content_hash_of(only_step(again)) == content_hash_of(step)

    request = job_definition_request(DefinitionScope("ns"), step)
    shuffled_request: dict[str, object] = reordered_mapping(data.draw, dict(request))
    shuffled_request["containerProperties"] = reordered_mapping(
        data.draw, dict(request["containerProperties"])
    )
    shuffled_hash = content_hash(cast("RegisterJobDefinitionRequestTypeDef", shuffled_request))
    assert shuffled_hash == request["tags"][CONTENT_HASH_TAG]


CONTAINER_FIELDS = (
    "image",
    "command",
    "vcpus",
    "memory",
    "gpus",
    "environment",
    "secrets",
    "job_role_arn",
    "execution_role_arn",
    "retry",
    "timeout_seconds",
)


def _changed(step: StepSpec, field: str, draw: Draw) -> StepSpec:
    """`step` with one container field given a different value."""
    text = st.text(min_size=1, max_size=8)
    value: object
    match field:
        case "image" | "job_role_arn" | "execution_role_arn":
            value = draw(text.filter(lambda v: v != getattr(step, field)))
        case "command":
            value = draw(st.lists(text, max_size=3).map(tuple).filter(lambda v: v != step.command))
        case "vcpus":
            value = draw(st.sampled_from([1.0, 2.0, 0.5, 64.0]).filter(lambda v: v != step.vcpus))
        case "memory":
            value = draw(st.integers(4, 10**6).filter(lambda v: v != step.memory))
        case "gpus":
            value = draw(st.integers(1, 8).filter(lambda v: v != step.gpus))
        case "environment":
            # Generated names are upper case, so this one is new.
            value = (*step.environment, EnvVar("new_var", draw(st.text(max_size=8))))
        case "secrets":
            value = (*step.secrets, SecretRef("new_secret", draw(text)))
        case "retry":
            attempts = step.retry.attempts if step.retry else None
            value = RetrySpec(
                attempts=draw(st.integers(1, 10).filter(lambda v: v != attempts)),
                evaluate_on_exit=step.retry.evaluate_on_exit if step.retry else (),
            )
        case "timeout_seconds":
            value = draw(st.integers(60, 10**6).filter(lambda v: v != step.timeout_seconds))
        case _:
            raise AssertionError(field)
    change: dict[str, Any] = {field: value}
    return dataclasses.replace(step, **change)


@settings(max_examples=60)
@given(raw=inline_steps, data=st.data())
def test_any_change_to_the_container_changes_the_content_hash(
    raw: Document, data: st.DataObject
) -> None:
    """Changing any one field that ends up in the job definition (image, command, resources,
    environment, secrets, roles, retry, timeout) gives a different hash, so the changed step
    registers a new revision instead of reusing the old one."""
    step = only_step(raw)
    for field in CONTAINER_FIELDS:
        changed = _changed(step, field, data.draw)
        assert content_hash_of(changed) != content_hash_of(step), field
