"""STS for the emulated accounts: AssumeRole as AWS checks it, GetCallerIdentity, and the sessions
they hand out.

moto's own AssumeRole lets anyone assume any role, existing or not; this one refuses as AWS does:
the role must exist in its account, its trust policy must allow the caller (a role ARN, an
account root or id, or `*`) to call sts:AssumeRole, a `sts:ExternalId` condition must match the
request's ExternalId, and session tags need sts:TagSession too. A static key (the `testing` key
of the tests) counts as any principal of its account, since the emulator does not know whose key
it is. The credentials come from moto's IAM of the role's account, so moto's other services
(Logs, SQS, ...) also see that account.

Sessions end: `set_max_duration` caps their lifetime (seconds, wall clock) below AWS's 900-second
minimum so tests can see credentials expire; a request signed with an expired session's key is
refused with ExpiredToken(Exception). Sessions outlive an emulator reset, as they would a change
in the account: a client holding credentials keeps its account until they expire.
"""

from __future__ import annotations

import fnmatch
import json
import secrets
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from moto.iam.models import get_account_id_from, iam_backends

from batchops.local.emulator import account

MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43200
DEFAULT_DURATION_SECONDS = 3600
NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"


class StsError(Exception):
    """An STS refusal: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Session:
    """Credentials AssumeRole handed out."""

    access_key: str
    secret_key: str
    token: str
    account_id: str
    role_arn: str
    session_name: str
    expires_at: datetime

    @property
    def arn(self) -> str:
        """The assumed-role identity GetCallerIdentity reports."""
        role_name = self.role_arn.rsplit("/", 1)[-1]
        prefix = f"arn:{account.PARTITION}:sts::{self.account_id}"
        return f"{prefix}:assumed-role/{role_name}/{self.session_name}"


@dataclass(frozen=True)
class Caller:
    """Who signed a request, as far as the emulator knows."""

    account_id: str
    arn: str
    role_arn: str | None
    """The role of an assumed session; None for a static key (any principal of its account)."""

    def matches(self, principal: str) -> bool:
        """Whether a trust policy's AWS principal names this caller."""
        root = f"arn:{account.PARTITION}:iam::{self.account_id}:root"
        if principal in ("*", self.account_id, root):
            return True
        if self.role_arn is not None:
            return principal == self.role_arn
        return principal.startswith(f"arn:{account.PARTITION}:iam::{self.account_id}:")


class SecurityTokenService:
    """Thread-safe: the HTTP server answers from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self.max_duration: float | None = None
        """Seconds every new session is capped to (None: what the request asks)."""

    def set_max_duration(self, seconds: float | None) -> None:
        """Cap the lifetime of sessions issued from now on (None lifts the cap)."""
        if seconds is not None and seconds <= 0:
            raise ValueError(f"a session lasts a positive number of seconds, not {seconds}")
        self.max_duration = seconds

    def session(self, access_key: str) -> Session | None:
        """The session an access key belongs to, if AssumeRole issued it."""
        with self._lock:
            return self._sessions.get(access_key)

    def account_of(self, access_key: str) -> str:
        """The account a request signed with this key acts in."""
        session = self.session(access_key)
        return session.account_id if session is not None else get_account_id_from(access_key)

    def expired(self, access_key: str, now: datetime | None = None) -> bool:
        """Whether the key is an assumed session's that has run out."""
        session = self.session(access_key)
        return session is not None and (now or datetime.now(UTC)) >= session.expires_at

    def caller(self, access_key: str) -> Caller:
        """Who signed with this key."""
        session = self.session(access_key)
        if session is not None:
            return Caller(session.account_id, session.arn, session.role_arn)
        account_id = get_account_id_from(access_key)
        return Caller(account_id, f"arn:{account.PARTITION}:sts::{account_id}:user/moto", None)

    def assume_role(self, access_key: str, params: Mapping[str, Sequence[str]]) -> Session:
        """AssumeRole with form parameters (RoleArn, RoleSessionName, ExternalId,
        DurationSeconds, Tags.member.N.Key/Value)."""
        caller = self.caller(access_key)
        role_arn = _one(params, "RoleArn")
        session_name = _one(params, "RoleSessionName")
        if not role_arn or not session_name:
            raise StsError("ValidationError", "RoleArn and RoleSessionName are required")
        duration = int(_one(params, "DurationSeconds") or DEFAULT_DURATION_SECONDS)
        if not MIN_DURATION_SECONDS <= duration <= MAX_DURATION_SECONDS:
            raise StsError(
                "ValidationError",
                f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
                f"satisfy constraint: Member must have value greater than or equal to "
                f"{MIN_DURATION_SECONDS} and less than or equal to {MAX_DURATION_SECONDS}",
            )
        denied = StsError(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}",
            403,
        )
        role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        try:
            role = iam_backends[role_account]["global"].get_role_by_arn(role_arn)
        except Exception:  # moto raises its own IAMNotFoundException (or a KeyError)
            raise denied from None
        trust = json.loads(role.assume_role_policy_document)
        external_id = _one(params, "ExternalId")
        tagged = any(key.startswith("Tags.member.") for key in params)
        if not _allows(trust, caller, "sts:AssumeRole", external_id):
            raise denied
        if tagged and not _allows(trust, caller, "sts:TagSession", external_id):
            raise StsError(
                "AccessDenied",
                f"User: {caller.arn} is not authorized to perform: sts:TagSession on resource: "
                f"{role_arn}",
                403,
            )
        if self.max_duration is not None:
            lifetime = min(float(duration), self.max_duration)
        else:
            lifetime = float(duration)
        account.add_account(role_account)
        key = iam_backends[role_account]["global"].create_temp_access_key()
        now = datetime.now(UTC).replace(microsecond=0)
        session = Session(
            access_key=key.access_key_id,
            secret_key=key.secret_access_key,
            token=secrets.token_urlsafe(96),
            account_id=role_account,
            role_arn=role_arn,
            session_name=session_name,
            expires_at=now + timedelta(seconds=lifetime),
        )
        with self._lock:
            self._sessions[session.access_key] = session
        return session


def _one(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = params.get(key)
    return values[0] if values else None


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str | dict) else list(value or [])


def _allows(
    policy: Mapping[str, Any], caller: Caller, action: str, external_id: str | None
) -> bool:
    """Whether an Allow statement of a trust policy lets `caller` do `action` (no Deny is
    emulated; of the conditions, only sts:ExternalId is checked)."""
    for statement in _listed(policy.get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        actions = _listed(statement.get("Action"))
        if not any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in actions):
            continue
        principal = statement.get("Principal")
        if principal == "*":
            names = ["*"]
        elif isinstance(principal, dict):
            names = [str(p) for p in _listed(principal.get("AWS"))]
        else:
            names = []
        if not any(caller.matches(name) for name in names):
            continue
        wanted = (statement.get("Condition") or {}).get("StringEquals", {}).get("sts:ExternalId")
        if wanted is not None and external_id not in _listed(wanted):
            continue
        return True
    return False


# --- the query protocol's XML ------------------------------------------------------------------


def assume_role_xml(session: Session) -> str:
    """The AssumeRoleResponse document."""
    expiration = session.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<AssumeRoleResponse xmlns="{NAMESPACE}"><AssumeRoleResult><Credentials>'
        f"<AccessKeyId>{escape(session.access_key)}</AccessKeyId>"
        f"<SecretAccessKey>{escape(session.secret_key)}</SecretAccessKey>"
        f"<SessionToken>{escape(session.token)}</SessionToken>"
        f"<Expiration>{expiration}</Expiration></Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>AROA{session.access_key[4:]}:"
        f"{escape(session.session_name)}</AssumedRoleId><Arn>{escape(session.arn)}</Arn>"
        f"</AssumedRoleUser><PackedPolicySize>0</PackedPolicySize></AssumeRoleResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        f"</AssumeRoleResponse>"
    )


def caller_identity_xml(session: Session) -> str:
    """The GetCallerIdentityResponse document of an assumed session."""
    return (
        f'<GetCallerIdentityResponse xmlns="{NAMESPACE}"><GetCallerIdentityResult>'
        f"<Arn>{escape(session.arn)}</Arn>"
        f"<UserId>AROA{session.access_key[4:]}:{escape(session.session_name)}</UserId>"
        f"<Account>{session.account_id}</Account></GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        f"</GetCallerIdentityResponse>"
    )


def error_xml(code: str, message: str) -> str:
    """An ErrorResponse document."""
    kind = "Sender"
    return (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
        f"</ErrorResponse>"
    )
