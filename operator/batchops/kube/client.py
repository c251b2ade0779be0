"""The one place that talks to the Kubernetes API outside kopf's own watches.

Each object's reconcile loop (handlers/loops.py) writes status as it goes, and CronPipelines
create and prune child objects; both need a client. Calls are synchronous: run them in a thread.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

GROUP = "batchops.io"
VERSION = "v1alpha1"


@dataclass(frozen=True)
class Kind:
    """One of our custom resource kinds, as the API addresses it."""

    kind: str
    plural: str
    namespaced: bool = True
    """False for a cluster-scoped kind (BatchAccount): its calls ignore the namespace."""

    @property
    def api_version(self) -> str:
        """`batchops.io/v1alpha1`."""
        return f"{GROUP}/{VERSION}"


COMPUTE_ENVIRONMENT = Kind("BatchComputeEnvironment", "batchcomputeenvironments")
JOB_QUEUE = Kind("BatchJobQueue", "batchjobqueues")
PIPELINE = Kind("BatchPipeline", "batchpipelines")
CRON_PIPELINE = Kind("CronPipeline", "cronpipelines")
SCHEDULING_POLICY = Kind("BatchSchedulingPolicy", "batchschedulingpolicies")
CONSUMABLE_RESOURCE = Kind("BatchConsumableResource", "batchconsumableresources")
BATCH_ACCOUNT = Kind("BatchAccount", "batchaccounts", namespaced=False)


class KubeConflict(Exception):
    """The object already exists (create) or changed underneath us."""


class KubeNotFound(Exception):
    """The object does not exist (any more)."""


class KubeUnavailable(Exception):
    """The API server could not be reached (restarting, network) or answered 429/5xx: the same
    call will work later."""


class KubeRefused(KubeUnavailable):
    """401/403. A restarting API server refuses requests until its authenticator and RBAC
    caches are warm, so this is retried too; a lasting refusal is a missing RBAC rule, and the
    retries keep saying so in the log."""


_lock = threading.Lock()
_api: k8s.CustomObjectsApi | None = None
CONNECTIONS = 48
"""Kept-alive connections to the API server: one per operator thread that may call it (32
pass threads, 16 for short calls). The client's default (5 per core) made the threads past it
open a new TLS connection per request and throw it away."""


def _custom_objects() -> k8s.CustomObjectsApi:
    """A CustomObjectsApi from in-cluster config or $KUBECONFIG, created once per process."""
    global _api
    with _lock:
        if _api is None:
            try:
                k8s_config.load_incluster_config()  # type: ignore[no-untyped-call]
            except k8s_config.ConfigException:
                k8s_config.load_kube_config()  # type: ignore[no-untyped-call]
            configuration = k8s.Configuration.get_default_copy()
            configuration.connection_pool_maxsize = CONNECTIONS
            _api = k8s.CustomObjectsApi(k8s.ApiClient(configuration))
        return _api


def _translate(exc: ApiException) -> Exception:
    if exc.status == 404:
        return KubeNotFound(str(exc.reason))
    if exc.status == 409:
        return KubeConflict(str(exc.reason))
    if exc.status in (401, 403):
        return KubeRefused(f"{exc.status} {exc.reason}: {exc.body}")
    if exc.status == 429 or (exc.status or 0) >= 500:
        return KubeUnavailable(f"{exc.status} {exc.reason}")
    return exc


@contextmanager
def _translated() -> Iterator[None]:
    """Kubernetes client failures as our exceptions: urllib3's connection errors (refused,
    reset, the server closing mid-request) are KubeUnavailable like a 503."""
    try:
        yield
    except ApiException as exc:
        raise _translate(exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise KubeUnavailable(str(exc)) from exc


def patch_status(kind: Kind, namespace: str, name: str, status: Mapping[str, Any]) -> str:
    """Merge-patch `.status` through the status subresource (lists are replaced wholesale);
    returns the object's new resourceVersion."""
    body = {"status": dict(status)}
    with _translated():
        if kind.namespaced:
            patched = _custom_objects().patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, kind.plural, name, body
            )
        else:
            patched = _custom_objects().patch_cluster_custom_object_status(
                GROUP, VERSION, kind.plural, name, body
            )
    return str(cast(dict[str, Any], patched).get("metadata", {}).get("resourceVersion", ""))


def get_object(
    kind: Kind, namespace: str, name: str, not_older_than: str | None = None
) -> dict[str, Any]:
    """Read one object; KubeNotFound if it is gone. With `not_older_than` (a resourceVersion
    this process saw, e.g. its own write's), the API server answers from its watch cache with
    that version or a newer one, instead of a quorum read from etcd (Kubernetes API concepts,
    "Semantics for get": resourceVersion set and not "0" means not older than)."""
    scope = f"namespaces/{quote(namespace)}/" if kind.namespaced else ""
    query = [("resourceVersion", not_older_than)] if not_older_than else None
    return _get(f"/apis/{GROUP}/{VERSION}/{scope}{kind.plural}/{quote(name)}", query)


def list_objects(kind: Kind, namespace: str, label_selector: str = "") -> list[dict[str, Any]]:
    """All objects of a kind in a namespace, optionally filtered by labels."""
    with _translated():
        result = cast(
            dict[str, Any],
            _custom_objects().list_namespaced_custom_object(
                GROUP, VERSION, namespace, kind.plural, label_selector=label_selector
            ),
        )
    return cast(list[dict[str, Any]], result.get("items", []))


def list_in_all_namespaces(kind: Kind) -> list[dict[str, Any]]:
    """Every object of a namespaced kind in every namespace (kubectl's `-A`)."""
    with _translated():
        result = cast(
            dict[str, Any],
            _custom_objects().list_cluster_custom_object(GROUP, VERSION, kind.plural),
        )
    return cast(list[dict[str, Any]], result.get("items", []))


def create_object(kind: Kind, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create an object; KubeConflict if the name is taken."""
    with _translated():
        return cast(
            dict[str, Any],
            _custom_objects().create_namespaced_custom_object(
                GROUP, VERSION, namespace, kind.plural, dict(body)
            ),
        )


def delete_object(kind: Kind, namespace: str, name: str) -> None:
    """Delete an object (background propagation); a missing object is not an error."""
    with contextlib.suppress(KubeNotFound), _translated():
        _custom_objects().delete_namespaced_custom_object(
            GROUP, VERSION, namespace, kind.plural, name, propagation_policy="Background"
        )


def patch_object(kind: Kind, namespace: str, name: str, patch: Mapping[str, Any]) -> None:
    """Merge-patch the main resource (metadata or spec)."""
    with _translated():
        _custom_objects().patch_namespaced_custom_object(
            GROUP, VERSION, namespace, kind.plural, name, dict(patch)
        )


KINDS_BY_NAME: dict[str, Kind] = {
    kind.kind: kind
    for kind in (
        COMPUTE_ENVIRONMENT,
        JOB_QUEUE,
        PIPELINE,
        CRON_PIPELINE,
        SCHEDULING_POLICY,
        CONSUMABLE_RESOURCE,
        BATCH_ACCOUNT,
    )
}


def object_exists(kind: Kind, namespace: str, name: str, uid: str | None) -> bool:
    """Whether this object (with this uid, when given) exists. A refused read answers True:
    the caller uses it to decide whether something is still owned, and must not guess no."""
    try:
        body = get_object(kind, namespace, name)
    except KubeNotFound:
        return False
    except KubeRefused:
        return True
    return uid is None or body.get("metadata", {}).get("uid") == uid


def _get(path: str, query: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """GET one object as a dict, through the CustomObjectsApi's ApiClient. The core reads go
    this way too, rather than through CoreV1Api: importing that class builds pydantic
    validators for its hundreds of methods, 21 MiB of RSS and 0.7 s of CPU for the two reads
    the operator makes."""
    api_client = _custom_objects().api_client
    request = api_client.param_serialize(
        method="GET", resource_path=path, query_params=query, auth_settings=["BearerToken"]
    )
    with _translated():
        response = api_client.call_api(*request)
        response.read()
        body = api_client.response_deserialize(response, {"200": "object"}).data
    return cast(dict[str, Any], body)


def read_config_map(namespace: str, name: str) -> dict[str, str] | None:
    """A ConfigMap's data, or None when it does not exist."""
    try:
        config_map = _get(f"/api/v1/namespaces/{quote(namespace)}/configmaps/{quote(name)}")
    except KubeNotFound:
        return None
    return {str(key): str(value) for key, value in (config_map.get("data") or {}).items()}


def namespace_uid(name: str) -> str:
    """The uid of a namespace (kube-system's is the usual name of a cluster)."""
    uid = _get(f"/api/v1/namespaces/{quote(name)}").get("metadata", {}).get("uid")
    if not uid:
        raise KubeUnavailable(f"namespace {name} has no uid yet")
    return str(uid)


# --- for the CLI: a chosen kubeconfig, kubectl-style names, watching one object ----------------

KINDS_BY_RESOURCE_NAME: dict[str, Kind] = {
    name: kind
    for kind, short, singular in (
        (COMPUTE_ENVIRONMENT, "bce", "batchcomputeenvironment"),
        (JOB_QUEUE, "bjq", "batchjobqueue"),
        (PIPELINE, "bpl", "batchpipeline"),
        (CRON_PIPELINE, "cpl", "cronpipeline"),
        (SCHEDULING_POLICY, "bsp", "batchschedulingpolicy"),
        (CONSUMABLE_RESOURCE, "bcr", "batchconsumableresource"),
    )
    for name in (short, singular, kind.plural, f"{singular}.{GROUP}", f"{kind.plural}.{GROUP}")
}
"""Every name kubectl accepts for our kinds (short, singular, plural, with or without group)."""


class KubeConfigError(Exception):
    """The kubeconfig is missing, unreadable, or has no such context."""


def use_kubeconfig(path: str | None = None, context: str | None = None) -> str:
    """Point this process's client at a kubeconfig (default $KUBECONFIG or ~/.kube/config) and
    context (default its current one), as kubectl's flags do; returns the context's namespace
    (`default` when it names none)."""
    global _api
    try:
        with _lock:
            k8s_config.load_kube_config(config_file=path, context=context)  # type: ignore[no-untyped-call]
            configuration = k8s.Configuration.get_default_copy()
            configuration.connection_pool_maxsize = CONNECTIONS
            _api = k8s.CustomObjectsApi(k8s.ApiClient(configuration))
        contexts, current = k8s_config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
    except k8s_config.ConfigException as exc:
        raise KubeConfigError(str(exc)) from exc
    chosen = next((c for c in contexts if c["name"] == context), None) if context else current
    namespace = (chosen or {}).get("context", {}).get("namespace")
    return str(namespace) if namespace else "default"


def watch_object(
    kind: Kind, namespace: str, name: str, timeout_seconds: float
) -> Iterator[dict[str, Any]]:
    """The object now, then each new version as the API server announces it (a watch, not
    polling), until `timeout_seconds` pass (may be infinite); KubeNotFound when it is missing
    or gets deleted."""
    deadline = time.monotonic() + timeout_seconds
    current = get_object(kind, namespace, name)
    yield current
    version = str(current["metadata"]["resourceVersion"])
    while (remaining := deadline - time.monotonic()) > 0:
        stream = k8s_watch.Watch().stream(  # type: ignore[no-untyped-call]
            _custom_objects().list_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            kind.plural,
            field_selector=f"metadata.name={name}",
            resource_version=version,
            # Re-watched every few minutes at most, so an endless watch never meets a dead
            # connection or the API server's own request timeout.
            timeout_seconds=max(1, math.ceil(min(remaining, 300.0))),
        )
        try:
            for event in stream:
                body = cast(dict[str, Any], event["object"])
                if event["type"] == "DELETED":
                    raise KubeNotFound(f"{kind.kind} {namespace}/{name} was deleted")
                version = str(body["metadata"]["resourceVersion"])
                yield body
        except ApiException as exc:
            if exc.status != 410:
                raise _translate(exc) from exc
            # The version we watched from is too old (compacted): start again from a fresh read.
            current = get_object(kind, namespace, name)
            version = str(current["metadata"]["resourceVersion"])
            yield current
