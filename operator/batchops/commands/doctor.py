"""`batchops doctor`: check what a first install trips on, and say how to fix each problem.

Checks the tools (Go for the local control plane, kubectl), the cluster (API server version
against what the CRDs and the admission policy need, the CRDs installed and the same as this
batchops's) and AWS (credentials, Batch answering in the region or at the emulator).
Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from batchops.aws.probe import batch_answers, credentials_source
from batchops.aws.session import AwsSettings
from batchops.commands.objects import add_aws_flags
from batchops.commands.types import Subparsers

MIN_GO: Final = (1, 26)
"""hack/controlplane/go.mod says `go 1.26.0`, built with GOTOOLCHAIN=local."""
MIN_KUBECTL: Final = (1, 31)
"""`kubectl wait --for=create`, used in the docs, is new in 1.31."""
MIN_KUBERNETES: Final = (1, 30)
"""ValidatingAdmissionPolicy v1 (manifests/base/admission.yaml) is GA in 1.30; the CRDs' CEL
rules with `reason`, `fieldPath` and `oldSelf` need 1.28."""


@dataclass(frozen=True)
class Finding:
    """One check's outcome; `fix` says what to do when it failed."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


def register(subparsers: Subparsers) -> None:
    """Add `doctor` and its flags."""
    parser = subparsers.add_parser(
        "doctor",
        help="check Go, kubectl, the cluster, the CRDs and AWS; print the fix for each problem",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig for the cluster checks")
    parser.add_argument("--context", default=None, help="kubeconfig context (default: current)")
    parser.add_argument("--skip-cluster", action="store_true", help="no API server or CRD checks")
    parser.add_argument("--skip-aws", action="store_true", help="no AWS credential or Batch checks")
    add_aws_flags(parser)
    parser.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    findings = list(run_checks(args))
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"
        print(f"{mark} {finding.check}: {finding.detail}")
        if not finding.ok:
            print(f"     fix: {finding.fix}")
    failed = sum(not f.ok for f in findings)
    print(f"{failed} of {len(findings)} checks failed" if failed else "all checks passed")
    return 1 if failed else 0


def run_checks(args: argparse.Namespace) -> Iterator[Finding]:
    """Every check, in the order a newcomer meets them."""
    yield check_go()
    kubectl = _kubectl_command(args)
    yield check_kubectl(kubectl)
    if not args.skip_cluster:
        server = check_api_server(kubectl)
        yield server
        if server.ok:
            yield from check_crds(kubectl)
    if not args.skip_aws:
        yield from check_aws(AwsSettings(region=args.region, endpoint_url=args.aws_endpoint_url))


def _version(text: str) -> tuple[int, int] | None:
    match = re.search(r"(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2])) if match else None


def _dotted(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _run(command: list[str]) -> subprocess.CompletedProcess[str] | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None


def check_go() -> Finding:
    """Go, for the one-time build of the local control plane."""
    fix = (
        f"install Go {_dotted(MIN_GO)} or newer (https://go.dev/dl/) and put it on PATH; it is "
        "needed only to build the local control plane (make dev/demo/test)"
    )
    result = _run(["go", "version"])
    if result is None or result.returncode != 0:
        return Finding("go", False, "not found on PATH", fix)
    version = _version(result.stdout.partition("go version go")[2] or result.stdout)
    if version is None or version < MIN_GO:
        return Finding("go", False, f"{result.stdout.strip()} is older than {_dotted(MIN_GO)}", fix)
    return Finding("go", True, result.stdout.strip())


def _kubectl_command(args: argparse.Namespace) -> list[str]:
    command = ["kubectl"]
    if args.kubeconfig:
        command.append(f"--kubeconfig={args.kubeconfig}")
    if args.context:
        command.append(f"--context={args.context}")
    return command


def _kubectl_versions(kubectl: list[str], client_only: bool) -> Mapping[str, Any] | None:
    result = _run([*kubectl, "version", "-o", "json", *(["--client"] if client_only else [])])
    if result is None or not result.stdout.strip():
        return None
    try:
        parsed = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _info_version(info: object) -> tuple[int, int] | None:
    if not isinstance(info, dict):
        return None
    return _version(str(info.get("gitVersion", "")))


def check_kubectl(kubectl: list[str]) -> Finding:
    """kubectl, at least the version the docs' commands need."""
    fix = (
        f"install kubectl {_dotted(MIN_KUBECTL)} or newer "
        "(https://kubernetes.io/docs/tasks/tools/) and put it first on PATH"
    )
    versions = _kubectl_versions(kubectl, client_only=True)
    client = _info_version(versions.get("clientVersion")) if versions else None
    if client is None:
        return Finding("kubectl", False, "not found on PATH (or no version)", fix)
    if client < MIN_KUBECTL:
        detail = f"client {_dotted(client)} is older than {_dotted(MIN_KUBECTL)}"
        return Finding("kubectl", False, detail, fix)
    return Finding("kubectl", True, f"client {_dotted(client)}")


def check_api_server(kubectl: list[str]) -> Finding:
    """The API server answers and is recent enough for the CRDs and the admission policy."""
    versions = _kubectl_versions(kubectl, client_only=False)
    server = _info_version(versions.get("serverVersion")) if versions else None
    if server is None:
        return Finding(
            "api server",
            False,
            "no answer",
            "point KUBECONFIG (or --kubeconfig/--context) at your cluster, or start the local "
            "one with `batchops dev`",
        )
    if server < MIN_KUBERNETES:
        return Finding(
            "api server",
            False,
            f"Kubernetes {_dotted(server)} is older than {_dotted(MIN_KUBERNETES)}",
            f"upgrade the cluster to Kubernetes {_dotted(MIN_KUBERNETES)}+: the admission policy "
            "is admissionregistration.k8s.io/v1 and the CRDs' CEL rules use reason/fieldPath",
        )
    return Finding("api server", True, f"Kubernetes {_dotted(server)}")


def _shipped_crds() -> dict[str, Mapping[str, Any]]:
    root = resources.files("batchops.validation") / "crds"
    directory = root if root.is_dir() else Path(__file__).resolve().parents[3] / "crds"
    crds: dict[str, Mapping[str, Any]] = {}
    for entry in directory.iterdir():
        if entry.name.endswith(".yaml"):
            crd = yaml.safe_load(entry.read_text(encoding="utf-8"))
            crds[str(crd["metadata"]["name"])] = crd
    return crds


def _schemas(crd: Mapping[str, Any]) -> dict[str, object]:
    return {v["name"]: v.get("schema") for v in crd["spec"]["versions"]}


def check_crds(kubectl: list[str]) -> Iterator[Finding]:
    """Each CRD of this batchops installed, with the same schemas."""
    fix = "kubectl apply --server-side -f crds/ (or sync manifests/argocd/operator)"
    for name, shipped in sorted(_shipped_crds().items()):
        result = _run([*kubectl, "get", "crd", name, "-o", "json"])
        if result is None or result.returncode != 0:
            yield Finding(f"crd {name}", False, "not installed", fix)
            continue
        installed = json.loads(result.stdout)
        if _schemas(installed) != json.loads(json.dumps(_schemas(shipped))):
            yield Finding(f"crd {name}", False, "differs from this batchops's CRD", fix)
        else:
            yield Finding(f"crd {name}", True, "installed and current")


def check_aws(settings: AwsSettings) -> Iterator[Finding]:
    """Credentials resolvable, and Batch answering in the region (or at the emulator)."""
    source = credentials_source()
    if source is None:
        yield Finding(
            "aws credentials",
            False,
            "none found by botocore's chain",
            "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or use IRSA/EKS Pod "
            "Identity in the cluster (docs/install.md); for the emulator, eval the exports of "
            "`batchops dev`",
        )
        return
    yield Finding("aws credentials", True, f"found ({source})")
    where = settings.endpoint_url or f"region {settings.region}"
    problem = batch_answers(settings)
    if problem is not None:
        yield Finding(
            "aws batch",
            False,
            f"{where}: {problem}",
            "check --region/AWS_REGION, the network path to AWS, and the IAM policy "
            "(manifests/iam/policy.json); for the emulator, start it (`batchops emulator` or "
            "`batchops dev`) and pass its URL as --aws-endpoint-url",
        )
        return
    yield Finding("aws batch", True, f"{where} answers DescribeComputeEnvironments")
