"""Hypothesis strategies shared by the property tests, and the settings profiles they run under.

Three families of input:
- arbitrary JSON-like documents (`json_documents`), the shape of anything a client could send;
- valid raw specs of each kind (`pipeline_specs`, `compute_specs`, `queue_specs`, `cron_specs`),
  built to pass the parsers, so properties reach the planners instead of stopping at parsing;
- near-valid specs (`mutated`): a valid spec with one or two fields dropped or replaced by a
  hostile value (wrong type, negative or huge number, empty or unicode string, deep nesting).

Profiles: `batchops` (loaded below unless pytest was given another) searches randomly, so every
run may explore new inputs; a failure prints the falsifying example and is replayed first next
time from the local example database. `batchops-ci` is the same search derandomized: CI sees the
same examples on every run, so an unrelated change never turns red because the search wandered
somewhere new (new inputs are then explored by developers' runs). Select it with
`pytest --hypothesis-profile=batchops-ci`, which needs this module imported by tests/conftest.py
(hypothesis looks the profile up before test modules are imported). No environment variable is
needed for either.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Final, Protocol, TypeAlias, TypeVar
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from batchops.plans.cron_expr import MACROS

Document: TypeAlias = dict[str, object]
"""A raw spec as the Kubernetes API hands it over (values are JSON: dicts, lists, scalars)."""

T = TypeVar("T")


class Draw(Protocol):
    """Draws a value: the `draw` of a composite strategy or of `st.data()`."""

    def __call__(self, strategy: st.SearchStrategy[T], /) -> T: ...


# --- settings profiles -------------------------------------------------------------------------

settings.register_profile(
    "batchops",
    max_examples=100,
    # The planners are fast, but a first call may import tzdata or botocore's service model.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("batchops-ci", parent=settings.get_profile("batchops"), derandomize=True)
# `--hypothesis-profile` is applied before test modules import this one: keep the user's choice.
if settings.get_current_profile_name() == "default":
    settings.load_profile("batchops")

# --- arbitrary documents -----------------------------------------------------------------------

# The Kubernetes API stores integers as int64, so a spec never carries a wider one.
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

# Text as it can arrive in a Kubernetes object: any UTF-8 (no lone surrogates), control
# characters and non-Latin scripts included.
any_text = st.text(st.characters(codec="utf-8"), max_size=12)
edge_integers = st.sampled_from([0, -1, 1, 2, 19, 20, 21, 59, 60, 10000, 10001, 2**31, INT64_MAX])
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(INT64_MIN, INT64_MAX),
    edge_integers,
    st.integers(INT64_MIN, -1),
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
)


def json_documents(max_leaves: int = 15) -> st.SearchStrategy[object]:
    """Any object-like value: nested dicts and lists of scalars."""
    return st.recursive(
        json_scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def nested(depth: int, leaf: object = "x") -> object:
    """`depth` levels of alternating dicts and lists around `leaf`."""
    value: object = leaf
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


# A replacement for one field of a valid spec, meant to break it.
hostile_values: st.SearchStrategy[object] = st.one_of(
    json_scalars,
    st.sampled_from(["", " ", "\x00", "\n", "名前", "🚀", "a" * 300, "-1", "1e400", "Ref::x"]),
    st.floats(min_value=1e15, allow_infinity=True, allow_nan=False),
    st.lists(json_scalars, max_size=3),
    st.dictionaries(any_text, json_scalars, max_size=3),
    st.integers(min_value=2, max_value=120).map(nested),
)

_Path = tuple[str | int, ...]


def _paths(value: object, prefix: _Path = ()) -> Iterator[_Path]:
    """Every path below the root, container first."""
    items: Sequence[tuple[str | int, object]] = ()
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _mutate_at(document: Document, path: _Path, replacement: object) -> None:
    """Replace (or, for None, delete) the value at `path` in place."""
    # `path` came from `_paths`, so every key indexes the dict or list it was found in.
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    if replacement is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement


@st.composite
def mutated(
    draw: st.DrawFn, valid: st.SearchStrategy[Document], max_mutations: int = 2
) -> Document:
    """A valid document with 1..`max_mutations` fields dropped or replaced by hostile values."""
    document = copy.deepcopy(draw(valid))
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = list(_paths(document))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        replacement = draw(st.none() | hostile_values)
        _mutate_at(document, path, replacement)
    return document


# --- names and small values --------------------------------------------------------------------

step_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", fullmatch=True)
short_ids = st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)
plain_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=16)
nonempty_text = plain_text.filter(bool)
tag_keys = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _.:/=+@-]{0,30}", fullmatch=True).filter(
    lambda key: not key.lower().startswith(("aws:", "batchops.io/"))
)
tag_maps = st.dictionaries(tag_keys, st.text(max_size=20), max_size=4)
role_arns = short_ids.map(lambda name: f"arn:aws:iam::123456789012:role/{name}")
queue_refs = st.one_of(
    st.sampled_from(["queue-72", "queue-simple"]),
    short_ids.map(lambda name: f"arn:aws:batch:us-east-1:123456789012:job-queue/{name}"),
)
job_definition_refs = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{1,40}:[1-9][0-9]{0,3}", fullmatch=True),
    short_ids.map(lambda n: f"arn:aws:batch:us-east-1:123456789012:job-definition/{n}:1"),
)
FARGATE_VCPUS: Final = (0.25, 0.5, 1, 2, 4, 8, 16, 32)


def _maybe(draw: Draw, target: Document, key: str, values: st.SearchStrategy[object]) -> None:
    """Set `key` to a drawn value, or leave it out."""
    if draw(st.booleans()):
        target[key] = draw(values)


# --- BatchPipeline -----------------------------------------------------------------------------

environment_lists = st.lists(
    st.fixed_dictionaries(
        {"name": st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True)},
        optional={"value": plain_text},
    ).filter(lambda entry: not str(entry["name"]).startswith("AWS_BATCH")),
    max_size=4,
    unique_by=lambda entry: entry["name"],
)
secret_lists = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True),
            "valueFrom": short_ids.map(
                lambda n: f"arn:aws:ssm:us-east-1:123456789012:parameter/{n}"
            ),
        }
    ),
    max_size=3,
    unique_by=lambda entry: entry["name"],
)


@st.composite
def exit_conditions(draw: st.DrawFn) -> Document:
    """One `retry.evaluateOnExit` entry: an action and one to three patterns."""
    patterns = {
        "onStatusReason": st.text(min_size=1, max_size=20),
        "onReason": st.text(min_size=1, max_size=20),
        "onExitCode": st.from_regex(r"[0-9]{1,3}\*?", fullmatch=True),
    }
    keys = draw(st.lists(st.sampled_from(sorted(patterns)), min_size=1, unique=True))
    entry: Document = {"action": draw(st.sampled_from(["RETRY", "EXIT"]))}
    return entry | {key: draw(patterns[key]) for key in keys}


retry_specs = st.fixed_dictionaries(
    {},
    optional={
        "attempts": st.integers(1, 10),
        "evaluateOnExit": st.lists(exit_conditions(), max_size=5),
    },
)


STEP_FLAVOURS: Final = ("ec2", "fargate", "job-definition")


@st.composite
def _step_fields(draw: st.DrawFn, flavours: Sequence[str] = STEP_FLAVOURS) -> Document:
    """The fields of one step other than name and dependsOn: inline EC2, inline Fargate, or
    an existing job definition with submit-time overrides."""
    step: Document = {}
    flavour = draw(st.sampled_from(flavours))
    if flavour == "job-definition":
        step["jobDefinition"] = draw(job_definition_refs)
        _maybe(draw, step, "vcpus", st.integers(1, 4096))
        _maybe(draw, step, "memory", st.integers(4, 67108864))
        _maybe(draw, step, "gpus", st.integers(0, 64))
    else:
        _maybe(draw, step, "image", st.sampled_from(["busybox", "img:1", "repo/app@sha256:ab"]))
        _maybe(draw, step, "command", st.lists(plain_text, max_size=4))
        _maybe(draw, step, "secrets", secret_lists)
        _maybe(draw, step, "jobRoleArn", role_arns)
        if flavour == "fargate":
            step["platform"] = "FARGATE"
            step["vcpus"] = draw(st.sampled_from(FARGATE_VCPUS))
            step["executionRoleArn"] = draw(role_arns)
        else:
            _maybe(draw, step, "platform", st.just("EC2"))
            step["vcpus"] = draw(st.integers(1, 4096) | st.sampled_from([1.0, 72.0]))
            _maybe(draw, step, "gpus", st.integers(0, 64))
            _maybe(draw, step, "executionRoleArn", role_arns)
        step["memory"] = draw(st.integers(4, 67108864))
    _maybe(draw, step, "queue", queue_refs)
    _maybe(draw, step, "environment", environment_lists)
    _maybe(draw, step, "retry", retry_specs)
    _maybe(draw, step, "timeoutSeconds", st.integers(60, 31536000))
    if draw(st.booleans()):
        step["arraySize"] = draw(st.sampled_from([2, 3, 10000]) | st.integers(2, 10000))
        _maybe(draw, step, "arrayDependency", st.sampled_from(["N_TO_N", "SEQUENTIAL"]))
    _maybe(draw, step, "parameters", st.dictionaries(short_ids, plain_text, max_size=3))
    _maybe(draw, step, "tags", tag_maps)
    _maybe(draw, step, "propagateTags", st.booleans())
    _maybe(draw, step, "shareIdentifier", st.from_regex(r"[A-Za-z0-9]{1,8}\*?", fullmatch=True))
    _maybe(draw, step, "schedulingPriority", st.integers(0, 9999))
    return step


@st.composite
def pipeline_specs(
    draw: st.DrawFn,
    min_steps: int = 1,
    max_steps: int = 6,
    max_fan_in: int = 3,
    flavours: Sequence[str] = STEP_FLAVOURS,
) -> Document:
    """A raw BatchPipeline spec that parses: unique names, an acyclic dependsOn graph (each
    step depends on up to `max_fan_in` earlier ones), steps listed in a shuffled order, each
    step of one of `flavours` (see `_step_fields`)."""
    names = draw(st.lists(step_names, min_size=min_steps, max_size=max_steps, unique=True))
    steps: list[Document] = []
    for position, name in enumerate(names):
        step: Document = {"name": name, **draw(_step_fields(flavours))}
        earlier = names[:position]
        if earlier:
            deps = draw(st.lists(st.sampled_from(earlier), max_size=max_fan_in, unique=True))
            if deps:
                step["dependsOn"] = list(deps)
        steps.append(step)
    spec: Document = {
        "queue": draw(queue_refs),
        "image": "busybox",
        "steps": list(draw(st.permutations(steps))),
    }
    _maybe(draw, spec, "parameters", st.dictionaries(short_ids, plain_text, max_size=3))
    _maybe(draw, spec, "defaults", st.fixed_dictionaries({}, optional={"tags": tag_maps}))
    _maybe(draw, spec, "failFast", st.booleans())
    _maybe(draw, spec, "activeDeadlineSeconds", st.integers(1, 10**6))
    _maybe(draw, spec, "ttlSecondsAfterFinished", st.integers(0, 10**6))
    _maybe(draw, spec, "terminateOnDelete", st.booleans())
    return spec


@st.composite
def fan_in_pipeline_specs(draw: st.DrawFn) -> Document:
    """Minimal steps where one step depends on 15..30 others: around Batch's 20-dependency
    limit, where the operator must gate the step itself."""
    parents = draw(st.integers(15, 30))
    steps: list[Document] = [
        {"name": f"p{index}", "vcpus": 1, "memory": 4} for index in range(parents)
    ]
    sink: Document = {
        "name": "sink",
        "vcpus": 1,
        "memory": 4,
        "dependsOn": [f"p{index}" for index in range(parents)],
    }
    if draw(st.booleans()):
        sink.update(arraySize=4, arrayDependency="SEQUENTIAL")
    return {"queue": "queue-72", "image": "busybox", "steps": [*steps, sink]}


@st.composite
def step_graphs(
    draw: st.DrawFn, unique_names: bool = True, max_steps: int = 8
) -> list[tuple[str, tuple[str, ...]]]:
    """(step name, dependsOn) pairs over a small alphabet: cycles, self-dependencies and, when
    `unique_names` is false, duplicate names and dependencies on unknown steps are all possible."""
    alphabet = [f"s{index}" for index in range(max_steps)]
    if unique_names:
        names = draw(st.lists(st.sampled_from(alphabet), min_size=1, unique=True))
        targets = names
    else:
        names = draw(st.lists(st.sampled_from(alphabet), min_size=1, max_size=max_steps))
        targets = [*alphabet, "ghost"]
    return [
        (name, tuple(draw(st.lists(st.sampled_from(targets), max_size=3, unique=True))))
        for name in names
    ]


# --- BatchComputeEnvironment and BatchJobQueue -------------------------------------------------

INSTANCE_TYPES: Final = ("optimal", "m5.large", "c5.xlarge", "r5.2xlarge", "p3.2xlarge", "m6g")
STRATEGIES: Final = (
    "BEST_FIT",
    "BEST_FIT_PROGRESSIVE",
    "BEST_FIT_PROGRESSIVE_ORDERED",
    "SPOT_CAPACITY_OPTIMIZED",
    "SPOT_PRICE_CAPACITY_OPTIMIZED",
    "SPOT_CAPACITY_OPTIMIZED_PRIORITIZED",
)
SERVICE_LINKED_ROLE_ARN: Final = (
    "arn:aws:iam::123456789012:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch"
)
subnet_lists = st.lists(
    st.from_regex(r"subnet-[0-9a-f]{8}", fullmatch=True), min_size=1, max_size=5, unique=True
)
security_group_lists = st.lists(
    st.from_regex(r"sg-[0-9a-f]{8}", fullmatch=True), min_size=1, max_size=5, unique=True
)


@st.composite
def compute_resources(draw: st.DrawFn) -> Document:
    """A raw `computeResources` of any of the four types."""
    cr_type = draw(st.sampled_from(["EC2", "SPOT", "FARGATE", "FARGATE_SPOT"]))
    max_vcpus = draw(st.integers(0, 10000))
    cr: Document = {
        "type": cr_type,
        "maxvCpus": max_vcpus,
        "subnets": draw(subnet_lists),
        "securityGroupIds": draw(security_group_lists),
    }
    if cr_type.startswith("FARGATE"):
        return cr
    _maybe(draw, cr, "minvCpus", st.integers(0, max_vcpus))
    _maybe(draw, cr, "desiredvCpus", st.integers(0, max_vcpus))
    _maybe(draw, cr, "allocationStrategy", st.sampled_from(STRATEGIES))
    _maybe(
        draw,
        cr,
        "instanceTypes",
        st.lists(st.sampled_from(INSTANCE_TYPES), min_size=1, unique=True),
    )
    cr["instanceRole"] = draw(
        st.sampled_from(["ecsInstanceRole", "arn:aws:iam::123456789012:instance-profile/ecs"])
    )
    if cr_type == "SPOT":
        _maybe(draw, cr, "bidPercentage", st.integers(1, 100))
        _maybe(draw, cr, "spotIamFleetRole", role_arns)
    _maybe(draw, cr, "ec2KeyPair", short_ids)
    _maybe(
        draw,
        cr,
        "launchTemplate",
        st.fixed_dictionaries(
            {},
            optional={"version": st.sampled_from(["$Latest", "$Default", "3"])},
        ).flatmap(
            lambda template: st.one_of(
                st.just({**template, "launchTemplateId": "lt-0123456789abcdef0"}),
                st.just({**template, "launchTemplateName": "batch-template"}),
            )
        ),
    )
    _maybe(
        draw,
        cr,
        "ec2Configuration",
        st.lists(
            st.fixed_dictionaries(
                {"imageType": st.sampled_from(["ECS_AL2", "ECS_AL2_NVIDIA", "ECS_AL2023"])},
                optional={"imageIdOverride": st.from_regex(r"ami-[0-9a-f]{8}", fullmatch=True)},
            ),
            min_size=1,
            max_size=2,
            unique_by=lambda item: item["imageType"],
        ),
    )
    _maybe(draw, cr, "tags", tag_maps)
    return cr


@st.composite
def compute_specs(draw: st.DrawFn) -> Document:
    """A raw BatchComputeEnvironment spec that parses (MANAGED with resources, or UNMANAGED)."""
    spec: Document = {}
    if draw(st.booleans()):
        spec["type"] = "UNMANAGED"
    else:
        _maybe(draw, spec, "type", st.just("MANAGED"))
        spec["computeResources"] = draw(compute_resources())
    _maybe(draw, spec, "state", st.sampled_from(["ENABLED", "DISABLED"]))
    _maybe(
        draw,
        spec,
        "serviceRole",
        st.sampled_from([SERVICE_LINKED_ROLE_ARN, "AWSServiceRoleForBatch", "batch-service-role"])
        | role_arns,
    )
    _maybe(
        draw,
        spec,
        "updatePolicy",
        st.fixed_dictionaries(
            {},
            optional={
                "terminateJobsOnUpdate": st.booleans(),
                "jobExecutionTimeoutMinutes": st.integers(1, 360),
            },
        ),
    )
    _maybe(draw, spec, "tags", tag_maps)
    _maybe(draw, spec, "name", st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", fullmatch=True))
    _maybe(draw, spec, "region", st.sampled_from(["us-east-1", "eu-west-1"]))
    _maybe(draw, spec, "deletionPolicy", st.sampled_from(["Delete", "Retain"]))
    _maybe(draw, spec, "adopt", st.booleans())
    return spec


queue_specs = st.fixed_dictionaries(
    {
        "priority": st.integers(0, 1000),
        "computeEnvironments": st.lists(
            st.one_of(
                st.fixed_dictionaries({"ref": short_ids}),
                st.fixed_dictionaries(
                    {
                        "arn": short_ids.map(
                            lambda n: (
                                f"arn:aws:batch:us-east-1:123456789012:compute-environment/{n}"
                            )
                        )
                    }
                ),
            ).flatmap(
                lambda entry: st.integers(0, 10).map(lambda order: {**entry, "order": order})
            ),
            min_size=1,
            max_size=3,
        ),
    },
    optional={
        "state": st.sampled_from(["ENABLED", "DISABLED"]),
        "region": st.just("us-east-1"),
        "schedulingPolicyArn": st.just(
            "arn:aws:batch:us-east-1:123456789012:scheduling-policy/fair"
        ),
        "jobStateTimeLimitActions": st.lists(
            st.fixed_dictionaries(
                {"reason": nonempty_text, "maxTimeSeconds": st.integers(600, 86400)},
                optional={"state": st.just("RUNNABLE"), "action": st.just("CANCEL")},
            ),
            max_size=2,
        ),
        "tags": tag_maps,
        "name": short_ids,
        "deletionPolicy": st.sampled_from(["Delete", "Retain"]),
        "adopt": st.booleans(),
    },
)
"""A raw BatchJobQueue spec that parses."""

# --- CronPipeline and schedules ----------------------------------------------------------------

_FIELD_RANGES: Final = {
    "minute": (0, 59),
    "hour": (0, 23),
    "day-of-month": (1, 31),
    "month": (1, 12),
    "day-of-week": (0, 7),
}
_MONTH_NAMES: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                       "DEC")  # fmt: skip
_WEEKDAY_NAMES: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@st.composite
def _cron_item(draw: st.DrawFn, field: str) -> str:
    """One comma-separated item of a cron field: `*`, `?`, N, N-M, with an optional /step."""
    low, high = _FIELD_RANGES[field]
    value = st.integers(low, high)
    if field == "month":
        value_text = value.map(str) | st.sampled_from(_MONTH_NAMES)
    elif field == "day-of-week":
        value_text = value.map(str) | st.sampled_from(_WEEKDAY_NAMES).map(str.lower)
    else:
        value_text = value.map(str)
    shape = draw(st.sampled_from(["star", "value", "range", "star-step", "value-step"]))
    if shape == "star":
        return draw(st.sampled_from(["*", "?"]))
    if shape == "value":
        return draw(value_text)
    if shape == "range":
        start, end = sorted(draw(st.lists(st.integers(low, high), min_size=2, max_size=2)))
        return f"{start}-{end}"
    step = draw(st.integers(1, max(1, (high if field != "day-of-week" else 6) - low)))
    head = "*" if shape == "star-step" else str(draw(st.integers(low, high)))
    return f"{head}/{step}"


@st.composite
def cron_texts(draw: st.DrawFn) -> str:
    """Five cron fields drawn from the grammar (may still be rejected, e.g. `30 2`: Feb 30)."""
    fields = [
        ",".join(draw(st.lists(_cron_item(field), min_size=1, max_size=3)))
        for field in _FIELD_RANGES
    ]
    return " ".join(fields)


def _go_duration(seconds: int) -> str:
    """A Go duration for a whole number of seconds, in one of the spellings Go accepts."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"


every_intervals = st.integers(1, 40 * 86400)
every_texts = st.one_of(
    every_intervals.map(lambda s: f"@every {_go_duration(s)}"),
    every_intervals.map(lambda s: f"@every {s}s"),
    every_intervals.map(lambda s: f"@every {s * 1000}ms"),
)
cron_schedule_texts = st.one_of(cron_texts(), st.sampled_from(sorted(MACROS)))
schedule_texts = st.one_of(cron_schedule_texts, every_texts)
"""Schedules built from the grammar; most parse."""

schedule_like_texts = st.one_of(
    any_text,
    st.text(st.sampled_from("0123456789*?/,- \t@everyhmsuµnJANMONSUN"), max_size=30),
    schedule_texts.map(lambda text: text.replace(" ", "  ")),
)
"""Text that often gets deep into the schedule parser before failing."""

DST_ZONES: Final = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",  # DST transitions at midnight
    "Asia/Seoul",
)
time_zones: st.SearchStrategy[tzinfo] = st.one_of(
    st.just(UTC),
    st.integers(-14 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q))),
    st.sampled_from(DST_ZONES).map(ZoneInfo),
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


@st.composite
def cron_specs(draw: st.DrawFn) -> Document:
    """A raw CronPipeline spec that parses."""
    spec: Document = {
        "schedule": draw(schedule_texts),
        "pipelineTemplate": {"spec": draw(pipeline_specs(max_steps=1))},
    }
    _maybe(draw, spec, "timeZone", st.sampled_from(["UTC", *DST_ZONES]))
    _maybe(draw, spec, "concurrencyPolicy", st.sampled_from(["Allow", "Forbid", "Replace"]))
    _maybe(draw, spec, "startingDeadlineSeconds", st.integers(1, 86400))
    _maybe(draw, spec, "suspend", st.booleans())
    _maybe(draw, spec, "successfulRunsHistoryLimit", st.integers(0, 10))
    _maybe(draw, spec, "failedRunsHistoryLimit", st.integers(0, 10))
    if draw(st.booleans()):
        template = spec["pipelineTemplate"]
        assert isinstance(template, dict)
        template["metadata"] = {
            "labels": draw(st.dictionaries(short_ids, short_ids, max_size=2)),
            "annotations": draw(st.dictionaries(short_ids, plain_text, max_size=2)),
        }
    return spec


# --- permutations of set-valued fields ---------------------------------------------------------


def shuffled(draw: Draw, values: Sequence[T]) -> list[T]:
    """`values` in a drawn order."""
    return list(draw(st.permutations(list(values))))


def reordered_mapping(draw: Draw, mapping: Mapping[str, T]) -> dict[str, T]:
    """The same mapping with its keys inserted in a drawn order."""
    keys = draw(st.permutations(list(mapping)))
    return {key: mapping[key] for key in keys}
