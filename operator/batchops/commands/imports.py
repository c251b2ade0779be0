"""`batchops import`: manifests that adopt existing AWS Batch infrastructure.

`--from-aws` describes what is in the account; `--from-terraform` reads `.tf` files;
`--from-terraform-json` reads `terraform show -json` output (state or plan). All print
multi-document YAML (stdout or `-o`) and list on stderr every placeholder to fill in and every
change the import made. The conversion itself is pure and lives in `batchops.importing`.

Exit status (documented in --help and docs/migrating-from-terraform.md):
0 everything imported; 1 imported, but placeholders or skipped parts need a human;
2 nothing usable (a file that is not HCL, no Batch resource found, AWS unreachable).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from batchops.commands.types import Subparsers
from batchops.importing.hcl import (
    TerraformError,
    TerraformFile,
    command_line_value,
    variable_values,
)
from batchops.importing.manifests import ImportResult, with_account_ref
from batchops.importing.render import render_yaml

EXIT_IMPORTED = 0
EXIT_NEEDS_REVIEW = 1
EXIT_NOTHING_USABLE = 2
_EPILOG = """exit status:
  0  everything imported
  1  imported, but REPLACE-ME placeholders remain or something was not imported (a module,
     the instances of a count/for_each not known offline): stderr lists each one
  2  nothing usable: a file is not HCL (or, with --from-terraform-json, not `terraform show
     -json` output), or no aws_batch_* resource or batch module was found
"""


def register(subparsers: Subparsers) -> None:
    """Add `import` and its flags."""
    parser = subparsers.add_parser(
        "import",
        help="write manifests that adopt existing Batch compute environments, queues, "
        "scheduling policies, consumable resources and jobs",
        description=(
            "Print BatchComputeEnvironment, BatchJobQueue, BatchSchedulingPolicy and "
            "BatchConsumableResource manifests (adopt: true, spec.name = the AWS name) for "
            "existing infrastructure, and a commented-out BatchPipeline skeleton over its job "
            "definitions. A queue names an imported scheduling policy with schedulingPolicy.ref."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from-aws", action="store_true", help="describe the account's Batch resources"
    )
    source.add_argument(
        "--from-terraform",
        nargs="+",
        metavar="PATH",
        type=Path,
        help="read aws_batch_* resources and terraform-aws-modules/batch calls from .tf files "
        "or directories (all *.tf in one, plus terraform.tfvars and *.auto.tfvars, as "
        "Terraform reads them)",
    )
    source.add_argument(
        "--from-terraform-json",
        metavar="FILE",
        type=Path,
        help="read `terraform show -json` output, a state or a saved plan (- reads stdin): "
        "every value is resolved, so placeholders remain only for what the plan knows after "
        "apply or marks sensitive. e.g. terraform show -json > state.json",
    )
    parser.add_argument(
        "--region",
        default=None,
        help="AWS region (--from-aws default: $AWS_REGION or us-east-1; --from-terraform "
        "default: the files' provider region, else the operator's; --from-terraform-json "
        "default: the region in the resources' ARNs, else the plan's provider region)",
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
        "--account-ref",
        default=None,
        metavar="BATCHACCOUNT",
        help="set spec.accountRef of every object: the operator adopts them in that BatchAccount's "
        "AWS account (with --from-aws, run with credentials of that account, e.g. AWS_PROFILE)",
    )
    parser.add_argument(
        "--name-prefix",
        default="",
        help="--from-aws: import only resources whose AWS name starts with this",
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="--from-terraform: a variable's value, as `terraform -var` takes it (repeatable)",
    )
    parser.add_argument(
        "--var-file",
        action="append",
        default=[],
        type=Path,
        metavar="FILE.tfvars",
        help="--from-terraform: variable values from a .tfvars file (repeatable)",
    )
    parser.add_argument(
        "--output", "-o", type=Path, default=None, help="write the YAML here instead of stdout"
    )
    parser.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    try:
        if args.from_aws:
            result = _from_aws(args)
        elif args.from_terraform_json is not None:
            result = _from_terraform_json(args)
        else:
            result = _from_terraform(args)
    except TerraformError as exc:
        print(f"batchops import: {exc}", file=sys.stderr)
        return EXIT_NOTHING_USABLE
    if args.account_ref:
        result = with_account_ref(result, args.account_ref)
    if not result.objects and result.pipeline is None:
        _report(result)
        print("batchops import: nothing to import was found", file=sys.stderr)
        return EXIT_NOTHING_USABLE
    text = render_yaml(result, "batchops " + shlex.join(sys.argv[1:] or ["import"]))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
    _report(result)
    return EXIT_NEEDS_REVIEW if result.needs_review else EXIT_IMPORTED


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
        scheduling_policies=api.describe_all_scheduling_policies(),
        consumable_resources=api.describe_all_consumable_resources(args.name_prefix),
        region=region,
        namespace=args.namespace,
        name_prefix=args.name_prefix,
    )


def _from_terraform(args: argparse.Namespace) -> ImportResult:
    from batchops.importing.from_terraform import import_from_terraform

    files: list[TerraformFile] = []
    var_files: list[Path] = []
    for path in args.from_terraform:
        if path.is_dir():
            # Terraform reads every .tf of the directory, then these variable files.
            files += [_read(p) for p in sorted(path.glob("*.tf"))]
            var_files += [p for p in [path / "terraform.tfvars"] if p.is_file()]
            var_files += sorted(path.glob("*.auto.tfvars"))
        elif path.suffix == ".json" and not path.name.endswith(".tf.json"):
            raise TerraformError(
                f"{path}: `terraform show -json` output is read with --from-terraform-json"
            )
        else:
            files.append(_read(path))
    variables: dict[str, object] = {}
    for var_file in [*var_files, *args.var_file]:
        variables.update(variable_values(_read(var_file)))
    for assignment in args.var:
        name, equals, value = assignment.partition("=")
        if not equals:
            raise TerraformError(f"--var {assignment!r}: expected NAME=VALUE")
        variables[name.strip()] = command_line_value(value)
    return import_from_terraform(
        files, region=args.region, namespace=args.namespace, variables=variables
    )


def _from_terraform_json(args: argparse.Namespace) -> ImportResult:
    from batchops.importing.from_terraform_json import import_from_terraform_json

    path: Path = args.from_terraform_json
    if str(path) == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        file = _read(path)
        text, name = file.text, file.path
    return import_from_terraform_json(text, name, region=args.region, namespace=args.namespace)


def _read(path: Path) -> TerraformFile:
    try:
        return TerraformFile(str(path), path.read_text())
    except OSError as exc:
        raise TerraformError(f"{path}: {exc.strerror}") from exc


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
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
