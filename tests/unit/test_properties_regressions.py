"""Properties that each found a bug when they were written (now fixed); each docstring gives
the minimal failing input and whether a spec the API server accepts could reach it."""

from __future__ import annotations

import contextlib
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from batchops.model.common import FieldError
from batchops.model.cron import parse_cron_spec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.cron_expr import ScheduleError, parse_schedule
from batchops.plans.jobdefs import batch_name
from tests.unit.strategies import Document, nested

TEMPLATE: Document = {
    "spec": {"queue": "q", "image": "busybox", "steps": [{"name": "a", "vcpus": 1, "memory": 4}]}
}
# The CRD's CEL rule for spec.timeZone, so every drawn name passes `kubectl apply`.
crd_time_zone_names = st.from_regex(
    r"[A-Za-z][A-Za-z0-9_+-]{0,20}(/[A-Za-z0-9_+-]{1,20}){0,2}", fullmatch=True
)


@settings(max_examples=100)
@given(
    st.sampled_from(["America", "Europe", "Etc", "US", "Asia", "Pacific"])
    | crd_time_zone_names
    | st.text(alphabet="abc", min_size=256, max_size=300)
)
@example("America")
def test_cron_parser_answers_any_time_zone_name_with_a_spec_error(time_zone: str) -> None:
    """BUG (reachable: `timeZone: America` passes the CRD rule). ZoneInfo raises
    IsADirectoryError for a tzdata directory and OSError(ENAMETOOLONG) for a long name;
    `model.cron._time_zone` catches only ZoneInfoNotFoundError and ValueError, so the OSError
    escapes parse_cron_spec and the reconciler (which catches SpecError) fails on every retry.
    Minimal example: parse_cron_spec({"schedule": "@daily", "timeZone": "America",
    "pipelineTemplate": TEMPLATE}). Fix: also catch OSError in `_time_zone`."""
    try:
        parse_cron_spec({"schedule": "@daily", "timeZone": time_zone, "pipelineTemplate": TEMPLATE})
    except FieldError as exc:
        assert exc.field_path == "spec.timeZone"


@settings(max_examples=100)
@given(
    st.integers(min_value=1, max_value=10**40), st.sampled_from(["ns", "us", "ms", "s", "m", "h"])
)
@example(9999999999999, "h")
def test_every_with_any_interval_parses_or_is_a_schedule_error(amount: int, unit: str) -> None:
    """BUG (reachable: `@every 9999999999999h` matches the CRD's CEL rule). `_parse_every`
    builds `timedelta(seconds=...)` before comparing with MAX_INTERVAL, so an interval beyond
    timedelta's range raises OverflowError instead of ScheduleError. Minimal example:
    parse_schedule("@every 9999999999999h"). Fix: compare the Fraction of seconds with
    MAX_INTERVAL.total_seconds() before building the timedelta."""
    with contextlib.suppress(ScheduleError):
        parse_schedule(f"@every {amount}{unit}")


@settings(max_examples=50)
@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,30}", fullmatch=True))
@example("0")
def test_batch_names_never_end_with_a_newline(head: str) -> None:
    """BUG (not reachable through the apiserver, whose RE2 patterns anchor `$` at the very end).
    Python's `$` also matches before a trailing newline, so `_BATCH_NAME.match` in
    plans/jobdefs.py accepts "0\\n" and batch_name returns it unchanged: an invalid job
    definition name. The same `$` lets parse_pipeline_spec accept step name "a\\n" and
    jobDefinition "x\\n" (`_STEP_NAME`, `_JOB_DEFINITION_REF` in model/pipeline.py).
    Minimal example: batch_name("0\\n") == "0\\n". Fix: `fullmatch` (or `\\Z`) in those three."""
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}", batch_name(head + "\n"))
    raw: Document = {
        "queue": "q",
        "image": "i",
        "steps": [{"name": head + "\n", "vcpus": 1, "memory": 4}],
    }
    try:
        spec = parse_pipeline_spec(raw)
    except FieldError:
        return
    raise AssertionError(f"step name {spec.steps[0].name!r} was accepted")


@settings(max_examples=30)
@given(st.integers(min_value=2**1024, max_value=2**2048))
@example(10**400)
def test_pipeline_parser_answers_any_vcpus_with_a_spec_error(vcpus: int) -> None:
    """BUG (not reachable through the apiserver: the CRD caps vcpus at 4096 and stores int64).
    `_positive_number` calls float() on an int beyond float's range: OverflowError escapes
    parse_pipeline_spec. Minimal example: vcpus 10**400 (also as a plain integer in a manifest
    given to a direct parse). Fix: catch OverflowError there, or bound vcpus as the CRD does."""
    raw: Document = {
        "queue": "q",
        "image": "i",
        "steps": [{"name": "a", "vcpus": vcpus, "memory": 4}],
    }
    try:
        parse_pipeline_spec(raw)
    except FieldError as exc:
        assert exc.field_path == "spec.steps[0].vcpus"


def test_cron_parser_answers_a_deeply_nested_template_with_a_spec_error() -> None:
    """BUG (not reachable through the apiserver: the CRD's structural schema prunes unknown
    fields, so no open field nests this deep). `_parse_template` deep-copies
    pipelineTemplate.spec before anything checks it, so 2000 levels of nesting raise
    RecursionError out of parse_cron_spec. Fix: parse the template spec with
    parse_pipeline_spec (which rejects the unknown field) before copying it."""
    template: Document = {"spec": {"queue": "q", "deep": nested(2000)}}
    with contextlib.suppress(FieldError):
        parse_cron_spec({"schedule": "@daily", "pipelineTemplate": template})
