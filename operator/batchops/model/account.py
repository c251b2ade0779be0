"""BatchAccount: an AWS account (a role to assume) that objects of some namespaces may act in,
and `Target`, the answer to "whose credentials and which region does this object's AWS call
use".

A BatchAccount is cluster-scoped and only a cluster admin writes it: it names the role, the
external id the role's trust policy asks for, a default region, and which namespaces may use
it (by name and/or by a namespace label selector). The parsing here is the only reading of a
BatchAccount spec; plans/accounts.py decides which account an object uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from batchops.model.common import FieldReader, empty_map, frozen_map

ROLE_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::(?P<account>[0-9]{12}):role/[\w+=,.@/-]{1,512}$"
)
"""An IAM role ARN, `arn:<partition>:iam::<12-digit account>:role/<path/name>`."""

BATCH_ARN = re.compile(r"^arn:aws[a-z-]*:batch:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):.+$")
"""Any AWS Batch ARN: its region and account say where the resource lives."""

DEFAULT_SESSION_NAME = "batchops"
DEFAULT_SESSION_SECONDS = 3600

SelectorOperator = Literal["In", "NotIn", "Exists", "DoesNotExist"]


@dataclass(frozen=True)
class SelectorRequirement:
    """One `matchExpressions` entry of a label selector."""

    key: str
    operator: SelectorOperator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether labels satisfy the requirement (Kubernetes' semantics)."""
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        if self.operator == "In":
            return labels.get(self.key) in self.values
        return self.key not in labels or labels[self.key] not in self.values


@dataclass(frozen=True)
class LabelSelector:
    """metav1.LabelSelector: every matchLabels pair and every expression must hold."""

    match_labels: Mapping[str, str] = field(default_factory=empty_map)
    match_expressions: tuple[SelectorRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        """An empty selector matches everything; an account never takes one (CEL refuses it)."""
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a namespace with these labels is selected."""
        return all(labels.get(k) == v for k, v in self.match_labels.items()) and all(
            requirement.matches(labels) for requirement in self.match_expressions
        )

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in sorted(self.match_labels.items())]
        for r in self.match_expressions:
            if r.operator in ("In", "NotIn"):
                parts.append(f"{r.key} {r.operator.lower()} ({','.join(r.values)})")
            else:
                parts.append(("!" if r.operator == "DoesNotExist" else "") + r.key)
        return ",".join(parts)


@dataclass(frozen=True)
class AssumedRole:
    """How to become an account's identity: the STS AssumeRole request. Hashable: it keys the
    credential and client caches (one session per distinct request)."""

    role_arn: str
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
    session_tags: tuple[tuple[str, str], ...] = ()
    duration_seconds: int = DEFAULT_SESSION_SECONDS

    @property
    def account_id(self) -> str:
        """The account the role (and every resource made with its credentials) belongs to."""
        match = ROLE_ARN.match(self.role_arn)
        return match["account"] if match else ""


@dataclass(frozen=True)
class NamespaceFacts:
    """What the account choice reads of a namespace: its name, labels and annotations."""

    name: str
    labels: Mapping[str, str] = field(default_factory=empty_map)
    annotations: Mapping[str, str] = field(default_factory=empty_map)


@dataclass(frozen=True)
class AccountSpec:
    """The spec of a BatchAccount, parsed once at the handler boundary."""

    role: AssumedRole
    region: str | None = None
    namespaces: tuple[str, ...] = ()
    """Namespaces allowed by name."""
    selector: LabelSelector | None = None
    """Namespaces allowed by their labels."""

    def allows(self, namespace: NamespaceFacts) -> bool:
        """Whether objects of this namespace may use the account."""
        if namespace.name in self.namespaces:
            return True
        return (
            self.selector is not None
            and not self.selector.empty
            and self.selector.matches(namespace.labels)
        )

    def describe_allowed(self) -> str:
        """The allowed namespaces, as messages name them."""
        parts = []
        if self.namespaces:
            parts.append("namespaces " + ", ".join(self.namespaces))
        if self.selector is not None and not self.selector.empty:
            parts.append(f"namespaces labelled {self.selector}")
        return " or ".join(parts) or "no namespace"


@dataclass(frozen=True)
class Target:
    """Where an object's AWS calls go: whose credentials, which region. Hashable: the operator
    keys its clients, its job poller and its job-definition catalogs by it."""

    region: str | None = None
    """None: the operator's default region."""
    role: AssumedRole | None = None
    """None: the operator's own identity."""
    account: str | None = None
    """The BatchAccount's name (None: the operator's own identity), for messages."""

    def describe(self) -> str:
        """How messages name the target."""
        who = f"BatchAccount {self.account}" if self.account else "the operator's own account"
        return f"{who} in {self.region or 'the default region'}"


def parse_account_spec(raw: Mapping[str, object]) -> AccountSpec:
    """Parse `spec` of a BatchAccount; raises SpecError naming the bad field."""
    spec = FieldReader(raw, "spec")
    role_arn = spec.req_str("roleArn")
    if ROLE_ARN.match(role_arn) is None:
        raise spec.fail("roleArn", f"{role_arn!r} is not an IAM role ARN")
    tags = spec.opt_str_map("sessionTags") or frozen_map(None)
    allowed = spec.opt_obj("allowedNamespaces")
    if allowed is None:
        raise spec.fail("allowedNamespaces", "is required")
    names = allowed.opt_str_list("names") or ()
    selector_reader = allowed.opt_obj("selector")
    selector = _parse_selector(selector_reader) if selector_reader is not None else None
    if not names and (selector is None or selector.empty):
        raise allowed.fail(
            "selector", "name namespaces or give a selector with at least one requirement"
        )
    return AccountSpec(
        role=AssumedRole(
            role_arn=role_arn,
            external_id=spec.opt_str("externalId"),
            session_name=spec.opt_str("sessionName") or DEFAULT_SESSION_NAME,
            session_tags=tuple(sorted(tags.items())),
            duration_seconds=spec.opt_int("sessionDurationSeconds") or DEFAULT_SESSION_SECONDS,
        ),
        region=spec.opt_str("region"),
        namespaces=tuple(names),
        selector=selector,
    )


def _parse_selector(reader: FieldReader) -> LabelSelector:
    expressions = []
    for entry in reader.obj_list("matchExpressions") or []:
        operator = entry.enum("operator", ("In", "NotIn", "Exists", "DoesNotExist"))
        values = entry.opt_str_list("values") or ()
        if operator in ("In", "NotIn") and not values:
            raise entry.fail("values", f"operator {operator} needs at least one value")
        if operator in ("Exists", "DoesNotExist") and values:
            raise entry.fail("values", f"operator {operator} takes no values")
        expressions.append(
            SelectorRequirement(entry.req_str("key"), _OPERATORS[operator], tuple(values))
        )
    return LabelSelector(
        match_labels=reader.opt_str_map("matchLabels") or frozen_map(None),
        match_expressions=tuple(expressions),
    )


_OPERATORS: Mapping[str, SelectorOperator] = {
    "In": "In",
    "NotIn": "NotIn",
    "Exists": "Exists",
    "DoesNotExist": "DoesNotExist",
}


@dataclass(frozen=True)
class ArnPlace:
    """Where a Batch ARN says its resource lives."""

    account_id: str
    region: str


def place_of_arn(arn: str) -> ArnPlace | None:
    """The account and region of a Batch ARN, or None for anything else."""
    match = BATCH_ARN.match(arn)
    return ArnPlace(match["account"], match["region"]) if match else None
