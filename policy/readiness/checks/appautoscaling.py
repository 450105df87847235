"""Application Auto Scaling: what a scaling policy and a scheduled action need in place first.

Sources (read 2026-11-26):
- botocore 1.44.8 application-autoscaling PutScalingPolicy and PutScheduledAction: "You cannot create a
  scaling policy [a scheduled action] until you have registered the resource as a scalable target"
  (ObjectNotFoundException otherwise); a target is identified by its service namespace, resource id and
  scalable dimension;
- the same operations (and RegisterScalableTarget) fail with ConcurrentUpdateException "if you request
  an update to an Application Auto Scaling resource that already has a pending update";
  terraform-provider-aws v6.58.0, which pulumi-aws 7.51 wraps, retries PutScalingPolicy only on
  FailedResourceAccessException and PutScheduledAction only on ObjectNotFoundException
  (internal/service/appautoscaling resourcePolicyPut, resourceScheduledActionPut), so nothing absorbs
  a concurrent call (hashicorp/terraform-provider-aws#17915, open).
"""

from __future__ import annotations

from typing import Optional

from .graph import Graph, get, known
from .rule import readiness_rule

TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
KEY = ("serviceNamespace", "resourceId", "scalableDimension")


def _key(r) -> Optional[tuple]:
    values = tuple(get(r.props, k) for k in KEY)
    return values if all(known(v) for v in values) else None


def _targets_of(g: Graph, r) -> list:
    """The scalable targets of this stack a policy or action acts on: by property dependency, else by
    its (namespace, resource id, dimension) when the program wrote them out."""
    linked = g.prop_deps(r, "resourceId", (TARGET,))
    if linked:
        return linked
    key = _key(r)
    return [t for t in g.of_type(TARGET) if key is not None and _key(t) == key]


def _kind(r) -> str:
    return "scaling policy" if r.resource_type == POLICY else "scheduled action"


def _after_target(g: Graph):
    for r in g.of_type(POLICY, SCHEDULED_ACTION):
        targets = _targets_of(g, r)
        key = _key(r)
        if not targets and key is not None:
            yield (f"{_kind(r)} {r.name} acts on {key[1]} ({key[2]}), which no scalable target in this stack "
                   "registers: Application Auto Scaling refuses it until the target exists", r.urn)
        for t in targets:
            if t.urn not in g.waits_for(r):
                yield (f"{_kind(r)} {r.name} does not wait for its scalable target {t.name}: Application Auto "
                       "Scaling refuses it until the target is registered (ObjectNotFoundException)", r.urn)


def _one_at_a_time(g: Graph):
    by_target: dict[str, list] = {}
    for r in g.of_type(POLICY, SCHEDULED_ACTION):
        for t in _targets_of(g, r):
            by_target.setdefault(t.urn, []).append(r)
    for a, b in g.concurrent_pairs(by_target.values()):
        yield (f"{_kind(a)} {a.name} and {_kind(b)} {b.name} change the same scalable target at once: "
               "one of them fails with ConcurrentUpdateException, which the provider does not retry", b.urn)


POLICIES = [
    readiness_rule(
        "appautoscaling-after-target",
        "An Application Auto Scaling policy or scheduled action is put after its scalable target is registered.",
        "pass the Target's resourceId, scalableDimension and serviceNamespace (or dependsOn the Target)",
        _after_target),
    readiness_rule(
        "appautoscaling-one-at-a-time",
        "The policies and scheduled actions of one scalable target are put one after another.",
        "chain them with dependsOn: the policy, then each scheduled action after the one before",
        _one_at_a_time),
]
