"""The IAM policies in manifests/iam allow exactly the AWS operations the code makes, and lint
clean with parliament.

The operations are read from the source, not from a hand-kept list: every AWS call goes through
`invoke("<Operation>", ...)` in `batchops/aws/`, so parsing those modules gives the complete set.
Which of them the operator can reach is the import closure of `batchops.handlers`; which the
read-only CLI commands reach is the set of aws-layer methods they call. A new AWS call without a
policy change fails here, and so does a policy grant no code uses.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import grimp
import parliament
import pytest
import yaml
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "operator" / "batchops"
IAM = ROOT / "manifests" / "iam"
OPERATOR_POLICY = IAM / "policy.json"
CLI_POLICY = IAM / "cli-policy.json"
TRUST_POLICY = IAM / "trust-policy.json"
TEAM_TRUST_POLICY = IAM / "team-trust-policy.json"
SERVICE_ACCOUNT = ROOT / "manifests" / "base" / "serviceaccount.yaml"

OPERATOR_ENTRY = "batchops.handlers"
"""Everything the operator process runs hangs off its kopf handlers."""
CLI_ENTRIES = ("batchops.commands.logs", "batchops.commands.imports")
"""The commands a person runs against a real account with their own credentials (cli-policy)."""

AUTHORIZED_BY = {"sqs:DeleteMessageBatch": "sqs:DeleteMessage"}
"""API operations authorized by an IAM action of another name (SQS batch calls use the
single-message action); every other operation is authorized by `<service>:<Operation>`."""

GRANTED_WITHOUT_A_CALL = {
    "iam:PassRole": "Batch checks it when a CE or job definition names a role; never called",
    "sts:TagSession": "STS checks it when AssumeRole passes a BatchAccount's sessionTags",
}

CLI_READS = {
    "batch:DescribeComputeEnvironments",
    "batch:DescribeJobDefinitions",
    "batch:DescribeJobQueues",
    "logs:GetLogEvents",
}
"""What `batchops import` and `batchops logs` need (docs/iam.md), whether or not written yet."""

ACCEPTED_FINDINGS = {
    # iam:PassRole is "permissions management" to the community auditor, but creating a CE with
    # a service role or registering a job definition with a job role cannot work without it. Both
    # statements limit it to one role path and to the services Batch passes roles to.
    (OPERATOR_POLICY.name, "PERMISSIONS_MANAGEMENT_ACTIONS", "iam:passrole"),
    # parliament's bundled IAM action list predates Batch's consumable resources (botocore's
    # model has the operations, and the policy test above derives them from the code).
    *(
        (OPERATOR_POLICY.name, "UNKNOWN_ACTION", f"Unknown action batch:{verb}ConsumableResource")
        for verb in ("Create", "Delete", "Describe", "Update")
    ),
    (OPERATOR_POLICY.name, "UNKNOWN_ACTION", "Unknown action batch:ListConsumableResources"),
    (CLI_POLICY.name, "UNKNOWN_ACTION", "Unknown action batch:DescribeConsumableResource"),
    (CLI_POLICY.name, "UNKNOWN_ACTION", "Unknown action batch:ListConsumableResources"),
    # parliament 1.6 lints identity policies: a trust policy has no Resource by definition, and
    # it knows SAML providers but not OIDC ones (EKS IRSA). The trust policy's content is
    # checked by test_trust_policy_lets_only_the_operator_service_account_assume_the_role.
    (TRUST_POLICY.name, "MALFORMED", "Statement contains neither Resource nor NotResource"),
    (TEAM_TRUST_POLICY.name, "MALFORMED", "Statement contains neither Resource nor NotResource"),
    (
        TRUST_POLICY.name,
        "UNKNOWN_FEDERATION_SOURCE",
        "arn:aws:iam::123456789012:oidc-provider/"
        "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    ),
}
"""(file, issue, detail) of the parliament findings that do not apply, each with its reason."""


# -- reading the operations from the code ----------------------------------------------------------


@dataclass(frozen=True)
class AwsCall:
    """One `invoke` of an AWS operation, where it is made and the IAM action it needs."""

    module: str
    """The aws-layer module, e.g. `batchops.aws.batch`."""
    method: str
    """The class method (or module function) the call is made in, e.g. `submit_job`."""
    operation: str
    """`<service>:<Operation>` as the API names it."""

    @property
    def action(self) -> str:
        """The IAM action that authorizes the operation."""
        return AUTHORIZED_BY.get(self.operation, self.operation)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _aws_modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text()) for p in sorted(PACKAGE.glob("aws/*.py"))}


def _service_of(tree: ast.Module) -> str | None:
    """The AWS service whose client a module wraps, from its boto3-stubs import; None for a
    module that imports the stubs of no service or of several (session.py builds all clients)."""
    services = {
        module.split(".")[0].removeprefix("mypy_boto3_")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (module := node.module or "").startswith("mypy_boto3_")
    }
    return services.pop() if len(services) == 1 else None


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef]]:
    """(name of the public method or function it belongs to, function) for every def."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield item.name, item


def _forwarders(trees: Iterable[ast.Module]) -> set[str]:
    """`invoke` and every function that passes its own parameter on as the operation name of
    another forwarder (BatchApi._call, BatchApi._all_pages), found by fixpoint."""
    functions = [f for tree in trees for _, f in _functions(tree)]
    found = {"invoke"}
    while True:
        more = {
            f.name
            for f in functions
            for call in ast.walk(f)
            if isinstance(call, ast.Call)
            and _called_name(call) in found
            and call.args
            and isinstance(call.args[0], ast.Name)
            and call.args[0].id in {a.arg for a in f.args.args}
        } - found
        if not more:
            return found
        found |= more


@cache
def aws_calls() -> frozenset[AwsCall]:
    """Every AWS operation the aws layer makes, read from its `invoke(...)` calls."""
    modules = _aws_modules()
    forwarders = _forwarders(modules.values())
    calls: set[AwsCall] = set()
    for module, tree in modules.items():
        service = _service_of(tree)
        for method, function in _functions(tree):
            if function.name in forwarders:
                continue
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and _called_name(call) in forwarders):
                    continue
                label = call.args[0] if call.args else None
                assert isinstance(label, ast.Constant) and isinstance(label.value, str), (
                    f"{module}.{method}: the operation must be a literal to be checked here"
                )
                prefix, _, operation = label.value.rpartition(":")
                assert service is not None and prefix in ("", service), (
                    f"{module}.{method}: {label.value!r} is not an operation of the one client "
                    f"the module wraps ({service})"
                )
                calls.add(AwsCall(module, method, f"{service}:{operation}"))
    return frozenset(calls)


def _client_operations(tree: ast.Module, service: str) -> set[str]:
    """The API operations of the boto3 client methods a module calls (`self._client.<method>`)."""
    model = botocore.session.get_session().get_service_model(service)
    by_method = {xform_name(op): op for op in model.operation_names}
    methods = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "_client"
    }
    unknown = methods - by_method.keys()
    assert not unknown, f"not {service} client methods: {unknown}"
    return {f"{service}:{by_method[m]}" for m in methods}


@cache
def _imports() -> grimp.ImportGraph:
    return grimp.build_graph("batchops", cache_dir=None)


def operator_actions() -> set[str]:
    """IAM actions of every aws-layer module the operator's handlers import (transitively)."""
    reached = _imports().find_upstream_modules(OPERATOR_ENTRY, as_package=True)
    return {call.action for call in aws_calls() if call.module in reached}


def cli_actions() -> set[str]:
    """IAM actions of the aws-layer methods the read-only commands (and what they import) call."""
    graph = _imports()
    reached = set(CLI_ENTRIES).union(*(graph.find_upstream_modules(m) for m in CLI_ENTRIES))
    by_method: dict[str, set[str]] = {}
    for call in aws_calls():
        if call.module in reached:  # only the API classes those commands can get hold of
            by_method.setdefault(call.method, set()).add(call.action)
    called = {
        name
        for module in reached
        if not module.startswith("batchops.aws.")
        for node in ast.walk(ast.parse(_source_of(module).read_text()))
        if isinstance(node, ast.Call) and (name := _called_name(node)) is not None
    }
    return set().union(*(by_method.get(name, set()) for name in called))


def _source_of(module: str) -> Path:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


# -- a small policy evaluator ----------------------------------------------------------------------


def _glob(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character; actions ignore case."""
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
        re.IGNORECASE,
    )


def _listed(statement: Mapping[str, Any], key: str) -> list[str]:
    value = statement.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def _matches_action(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(_glob(p).fullmatch(action) for p in _listed(statement, "NotAction"))
    return any(_glob(p).fullmatch(action) for p in _listed(statement, "Action"))


def can_allow(policy: Mapping[str, Any], action: str) -> bool:
    """Whether some request for `action` can be allowed: an Allow statement names the action
    (for some resource, under some condition) and no Deny refuses it everywhere, always."""
    statements = _listed_statements(policy)
    denied_always = any(
        s["Effect"] == "Deny"
        and _matches_action(s, action)
        and "Condition" not in s
        and "NotResource" not in s
        and "*" in _listed(s, "Resource")
        for s in statements
    )
    allowed = any(s["Effect"] == "Allow" and _matches_action(s, action) for s in statements)
    return allowed and not denied_always


def missing_actions(policy: Mapping[str, Any], actions: Iterable[str]) -> set[str]:
    """The actions the policy can never allow."""
    return {action for action in actions if not can_allow(policy, action)}


def _listed_statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statement = policy["Statement"]
    return [statement] if isinstance(statement, dict) else list(statement)


def granted_actions(policy: Mapping[str, Any]) -> set[str]:
    """The actions named by the policy's Allow statements, as written (so a wildcard is one
    more grant that no code uses)."""
    return {
        action
        for s in _listed_statements(policy)
        if s["Effect"] == "Allow"
        for action in _listed(s, "Action")
    }


def load(path: Path) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(path.read_text())
    return policy


# -- what the code calls ---------------------------------------------------------------------------


def test_the_code_calls_the_core_batch_sqs_and_logs_operations() -> None:
    # Guards the extractor: reading no calls at all would make every other test pass vacuously.
    actions = {call.action for call in aws_calls()}
    assert {
        "batch:SubmitJob",
        "batch:CreateComputeEnvironment",
        "batch:DeleteJobQueue",
        "batch:DescribeJobs",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "logs:GetLogEvents",
    } <= actions


def test_each_operation_label_names_the_boto3_call_made_beside_it() -> None:
    # The policy is checked against the `invoke` labels; a label that is not the real API
    # operation (a typo, a copy-paste) would check the wrong action.
    for module, tree in _aws_modules().items():
        service = _service_of(tree)
        labelled = {call.operation for call in aws_calls() if call.module == module}
        if service is None:
            assert not labelled, f"{module} calls AWS but wraps no single client"
        else:
            assert labelled == _client_operations(tree, service), module


def test_the_operator_reaches_batch_and_sqs_but_not_logs() -> None:
    actions = operator_actions()
    assert {"batch:SubmitJob", "batch:UpdateJobQueue", "sqs:ReceiveMessage"} <= actions
    assert not any(action.startswith("logs:") for action in actions)


# -- the evaluator ---------------------------------------------------------------------------------


def test_evaluator_reports_an_action_no_statement_allows() -> None:
    policy = load(OPERATOR_POLICY)
    policy["Statement"] = [
        {**s, "Action": [a for a in _listed(s, "Action") if a != "batch:SubmitJob"]}
        for s in policy["Statement"]
    ]
    assert missing_actions(policy, operator_actions()) == {"batch:SubmitJob"}


def test_evaluator_honours_wildcards_and_unconditional_denies() -> None:
    allow_reads = {"Effect": "Allow", "Action": "batch:Describe*", "Resource": "*"}
    assert can_allow({"Statement": [allow_reads]}, "batch:DescribeJobs")
    assert not can_allow({"Statement": [allow_reads]}, "batch:SubmitJob")
    deny_jobs = {"Effect": "Deny", "Action": "batch:DescribeJob?", "Resource": "*"}
    assert not can_allow({"Statement": [allow_reads, deny_jobs]}, "batch:DescribeJobs")
    deny_sometimes = {**deny_jobs, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert can_allow({"Statement": [allow_reads, deny_sometimes]}, "batch:DescribeJobs")


# -- the operator's policy -------------------------------------------------------------------------


def test_operator_policy_allows_every_operation_the_operator_calls() -> None:
    assert missing_actions(load(OPERATOR_POLICY), operator_actions()) == set()


def test_operator_policy_grants_nothing_the_operator_does_not_call() -> None:
    unused = (
        granted_actions(load(OPERATOR_POLICY)) - operator_actions() - GRANTED_WITHOUT_A_CALL.keys()
    )
    assert unused == set()


def test_pass_role_only_hands_roles_to_the_services_batch_gives_them_to() -> None:
    batch_services = {
        "batch.amazonaws.com",  # the CE service role
        "ec2.amazonaws.com",  # the CE instance role
        "spotfleet.amazonaws.com",  # the CE Spot Fleet role
        "ecs-tasks.amazonaws.com",  # job and execution roles of job definitions
    }
    pass_role = [
        s for s in _listed_statements(load(OPERATOR_POLICY)) if "iam:PassRole" in s["Action"]
    ]
    assert pass_role
    for statement in pass_role:
        assert "*" not in _listed(statement, "Resource")
        condition = statement.get("Condition", {}).get("StringEquals", {})
        services = _listed(condition, "iam:PassedToService")
        assert services and set(services) <= batch_services


# -- the CLI user's policy -------------------------------------------------------------------------


def test_cli_policy_allows_every_operation_the_read_only_commands_call() -> None:
    assert missing_actions(load(CLI_POLICY), cli_actions() | CLI_READS) == set()


def test_cli_policy_grants_only_reads_the_aws_layer_makes() -> None:
    granted = granted_actions(load(CLI_POLICY))
    assert granted <= {call.action for call in aws_calls()}
    writes = {a for a in granted if not a.split(":")[1].startswith(("Describe", "List", "Get"))}
    assert writes == set()


# -- lint ------------------------------------------------------------------------------------------


def _findings(path: Path, community: bool) -> dict[tuple[str, str, str], str]:
    """parliament's findings as (file, issue, detail) -> severity."""
    if community:
        # Adds the community auditors' finding types to parliament's table (nothing is replaced).
        parliament.override_config(
            Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
        )
    policy = parliament.analyze_policy_string(
        path.read_text(), filepath=path.name, include_community_auditors=community
    )
    enhanced = (parliament.enhance_finding(f) for f in policy.findings)
    return {(path.name, f.issue, _detail(f)): f.severity for f in enhanced}


def _detail(finding: Any) -> str:
    # The community auditors name the actions in the finding's location, not its detail.
    actions = finding.location.get("actions")
    return ",".join(sorted(actions)) if actions else str(finding.detail)


@pytest.mark.parametrize(
    "path", [OPERATOR_POLICY, CLI_POLICY, TRUST_POLICY, TEAM_TRUST_POLICY], ids=lambda p: p.name
)
@pytest.mark.parametrize("community", [False, True], ids=["standard", "community"])
def test_parliament_finds_nothing_but_the_accepted_findings(path: Path, community: bool) -> None:
    found = _findings(path, community)
    unexpected = {f: severity for f, severity in found.items() if f not in ACCEPTED_FINDINGS}
    assert unexpected == {}


def test_parliament_flags_a_grant_on_every_resource() -> None:
    # Shows the lint above is live: SubmitJob supports resource-level permissions.
    lax = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}],
    }
    policy = parliament.analyze_policy_string(json.dumps(lax))
    assert "RESOURCE_STAR" in {f.issue for f in policy.findings}


# -- the trust policy (IRSA) -----------------------------------------------------------------------


def test_trust_policy_lets_only_the_operator_service_account_assume_the_role() -> None:
    account = yaml.safe_load(SERVICE_ACCOUNT.read_text())["metadata"]
    (statement,) = _listed_statements(load(TRUST_POLICY))
    provider = statement["Principal"]["Federated"]
    issuer = provider.split(":oidc-provider/", 1)[1]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    # StringEquals, not StringLike: no other service account may match by wildcard.
    assert statement["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": f"system:serviceaccount:{account['namespace']}:{account['name']}",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }


def test_a_team_role_trusts_only_the_operators_role_and_only_with_the_external_id() -> None:
    operator_role = yaml.safe_load(SERVICE_ACCOUNT.read_text())["metadata"]["annotations"][
        "eks.amazonaws.com/role-arn"
    ]
    statements = _listed_statements(load(TEAM_TRUST_POLICY))
    assert {s["Effect"] for s in statements} == {"Allow"}
    assert all(s["Principal"] == {"AWS": operator_role} for s in statements)
    assume = [s for s in statements if s["Action"] == "sts:AssumeRole"]
    assert len(assume) == 1
    assert set(assume[0]["Condition"]["StringEquals"]) == {"sts:ExternalId"}
    assert {s["Action"] for s in statements} == {"sts:AssumeRole", "sts:TagSession"}


def test_the_operator_assumes_only_roles_under_the_batchops_path() -> None:
    assume = [
        s
        for s in _listed_statements(load(OPERATOR_POLICY))
        if "sts:AssumeRole" in _listed(s, "Action")
    ]
    assert [_listed(s, "Resource") for s in assume] == [["arn:aws:iam::*:role/batchops/*"]]


def test_service_account_names_the_role_in_the_same_account_as_the_policies() -> None:
    role_arn = yaml.safe_load(SERVICE_ACCOUNT.read_text())["metadata"]["annotations"][
        "eks.amazonaws.com/role-arn"
    ]
    account_id = role_arn.split(":")[4]
    for path in (OPERATOR_POLICY, CLI_POLICY, TRUST_POLICY):
        assert f":{account_id}:" in path.read_text(), path.name
