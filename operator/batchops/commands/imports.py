"""`batchops import`: manifests that adopt existing AWS Batch infrastructure.

`--from-aws` describes what is in the account; `--from-terraform` reads `.tf` files. Both print
multi-document YAML (stdout or `-o`) and list on stderr every placeholder to fill in and every
change the import made. The conversion itself is pure and lives in `batchops.importing`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from batchops.commands.types import Subparsers
from batchops.importing.hcl import TerraformError, TerraformFile
from batchops.importing.manifests import ImportResult
from batchops.importing.render import render_yaml


def register(subparsers: Subparsers) -> None:
    """Add `import` and its flags."""
    parser = subparsers.add_parser(
        "import",
        help="write manifests that adopt existing Batch compute environments, queues and jobs",
        description=(
            "Print BatchComputeEnvironment and BatchJobQueue manifests (adopt: true, spec.name "
            "= the AWS name) for existing infrastructure, and a commented-out BatchPipeline "
            "skeleton over its job definitions."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from-aws", action="store_true", help="describe the account's Batch resources"
    )
    source.add_argument(
        "--from-terraform",
        nargs="+",
        metavar="FILE.tf",
        type=Path,
        help="read aws_batch_* resources from Terraform files",
    )
    parser.add_argument(
        "--region",
        default=None,
        help="AWS region (--from-aws default: $AWS_REGION or us-east-1; --from-terraform "
        "default: the files' provider region, else the operator's)",
    )
    parser.add_argument(
        "--aws-endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="AWS endpoint override (the local emulator); default: $AWS_ENDPOINT_URL",
    )
    parser.add_argument(
        "--namespace", "-n", default=None, help="metadata.namespace of the objects (default: none)"
    )
    parser.add_argument(
        "--name-prefix",
        default="",
        help="--from-aws: import only resources whose AWS name starts with this",
    )
    parser.add_argument(
        "--output", "-o", type=Path, default=None, help="write the YAML here instead of stdout"
    )
    parser.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    try:
        result = _from_aws(args) if args.from_aws else _from_terraform(args)
    except TerraformError as exc:
        print(f"batchops import: {exc}", file=sys.stderr)
        return 2
    text = render_yaml(result, "batchops " + shlex.join(sys.argv[1:] or ["import"]))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
    _report(result)
    return 0


def _from_aws(args: argparse.Namespace) -> ImportResult:
    from batchops.aws.batch import BatchApi
    from batchops.aws.session import AwsSettings, client_for
    from batchops.importing.from_aws import import_from_aws

    settings = AwsSettings.from_environment()
    region = args.region or settings.region
    api = BatchApi(
        client_for("batch", AwsSettings(region=region, endpoint_url=args.aws_endpoint_url))
    )
    return import_from_aws(
        api.describe_all_compute_environments(),
        api.describe_all_job_queues(),
        api.describe_all_job_definitions("ACTIVE"),
        region=region,
        namespace=args.namespace,
        name_prefix=args.name_prefix,
    )


def _from_terraform(args: argparse.Namespace) -> ImportResult:
    from batchops.importing.from_terraform import import_from_terraform

    files = []
    for path in args.from_terraform:
        try:
            files.append(TerraformFile(str(path), path.read_text()))
        except OSError as exc:
            raise TerraformError(f"{path}: {exc.strerror}") from exc
    return import_from_terraform(files, region=args.region, namespace=args.namespace)


def _report(result: ImportResult) -> None:
    """What a human must look at before applying, on stderr (stdout may be a pipe to kubectl)."""
    placeholders = result.placeholders
    if placeholders:
        print(
            f"warning: {len(placeholders)} placeholders to replace before applying:",
            file=sys.stderr,
        )
        for placeholder in placeholders:
            print(f"  {placeholder}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
