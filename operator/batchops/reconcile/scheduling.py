"""BatchSchedulingPolicy as a managed kind: a fair-share policy, updated in place.

Everything generic (observe, create, ownership, updates, deletion) is the managed loop's
(reconcile/managed.py). A policy has no state or status in AWS; it can be deleted once no job
queue uses it, and the loop waits (condition InUse, naming the queues) until then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from batchops.aws.batch import BatchApi
from batchops.kube.client import SCHEDULING_POLICY
from batchops.model.account import Target
from batchops.model.scheduling import (
    ObservedSchedulingPolicy,
    SchedulingPolicySpec,
    parse_scheduling_policy_spec,
)
from batchops.plans import scheduling as plan
from batchops.reconcile.common import Tenancy, Timing
from batchops.reconcile.managed import ManagedKind, ManagedReconciler, Update


class SchedulingPolicies(
    ManagedKind[SchedulingPolicySpec, ObservedSchedulingPolicy, SchedulingPolicySpec]
):
    """CreateSchedulingPolicy / UpdateSchedulingPolicy / DeleteSchedulingPolicy."""

    kind = SCHEDULING_POLICY
    noun = "scheduling policy"
    users_noun = "job queues"

    def parse(self, raw: Mapping[str, Any]) -> SchedulingPolicySpec:
        return parse_scheduling_policy_spec(raw)

    def describe(self, api: BatchApi, name: str) -> ObservedSchedulingPolicy | None:
        described = api.describe_scheduling_policy(name)
        return ObservedSchedulingPolicy.from_describe(described) if described else None

    def create(
        self, api: BatchApi, desired: SchedulingPolicySpec, name: str, tags: Mapping[str, str]
    ) -> None:
        api.create_scheduling_policy(plan.desired_policy_request(desired, name, tags))

    def observe_into(self, status: dict[str, Any], observed: ObservedSchedulingPolicy) -> None:
        super().observe_into(status, observed)
        policy = observed.fairshare_policy
        status["shares"] = len(policy.share_distribution) if policy else 0

    def ready_message(self, observed: ObservedSchedulingPolicy) -> str:
        return f"{observed.name} exists in AWS and matches the spec"

    def plan_update(
        self,
        desired: SchedulingPolicySpec,
        observed: ObservedSchedulingPolicy,
        tags: Mapping[str, str],
    ) -> Update:
        update = plan.classify_policy_update(desired, observed, operator_tags=tags)
        return Update(tags=update.tags, request=update.request, drift=update.describe())

    def update(self, api: BatchApi, request: object) -> None:
        api.update_scheduling_policy(request)  # type: ignore[arg-type]  # from plan_update

    def users(self, api: BatchApi, observed: ObservedSchedulingPolicy) -> list[str]:
        return sorted(
            q["jobQueueName"] for q in api.list_queues_using_scheduling_policy(observed.arn)
        )

    def delete(self, api: BatchApi, observed: ObservedSchedulingPolicy) -> None:
        api.delete_scheduling_policy(observed.arn)  # DeleteSchedulingPolicy takes the ARN only


def scheduling_policy_reconciler(
    api_for: Callable[[Target], BatchApi], timing: Timing, tenancy: Tenancy
) -> ManagedReconciler[SchedulingPolicySpec, ObservedSchedulingPolicy, SchedulingPolicySpec]:
    """The managed loop over BatchSchedulingPolicies."""
    return ManagedReconciler(SchedulingPolicies(), api_for, timing, tenancy)
