"""`batchops validate FILE…`: check manifests offline, as CI does before a merge.

The checks live in `batchops.validation`; this module reads the command line and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from batchops.commands.types import Subparsers
from batchops.validation.catalog import CatalogError, load_catalog
from batchops.validation.check import validate_sources
from batchops.validation.documents import read_sources

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_CODES_HELP = (
    "exit status: 0 no error (warnings allowed), 1 an error, or no batchops object found "
    "(unless --allow-empty), 2 the CRD files cannot be read (or a CEL rule of theirs cannot "
    "be evaluated offline)"
)


def register(subparsers: Subparsers) -> None:
    """Add `validate` and its flags."""
    parser = subparsers.add_parser(
        "validate",
        help="check batchops manifests offline (schema, CEL rules, the operator's own checks)",
        description=(
            "Check BatchComputeEnvironment, BatchJobQueue, BatchPipeline and CronPipeline "
            "manifests without a cluster. Other kinds are skipped."
        ),
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="FILE",
        help="a YAML file (multi-document), a directory (its *.yaml and *.yml, in "
        "subdirectories too, like kubectl apply -R), or - for stdin",
    )
    parser.add_argument(
        "--no-recursive",
        dest="recursive",
        action="store_false",
        help="read only the directory's own files, not its subdirectories",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0 when no batchops object was found (by default that is an error: a CI "
        "step that checks nothing should not pass)",
    )
    parser.add_argument(
        "--output", "-o", choices=("text", "json"), default="text", help="output format"
    )
    parser.add_argument(
        "--crds",
        type=Path,
        default=None,
        metavar="DIR",
        help="check against the CRDs in DIR instead of the ones shipped with batchops",
    )
    parser.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(args.crds)
    except CatalogError as exc:
        print(f"batchops validate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = validate_sources(read_sources(args.paths, args.recursive), catalog)
    if args.output == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        for problem in report.problems:
            print(problem.to_line())
        print(report.summary())
    if report.objects == 0 and not args.allow_empty:
        print(
            "batchops validate: no batchops object found in "
            + " ".join(args.paths)
            + " (pass --allow-empty if that is expected)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return EXIT_INVALID if report.failed else 0
