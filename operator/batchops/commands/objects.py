"""Naming our objects on the command line as kubectl does (`bpl/NAME`, `cronpipeline/NAME`),
and the flags that choose the cluster and namespace."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

from batchops.kube.client import (
    KINDS_BY_RESOURCE_NAME,
    Kind,
    KubeConfigError,
    KubeNotFound,
    get_object,
    use_kubeconfig,
)


@dataclass(frozen=True)
class ObjectName:
    """One object of ours, as a command addresses it."""

    kind: Kind
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind.kind.lower()}/{self.name}"


class UsageError(Exception):
    """The command line names something that cannot be used; the message says what to write."""


def add_cluster_flags(parser: argparse.ArgumentParser) -> None:
    """`--kubeconfig`, `--context` and `-n/--namespace`, meaning what they mean to kubectl."""
    parser.add_argument(
        "--kubeconfig", default=None, help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument("--context", default=None, help="kubeconfig context (default: current)")
    parser.add_argument(
        "-n",
        "--namespace",
        default=None,
        help="namespace (default: the context's namespace, else default)",
    )


def add_aws_flags(parser: argparse.ArgumentParser) -> None:
    """`--region` and `--aws-endpoint-url`, with the defaults `batchops run` uses."""
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument(
        "--aws-endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="AWS endpoint override (the local emulator); default: $AWS_ENDPOINT_URL or real AWS",
    )


def looks_like_object(text: str) -> bool:
    """True for `KIND/NAME` where KIND is one of ours (so `graph` tells objects from files)."""
    resource, _, name = text.partition("/")
    return bool(name) and resource.lower() in KINDS_BY_RESOURCE_NAME


def resolve(args: argparse.Namespace, text: str, *allowed: Kind) -> ObjectName:
    """Connect with the cluster flags and parse `KIND/NAME` into an object of one of `allowed`
    kinds; UsageError otherwise."""
    resource, _, name = text.partition("/")
    kind = KINDS_BY_RESOURCE_NAME.get(resource.lower())
    if kind is None or not name or "/" in name:
        expected = " or ".join(f"{k.kind.lower()}/NAME" for k in allowed)
        raise UsageError(f"{text!r}: expected {expected}")
    if kind not in allowed:
        raise UsageError(
            f"{text!r} is a {kind.kind}; this command takes " + ", ".join(k.kind for k in allowed)
        )
    return ObjectName(kind, connect(args), name)


def connect(args: argparse.Namespace) -> str:
    """Load the kubeconfig the flags name; returns the namespace to use."""
    try:
        context_namespace = use_kubeconfig(args.kubeconfig, args.context)
    except KubeConfigError as exc:
        raise UsageError(f"kubeconfig: {exc}") from None
    return str(args.namespace or context_namespace)


def fetch(target: ObjectName) -> dict[str, Any]:
    """Read the object; UsageError naming it and its namespace when it does not exist."""
    try:
        return get_object(target.kind, target.namespace, target.name)
    except KubeNotFound:
        raise UsageError(f"{target} not found in namespace {target.namespace}") from None
