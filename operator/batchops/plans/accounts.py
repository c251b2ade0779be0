"""Which AWS identity and region an object uses: the one decision, made before any AWS call.

An object names a BatchAccount with `spec.accountRef`; without one, the cluster admin's default
for its namespace applies (annotation `batchops.io/account` on the Namespace); without that,
the operator's own identity, as before accounts existed. A named account must exist and must
allow the object's namespace, or the object is refused and nothing is sent to AWS: a tenant who
may create objects in a namespace may act only in the accounts an admin opened to it.

The region is the object's `spec.region`, else the account's, else the operator's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from batchops.model.account import AccountSpec, NamespaceFacts, Target
from batchops.model.keys import ACCOUNT_ANNOTATION

RefusalReason = Literal["AccountNotFound", "AccountNotAllowed", "AccountInvalid"]


@dataclass(frozen=True)
class AccountRefusal:
    """The object may not use the account it asks for (a human must act)."""

    reason: RefusalReason
    message: str


@dataclass(frozen=True)
class NamespaceUnknown:
    """The namespace is not known yet (the operator's view of namespaces lags behind a new
    one): look again soon rather than guess its default account."""

    message: str


AccountLookup = Callable[[str], AccountSpec | str | None]
"""BatchAccount name -> its spec, the reason it does not parse, or None if there is none."""


def choose_target(
    namespace: NamespaceFacts | None,
    namespace_name: str,
    account_ref: str | None,
    region: str | None,
    accounts: AccountLookup,
    default_region: str | None,
) -> Target | AccountRefusal | NamespaceUnknown:
    """Where an object of `namespace_name` with this accountRef and region acts."""
    if account_ref is None and namespace is None:
        return NamespaceUnknown(f"namespace {namespace_name} is not known to the operator yet")
    source = "spec.accountRef"
    if account_ref is None and namespace is not None:
        account_ref = namespace.annotations.get(ACCOUNT_ANNOTATION) or None
        source = f"the {ACCOUNT_ANNOTATION} annotation of namespace {namespace_name}"
    if account_ref is None:
        return Target(region=region or default_region)
    account = accounts(account_ref)
    if account is None:
        return AccountRefusal(
            "AccountNotFound",
            f"{source} names BatchAccount {account_ref}, which does not exist; nothing was "
            "sent to AWS (ask a cluster admin, or name an account that allows this namespace)",
        )
    if isinstance(account, str):
        return AccountRefusal(
            "AccountInvalid", f"BatchAccount {account_ref} ({source}) is invalid: {account}"
        )
    if namespace is None and namespace_name not in account.namespaces:
        # Allowed by labels, maybe: the labels are not known yet.
        return NamespaceUnknown(f"namespace {namespace_name} is not known to the operator yet")
    if namespace is not None and not account.allows(namespace):
        return AccountRefusal(
            "AccountNotAllowed",
            f"BatchAccount {account_ref} ({source}) does not allow namespace {namespace_name}: "
            f"it allows {account.describe_allowed()}; nothing was sent to AWS",
        )
    return Target(
        region=region or account.region or default_region, role=account.role, account=account_ref
    )


def allowed_namespaces(account: AccountSpec, namespaces: list[NamespaceFacts]) -> list[str]:
    """The names of the namespaces the account allows, sorted."""
    return sorted(n.name for n in namespaces if account.allows(n))
