"""FIS: every target selection must resolve to something when an experiment starts, and the
role's conditions must match what the targets carry. A template with a target that resolves to
nothing fails at start (emptyTargetResolutionMode "fail") or, worse, does nothing."""

from __future__ import annotations

from .facts import BUILTIN_NAMESPACES, FIS_TARGET_TYPES, RUNTIME_INSTANCE_TAGS
from .graph import CLUSTER_TYPES, NAMESPACE, RELEASE_TYPES, Graph, as_json, as_list, chart_name, get, known
from .rule import readiness_rule

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"


def _tags_in_stack(g: Graph) -> set[tuple[str, str]]:
    """(key, value) pairs some resource of the stack, or a component it creates, puts on
    instances: static tags plus the documented run-time tags of node groups and Karpenter."""
    pairs: set[tuple[str, str]] = set()
    for r in g.resources:
        for k, v in (get(r.props, "tags") or {}).items():
            pairs.add((k, str(v)))
    for c in g.of_type(*CLUSTER_TYPES):
        name = g.cluster_name(c)
        if name is None:
            continue
        if g.same_cluster_nodes(c):
            pairs.update((k, name) for k in RUNTIME_INSTANCE_TAGS["aws:eks/nodeGroup:NodeGroup"] if "cluster" in k)
            pairs.update(("eks:nodegroup-name", str(get(ng.props, "nodeGroupName"))) for ng in g.same_cluster_nodes(c))
        for rel in g.of_type(*RELEASE_TYPES):
            if chart_name(rel) == "karpenter" and g.cluster_of_k8s(rel) is c:
                pairs.add(("eks:eks-cluster-name", name))
                pairs.add((f"kubernetes.io/cluster/{name}", "owned"))
                pairs.update((k, "*") for k in RUNTIME_INSTANCE_TAGS["karpenter"] if "{" not in k and "cluster" not in k)
    return pairs


def _role_statements(g: Graph, template) -> list[dict]:
    roles = g.prop_deps(template, "roleArn", ("aws:iam/role:Role",))
    out = []
    for p in g.of_type("aws:iam/rolePolicy:RolePolicy"):
        if set(g.prop_deps(p, "role")) & set(roles):
            doc = as_json(get(p.props, "policy")) or {}
            out += [s for s in as_list(get(doc, "Statement")) if isinstance(s, dict)]
    return out


def _cluster_by_arn(g: Graph, arn) -> list:
    if not known(arn):
        return []
    name = arn.rsplit("/", 1)[-1]
    return [c for c in g.of_type(*CLUSTER_TYPES) if g.cluster_name(c) == name]


def _pod_target(g: Graph, template, target, role_urns: set[str]):
    params = get(target, "parameters") or {}
    clusters = _cluster_by_arn(g, get(params, "clusterIdentifier"))
    if not clusters:
        yield f"pod target of {template.name} names a cluster this stack does not create ({get(params, 'clusterIdentifier')})"
        return
    cluster, namespace = clusters[0], get(params, "namespace")
    if known(namespace) and namespace not in BUILTIN_NAMESPACES:
        made = [n for n in g.of_type(NAMESPACE) if get(n.props, "metadata", "name") == namespace
                and g.cluster_of_k8s(n) is cluster]
        made += [r for r in g.of_type(*RELEASE_TYPES) if get(r.props, "namespace") == namespace
                 and get(r.props, "createNamespace") and g.cluster_of_k8s(r) is cluster]
        if not made:
            yield f"pod target of {template.name} selects namespace '{namespace}', which nothing in this stack creates"
    accounts = [a for a in g.of_type("kubernetes:core/v1:ServiceAccount") if g.cluster_of_k8s(a) is cluster]
    wanted = {get(p, "value") for p in as_list(get(template.props, "actions", 0, "parameters"))
              if get(p, "key") == "kubernetesServiceAccount"}
    for sa in wanted:
        if not any(get(a.props, "metadata", "name") == sa and get(a.props, "metadata", "namespace") == namespace
                   for a in accounts):
            yield f"{template.name} runs as service account {namespace}/{sa}, which this stack does not create"
    entries = [e for e in g.of_type("aws:eks/accessEntry:AccessEntry")
               if cluster in g.clusters_named(e) and {d.urn for d in g.prop_deps(e, "principalArn")} & role_urns]
    if not entries:
        yield f"{template.name}'s role has no access entry on cluster {g.cluster_name(cluster)}: FIS cannot reach its pods"


def _targets(g: Graph):
    tags = _tags_in_stack(g)
    for t in g.of_type(TEMPLATE):
        role_urns = {r.urn for r in g.prop_deps(t, "roleArn")}
        linked = g.prop_deps(t, "targets")
        for target in as_list(get(t.props, "targets")):
            kind = get(target, "resourceType")
            if kind not in FIS_TARGET_TYPES:
                yield (f"{t.name} targets {kind}, which the readiness rules do not know how to resolve "
                       "(add it to FIS_TARGET_TYPES)", t.urn)
                continue
            if kind == "aws:eks:pod":
                for problem in _pod_target(g, t, target, role_urns):
                    yield problem, t.urn
                continue
            arns = as_list(get(target, "resourceArns"))
            if arns and not any(d.resource_type in FIS_TARGET_TYPES[kind] for d in linked):
                yield (f"{t.name} selects {kind} by ARN, but none of them is a resource this stack creates: "
                       "the selection resolves to nothing", t.urn)
            for pair in as_list(get(target, "resourceTags")):
                key, value = get(pair, "key"), str(get(pair, "value"))
                if (key, value) not in tags and (key, "*") not in tags:
                    yield (f"{t.name} selects {kind} tagged {key}={value}, a tag no resource of this stack and no "
                           "component it runs (node groups, Karpenter) puts on instances", t.urn)
        # The role's tag conditions must be satisfiable by the same tags.
        for s in _role_statements(g, t):
            for op, conds in (get(s, "Condition") or {}).items():
                if not op.startswith("StringEquals"):
                    continue
                for key, values in conds.items():
                    if not key.startswith("aws:ResourceTag/"):
                        continue
                    tag = key.split("/", 1)[1]
                    for value in as_list(values):
                        if (tag, str(value)) not in tags and (tag, "*") not in tags:
                            yield (f"{t.name}'s role allows {', '.join(as_list(s.get('Action')))} only on resources "
                                   f"tagged {tag}={value}, which nothing in this stack tags: the action would be "
                                   "denied", t.urn)


POLICIES = [
    readiness_rule(
        "fis-targets-resolve",
        "Every FIS target selection resolves to something this stack creates: ARNs of its own resources, tags that "
        "its resources or the components it runs (EKS node groups, Karpenter) put on instances, pod targets in a "
        "namespace that exists, with the service account FIS runs as and an access entry for the FIS role; and "
        "the role's aws:ResourceTag conditions match tags that exist.",
        "select targets by the stack's own resources or documented run-time tags, and create the namespace, "
        "service account and access entry pod actions need",
        _targets),
]
