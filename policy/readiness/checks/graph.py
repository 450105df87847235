"""The stack as the engine orders it: what each resource waits for.

A resource waits for everything in its ``dependencies`` and ``propertyDependencies``, and for
what those wait for. That transitive set is the only ordering `pulumi up` guarantees; anything
AWS or Kubernetes needs to exist first must be in it. Values that a real preview does not know
yet (ids of resources created in the same update) are never compared: relationships are read
from property dependencies, and plain values are used only where the program gives them
(cluster names, namespaces).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Iterable, Iterator, Optional

# The engine's marker for a string known only after apply, from the SDK that hands the pack its inputs.
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

CLUSTER_TYPES = ("eks:index:Cluster", "aws:eks/cluster:Cluster")
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
RELEASE_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
NAMESPACE = "kubernetes:core/v1:Namespace"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def get(props: Any, *path: Any, default: Any = None) -> Any:
    cur = props
    for key in path:
        if isinstance(key, int):
            if not isinstance(cur, (list, tuple)) and not hasattr(cur, "__getitem__"):
                return default
            try:
                cur = cur[key]
            except (IndexError, KeyError, TypeError):
                return default
        elif isinstance(cur, Mapping) and key in cur:
            cur = cur[key]
        else:
            return default
    return cur


def as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)):
        return [value]
    return list(value)


def known(value: Any) -> bool:
    """A plain value the program set (not missing, not a preview's unknown, not a secret)."""
    return isinstance(value, str) and value not in ("", "[secret]", UNKNOWN_STRING_VALUE)


def as_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


class Graph:
    def __init__(self, resources: Iterable):
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self._closure: dict[str, frozenset[str]] = {}

    # -- edges -----------------------------------------------------------------------------
    @staticmethod
    def direct(r) -> set[str]:
        urns = {d.urn for d in (r.dependencies or [])}
        for deps in (r.property_dependencies or {}).values():
            urns.update(d.urn for d in deps)
        return urns

    def waits_for(self, r) -> frozenset[str]:
        """Every URN this resource transitively waits for (iterative: stacks are deep)."""
        if r.urn in self._closure:
            return self._closure[r.urn]
        stack: list[tuple[str, bool]] = [(r.urn, False)]
        on_path: set[str] = set()
        while stack:
            urn, done = stack.pop()
            if done:
                on_path.discard(urn)
                node = self.by_urn.get(urn)
                acc: set[str] = set()
                for d in (self.direct(node) if node else ()):
                    acc.add(d)
                    acc |= self._closure.get(d, frozenset())
                self._closure[urn] = frozenset(acc)
                continue
            if urn in self._closure or urn in on_path:
                continue
            on_path.add(urn)
            stack.append((urn, True))
            node = self.by_urn.get(urn)
            for d in (self.direct(node) if node else ()):
                if d not in self._closure:
                    stack.append((d, False))
        return self._closure[r.urn]

    def concurrent_pairs(self, groups: Iterable[list]) -> Iterator[tuple]:
        """Pairs of resources of one group that neither waits for: the engine may run them at once."""
        for members in groups:
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    if a.urn not in self.waits_for(b) and b.urn not in self.waits_for(a):
                        yield a, b

    def prop_deps(self, r, key: str, types: Optional[Iterable[str]] = None) -> list:
        wanted = set(types) if types else None
        return [d for d in (r.property_dependencies or {}).get(key, [])
                if wanted is None or d.resource_type in wanted]

    def of_type(self, *types: str) -> Iterator:
        wanted = set(types)
        return (r for r in self.resources if r.resource_type in wanted)

    def provider_of(self, r):
        """The resource's provider as a stack resource (its props and what it waits for)."""
        urn = getattr(r.provider, "urn", None) if r.provider is not None else None
        return self.by_urn.get(urn) if urn else None

    # -- EKS ---------------------------------------------------------------------------------
    @staticmethod
    def cluster_name(cluster) -> Optional[str]:
        name = get(cluster.props, "name")
        return name if known(name) else None

    def clusters_named(self, r, key: str = "clusterName") -> list:
        """The clusters of this stack a resource names: by property dependency, else by value."""
        linked = self.prop_deps(r, key, CLUSTER_TYPES)
        if linked:
            return linked
        value = get(r.props, key)
        if not known(value):
            return []
        return [c for c in self.of_type(*CLUSTER_TYPES) if self.cluster_name(c) == value]

    def cluster_of_k8s(self, r) -> Optional[Any]:
        """The cluster a Kubernetes object or release lands on: the one its provider waits for."""
        provider = self.provider_of(r)
        if provider is None:
            return None
        reached = self.waits_for(provider)
        for c in self.of_type(*CLUSTER_TYPES):
            if c.urn in reached:
                return c
        return None

    def same_cluster_nodes(self, cluster) -> list:
        name = self.cluster_name(cluster)
        return [ng for ng in self.of_type(NODE_GROUP)
                if cluster in self.prop_deps(ng, "clusterName", CLUSTER_TYPES)
                or (name is not None and get(ng.props, "clusterName") == name)]


def has_capacity(node_group) -> bool:
    """A node group that starts nodes ordinary pods may use: desired (or min) size of at
    least one and no NoSchedule/NoExecute taint (the idle blue/green pool is tainted)."""
    scaling = get(node_group.props, "scalingConfig", default={}) or {}
    size = max(int(get(scaling, "desiredSize", default=0) or 0), int(get(scaling, "minSize", default=0) or 0))
    taints = [t for t in as_list(get(node_group.props, "taints")) if get(t, "effect") in ("NO_SCHEDULE", "NO_EXECUTE")]
    return size >= 1 and not taints


def chart_name(release) -> str:
    chart = get(release.props, "chart", default="") or ""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def api_group(resource_type: str) -> tuple[str, str]:
    """('karpenter.sh', 'NodePool') from 'kubernetes:karpenter.sh/v1:NodePool'; core is ''."""
    _, rest, kind = resource_type.split(":", 2)
    group = rest.rsplit("/", 1)[0] if "/" in rest else ""
    return ("" if group == "core" else group), kind
