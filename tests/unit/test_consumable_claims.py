"""Steps that claim consumable resources: how a claim is read, where it goes in Batch's
requests, and how a pipeline waits for a BatchConsumableResource it names by ref."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchops.model.common import SpecError, format_time
from batchops.model.observed import RunRecord
from batchops.model.pipeline import ResourceClaim
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.jobdefs import DefinitionScope, job_definition_request
from batchops.plans.run_submission import plan_submissions
from batchops.plans.runs import RunRef
from batchops.reconcile.common import ObjectSnapshot, Timing
from batchops.reconcile.pipeline import PipelineReconciler
from tests.unit.test_reconcile_pipeline import InstantBatch

SEATS_ARN = "arn:aws:batch:us-east-1:123456789012:consumable-resource/ns-seats"
OTHER_ARN = "arn:aws:batch:us-east-1:123456789012:consumable-resource/db-connections"
QUEUES = {"q": "arn:aws:batch:us-east-1:123456789012:job-queue/q"}
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def spec_with(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"queue": "q", "image": "busybox", "steps": steps, **extra}


def render(**extra: Any) -> dict[str, Any]:
    return {"name": "render", "vcpus": 1, "memory": 512, **extra}


def test_a_step_claim_by_ref_or_arn_is_read_and_defaults_apply_to_steps_without_their_own() -> None:
    spec = parse_pipeline_spec(
        spec_with(
            [render(), render(name="own", consumableResources=[{"arn": OTHER_ARN, "quantity": 3}])],
            defaults={"consumableResources": [{"ref": "seats", "quantity": 1}]},
        )
    )
    assert spec.step("render").consumable_resources == (ResourceClaim(quantity=1, ref="seats"),)
    assert spec.step("own").consumable_resources == (ResourceClaim(quantity=3, arn=OTHER_ARN),)


@pytest.mark.parametrize(
    ("claims", "fragment"),
    [
        ([{"ref": "seats", "quantity": 1}, {"ref": "seats", "quantity": 2}], "claims seats twice"),
        ([{"ref": "seats", "arn": SEATS_ARN, "quantity": 1}], "set exactly one of ref"),
        ([{"quantity": 1}], "set exactly one of ref"),
        ([{"ref": "seats", "quantity": 0}], "quantity"),
        ([{"ref": "seats"}], "quantity"),
        ([{"arn": "arn:aws:batch:us-east-1:123456789012:job-queue/q", "quantity": 1}], "ARN"),
        ([{"ref": "Seats!", "quantity": 1}], "name of a BatchConsumableResource"),
    ],
)
def test_a_bad_claim_is_refused_naming_its_field(
    claims: list[dict[str, Any]], fragment: str
) -> None:
    with pytest.raises(SpecError, match="consumableResources") as refused:
        parse_pipeline_spec(spec_with([render(consumableResources=claims)]))
    assert fragment in str(refused.value)


def test_an_inline_steps_claims_go_into_its_job_definition_by_arn() -> None:
    spec = parse_pipeline_spec(
        spec_with([render(consumableResources=[{"arn": OTHER_ARN, "quantity": 2}])])
    )
    request = job_definition_request(DefinitionScope("ns"), spec.step("render"))
    assert request["consumableResourceProperties"] == {
        "consumableResourceList": [{"consumableResource": OTHER_ARN, "quantity": 2}]
    }


def test_a_claim_not_resolved_to_an_arn_never_reaches_a_request() -> None:
    spec = parse_pipeline_spec(
        spec_with([render(consumableResources=[{"ref": "seats", "quantity": 1}])])
    )
    with pytest.raises(ValueError, match="not resolved"):
        job_definition_request(DefinitionScope("ns"), spec.step("render"))


def test_a_job_definition_steps_claims_override_the_definitions_at_submit() -> None:
    spec = parse_pipeline_spec(
        spec_with(
            [
                {
                    "name": "render",
                    "jobDefinition": "renderer:3",
                    "consumableResources": [{"arn": OTHER_ARN, "quantity": 1}],
                }
            ]
        )
    )
    run = RunRef("ns", "etl", "r1")
    plan = plan_submissions(spec, run, {}, {}, {}, QUEUES, RunRecord.from_status({}))
    request = plan.submit[0].request({})
    assert request["consumableResourcePropertiesOverride"] == {
        "consumableResourceList": [{"consumableResource": OTHER_ARN, "quantity": 1}]
    }


def pipeline(created: datetime, status: Mapping[str, Any] | None = None) -> ObjectSnapshot:
    return ObjectSnapshot.of(
        {
            "metadata": {
                "name": "etl",
                "namespace": "ns",
                "uid": "u-1",
                "generation": 1,
                "creationTimestamp": format_time(created),
            },
            "spec": spec_with([render(consumableResources=[{"ref": "seats", "quantity": 1}])]),
            "status": dict(status or {}),
        }
    )


class RecordingBatch(InstantBatch):
    """Also keeps each RegisterJobDefinition request as sent."""

    def __init__(self) -> None:
        super().__init__()
        self.registered: list[Mapping[str, Any]] = []

    def register_job_definition(self, request: Mapping[str, Any]) -> dict[str, Any]:
        self.registered.append(request)
        return super().register_job_definition(request)


def reconciler(batch: InstantBatch) -> PipelineReconciler:
    return PipelineReconciler(lambda target: batch, Timing(), None, now=lambda: NOW)  # type: ignore[arg-type,return-value]


def test_a_pipeline_waits_for_a_resource_that_does_not_exist_yet_then_fails_naming_it() -> None:
    batch = InstantBatch()
    waiting = reconciler(batch).reconcile(
        pipeline(NOW - timedelta(seconds=1)), QUEUES, batch.describe, lambda s: None, {}
    )
    assert waiting.status["phase"] == "Pending"
    assert waiting.status["message"] == "waiting for consumable resource seats"
    assert batch.jobs == {} and batch.definitions == {}
    late = pipeline(NOW - timedelta(seconds=Timing().reference_grace + 1))
    failed = reconciler(batch).reconcile(late, QUEUES, batch.describe, lambda s: None, {})
    assert failed.status["phase"] == "Failed"
    assert "no BatchConsumableResource named seats in namespace ns" in failed.status["message"]
    assert batch.jobs == {} and batch.definitions == {}


def test_a_resource_not_usable_yet_keeps_the_pipeline_waiting_past_the_grace() -> None:
    batch = InstantBatch()
    late = pipeline(NOW - timedelta(minutes=5))
    outcome = reconciler(batch).reconcile(
        late, QUEUES, batch.describe, lambda s: None, {"seats": None}
    )
    assert outcome.status["phase"] == "Pending"
    assert batch.jobs == {}


def test_once_the_resource_exists_the_job_definition_claims_it_by_its_arn() -> None:
    batch = RecordingBatch()
    outcome = reconciler(batch).reconcile(
        pipeline(NOW), QUEUES, batch.describe, lambda s: None, {"seats": SEATS_ARN}
    )
    assert len(batch.jobs) == 1
    assert outcome.status["phase"] in ("Running", "Succeeded")
    (definition,) = batch.registered
    assert definition["consumableResourceProperties"] == {
        "consumableResourceList": [{"consumableResource": SEATS_ARN, "quantity": 1}]
    }
