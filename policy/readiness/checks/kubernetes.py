"""Kubernetes: a namespaced object needs its namespace, a custom object its CRD."""

from __future__ import annotations

from .facts import BUILTIN_GROUPS, BUILTIN_NAMESPACES, CLUSTER_SCOPED, CRD_GROUPS_BY_CHART
from .graph import CRD, NAMESPACE, RELEASE_TYPES, Graph, api_group, chart_name, get, known
from .rule import readiness_rule


def _objects(g: Graph):
    for r in g.resources:
        t = r.resource_type
        if not t.startswith("kubernetes:") or t in RELEASE_TYPES or t.startswith("kubernetes:yaml") \
                or t.startswith("pulumi:providers:"):
            continue
        yield r


def _same_provider(a, b) -> bool:
    return getattr(a.provider, "urn", None) == getattr(b.provider, "urn", None)


def _namespace_makers(g: Graph, r, namespace: str) -> list:
    makers = []
    for n in g.of_type(NAMESPACE):
        if get(n.props, "metadata", "name") == namespace and _same_provider(n, r):
            makers.append(n)
    for rel in g.of_type(*RELEASE_TYPES):
        if get(rel.props, "namespace") == namespace and get(rel.props, "createNamespace") and _same_provider(rel, r):
            makers.append(rel)
    return makers


def _namespaces(g: Graph):
    for r in _objects(g):
        _, kind = api_group(r.resource_type)
        namespace = get(r.props, "metadata", "namespace")
        if kind in CLUSTER_SCOPED or not known(namespace) or namespace in BUILTIN_NAMESPACES:
            continue
        if g.prop_deps(r, "metadata", (NAMESPACE, *RELEASE_TYPES)):
            continue  # metadata.namespace comes from the namespace (or release) itself
        makers = _namespace_makers(g, r, namespace)
        if not makers:
            yield (f"{kind} {r.name} lives in namespace '{namespace}', which nothing in this stack creates on its "
                   "cluster: Kubernetes rejects it (namespaces \"" + namespace + "\" not found)", r.urn)
        elif not any(m.urn in g.waits_for(r) for m in makers):
            yield (f"{kind} {r.name} lives in namespace '{namespace}' but does not wait for what creates it "
                   f"({makers[0].urn})", r.urn)


def _crds(g: Graph):
    for r in _objects(g):
        group, kind = api_group(r.resource_type)
        if group in BUILTIN_GROUPS:
            continue
        installers = [c for c in g.of_type(CRD) if get(c.props, "spec", "group") == group and _same_provider(c, r)]
        installers += [rel for rel in g.of_type(*RELEASE_TYPES)
                       if group in CRD_GROUPS_BY_CHART.get(chart_name(rel), ()) and not get(rel.props, "skipCrds")
                       and _same_provider(rel, r)]
        if not installers:
            yield (f"{kind} {r.name} is a custom object of group {group}, but nothing in this stack installs that "
                   "CRD on its cluster (no CustomResourceDefinition, no release of a chart known to ship it): "
                   "the API server answers 'no matches for kind'", r.urn)
        elif not any(i.urn in g.waits_for(r) for i in installers):
            yield (f"{kind} {r.name} does not wait for the release that installs its CRD ({installers[0].urn})", r.urn)


POLICIES = [
    readiness_rule(
        "namespaced-objects-wait-for-namespace",
        "A namespaced Kubernetes object can only be created in a namespace that exists: a built-in one, a "
        "Namespace in the stack, or one a Helm release creates (createNamespace).",
        "create the Namespace in the stack (retainOnDelete if teams share it) and make the object depend on it",
        _namespaces),
    readiness_rule(
        "custom-objects-wait-for-their-crd",
        "A custom object (Karpenter, KEDA, Argo CD, ...) can only be created after its CRD is installed, by a "
        "CustomResourceDefinition in the stack or the release of the chart that ships it.",
        "make the object depend on that release (dependsOn) or CRD; add the chart's CRD groups to "
        "policy/readiness/checks/facts.py when a new chart arrives",
        _crds),
]
