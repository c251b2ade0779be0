"""BatchAccount: not an AWS resource the operator creates, but an identity it resolves.

A pass parses the spec, counts the namespaces it allows, assumes the role (STS AssumeRole, then
GetCallerIdentity for the account id) and writes what it found: `accountId`, `arn` (the assumed
identity), `lastAssumedAt` (when the credentials in use were issued) and `allowedNamespaces`.
Conditions follow the managed kinds: Ready (the role can be assumed and some namespace may use
it), Synced, Reconciling, Stalled. An account no namespace may use is Stalled with reason
`NoNamespaceMatches` before any STS call (nothing could use it); a role STS refuses is Stalled
with reason `AssumeRoleFailed`, never a crash, and is asked again after the credential cache's
backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from batchops.aws.errors import Retryable, Terminal
from batchops.model.account import AssumedRole, NamespaceFacts, parse_account_spec
from batchops.model.common import SpecError, format_time
from batchops.plans.accounts import allowed_namespaces
from batchops.reconcile import conditions as outcomes
from batchops.reconcile.common import (
    ObjectSnapshot,
    PassOutcome,
    PassRecorder,
    Timing,
    stall_reason,
)


@dataclass(frozen=True)
class AccountIdentity:
    """Who the role turned out to be, and when its credentials in use were issued."""

    account_id: str
    arn: str
    assumed_at: datetime | None


@dataclass
class AccountReconciler:
    """Resolves one BatchAccount per call; never raises for AWS or spec problems."""

    timing: Timing
    namespaces: Callable[[], list[NamespaceFacts]]
    """Every namespace of the cluster as the operator sees it now."""
    identify: Callable[[AssumedRole], AccountIdentity]
    """Assume the role (cached credentials) and ask STS who that is."""
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def reconcile(self, obj: ObjectSnapshot) -> PassOutcome:
        """One pass: status and conditions to write, and when to look again."""
        rec = PassRecorder(obj, self.now)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        status["observedGeneration"] = obj.generation
        try:
            spec = parse_account_spec(obj.spec)
        except SpecError as exc:
            rec.stall("InvalidSpec", str(exc))
            return PassOutcome(rec.with_conditions(status), self.timing.resync, rec)
        allowed = allowed_namespaces(spec, self.namespaces())
        status["allowedNamespaces"] = len(allowed)
        if not allowed:
            rec.stall(
                "NoNamespaceMatches",
                f"no namespace matches allowedNamespaces ({spec.describe_allowed()}): nothing "
                "can use this account. Check the names and the selector's labels; a namespace "
                "created or labelled later is matched at the next pass",
            )
            return PassOutcome(rec.with_conditions(status), self.timing.resync, rec)
        try:
            identity = self.identify(spec.role)
        except Retryable as exc:
            rec.report(outcomes.retrying(str(exc)))
            return PassOutcome(rec.with_conditions(status), self.timing.retry, rec)
        except Terminal as exc:
            rec.stall(stall_reason(exc), str(exc))
            return PassOutcome(rec.with_conditions(status), self.timing.resync, rec)
        if obj.status.get("accountId") != identity.account_id:
            rec.event("Normal", "RoleAssumed", f"assumed {spec.role.role_arn}: {identity.arn}")
        status.update(accountId=identity.account_id, arn=identity.arn)
        if identity.assumed_at is not None:
            status["lastAssumedAt"] = format_time(identity.assumed_at)
        rec.report(
            outcomes.converged(
                f"role {spec.role.role_arn} assumed as account {identity.account_id}; "
                f"{len(allowed)} namespace(s) may use it: {', '.join(allowed[:10])}"
                + (" ..." if len(allowed) > 10 else "")
            )
        )
        return PassOutcome(rec.with_conditions(status), self.timing.resync, rec)
