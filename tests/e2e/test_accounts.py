"""Many teams, many AWS accounts: two namespaces mapped to two accounts by BatchAccounts and a
namespace default, each team's compute environment, queue and pipeline landing in its own
account (read back with boto3 as each account), a namespace no account allows kept out of AWS,
references across accounts refused, credentials that expire mid-run renewed unseen, and a role
STS refuses reported as a condition.

The emulator serves the accounts: each team's role trusts the operator's role with an external
id, as docs/accounts.md sets them up in AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import REGION, REPO_ROOT, Kubectl, events_of, wait_condition
from tests.e2e.builders import jobs_named, pipeline, pipeline_status, step, wait_phase
from tests.e2e.test_infrastructure import compute_environment, job_queue, status_of
from tests.e2e.test_tenancy import condition, wait_stalled
from tests.waits import wait_for

OPERATOR_ACCOUNT = "123456789012"
OPERATOR_ROLE = f"arn:aws:iam::{OPERATOR_ACCOUNT}:role/batchops-operator"
ACCOUNT_ANNOTATION = "batchops.io/account"
TENANT_ROLES = REPO_ROOT / "manifests" / "base" / "tenant-roles.yaml"


@dataclass(frozen=True)
class Team:
    """One team: its namespace, AWS account, role and BatchAccount."""

    namespace: str
    account_id: str
    role_arn: str
    external_id: str
    account: str
    """The BatchAccount's name."""

    def client(self, emulator: Emulator, service: str) -> Any:
        """A boto3 client acting in the team's account, as the team would (assumed role)."""
        sts = boto3.client(
            "sts",
            endpoint_url=emulator.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        credentials = sts.assume_role(
            RoleArn=self.role_arn, RoleSessionName="test", ExternalId=self.external_id
        )["Credentials"]
        name: Any = service
        return boto3.client(
            name,
            endpoint_url=emulator.url,
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


def batch_account(name: str, team: Team, **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchAccount",
            "metadata": {"name": name},
            "spec": {
                "roleArn": team.role_arn,
                "externalId": team.external_id,
                "allowedNamespaces": {"names": [team.namespace]},
                **spec,
            },
        }
    )


def make_team(
    emulator: Emulator, kubectl: Kubectl, namespace: str, account_id: str, suffix: str
) -> Team:
    """A role in `account_id` trusting the operator, a BatchAccount allowing `namespace`, and the
    namespace's default account annotation naming it. Role and external id are the test's own:
    the operator keeps credentials per role across tests."""
    external_id = f"ext-{suffix}-{namespace}"[:64]
    role = emulator.add_account(
        account_id, f"team-{suffix}-{namespace}"[:64], OPERATOR_ROLE, external_id, "/batchops/"
    )
    team = Team(namespace, account_id, role, external_id, f"{namespace}-{suffix}"[:63])
    kubectl.apply(batch_account(team.account, team))
    kubectl.run("annotate", "namespace", namespace, f"{ACCOUNT_ANNOTATION}={team.account}")
    wait_condition(kubectl, f"bacct/{team.account}", "", "Ready")
    return team


@pytest.fixture
def teams(
    kubectl: Kubectl,
    namespace: str,
    other_namespace: str,
    operator: OperatorProcess,
    emulator: Emulator,
) -> Iterator[tuple[Team, Team]]:
    """Team A (account 111111111111) in `namespace`, team B (222222222222) in
    `other_namespace`; their objects go before their accounts do."""
    a = make_team(emulator, kubectl, namespace, "111111111111", "a")
    b = make_team(emulator, kubectl, other_namespace, "222222222222", "b")
    yield a, b
    for team in (a, b):
        kubectl.run(
            "delete", "bpl,bjq,bce", "--all", "-n", team.namespace, "--timeout=60s", check=False
        )
    kubectl.run("delete", "bacct", a.account, b.account, "--timeout=60s", check=False)


@pytest.fixture
def third_namespace(kubectl: Kubectl, namespace: str) -> Iterator[str]:
    """A namespace no BatchAccount allows."""
    name = f"{namespace}-x"[:63]
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "bce", "--all", "-n", name, "--timeout=60s", check=False)
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def apply_team_work(kubectl: Kubectl, team: Team) -> None:
    """A compute environment, a queue over it and a two-step pipeline, as any team would."""
    kubectl.apply(compute_environment("ce"), team.namespace)
    kubectl.apply(job_queue("q", "ce"), team.namespace)
    kubectl.apply(pipeline("chain", [step("a"), step("b", "a")]), team.namespace)


def names_in(batch: Any) -> set[str]:
    """Compute environment and job queue names of one account."""
    return {
        *(
            ce["computeEnvironmentName"]
            for ce in batch.describe_compute_environments()["computeEnvironments"]
        ),
        *(q["jobQueueName"] for q in batch.describe_job_queues()["jobQueues"]),
    }


def test_each_team_lands_in_its_own_account_and_an_unallowed_namespace_reaches_no_account(
    kubectl: Kubectl,
    teams: tuple[Team, Team],
    third_namespace: str,
    emulator: Emulator,
    batch: Any,
) -> None:
    a, b = teams
    for team in teams:
        apply_team_work(kubectl, team)
    # The third namespace names team A's account as its default, which does not allow it.
    kubectl.run("annotate", "namespace", third_namespace, f"{ACCOUNT_ANNOTATION}={a.account}")
    kubectl.apply(compute_environment("ce"), third_namespace)

    for team in teams:
        assert wait_phase(kubectl, team.namespace, "chain", "Succeeded")["progress"] == "2/2"
    message = wait_stalled(kubectl, "bce/ce", third_namespace, "AccountNotAllowed")
    assert a.account in message and third_namespace in message
    assert any(
        e["reason"] == "AccountNotAllowed" and e["type"] == "Warning"
        for e in events_of(kubectl, third_namespace, "ce")
    )

    for team, other in ((a, b), (b, a)):
        own = team.client(emulator, "batch")
        found = names_in(own)
        assert {f"{team.namespace}-ce", f"{team.namespace}-q"} <= found
        assert not any(other.namespace in name or third_namespace in name for name in found)
        arn = status_of(kubectl, "bce/ce", team.namespace)["arn"]
        assert f":{team.account_id}:compute-environment/" in arn
        assert {j["jobName"].split("-")[0] for j in jobs_named(own, "chain")} == {"chain"}
        assert len(jobs_named(own, "chain")) == 2
        assert emulator.counters(team.account_id).get("CreateComputeEnvironment") == 1
        # The jobs of each account were polled there, batched: a handful of DescribeJobs per
        # account for the whole run, never one per job and poll.
        assert emulator.counters(team.account_id).get("DescribeJobs", 0) > 0

    # Nothing of any team in the operator's own account, nothing at all of the third namespace.
    assert names_in(batch) == set()
    own_account = emulator.counters(OPERATOR_ACCOUNT)
    assert "CreateComputeEnvironment" not in own_account and "SubmitJob" not in own_account

    # kubectl shows where each object acts.
    listing = kubectl.run("get", "bce", "-n", third_namespace).stdout
    assert "ACCOUNT" in listing.splitlines()[0]


def test_references_across_accounts_are_refused(
    kubectl: Kubectl, teams: tuple[Team, Team], emulator: Emulator
) -> None:
    a, b = teams
    kubectl.apply(compute_environment("ce"), b.namespace)
    wait_condition(kubectl, "bce/ce", b.namespace, "Ready")
    b_ce = status_of(kubectl, "bce/ce", b.namespace)["arn"]

    # Team A's queue names team B's compute environment by ARN: another account.
    borrowed = json.loads(job_queue("borrowed", "unused"))
    borrowed["spec"]["computeEnvironments"] = [{"arn": b_ce, "order": 1}]
    kubectl.apply(json.dumps(borrowed), a.namespace)
    message = wait_stalled(kubectl, "bjq/borrowed", a.namespace, "InvalidSpec")
    assert "spec.computeEnvironments[0].arn" in message
    assert f"is in account {b.account_id}, this object acts in account {a.account_id}" in message
    assert emulator.counters(a.account_id).get("CreateJobQueue") is None

    # An explicit accountRef to an account that does not allow the namespace is refused too.
    kubectl.apply(
        compute_environment("elsewhere", extra_spec={"accountRef": b.account}), a.namespace
    )
    message = wait_stalled(kubectl, "bce/elsewhere", a.namespace, "AccountNotAllowed")
    assert f"BatchAccount {b.account} (spec.accountRef)" in message
    assert emulator.counters(b.account_id).get("CreateComputeEnvironment") == 1


def test_credentials_expiring_mid_run_are_renewed_without_a_failed_pass(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, emulator: Emulator
) -> None:
    # Sessions of 4 s (AWS's minimum is 900): a run of about 12 s outlives three of them.
    emulator.set_session_duration(4)
    emulator.set_scenario(rules=[{"jobName": "slow-*", "durationSeconds": 80, "exitCode": 0}])
    team = make_team(emulator, kubectl, namespace, "333333333333", "renew")
    try:
        kubectl.apply(compute_environment("ce"), namespace)
        kubectl.apply(job_queue("q", "ce"), namespace)
        kubectl.apply(pipeline("slow", [step("a"), step("b", "a"), step("c", "b")]), namespace)
        assumed_before = emulator.counters().get("sts:AssumeRole", 0)

        seen: set[tuple[str, str, str]] = set()

        def finished() -> dict[str, Any] | None:
            status = pipeline_status(kubectl, namespace, "slow")
            for c in status.get("conditions") or []:
                seen.add((c["type"], c["status"], c["reason"]))
            return status if status.get("phase") in ("Succeeded", "Failed") else None

        final = wait_for(finished, timeout=120, interval=0.2, message="the run to end")
        assert final["phase"] == "Succeeded", final
        assert not [c for c in seen if c[0] == "Stalled" and c[1] == "True"], seen
        assert not [c for c in seen if c[2] in ("AwsError", "AwsRetrying", "AssumeRoleFailed")]
        assert not [e for e in events_of(kubectl, namespace, "slow") if e["type"] == "Warning"]
        # The run outlived several sessions: the operator assumed the role again, ahead of time.
        assert emulator.counters().get("sts:AssumeRole", 0) - assumed_before >= 2
        assert "ExpiredToken" not in operator.log_text()
        assert condition(kubectl, f"bacct/{team.account}", "", "Ready")["status"] == "True"
    finally:
        kubectl.run("delete", "bpl,bjq,bce", "--all", "-n", namespace, "--timeout=60s", check=False)
        kubectl.run("delete", "bacct", team.account, "--timeout=60s", check=False)


def test_a_role_sts_refuses_is_a_condition_and_heals_when_fixed(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, emulator: Emulator
) -> None:
    team = make_team(emulator, kubectl, namespace, "444444444444", "refused")
    try:
        # The admin types the external id wrong: STS refuses, nothing crashes.
        kubectl.run(
            "patch", "bacct", team.account, "--type=merge", "-p",
            json.dumps({"spec": {"externalId": "not-the-one"}}),
        )  # fmt: skip
        message = wait_stalled(kubectl, f"bacct/{team.account}", "", "AssumeRoleFailed")
        assert "cannot assume role" in message and "not authorized" in message
        kubectl.apply(compute_environment("ce"), namespace)
        message = wait_stalled(kubectl, "bce/ce", namespace, "AssumeRoleFailed")
        assert team.role_arn in message
        assert emulator.counters(team.account_id).get("CreateComputeEnvironment") is None

        kubectl.run(
            "patch", "bacct", team.account, "--type=merge", "-p",
            json.dumps({"spec": {"externalId": team.external_id}}),
        )  # fmt: skip
        wait_condition(kubectl, f"bacct/{team.account}", "", "Ready")
        wait_condition(kubectl, "bce/ce", namespace, "Ready")
        assert status_of(kubectl, f"bacct/{team.account}", "")["accountId"] == team.account_id
    finally:
        kubectl.run("delete", "bce", "--all", "-n", namespace, "--timeout=60s", check=False)
        kubectl.run("delete", "bacct", team.account, "--timeout=60s", check=False)


def test_tenants_may_use_accounts_but_only_admins_create_them(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    kubectl.run("apply", "-f", str(TENANT_ROLES))
    user = f"alice-{namespace}"
    kubectl.run(
        "create", "rolebinding", "alice", "--clusterrole=batchops-tenant", f"--user={user}",
        "-n", namespace,
    )  # fmt: skip
    binding = f"{namespace}-account-user"[:63]
    kubectl.run(
        "create", "clusterrolebinding", binding, "--clusterrole=batchops-account-user",
        f"--user={user}",
    )  # fmt: skip
    try:

        def can(*args: str, who: str = user) -> bool:
            result = kubectl.run("auth", "can-i", *args, f"--as={who}", check=False)
            return result.stdout.strip() == "yes"

        operator_sa = "system:serviceaccount:batchops-system:batchops"
        assert can("list", "batchaccounts.batchops.io")
        assert can("create", "batchcomputeenvironments.batchops.io", "-n", namespace)
        assert not can("create", "batchaccounts.batchops.io")
        assert not can("patch", "batchaccounts.batchops.io")
        assert not can("delete", "batchaccounts.batchops.io")
        assert not can("create", "batchcomputeenvironments.batchops.io", "-n", "default")
        assert can("patch", "batchaccounts.batchops.io", "--subresource=status", who=operator_sa)
        assert not can("create", "batchaccounts.batchops.io", who=operator_sa)
    finally:
        kubectl.run("delete", "clusterrolebinding", binding, check=False)
