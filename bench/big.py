"""Big pipelines: a 5,000-step DAG and a 10,000-child array step, run to the end, with the
BatchPipeline's stored size (what etcd holds, managedFields included) sampled all along.

    .venv/bin/python -m bench.big [--steps 5000] [--array-size 10000]

The DAG is layers of 100 steps, each depending on one step of the layer before (so Batch holds
them, and none waits on the operator); jobs take 2 emulated seconds. The boto3 baseline submits
the same DAG with dependsOn job ids and polls DescribeJobs, in the same stack. Also measured:
`kubectl get bpl` while the big object exists, the operator's memory and CPU. Writes
bench/results/big.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from bench.stack import BenchStack, bench_stack, save, wait_until
from bench.workloads import Dag, Workload, baseline

ETCD_LIMIT = 1572864
"""etcd's default --max-request-bytes: the largest object the API server can store."""
LAYER = 100


def layers(steps: int) -> Dag:
    """`steps` steps in layers of LAYER, step i depending on step i - LAYER."""
    return [(f"s{i:04d}", [f"s{i - LAYER:04d}"] if i >= LAYER else []) for i in range(steps)]


def manifest(name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A BatchPipeline with lean steps (the container settings in `defaults`)."""
    return {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": name},
        "spec": {
            "queue": "q",
            "image": "busybox",
            "defaults": {"command": ["true"], "vcpus": 1, "memory": 128},
            "steps": steps,
        },
    }


def stored_size(stack: BenchStack, name: str) -> tuple[int, dict[str, Any]]:
    """The object's size as JSON with its managedFields (about what etcd stores), and it."""
    body = json.loads(stack.kubectl("get", "bpl", name, "-o", "json", "--show-managed-fields"))
    return _size(body), body


def _size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def parts(body: dict[str, Any]) -> dict[str, int]:
    """The sizes of what makes the object: spec, status (and its step entries), managedFields."""
    status = body.get("status") or {}
    return {
        "spec_bytes": _size(body["spec"]),
        "status_bytes": _size(status),
        "status_steps_bytes": _size(status.get("steps") or []),
        "managed_fields_bytes": _size(body["metadata"].get("managedFields")),
    }


def run_to_end(stack: BenchStack, document: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Apply server-side, sample the size every 3 s until the run ends; the measurements."""
    name = document["metadata"]["name"]
    stack.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(document))
    start = time.monotonic()
    sizes: list[int] = []
    final: dict[str, Any] = {}
    largest: dict[str, int] = {}

    def finished() -> bool:
        size, body = stored_size(stack, name)
        if size > max(sizes, default=0):
            largest.update(parts(body))
        sizes.append(size)
        final.update(body)
        return (body.get("status") or {}).get("phase") in ("Succeeded", "Failed")

    done = wait_until(finished, timeout, f"{name} to finish", interval=3.0)
    listing = []
    for _ in range(5):
        began = time.monotonic()
        stack.kubectl("get", "bpl")
        listing.append(time.monotonic() - began)
    status = final["status"]
    return {
        "phase": status["phase"],
        "done_seconds": round(done, 1),
        "elapsed_seconds": round(time.monotonic() - start, 1),
        "max_object_bytes": max(sizes),
        "final_object_bytes": sizes[-1],
        "etcd_limit_bytes": ETCD_LIMIT,
        "max_over_limit": round(max(sizes) / ETCD_LIMIT, 2),
        **parts(final),
        "largest_object": largest,
        "compacted_steps": (status.get("compacted") or {}).get("steps", 0),
        "kubectl_get_bpl_seconds": round(statistics.median(listing), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--array-size", type=int, default=10000)
    args = parser.parse_args()
    dag = layers(args.steps)
    result: dict[str, Any] = {"steps": args.steps, "array_size": args.array_size}
    with bench_stack(speed=10.0, job_seconds=2.0) as stack:
        steps = [{"name": n, **({"dependsOn": deps} if deps else {})} for n, deps in dag]
        result["dag"] = run_to_end(stack, manifest("dag", steps), timeout=3600)
        result["dag"]["operator"] = stack.operator_usage()
        print(json.dumps(result["dag"]), flush=True)
        batch = stack.batch()
        queue_arn = batch.describe_job_queues()["jobQueues"][0]["jobQueueArn"]
        result["dag"]["baseline"] = baseline(batch, queue_arn, Workload("layers", 1, dag))
        result["dag"]["ratio_done"] = round(
            result["dag"]["done_seconds"] / result["dag"]["baseline"]["done_seconds"], 2
        )
        array = [
            {"name": "prepare"},
            {"name": "scatter", "dependsOn": ["prepare"], "arraySize": args.array_size},
            {"name": "gather", "dependsOn": ["scatter"]},
        ]
        result["array"] = run_to_end(stack, manifest("array", array), timeout=3600)
        result["array"]["operator"] = stack.operator_usage()
    print(json.dumps(result, indent=2))
    print("wrote", save("big", result))


if __name__ == "__main__":
    main()
