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
    # the service account of every action on this target (an action naming no target is read too)
    wanted = {get(p, "value") for a in as_list(get(template.props, "actions"))
              if get(a, "target", "value") in (None, get(target, "name"))
              for p in as_list(get(a, "parameters")) if get(p, "key") == "kubernetesServiceAccount"}
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


# FIS quotas (Service Quotas, AWS Fault Injection Service; the FIS user guide's "Quotas and
# limitations", read 2026-11-26), none adjustable: CreateExperimentTemplate refuses more.
MAX_ACTIONS, MAX_STOP_CONDITIONS, MAX_PARALLEL_ACTIONS = 20, 5, 10


def _width(after: dict[str, set[str]]) -> int:
    """The most actions no startAfter chain orders (they may all run at once)."""
    reach: dict[str, set[str]] = {}

    def later(n: str, seen: frozenset = frozenset()) -> set[str]:
        if n not in reach:
            reach[n] = set()
            for m in after.get(n, ()):
                if m in after and m not in seen:
                    reach[n] |= {m} | later(m, seen | {n})
        return reach[n]

    ordered = {(a, b) for a in after for b in later(a)}
    match: dict[str, str] = {}

    def augment(n: str, seen: set[str]) -> bool:
        for m in (b for a, b in ordered if a == n):
            if m not in seen:
                seen.add(m)
                if m not in match or augment(match[m], seen):
                    match[m] = n
                    return True
        return False

    return len(after) - sum(augment(n, set()) for n in after)


def _cyclic(after: dict[str, set[str]]) -> bool:
    state: dict[str, int] = {}

    def visit(n: str) -> bool:
        state[n] = 1
        for m in after.get(n, ()):
            if state.get(m) == 1 or (m not in state and m in after and visit(m)):
                return True
        state[n] = 2
        return False

    return any(n not in state and visit(n) for n in list(after))


def _template_shape(g: Graph):
    for t in g.of_type(TEMPLATE):
        actions = [a for a in as_list(get(t.props, "actions")) if get(a, "name") is not None]
        targets = {get(x, "name") for x in as_list(get(t.props, "targets"))}
        stops = as_list(get(t.props, "stopConditions"))
        if len(actions) > MAX_ACTIONS:
            yield f"{t.name} has {len(actions)} actions; FIS takes {MAX_ACTIONS} per template", t.urn
        if len(stops) > MAX_STOP_CONDITIONS:
            yield f"{t.name} has {len(stops)} stop conditions; FIS takes {MAX_STOP_CONDITIONS} per template", t.urn
        after = {get(a, "name"): set(as_list(get(a, "startAfters"))) for a in actions}
        for a in actions:
            for ref in sorted(after[get(a, "name")] - set(after)):
                yield f"{t.name}: action {get(a, 'name')} starts after {ref}, which is no action of the template", t.urn
            ref = get(a, "target", "value")
            if ref is not None and ref not in targets:
                yield f"{t.name}: action {get(a, 'name')} names target {ref}, which the template does not define", t.urn
        if _cyclic(after):
            yield f"{t.name}: its actions' startAfter go round in a circle, so none of them can start", t.urn
        elif _width(after) > MAX_PARALLEL_ACTIONS:
            yield (f"{t.name}: {_width(after)} actions may run at once; FIS runs {MAX_PARALLEL_ACTIONS} in parallel",
                   t.urn)


POLICIES = [
    readiness_rule(
        "fis-templates-within-quotas",
        "Every FIS experiment template is one CreateExperimentTemplate accepts: at most 20 actions and 5 stop "
        "conditions, at most 10 actions that can run at once, every startAfter naming an action of the same "
        "template with no circle, every action's target defined in the template.",
        "name at most 5 SLOs in stopOn (or chaos.stopOn), split or order (startAfter) the steps, and let steps "
        "start after steps of the same experiment only",
        _template_shape),
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
