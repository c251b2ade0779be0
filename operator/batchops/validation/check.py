"""One validate run: every document through the schema, CEL and operator checks, then the
cross-object checks, into a `Report`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from batchops.validation.admission import metadata_findings
from batchops.validation.catalog import GROUP, Catalog, CatalogError, CustomResource
from batchops.validation.cel_rules import RuleCompileError, cel_findings
from batchops.validation.documents import Document, Sources
from batchops.validation.operator_checks import OperatorVerdict, check_with_operator
from batchops.validation.paths import FieldPath, format_path
from batchops.validation.problems import Problem, Report, Severity
from batchops.validation.references import (
    CheckedObject,
    duplicate_findings,
    reference_findings,
)
from batchops.validation.schema import apply_defaults, schema_problems


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
        findings, verdict = _own_findings(body, resource)
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
    body: Mapping[str, Any], resource: CustomResource
) -> tuple[list[tuple[FieldPath, str]], OperatorVerdict]:
    """The three gates an object meets in a cluster, in order: the schema, the CEL rules (on the
    defaulted object), the operator. The API server skips the rules of an object its schema
    rejects ("some validation rules were not checked"), and the operator never sees an object
    the API server rejects: so each violation is reported once, by the first gate it meets, in
    that gate's words. The operator's parse of a rejected object still feeds the cross-object
    reference checks."""
    findings = [*metadata_findings(body), *schema_problems(resource.schema, body)]
    if findings:
        return findings, OperatorVerdict()
    # The API server defaults an object as it decodes it: rules and operator see the result.
    defaulted = apply_defaults(resource.schema, body)
    try:
        findings = cel_findings(resource.schema, defaulted)
    except RuleCompileError as exc:
        raise CatalogError(f"{resource.crd_file}: {resource.kind}: {exc}") from None
    verdict = check_with_operator(resource.kind, defaulted.get("spec") or {})
    if findings:
        return findings, replace(verdict, findings=())
    return list(verdict.findings), verdict


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
