"""Checks across the given files: one object per name, and references between objects.

A reference to an object that is not in the files is only a warning: it may already exist in
the cluster. Two objects with the same kind, namespace and name are an error: one would
silently overwrite the other at `kubectl apply`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from batchops.validation.documents import Document
from batchops.validation.operator_checks import OperatorVerdict
from batchops.validation.paths import FieldPath

Finding = tuple[FieldPath, str]


@dataclass(frozen=True)
class CheckedObject:
    """A batchops object after its own checks."""

    kind: str
    namespace: str | None
    """`metadata.namespace`, None when the manifest leaves it to `kubectl apply -n`."""
    name: str
    document: Document
    verdict: OperatorVerdict

    @property
    def location(self) -> str:
        """`FILE:LINE` of the object."""
        return f"{self.document.source}:{self.document.line}"


def duplicate_findings(objects: Sequence[CheckedObject]) -> Iterator[tuple[CheckedObject, Finding]]:
    """Every object whose kind, namespace and name an earlier object already has."""
    first: dict[tuple[str, str | None, str], CheckedObject] = {}
    for obj in objects:
        key = (obj.kind, obj.namespace, obj.name)
        if key in first:
            yield (
                obj,
                (
                    ("metadata", "name"),
                    f"Duplicate value: {obj.kind} {obj.name!r} is also defined at "
                    f"{first[key].location}",
                ),
            )
        else:
            first[key] = obj


def reference_findings(objects: Sequence[CheckedObject]) -> Iterator[tuple[CheckedObject, Finding]]:
    """Queues named by pipeline steps, compute environments named by queues (in the referring
    object's namespace) and BatchAccounts named by accountRef (cluster-scoped) that the files
    do not define."""
    defined = {(obj.kind, obj.namespace, obj.name) for obj in objects}
    accounts = {obj.name for obj in objects if obj.kind == "BatchAccount"}
    for obj in objects:
        path, account = _account_ref(obj)
        if account is not None and account not in accounts:
            yield (
                obj,
                (
                    path,
                    f"BatchAccount {account!r} is not in the given files (fine if it already "
                    "exists in the cluster and allows this namespace)",
                ),
            )
        verdict = obj.verdict
        if verdict.queue is not None:
            for index, entry in enumerate(verdict.queue.compute_environments):
                if (
                    entry.ref
                    and ("BatchComputeEnvironment", obj.namespace, entry.ref) not in defined
                ):
                    yield (
                        obj,
                        (
                            ("spec", "computeEnvironments", index, "ref"),
                            f"BatchComputeEnvironment {entry.ref!r} is not in the given files "
                            "(fine if it already exists in the cluster)",
                        ),
                    )
        if verdict.pipeline is not None:
            raw = _at(obj.document.body, verdict.pipeline_at)
            reported: set[str] = set()
            for index, step in enumerate(verdict.pipeline.steps):
                queue = step.queue
                if queue.startswith("arn:") or queue in reported:
                    continue
                if ("BatchJobQueue", obj.namespace, queue) not in defined:
                    reported.add(queue)
                    yield (
                        obj,
                        (
                            (*verdict.pipeline_at, *_queue_source(raw, index)),
                            f"BatchJobQueue {queue!r} is not in the given files "
                            "(fine if it already exists in the cluster)",
                        ),
                    )
            yield from _claim_references(obj, raw, defined)


def _claim_references(
    obj: CheckedObject, raw: Mapping[str, Any], defined: set[tuple[str, str | None, str]]
) -> Iterator[tuple[CheckedObject, tuple[FieldPath, str]]]:
    """Steps' consumableResources refs to BatchConsumableResources not in the files."""
    verdict = obj.verdict
    assert verdict.pipeline is not None
    reported: set[str] = set()
    for index, step in enumerate(verdict.pipeline.steps):
        own = (raw.get("steps") or [{}])[index].get("consumableResources") is not None
        source: FieldPath = ("steps", index) if own else ("defaults",)
        for position, claim in enumerate(step.consumable_resources):
            ref = claim.ref
            if ref is None or ref in reported:
                continue
            if ("BatchConsumableResource", obj.namespace, ref) not in defined:
                reported.add(ref)
                yield (
                    obj,
                    (
                        (*verdict.pipeline_at, *source, "consumableResources", position, "ref"),
                        f"BatchConsumableResource {ref!r} is not in the given files "
                        "(fine if it already exists in the cluster)",
                    ),
                )


def _account_ref(obj: CheckedObject) -> tuple[FieldPath, str | None]:
    """Where the object names a BatchAccount, and which (a CronPipeline's runs name it in their
    template)."""
    path: FieldPath = ("spec", "accountRef")
    if obj.kind == "CronPipeline":
        path = ("spec", "pipelineTemplate", "spec", "accountRef")
    spec = _at(obj.document.body, path[:-1])
    ref = spec.get("accountRef")
    return path, ref if isinstance(ref, str) and ref else None


def _at(body: Mapping[str, Any], path: FieldPath) -> Mapping[str, Any]:
    node: Any = body
    for key in path:
        node = node[key]
    return node if isinstance(node, Mapping) else {}


def _queue_source(spec: Mapping[str, Any], index: int) -> FieldPath:
    """Where step `index` got its queue: the step, spec.defaults, or spec.queue."""
    if (spec.get("steps") or [{}])[index].get("queue") is not None:
        return ("steps", index, "queue")
    if (spec.get("defaults") or {}).get("queue") is not None:
        return ("defaults", "queue")
    return ("queue",)
