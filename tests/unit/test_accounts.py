"""Many accounts, the pure parts: BatchAccount parsing and label selectors (model), which account
and region an object uses (plans/accounts.py), references that would cross accounts or regions
(plans/ownership.py), the managed loop and BatchAccount loop over fakes, and the accountRef
`batchops import --account-ref` writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from batchops.aws.batch import BatchApi
from batchops.aws.errors import AssumeRoleFailed, Retryable
from batchops.importing.manifests import ImportedObject, ImportResult, with_account_ref
from batchops.model.account import (
    AccountSpec,
    AssumedRole,
    LabelSelector,
    NamespaceFacts,
    SelectorRequirement,
    Target,
    parse_account_spec,
)
from batchops.model.common import SpecError, frozen_map
from batchops.model.keys import ACCOUNT_ANNOTATION
from batchops.plans.accounts import AccountRefusal, NamespaceUnknown, choose_target
from batchops.plans.ownership import foreign_placement
from batchops.reconcile.account import AccountIdentity, AccountReconciler
from batchops.reconcile.common import ObjectSnapshot, Placement, Tenancy, Timing
from batchops.reconcile.compute import compute_environment_reconciler
from batchops.reconcile.pipeline import PipelineReconciler
from tests.unit.test_reconcile_managed import (
    TIMING,
    FakeBatch,
    Reconcilers,
    ce_object,
    conditions,
    event_reasons,
    queue_object,
)
from tests.unit.test_reconcile_pipeline import InstantBatch, chain

ROLE_A = "arn:aws:iam::111111111111:role/batchops/team-a"
ROLE_B = "arn:aws:iam::222222222222:role/batchops/team-b"


def account_spec(role: str = ROLE_A, **allowed: Any) -> dict[str, Any]:
    return {"roleArn": role, "allowedNamespaces": allowed or {"names": ["team-a"]}}


# --- model ---------------------------------------------------------------------------------------


def test_an_account_spec_parses_role_session_and_allowed_namespaces() -> None:
    spec = parse_account_spec(
        {
            "roleArn": ROLE_A,
            "externalId": "ext-a",
            "sessionTags": {"team": "a"},
            "region": "eu-west-1",
            "allowedNamespaces": {
                "names": ["team-a"],
                "selector": {
                    "matchLabels": {"tenant": "a"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}],
                },
            },
        }
    )
    assert spec.role == AssumedRole(ROLE_A, "ext-a", "batchops", (("team", "a"),), 3600)
    assert spec.role.account_id == "111111111111"
    assert spec.region == "eu-west-1"
    assert spec.namespaces == ("team-a",)
    assert spec.selector == LabelSelector(
        frozen_map({"tenant": "a"}), (SelectorRequirement("tier", "In", ("gold",)),)
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (account_spec("arn:aws:iam::1111:role/x"), "spec.roleArn"),
        (account_spec(ROLE_A, selector={}), "spec.allowedNamespaces.selector"),
        (
            account_spec(ROLE_A, selector={"matchExpressions": [{"key": "k", "operator": "In"}]}),
            "spec.allowedNamespaces.selector.matchExpressions[0].values",
        ),
        ({"roleArn": ROLE_A}, "spec.allowedNamespaces"),
    ],
)
def test_a_bad_account_spec_names_the_field(raw: Mapping[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_account_spec(raw)
    assert caught.value.field_path == field


@pytest.mark.parametrize(
    ("requirement", "labels", "selected"),
    [
        (SelectorRequirement("tier", "In", ("gold", "silver")), {"tier": "gold"}, True),
        (SelectorRequirement("tier", "In", ("gold",)), {}, False),
        (SelectorRequirement("tier", "NotIn", ("gold",)), {}, True),
        (SelectorRequirement("tier", "NotIn", ("gold",)), {"tier": "gold"}, False),
        (SelectorRequirement("tier", "Exists"), {"tier": ""}, True),
        (SelectorRequirement("tier", "DoesNotExist"), {"tier": ""}, False),
    ],
)
def test_selector_requirements_follow_kubernetes(
    requirement: SelectorRequirement, labels: dict[str, str], selected: bool
) -> None:
    assert requirement.matches(labels) is selected


def test_an_account_allows_listed_or_selected_namespaces_and_never_by_an_empty_selector() -> None:
    spec = parse_account_spec(account_spec(names=["team-a"], selector={"matchLabels": {"t": "a"}}))
    assert spec.allows(NamespaceFacts("team-a"))
    assert spec.allows(NamespaceFacts("other", frozen_map({"t": "a"})))
    assert not spec.allows(NamespaceFacts("other", frozen_map({"t": "b"})))
    unsafe = AccountSpec(AssumedRole(ROLE_A), selector=LabelSelector())
    assert not unsafe.allows(NamespaceFacts("anything"))


# --- which account and region -----------------------------------------------------------------

ACCOUNTS: dict[str, AccountSpec | str] = {
    "acct-a": AccountSpec(AssumedRole(ROLE_A, "ext-a"), region="eu-west-1", namespaces=("team-a",)),
    "acct-b": AccountSpec(AssumedRole(ROLE_B), selector=LabelSelector(frozen_map({"team": "b"}))),
    "broken": "spec.roleArn: 'x' is not an IAM role ARN",
}


def choose(
    namespace: NamespaceFacts | None, ref: str | None = None, region: str | None = None
) -> Target | AccountRefusal | NamespaceUnknown:
    name = namespace.name if namespace is not None else "team-a"
    return choose_target(namespace, name, ref, region, ACCOUNTS.get, "us-east-1")


def annotated(name: str, account: str | None, **labels: str) -> NamespaceFacts:
    annotations = {ACCOUNT_ANNOTATION: account} if account else {}
    return NamespaceFacts(name, frozen_map(labels), frozen_map(annotations))


def test_without_account_ref_or_namespace_default_the_operator_acts_as_itself() -> None:
    assert choose(annotated("team-a", None)) == Target(region="us-east-1")
    assert choose(annotated("team-a", None), region="ap-south-1") == Target(region="ap-south-1")


def test_the_namespace_default_applies_and_account_ref_wins_over_it() -> None:
    by_default = choose(annotated("team-a", "acct-a"))
    assert by_default == Target("eu-west-1", AssumedRole(ROLE_A, "ext-a"), "acct-a")
    team_b = annotated("team-b", "acct-a", team="b")
    assert choose(team_b, "acct-b") == Target("us-east-1", AssumedRole(ROLE_B), "acct-b")


def test_the_objects_region_wins_over_the_accounts() -> None:
    target = choose(annotated("team-a", "acct-a"), region="us-west-2")
    assert isinstance(target, Target) and target.region == "us-west-2"


def test_an_account_that_does_not_allow_the_namespace_is_refused_naming_both() -> None:
    refusal = choose(annotated("team-c", "acct-a"))
    assert isinstance(refusal, AccountRefusal) and refusal.reason == "AccountNotAllowed"
    assert "BatchAccount acct-a" in refusal.message and "namespace team-c" in refusal.message
    assert "batchops.io/account annotation of namespace team-c" in refusal.message
    assert "it allows namespaces team-a" in refusal.message
    refusal = choose(annotated("team-c", None, team="c"), "acct-b")
    assert isinstance(refusal, AccountRefusal) and "labelled team=b" in refusal.message


def test_an_unknown_or_invalid_account_is_refused() -> None:
    refusal = choose(annotated("team-a", None), "nope")
    assert refusal == AccountRefusal(
        "AccountNotFound",
        "spec.accountRef names BatchAccount nope, which does not exist; nothing was sent to "
        "AWS (ask a cluster admin, or name an account that allows this namespace)",
    )
    broken = choose(annotated("team-a", None), "broken")
    assert isinstance(broken, AccountRefusal) and broken.reason == "AccountInvalid"


def test_a_namespace_not_seen_yet_is_waited_for_unless_the_account_lists_it() -> None:
    assert isinstance(choose(None), NamespaceUnknown)
    assert isinstance(choose_target(None, "team-b", "acct-b", None, ACCOUNTS.get, None),
                      NamespaceUnknown)  # fmt: skip
    assert isinstance(choose(None, "acct-a"), Target)


# --- references across accounts and regions -----------------------------------------------------

CE_IN_B = "arn:aws:batch:us-east-1:222222222222:compute-environment/ce"


def test_a_reference_is_compared_by_the_account_and_region_of_its_arn() -> None:
    assert foreign_placement(CE_IN_B, "222222222222", "us-east-1") is None
    assert foreign_placement(CE_IN_B, "111111111111", "us-east-1") == (
        "is in account 222222222222, this object acts in account 111111111111"
    )
    assert foreign_placement(CE_IN_B, "222222222222", "eu-west-1") == (
        "is in region us-east-1, this object acts in region eu-west-1"
    )
    assert foreign_placement(CE_IN_B, None, None) is None  # nothing known, nothing compared
    assert foreign_placement("not-an-arn", "111111111111", "us-east-1") is None


def placing(target: Placement) -> Tenancy:
    return Tenancy(owner_exists=lambda kind, owner: True, place=lambda ns, ref, region: target)


def test_a_queue_whose_compute_environment_ref_resolves_into_another_account_is_refused() -> None:
    fake = FakeBatch()
    loops = Reconcilers(fake, placing(Target("us-east-1", AssumedRole(ROLE_A), "acct-a")))
    loops.known_ces["ce"] = CE_IN_B
    outcome = loops.queue_pass(queue_object([{"ref": "ce", "order": 1}]))
    assert conditions(outcome)["Stalled"] == ("True", "InvalidSpec")
    message = next(c["message"] for c in outcome.status["conditions"] if c["type"] == "Stalled")
    assert message.startswith(f"spec.computeEnvironments[0].ref: {CE_IN_B} is in account")
    assert fake.calls == []


def test_an_object_its_account_refuses_sends_nothing_to_aws() -> None:
    fake = FakeBatch()
    refusal = AccountRefusal("AccountNotAllowed", "BatchAccount acct-b does not allow team-a")
    loops = Reconcilers(fake, placing(refusal))
    outcome = loops.ce_pass(ce_object({"accountRef": "acct-b"}))
    assert fake.calls == []
    assert conditions(outcome)["Stalled"] == ("True", "AccountNotAllowed")
    assert event_reasons(outcome) == ["AccountNotAllowed"]
    # Deleting it leaves whatever it had in AWS: the account is out of reach.
    done = loops.ce.finalize(ce_object({"accountRef": "acct-b"}, {"awsName": "x"}, deleting=True))
    assert done.done and fake.calls == []


def test_objects_act_with_the_api_of_their_account_and_region() -> None:
    fake, asked = FakeBatch(), []
    target = Target("eu-west-1", AssumedRole(ROLE_A), "acct-a")

    def api_for(chosen: Target) -> BatchApi:
        asked.append(chosen)
        return cast(BatchApi, fake)

    reconciler = compute_environment_reconciler(api_for, TIMING, placing(target))
    reconciler.reconcile(ce_object(), lambda status: None)
    assert asked == [target] and "CreateComputeEnvironment" in fake.mutations


# --- the BatchAccount loop ------------------------------------------------------------------------

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def account_object(spec: Mapping[str, Any]) -> ObjectSnapshot:
    return ObjectSnapshot.of(
        {"metadata": {"name": "acct-a", "uid": "u", "generation": 2}, "spec": spec}
    )


def account_reconciler(namespaces: list[NamespaceFacts], identify: Any) -> AccountReconciler:
    return AccountReconciler(Timing(), lambda: namespaces, identify, now=lambda: NOW)


def test_an_account_no_namespace_matches_stalls_before_any_sts_call() -> None:
    def identify(role: AssumedRole) -> AccountIdentity:
        raise AssertionError("STS asked for an account nothing may use")

    reconciler = account_reconciler([NamespaceFacts("team-b")], identify)
    outcome = reconciler.reconcile(
        account_object(account_spec(selector={"matchLabels": {"a": "b"}}))
    )
    assert conditions(outcome)["Stalled"] == ("True", "NoNamespaceMatches")
    assert outcome.status["allowedNamespaces"] == 0


def test_an_assumed_role_writes_the_account_id_and_when_it_was_assumed() -> None:
    identity = AccountIdentity(
        "111111111111", "arn:aws:sts::111111111111:assumed-role/team-a/batchops", NOW
    )
    reconciler = account_reconciler([NamespaceFacts("team-a")], lambda role: identity)
    outcome = reconciler.reconcile(account_object(account_spec()))
    assert outcome.status["accountId"] == "111111111111"
    assert outcome.status["lastAssumedAt"] == "2026-11-28T10:00:00Z"
    assert outcome.status["observedGeneration"] == 2
    assert conditions(outcome)["Ready"] == ("True", "Valid")
    assert event_reasons(outcome) == ["RoleAssumed"]


def test_a_refused_role_is_a_condition_and_a_throttled_sts_a_retry() -> None:
    def refuse(role: AssumedRole) -> AccountIdentity:
        raise AssumeRoleFailed(
            "AssumeRole", "AccessDenied", f"cannot assume role {role.role_arn}: no", 403,
            reason="AssumeRoleFailed",
        )  # fmt: skip

    outcome = account_reconciler([NamespaceFacts("team-a")], refuse).reconcile(
        account_object(account_spec())
    )
    assert conditions(outcome)["Stalled"] == ("True", "AssumeRoleFailed")
    assert "accountId" not in outcome.status

    def throttle(role: AssumedRole) -> AccountIdentity:
        raise Retryable("AssumeRole", "Throttling", "slow down", 400, reason="Throttled")

    outcome = account_reconciler([NamespaceFacts("team-a")], throttle).reconcile(
        account_object(account_spec())
    )
    assert conditions(outcome)["Reconciling"] == ("True", "AwsRetrying")
    assert outcome.delay == Timing().retry


# --- batchops import --account-ref ----------------------------------------------------------------


def test_imported_objects_name_the_account_they_are_adopted_in() -> None:
    compute = ImportedObject(
        {"kind": "BatchComputeEnvironment", "spec": {"name": "ce", "adopt": True}}, "aws"
    )
    skeleton = ImportedObject({"kind": "BatchPipeline", "spec": {"steps": []}}, "aws")
    placed = with_account_ref(ImportResult((compute,), skeleton), "team-b")
    assert placed.objects[0].manifest["spec"] == {
        "name": "ce",
        "adopt": True,
        "accountRef": "team-b",
    }
    assert placed.pipeline is not None
    assert placed.pipeline.manifest["spec"]["accountRef"] == "team-b"
    assert compute.manifest["spec"] == {"name": "ce", "adopt": True}  # not changed in place


# --- pipelines ------------------------------------------------------------------------------------


def test_a_pipeline_its_account_refuses_fails_stalled_with_nothing_submitted() -> None:
    batch = InstantBatch()
    refusal = AccountRefusal("AccountNotAllowed", "BatchAccount acct-b does not allow ns")
    reconciler = PipelineReconciler(
        lambda target: batch,  # type: ignore[arg-type,return-value]
        Timing(),
        tenancy=placing(refusal),
    )
    queues = {"q": "arn:aws:batch:us-east-1:123456789012:job-queue/q"}
    outcome = reconciler.reconcile(chain(2), queues, batch.describe, lambda status: None)
    assert batch.jobs == {} and batch.definitions == {}
    assert outcome.status["phase"] == "Failed"
    by_type = {c["type"]: (c["status"], c["reason"]) for c in outcome.status["conditions"]}
    assert by_type["Stalled"] == ("True", "AccountNotAllowed")
    assert by_type["Failed"] == ("True", "AccountNotAllowed")
    assert [e.reason for e in outcome.recorder.events] == ["AccountNotAllowed"]


def test_a_pipeline_whose_queue_is_in_another_account_is_invalid_naming_the_step() -> None:
    batch = InstantBatch()
    reconciler = PipelineReconciler(
        lambda target: batch,  # type: ignore[arg-type,return-value]
        Timing(),
        tenancy=placing(Target("us-east-1", AssumedRole(ROLE_A), "acct-a")),
    )
    queues = {"q": "arn:aws:batch:us-east-1:222222222222:job-queue/q"}
    outcome = reconciler.reconcile(chain(1), queues, batch.describe, lambda status: None)
    assert batch.jobs == {}
    assert outcome.status["message"].startswith(
        "spec.steps[0].queue (q): arn:aws:batch:us-east-1:222222222222:job-queue/q is in "
        "account 222222222222, this object acts in account 111111111111"
    )


def test_a_pipeline_runs_and_its_jobs_are_tracked_where_its_account_is() -> None:
    batch = InstantBatch()
    target = Target("eu-west-1", AssumedRole(ROLE_A), "acct-a")
    asked: list[Target] = []

    def api_for(chosen: Target) -> Any:
        asked.append(chosen)
        return batch

    reconciler = PipelineReconciler(api_for, Timing(), tenancy=placing(target))
    queues = {"q": "arn:aws:batch:eu-west-1:111111111111:job-queue/q"}
    outcome = reconciler.reconcile(chain(1), queues, batch.describe, lambda status: None)
    assert len(batch.jobs) == 1 and outcome.status["phase"] in ("Running", "Succeeded")
    assert set(asked) == {target} and reconciler.target == target
