"""The managed-resource loop, for compute environments and job queues, over a fake Batch API.

The fake keeps resources as Describe* would return them and records every mutating call, so a
test can state what one pass did (and, as often, what it did not touch).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pytest

from batchops.aws.batch import BatchApi
from batchops.aws.errors import Retryable, Terminal
from batchops.plans.ownership import Owner
from batchops.reconcile.common import (
    NO_OTHER_TENANTS,
    ObjectSnapshot,
    PassOutcome,
    Tenancy,
    Timing,
)
from batchops.reconcile.compute import compute_environment_reconciler
from batchops.reconcile.queue import job_queue_reconciler

ACCOUNT_ARN = "arn:aws:batch:us-east-1:123456789012"
TIMING = Timing(transition=1, resync=300, retry=10)


class FakeBatch:
    """The slice of BatchApi the managed loop uses, in memory."""

    def __init__(self) -> None:
        self.ces: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, Any]] = []
        self.fail_next: Exception | None = None

    def _call(self, name: str, argument: Any) -> None:
        self.calls.append((name, argument))
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error

    @property
    def mutations(self) -> list[str]:
        return [name for name, _ in self.calls if not name.startswith("Describe")]

    # compute environments
    def describe_compute_environment(self, name: str) -> dict[str, Any] | None:
        self.calls.append(("DescribeComputeEnvironments", name))
        found = self.ces.get(name.rsplit("/", 1)[-1])
        return copy.deepcopy(found) if found else None

    def create_compute_environment(self, request: Mapping[str, Any]) -> dict[str, str]:
        self._call("CreateComputeEnvironment", request)
        name = request["computeEnvironmentName"]
        self.ces[name] = {
            "computeEnvironmentName": name,
            "computeEnvironmentArn": f"{ACCOUNT_ARN}:compute-environment/{name}",
            "type": request.get("type", "MANAGED"),
            "state": request.get("state", "ENABLED"),
            "status": "CREATING",
            "computeResources": copy.deepcopy(request.get("computeResources")),
            "serviceRole": request.get("serviceRole"),
            "tags": dict(request.get("tags") or {}),
        }
        return {"computeEnvironmentArn": self.ces[name]["computeEnvironmentArn"]}

    def update_compute_environment(self, request: Mapping[str, Any]) -> dict[str, str]:
        self._call("UpdateComputeEnvironment", request)
        ce = self.ces[request["computeEnvironment"].rsplit("/", 1)[-1]]
        if "state" in request:
            ce["state"] = request["state"]
        for key, value in (request.get("computeResources") or {}).items():
            ce["computeResources"][key] = value
        ce["status"] = "UPDATING"
        return {}

    def delete_compute_environment(self, name: str) -> None:
        self._call("DeleteComputeEnvironment", name)
        self.ces[name]["status"] = "DELETING"

    def list_queues_using_compute_environment(self, arn: str) -> list[dict[str, Any]]:
        return [
            q
            for q in self.queues.values()
            if any(e["computeEnvironment"] == arn for e in q["computeEnvironmentOrder"])
        ]

    # job queues
    def describe_job_queue(self, name: str) -> dict[str, Any] | None:
        self.calls.append(("DescribeJobQueues", name))
        found = self.queues.get(name.rsplit("/", 1)[-1])
        return copy.deepcopy(found) if found else None

    def create_job_queue(self, request: Mapping[str, Any]) -> dict[str, str]:
        self._call("CreateJobQueue", request)
        name = request["jobQueueName"]
        self.queues[name] = {
            "jobQueueName": name,
            "jobQueueArn": f"{ACCOUNT_ARN}:job-queue/{name}",
            "state": request["state"],
            "status": "CREATING",
            "priority": request["priority"],
            "computeEnvironmentOrder": copy.deepcopy(request["computeEnvironmentOrder"]),
            "tags": dict(request.get("tags") or {}),
        }
        return {"jobQueueArn": self.queues[name]["jobQueueArn"]}

    def update_job_queue(self, request: Mapping[str, Any]) -> dict[str, str]:
        self._call("UpdateJobQueue", request)
        queue = self.queues[request["jobQueue"].rsplit("/", 1)[-1]]
        queue.update({k: v for k, v in request.items() if k != "jobQueue"})
        queue["status"] = "UPDATING"
        return {}

    def delete_job_queue(self, name: str) -> None:
        self._call("DeleteJobQueue", name)
        self.queues[name]["status"] = "DELETING"

    # tags
    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        self._call("TagResource", (arn, dict(tags)))
        self._by_arn(arn)["tags"].update(tags)

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        self._call("UntagResource", (arn, list(keys)))
        for key in keys:
            self._by_arn(arn)["tags"].pop(key, None)

    def _by_arn(self, arn: str) -> dict[str, Any]:
        kind, _, name = arn.rpartition(":")[2].partition("/")
        return (self.ces if kind == "compute-environment" else self.queues)[name]

    def settle(self) -> None:
        """AWS finishes what it was doing: CREATING/UPDATING become VALID, DELETING goes."""
        for resources in (self.ces, self.queues):
            for name, resource in list(resources.items()):
                if resource["status"] == "DELETING":
                    del resources[name]
                elif resource["status"] in ("CREATING", "UPDATING"):
                    resource["status"] = "VALID"


def ce_object(
    spec: Mapping[str, Any] | None = None,
    status: Mapping[str, Any] | None = None,
    *,
    name: str = "ce",
    namespace: str = "team-a",
    generation: int = 1,
    deleting: bool = False,
) -> ObjectSnapshot:
    resources = {
        "type": "EC2",
        "allocationStrategy": "BEST_FIT_PROGRESSIVE",
        "instanceTypes": ["c5.large"],
        "minvCpus": 0,
        "maxvCpus": 64,
        "instanceRole": "ecsInstanceRole",
        "subnets": ["subnet-1"],
        "securityGroupIds": ["sg-1"],
    }
    return ObjectSnapshot.of(
        {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": f"uid-{name}",
                "generation": generation,
                **({"deletionTimestamp": "2026-12-06T00:00:00Z"} if deleting else {}),
            },
            "spec": {"computeResources": resources, **(spec or {})},
            "status": dict(status or {}),
        }
    )


def queue_object(
    entries: list[dict[str, Any]], status: dict[str, Any] | None = None, *, deleting: bool = False
) -> ObjectSnapshot:
    return ObjectSnapshot.of(
        {
            "metadata": {
                "name": "q",
                "namespace": "team-a",
                "uid": "uid-q",
                "generation": 1,
                **({"deletionTimestamp": "2026-12-06T00:00:00Z"} if deleting else {}),
            },
            "spec": {"priority": 1, "computeEnvironments": entries},
            "status": status or {},
        }
    )


def conditions(outcome: PassOutcome) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in outcome.status["conditions"]}


def event_reasons(outcome: PassOutcome) -> list[str]:
    return [event.reason for event in outcome.recorder.events]


class Reconcilers:
    """Both reconcilers over one fake account, passes chained through status as the loop does."""

    def __init__(self, fake: FakeBatch, tenancy: Tenancy = NO_OTHER_TENANTS) -> None:
        self.fake = fake
        self.known_ces: dict[str, str | None] = {}
        api = cast(BatchApi, fake)
        self.ce = compute_environment_reconciler(lambda region: api, TIMING, tenancy)
        self.known_policies: dict[str, str | None] = {}
        self.queue = job_queue_reconciler(
            lambda namespace: self.known_ces,
            lambda namespace: self.known_policies,
            lambda region: api,
            TIMING,
            tenancy,
        )
        self.progress: list[Mapping[str, Any]] = []

    def ce_pass(self, obj: ObjectSnapshot) -> PassOutcome:
        return self.ce.reconcile(obj, self.progress.append)

    def queue_pass(self, obj: ObjectSnapshot) -> PassOutcome:
        return self.queue.reconcile(obj, self.progress.append)


@pytest.fixture
def fake() -> FakeBatch:
    return FakeBatch()


@pytest.fixture
def loops(fake: FakeBatch) -> Reconcilers:
    return Reconcilers(fake)


def converge_ce(loops: Reconcilers, obj: ObjectSnapshot) -> ObjectSnapshot:
    """Passes until the CE is Ready (AWS settling in between); the object with its status."""
    for _ in range(5):
        outcome = loops.ce_pass(obj)
        obj = ce_object(obj.spec, dict(outcome.status), name=obj.name, namespace=obj.namespace)
        if conditions(outcome).get("Ready") == ("True", "Valid"):
            return obj
        loops.fake.settle()
    raise AssertionError(f"never converged: {obj.status}")


# --- compute environments --------------------------------------------------------------------


def test_a_missing_compute_environment_is_created_with_the_owner_tags(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    outcome = loops.ce_pass(ce_object())
    assert fake.mutations == ["CreateComputeEnvironment"]
    request = fake.calls[-1][1]
    assert request["computeEnvironmentName"] == "team-a-ce"
    assert request["tags"] == Owner("team-a", "ce", "uid-ce").tags()
    assert conditions(outcome)["Ready"] == ("False", "Creating")
    assert conditions(outcome)["Reconciling"] == ("True", "Creating")
    assert outcome.status["observedGeneration"] == 1 and outcome.delay == TIMING.transition


def test_a_creating_compute_environment_is_waited_for(loops: Reconcilers, fake: FakeBatch) -> None:
    created = loops.ce_pass(ce_object())
    outcome = loops.ce_pass(ce_object(status=dict(created.status)))
    assert fake.mutations == ["CreateComputeEnvironment"]
    assert conditions(outcome)["Reconciling"] == ("True", "Creating")
    assert conditions(outcome)["Ready"] == ("False", "Creating")


def test_a_valid_compute_environment_matching_the_spec_is_ready_and_untouched(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    obj = converge_ce(loops, ce_object())
    fake.calls.clear()
    outcome = loops.ce_pass(obj)
    assert fake.mutations == []
    assert conditions(outcome) == {
        "Ready": ("True", "Valid"),
        "Synced": ("True", "Synced"),
        "Reconciling": ("False", "Converged"),
        "Stalled": ("False", "Converged"),
    }
    assert outcome.delay == TIMING.resync


def test_a_scaling_change_is_one_update_call(loops: Reconcilers, fake: FakeBatch) -> None:
    obj = converge_ce(loops, ce_object())
    fake.calls.clear()
    changed = ce_object({"computeResources": {**obj.spec["computeResources"], "maxvCpus": 128}},
                        dict(obj.status), generation=2)  # fmt: skip
    outcome = loops.ce_pass(changed)
    assert fake.mutations == ["UpdateComputeEnvironment"]
    assert fake.calls[-1][1]["computeResources"] == {"maxvCpus": 128}
    assert event_reasons(outcome) == ["Updating"]
    assert conditions(outcome)["Reconciling"] == ("True", "Updating")


def test_drift_is_repaired_and_said_so(loops: Reconcilers, fake: FakeBatch) -> None:
    obj = converge_ce(loops, ce_object())
    fake.ces["team-a-ce"]["computeResources"]["maxvCpus"] = 8  # changed behind our back
    outcome = loops.ce_pass(obj)
    assert "UpdateComputeEnvironment" in fake.mutations
    assert event_reasons(outcome) == ["DriftRepaired"]


def test_a_change_aws_cannot_apply_in_place_starts_a_blue_green_replacement(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    # With a service role other than the service-linked one, AWS updates no infrastructure.
    role = {"serviceRole": "arn:aws:iam::123456789012:role/AWSBatchServiceRole"}
    obj = converge_ce(loops, ce_object(role))
    fake.calls.clear()
    resources = {**obj.spec["computeResources"], "instanceTypes": ["m5.large"]}
    outcome = loops.ce_pass(ce_object({**role, "computeResources": resources}, dict(obj.status),
                                      generation=2))  # fmt: skip
    assert fake.mutations == ["CreateComputeEnvironment"]
    successor = fake.calls[-1][1]["computeEnvironmentName"]
    assert successor != "team-a-ce" and "team-a-ce" in fake.ces
    # Progress reached status before the create call, so a crash resumes from it.
    assert loops.progress[-1]["replacement"]["step"] == "CreateSuccessor"
    assert event_reasons(outcome) == ["Replacing", "Replacing"]
    assert conditions(outcome)["Ready"] == ("True", "Replacing")


def test_an_invalid_compute_environment_stalls_with_aws_reason(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    obj = converge_ce(loops, ce_object())
    fake.ces["team-a-ce"].update(status="INVALID", statusReason="no such role")
    outcome = loops.ce_pass(obj)
    assert conditions(outcome)["Stalled"] == ("True", "Invalid")
    assert conditions(outcome)["Ready"] == ("False", "Invalid")
    assert any("no such role" in c["message"] for c in outcome.status["conditions"])
    assert event_reasons(outcome) == ["Invalid"]


def test_a_compute_environment_of_a_live_owner_is_not_adopted(fake: FakeBatch) -> None:
    loops = Reconcilers(fake, Tenancy(owner_exists=lambda kind, owner: True))
    theirs = Owner("team-b", "mine", "uid-b")
    fake.create_compute_environment(
        {"computeEnvironmentName": "shared", "type": "MANAGED", "tags": theirs.tags()}
    )
    fake.settle()
    fake.calls.clear()
    outcome = loops.ce_pass(ce_object({"name": "shared", "adopt": True}))
    assert fake.mutations == []
    assert conditions(outcome)["Stalled"] == ("True", "OwnedByAnother")
    assert event_reasons(outcome) == ["OwnedByAnother"]


def test_an_unowned_compute_environment_is_adopted_by_retagging_it(fake: FakeBatch) -> None:
    loops = Reconcilers(fake, Tenancy(owner_exists=lambda kind, owner: False))
    fake.create_compute_environment(
        {"computeEnvironmentName": "shared", "type": "MANAGED",
         "tags": Owner("team-b", "gone", "uid-x").tags()}
    )  # fmt: skip
    fake.settle()
    outcome = loops.ce_pass(ce_object({"name": "shared", "adopt": True}))
    assert fake.ces["shared"]["tags"] == Owner("team-a", "ce", "uid-ce").tags()
    assert "Adopted" in event_reasons(outcome)


def test_aws_throttling_is_retried_without_stalling(loops: Reconcilers, fake: FakeBatch) -> None:
    fake.fail_next = Retryable("CreateComputeEnvironment", "TooManyRequests", "slow down", 429)
    outcome = loops.ce_pass(ce_object())
    assert conditions(outcome)["Synced"] == ("False", "AwsRetrying")
    assert conditions(outcome)["Reconciling"] == ("True", "AwsRetrying")
    assert conditions(outcome)["Stalled"][0] == "False" and outcome.delay == TIMING.retry


def test_a_terminal_aws_error_stalls(loops: Reconcilers, fake: FakeBatch) -> None:
    fake.fail_next = Terminal("CreateComputeEnvironment", "ClientException", "bad role", 400)
    outcome = loops.ce_pass(ce_object())
    assert conditions(outcome)["Stalled"] == ("True", "AwsError")
    assert event_reasons(outcome) == ["AwsError"]


def test_an_invalid_spec_stalls_before_any_aws_call(loops: Reconcilers, fake: FakeBatch) -> None:
    outcome = loops.ce_pass(ce_object({"type": "SIDEWAYS"}))
    assert fake.calls == []
    assert conditions(outcome)["Stalled"] == ("True", "InvalidSpec")
    assert event_reasons(outcome) == ["InvalidSpec"]


def test_deleting_a_compute_environment_waits_for_its_queues_then_disables_and_deletes(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    obj = converge_ce(loops, ce_object())
    arn = obj.status["arn"]
    fake.queues["q"] = {"jobQueueName": "q", "computeEnvironmentOrder": [
        {"order": 1, "computeEnvironment": arn}]}  # fmt: skip
    deleting = ce_object(obj.spec, dict(obj.status), deleting=True)
    fake.calls.clear()

    waiting = loops.ce.finalize(deleting)
    assert not waiting.done and fake.mutations == []
    assert any("job queues to stop using it: q" in c.message for c in waiting.recorder.conditions)
    del fake.queues["q"]
    assert not loops.ce.finalize(deleting).done
    assert fake.mutations == ["UpdateComputeEnvironment"]  # DISABLED
    fake.settle()
    assert not loops.ce.finalize(deleting).done
    assert fake.mutations[-1] == "DeleteComputeEnvironment"
    fake.settle()
    assert loops.ce.finalize(deleting).done


def test_deletion_with_retain_and_of_a_taken_over_resource_touches_nothing(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    obj = converge_ce(loops, ce_object())
    fake.calls.clear()
    retained = ce_object({**obj.spec, "deletionPolicy": "Retain"}, dict(obj.status), deleting=True)
    assert loops.ce.finalize(retained).done
    fake.ces["team-a-ce"]["tags"] = Owner("team-b", "thief", "uid-t").tags()
    outcome = loops.ce.finalize(ce_object(obj.spec, dict(obj.status), deleting=True))
    assert outcome.done and [e.reason for e in outcome.recorder.events] == ["Released"]
    assert fake.mutations == [] and "team-a-ce" in fake.ces


# --- job queues ----------------------------------------------------------------------------------


def test_a_queue_waits_for_its_compute_environment_refs(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    loops.known_ces = {"ce": None}
    outcome = loops.queue_pass(queue_object([{"ref": "ce", "order": 1}]))
    assert fake.calls == []
    assert conditions(outcome)["Reconciling"] == ("True", "WaitingForComputeEnvironments")


def test_a_queue_is_created_over_the_resolved_compute_environment(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    arn = f"{ACCOUNT_ARN}:compute-environment/team-a-ce"
    loops.known_ces = {"ce": arn}
    outcome = loops.queue_pass(queue_object([{"ref": "ce", "order": 1}]))
    assert fake.mutations == ["CreateJobQueue"]
    assert fake.calls[-1][1]["computeEnvironmentOrder"] == [{"order": 1, "computeEnvironment": arn}]
    assert outcome.status["computeEnvironments"] == [{"order": 1, "arn": arn, "ref": "ce"}]


def test_a_queue_naming_another_namespaces_compute_environment_by_arn_stalls(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    fake.create_compute_environment(
        {"computeEnvironmentName": "theirs", "tags": Owner("team-b", "ce", "uid-b").tags()}
    )
    arn = fake.ces["theirs"]["computeEnvironmentArn"]
    fake.calls.clear()
    outcome = loops.queue_pass(queue_object([{"arn": arn, "order": 1}]))
    assert fake.mutations == []
    assert conditions(outcome)["Stalled"] == ("True", "CrossNamespaceReference")


def test_deleting_a_queue_disables_then_deletes_it(loops: Reconcilers, fake: FakeBatch) -> None:
    loops.known_ces = {"ce": f"{ACCOUNT_ARN}:compute-environment/team-a-ce"}
    entries = [{"ref": "ce", "order": 1}]
    created = loops.queue_pass(queue_object(entries))
    fake.settle()
    seen = loops.queue_pass(queue_object(entries, dict(created.status)))
    deleting = queue_object(entries, dict(seen.status), deleting=True)
    fake.calls.clear()
    assert not loops.queue.finalize(deleting).done
    assert fake.calls[-1] == ("UpdateJobQueue", {"jobQueue": "team-a-q", "state": "DISABLED"})
    fake.settle()
    assert not loops.queue.finalize(deleting).done
    assert fake.mutations[-1] == "DeleteJobQueue"
    fake.settle()
    assert loops.queue.finalize(deleting).done


def test_no_pass_leaves_stalled_and_reconciling_both_true(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    """kstatus reads the first True of the two; a stalled object that recovers must not keep
    Stalled=True next to Reconciling=True."""
    stalled = loops.ce_pass(ce_object({"type": "SIDEWAYS"}))
    assert conditions(stalled)["Stalled"][0] == "True"
    fixed = loops.ce_pass(ce_object(status=dict(stalled.status), generation=2))
    assert conditions(fixed)["Reconciling"] == ("True", "Creating")
    assert conditions(fixed)["Stalled"][0] == "False"


def test_adopting_a_resource_that_does_not_exist_stalls_and_creates_nothing(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    outcome = loops.ce_pass(ce_object({"name": "typo", "adopt": True}))
    assert fake.mutations == []
    assert conditions(outcome)["Stalled"] == ("True", "AdoptionTargetMissing")
    assert event_reasons(outcome) == ["AdoptionTargetMissing"]


def test_an_import_placeholder_in_the_spec_stalls_before_any_aws_call(
    loops: Reconcilers, fake: FakeBatch
) -> None:
    outcome = loops.ce_pass(ce_object({"serviceRole": "REPLACE-ME aws_iam_role.batch.arn"}))
    assert fake.calls == []
    assert conditions(outcome)["Stalled"] == ("True", "InvalidSpec")
    message = next(c["message"] for c in outcome.status["conditions"] if c["type"] == "Stalled")
    assert message.startswith("spec.serviceRole: still holds a REPLACE-ME placeholder")
