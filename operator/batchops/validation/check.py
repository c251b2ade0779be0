"""One validate run: every document through the schema, CEL and operator checks, then the
cross-object checks, into a `Report`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from batchops.validation.admission import cel_findings, metadata_findings
from batchops.validation.catalog import GROUP, Catalog
from batchops.validation.documents import Document, Sources
from batchops.validation.operator_checks import OperatorVerdict, check_with_operator
from batchops.validation.paths import FieldPath, format_path
from batchops.validation.problems import Problem, Report, Severity
from batchops.validation.references import (
    CheckedObject,
    duplicate_findings,
    reference_findings,
)
from batchops.validation.schema import schema_problems


def validate_sources(sources: Sources, catalog: Catalog) -> Report:
    """Check every object read; problems come out in file order, then line order."""
    problems = list(sources.problems)
    checked: list[CheckedObject] = []
    skipped = 0
    for document in sources.documents:
        body = document.body
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            if document.found_in_directory:
                # A kustomize patch or Helm values next to the manifests: not for us to judge.
                skipped += 1
                continue
            problems.append(
                _problem(
                    document, "", (), "not a Kubernetes object: apiVersion and kind are required"
                )
            )
            continue
        if api_version.partition("/")[0] != GROUP:
            skipped += 1
            continue
        name = str((body.get("metadata") or {}).get("name") or "")
        subject = f"{kind}/{name}"
        resource = catalog.lookup(api_version, kind)
        if resource is None:
            served = ", ".join(sorted(f"{v} {k}" for v, k in catalog.resources))
            problems.append(
                _problem(
                    document, subject, ("kind",), f"no CRD serves {api_version} {kind} ({served})"
                )
            )
            continue
        findings, verdict = _own_findings(kind, body, resource.schema)
        problems.extend(_problem(document, subject, path, message) for path, message in findings)
        namespace = (body.get("metadata") or {}).get("namespace")
        checked.append(CheckedObject(kind, namespace, name, document, verdict))
    for obj, (path, message) in duplicate_findings(checked):
        problems.append(_problem(obj.document, f"{obj.kind}/{obj.name}", path, message))
    for obj, (path, message) in reference_findings(checked):
        problems.append(
            _problem(obj.document, f"{obj.kind}/{obj.name}", path, message, Severity.WARNING)
        )
    order = {source: index for index, source in enumerate(sources.names)}
    problems.sort(key=lambda p: (order.get(p.source, -1), p.line))
    return Report(tuple(problems), sources.files, len(checked), skipped)


def _own_findings(
    kind: str, body: Mapping[str, Any], schema: Mapping[str, Any]
) -> tuple[list[tuple[FieldPath, str]], OperatorVerdict]:
    """Schema first; CEL and the operator only look at an object the schema accepts, as the API
    server skips rules on an invalid object ("some validation rules were not checked")."""
    findings = [*metadata_findings(body), *schema_problems(schema, body)]
    if findings:
        return findings, OperatorVerdict()
    findings = cel_findings(kind, body)
    verdict = check_with_operator(kind, body.get("spec") or {})
    for finding in verdict.findings:
        if finding not in findings:
            findings.append(finding)
    return findings, verdict


def _problem(
    document: Document,
    subject: str,
    path: FieldPath,
    message: str,
    severity: Severity = Severity.ERROR,
) -> Problem:
    return Problem(
        severity, document.source, document.line_of(path), subject, format_path(path), message
    )
