"""What the unit tests' fake Batch APIs share, and the BatchPipeline objects they run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from batchops.reconcile.common import ObjectSnapshot


class SubmitsOneByOne:
    """`submit_jobs` over the fake's own `submit_job`, one after another: each answer or its
    error, in order, as BatchApi.submit_jobs returns them."""

    def submit_job(self, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    def submit_jobs(
        self, requests: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any] | Exception]:
        answers: list[dict[str, Any] | Exception] = []
        for request in requests:
            try:
                answers.append(self.submit_job(request))
            except Exception as exc:
                answers.append(exc)
        return answers


def pipeline_object(name: str, uid: str, spec: Mapping[str, Any]) -> ObjectSnapshot:
    """A BatchPipeline `name` in namespace `ns` at generation 1, as a reconciler receives it."""
    return ObjectSnapshot.of(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchPipeline",
            "metadata": {"name": name, "namespace": "ns", "uid": uid, "generation": 1},
            "spec": dict(spec),
        }
    )
