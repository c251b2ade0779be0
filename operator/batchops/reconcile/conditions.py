"""The conditions of the AWS-backed kinds, one named constructor per outcome of a pass.

Each returns a `Verdict`: the conditions that outcome sets (a type it does not name keeps its
value). Ready says whether the resource is usable, Synced whether the last pass could do what the
spec asks, and kstatus's abnormal-true pair says whether work is in progress (Reconciling) or a
human must act (Stalled) — never both.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchops.kube.status import READY, RECONCILING, STALLED, SYNCED

# kstatus reads the first of Reconciling / Stalled that is True, so no outcome that sets one True
# may leave the other True from an earlier pass: each sets both.


@dataclass(frozen=True)
class Setting:
    """One condition as an outcome sets it."""

    type: str
    status: bool
    reason: str
    message: str = ""


@dataclass(frozen=True)
class Verdict:
    """The conditions one outcome of a pass sets."""

    settings: tuple[Setting, ...]


def _verdict(*settings: Setting) -> Verdict:
    return Verdict(settings)


def creating(reason: str, message: str) -> Verdict:
    """A create call was made (reason Creating, or ResourceMissing when it is a re-creation)."""
    return _verdict(
        Setting(READY, False, reason, message),
        Setting(SYNCED, True, "Synced"),
        Setting(RECONCILING, True, "Creating", message),
        Setting(STALLED, False, "Progressing"),
    )


def awaiting_aws(status: str) -> Verdict:
    """AWS is CREATING / UPDATING / DELETING the resource: look again soon."""
    reason = status.title()
    return _verdict(
        Setting(READY, False, reason, f"AWS: {status}"),
        Setting(RECONCILING, True, reason, "waiting for AWS"),
        Setting(STALLED, False, reason),
    )


def waiting_for(reason: str, message: str) -> Verdict:
    """Another object (a referenced compute environment) is not ready yet."""
    return _verdict(
        Setting(READY, False, reason, message),
        Setting(RECONCILING, True, reason, message),
        Setting(STALLED, False, reason),
    )


def invalid_in_aws(message: str) -> Verdict:
    """AWS reports INVALID: a human must fix the spec (a role, a subnet)."""
    return _verdict(
        Setting(READY, False, "Invalid", message),
        Setting(STALLED, True, "Invalid", message),
        Setting(RECONCILING, False, "Invalid", message),
    )


def updating(drift: str) -> Verdict:
    """An update call was made (a spec change, or drift repaired)."""
    return _verdict(
        Setting(RECONCILING, True, "Updating", drift),
        Setting(SYNCED, True, "Synced"),
        Setting(STALLED, False, "Updating"),
    )


def synced() -> Verdict:
    """The pass did what the spec asks (a resource INVALID in AWS stays so)."""
    return _verdict(Setting(SYNCED, True, "Synced"))


def converged(message: str) -> Verdict:
    """AWS matches the spec and the resource is usable."""
    return _verdict(
        Setting(READY, True, "Valid", message),
        Setting(SYNCED, True, "Synced"),
        Setting(RECONCILING, False, "Converged"),
        Setting(STALLED, False, "Converged"),
    )


def retrying(error: str) -> Verdict:
    """Throttled or a 5xx: retried with backoff, nothing for a human to do."""
    return _verdict(
        Setting(SYNCED, False, "AwsRetrying", error),
        Setting(RECONCILING, True, "AwsRetrying", error),
        Setting(STALLED, False, "AwsRetrying"),
    )


def stalled(reason: str, message: str) -> Verdict:
    """A human must act: an invalid spec, a refused AWS call, a resource this object may not
    touch or reference."""
    return _verdict(
        Setting(SYNCED, False, reason, message),
        Setting(READY, False, reason, message),
        Setting(STALLED, True, reason, message),
        Setting(RECONCILING, False, reason),
    )


def update_blocked(message: str) -> Verdict:
    """A change AWS cannot apply to the existing resource; the resource itself still works."""
    return _verdict(
        Setting(SYNCED, False, "UpdateBlocked", message),
        Setting(STALLED, True, "UpdateBlocked", message),
        Setting(RECONCILING, False, "UpdateBlocked"),
    )


def replacing(message: str, *, usable: bool) -> Verdict:
    """A blue/green replacement step; `usable`: the CE in use is VALID meanwhile."""
    return _verdict(
        Setting(READY, usable, "Replacing", message),
        Setting(RECONCILING, True, "Replacing", message),
        Setting(SYNCED, True, "Synced"),
        Setting(STALLED, False, "Progressing"),
    )


def replacement_stalled(message: str, *, usable: bool) -> Verdict:
    """The successor went INVALID (or vanished): the old CE stays in use, a human must act."""
    return _verdict(
        Setting(READY, usable, "Replacing", message),
        Setting(STALLED, True, "ReplacementStalled", message),
        Setting(RECONCILING, False, "ReplacementStalled", message),
    )


def deleting(reason: str, message: str) -> Verdict:
    """A deletion step (or a wait for users of the resource to let go)."""
    return _verdict(
        Setting(READY, False, "Deleting", message),
        Setting(RECONCILING, True, reason, message),
        Setting(STALLED, False, reason),
    )


def deletion_failed(error: str) -> Verdict:
    """An AWS call of a deletion step failed; the finalizer tries again."""
    return _verdict(Setting(SYNCED, False, "AwsError", error))
