"""kopf registrations for BatchAccount (cluster-scoped) and for the Namespaces the account
choice reads: two indexes every other kind's handlers read, a loop that resolves each account's
role and writes its status, and wakeups when an account or a namespace changes.

Only a cluster-wide operator runs the BatchAccount loop, and of a sharded one only shard 0:
operators watching some namespaces, and the other shards, read the accounts (to choose where
their objects act) but leave their status alone, so two of them never write it in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import ObjectLoop, in_pass_thread
from batchops.kube.client import BATCH_ACCOUNT, GROUP, VERSION
from batchops.model import keys
from batchops.model.account import AccountSpec, NamespaceFacts, parse_account_spec
from batchops.model.common import SpecError, frozen_map
from batchops.reconcile.account import AccountReconciler
from batchops.reconcile.common import ObjectSnapshot, PassOutcome, StatusWriter

RESOURCE = (GROUP, VERSION, BATCH_ACCOUNT.plural)
NAMESPACES = ("", "v1", "namespaces")


@kopf.index(*RESOURCE, id=keys.BATCH_ACCOUNTS.name)
async def batch_accounts(
    name: str, spec: Mapping[str, Any], **_: Any
) -> dict[tuple[None, str], AccountSpec | str]:
    """(None, name) → the account's parsed spec, or why it does not parse."""
    try:
        return {(None, name): parse_account_spec(spec)}
    except SpecError as exc:
        return {(None, name): str(exc)}


@kopf.index(*NAMESPACES, id=keys.NAMESPACES.name)
async def namespace_facts(
    name: str, labels: Mapping[str, str], annotations: Mapping[str, str], **_: Any
) -> dict[tuple[None, str], NamespaceFacts]:
    """(None, name) → the namespace's labels and annotations, for the account choice."""
    return {(None, name): NamespaceFacts(name, frozen_map(labels), frozen_map(annotations))}


def _writes_account_status(memo: Any, **_: Any) -> bool:
    """The one writer of BatchAccount status: a cluster-wide operator, shard 0 if sharded."""
    config = memo.context.config
    return not config.namespaces and (config.shard is None or config.shard.index == 0)


@kopf.on.event(*RESOURCE, when=_writes_account_status)
async def batch_account_loop(
    event: Mapping[str, Any], body: kopf.Body, memo: Any, **kwargs: Any
) -> None:
    """Resolve the role and count the allowed namespaces until the account is deleted
    (`loops.Loops` runs the passes)."""
    context: OperatorContext = memo.context
    namespaces = keys.NAMESPACES.of(kwargs)

    def every_namespace() -> list[NamespaceFacts]:
        return [
            facts
            for store in list(namespaces.values())
            for facts in store
            if isinstance(facts, NamespaceFacts)
        ]

    def loop() -> ObjectLoop[PassOutcome]:
        reconciler = AccountReconciler(context.timing, every_namespace, context.identify)

        async def reconcile(obj: ObjectSnapshot, _: StatusWriter) -> PassOutcome:
            return await in_pass_thread(reconciler.reconcile, obj)

        return ObjectLoop(BATCH_ACCOUNT, reconcile)

    context.loops.observe(BATCH_ACCOUNT, event.get("type"), body, loop)


@kopf.on.event(*RESOURCE)
async def batch_account_changed(
    name: str, meta: Mapping[str, Any], event: Mapping[str, Any], memo: Any, **_: Any
) -> None:
    """A new, edited or deleted account changes where objects may act: every loop looks again
    (not on the account's own status writes)."""
    context: OperatorContext = memo.context
    generation = None if event.get("type") == "DELETED" else meta.get("generation")
    if context.seen_version(("account", name), generation, first_counts=True):
        context.loops.wake_where()


@kopf.on.event(*NAMESPACES)
async def namespace_changed(
    name: str,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    memo: Any,
    **_: Any,
) -> None:
    """A namespace's labels or default-account annotation changed: its loops look again, and
    the accounts recount the namespaces they allow."""
    context: OperatorContext = memo.context
    facts = (
        tuple(sorted(labels.items())),
        annotations.get(keys.ACCOUNT_ANNOTATION),
    )
    if context.seen_version(("namespace", name), facts):
        context.loops.wake_where(name)
        context.loops.wake_kind(BATCH_ACCOUNT.kind)
