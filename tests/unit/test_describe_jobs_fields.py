"""The poller parses DescribeJobs answers trimmed to `DESCRIBE_JOBS_FIELDS`: an item carrying
every member of botocore's JobDetail shape parses to the same ObservedJob whole and trimmed, so
a field `from_describe` reads but the projection leaves out fails here."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from batchops.aws.projection import project
from batchops.model.observed import DESCRIBE_JOBS_FIELDS, ObservedJob


def sample(shape: Any, depth: int = 0) -> Any:
    """A value of every member of `shape`, typed as botocore's model says."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 6:
            return {}
        return {name: sample(member, depth + 1) for name, member in shape.members.items()}
    if kind == "list":
        return [sample(shape.member, depth + 1)]
    if kind == "map":
        return {"key": sample(shape.value, depth + 1)}
    if kind in ("integer", "long"):
        return 1_700_000_000_123 if shape.name in ("Long", "Timestamp") else 3
    if kind == "boolean":
        return True
    if kind in ("float", "double"):
        return 1.5
    if shape.enum:
        return shape.enum[0]
    return f"{shape.name}-value"


def every_member_of_job_detail() -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("batch")
    return dict(sample(model.shape_for("JobDetail")))


@pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED", "FAILED", "RUNNABLE"])
def test_a_job_parses_the_same_trimmed_to_the_fields_read_as_whole(status: str) -> None:
    item = every_member_of_job_detail() | {"status": status}
    trimmed = project(item, DESCRIBE_JOBS_FIELDS)
    assert ObservedJob.from_describe(trimmed) == ObservedJob.from_describe(item)
    # The item is rich enough to tell: the fields the projection keeps are set.
    whole = ObservedJob.from_describe(item)
    assert whole.exit_code is not None and whole.log_stream and whole.attempt_records
    assert whole.array_size is not None and whole.started_at is not None


def test_the_projection_drops_the_job_definition_a_sweep_never_reads() -> None:
    trimmed = project(every_member_of_job_detail(), DESCRIBE_JOBS_FIELDS)
    assert "environment" not in trimmed["container"]
    assert "nodeProperties" not in trimmed and "eksProperties" not in trimmed
    assert set(trimmed["attempts"][0]) <= {"startedAt", "stoppedAt", "statusReason", "container"}
