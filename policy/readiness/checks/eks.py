"""EKS: what must exist before a resource that names a cluster, and before pods can run."""

from __future__ import annotations

from .facts import DAEMONSET_ONLY_ADDONS
from .graph import RELEASE_TYPES, Graph, chart_name, get, has_capacity, known
from .rule import readiness_rule

NAMES_A_CLUSTER = ("aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
                   "aws:eks/addon:Addon", "aws:eks/podIdentityAssociation:PodIdentityAssociation",
                   "aws:eks/nodeGroup:NodeGroup", "aws:eks/fargateProfile:FargateProfile")


def _cluster_waits(g: Graph):
    for r in g.of_type(*NAMES_A_CLUSTER):
        clusters = g.clusters_named(r)
        if not clusters:
            continue  # a cluster outside this stack: nothing here to wait for
        if not any(c.urn in g.waits_for(r) for c in clusters):
            yield (f"{r.resource_type.split(':')[-1]} {r.name} names cluster "
                   f"'{get(r.props, 'clusterName')}' but does not wait for it ({clusters[0].urn}): "
                   f"EKS rejects it until the cluster is ACTIVE", r.urn)
    # An access policy association needs its access entry (EKS: ResourceNotFoundException).
    entries = list(g.of_type("aws:eks/accessEntry:AccessEntry"))
    for r in g.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation"):
        principal_deps = {d.urn for d in g.prop_deps(r, "principalArn")}
        principal = get(r.props, "principalArn")
        mine = [e for e in entries if get(e.props, "clusterName") == get(r.props, "clusterName") and (
            (known(principal) and get(e.props, "principalArn") == principal)
            or (principal_deps and principal_deps & {d.urn for d in g.prop_deps(e, "principalArn")}))]
        if mine and not any(e.urn in g.waits_for(r) for e in mine):
            yield (f"access policy association {r.name} does not wait for the access entry of its principal "
                   f"({mine[0].urn})", r.urn)


def _nodes_first(g: Graph):
    for c in g.of_type("eks:index:Cluster"):
        coredns = get(c.props, "corednsAddonOptions", default={}) or {}
        if get(c.props, "skipDefaultNodeGroup") and get(coredns, "enabled", default=True) is not False:
            yield (f"cluster {c.name} creates the CoreDNS add-on inside the component (corednsAddonOptions.enabled) "
                   "while skipDefaultNodeGroup leaves it no node: the add-on stays DEGRADED, the create times out "
                   "after 20 minutes and every node group waiting on the cluster never starts "
                   "(pulumi-eks#1819, #1525)", c.urn)
    for r in g.of_type("aws:eks/addon:Addon", *RELEASE_TYPES):
        if r.resource_type == "aws:eks/addon:Addon":
            what = f"add-on {get(r.props, 'addonName')}"
            if get(r.props, "addonName") in DAEMONSET_ONLY_ADDONS:
                continue
            clusters = g.clusters_named(r)
        else:
            what = f"Helm release {r.name} ({chart_name(r)})"
            cluster = g.cluster_of_k8s(r)
            clusters = [cluster] if cluster is not None else []
        for cluster in clusters:
            if cluster.resource_type == "eks:index:Cluster" and not get(cluster.props, "skipDefaultNodeGroup"):
                continue  # the component's own default node group comes with the cluster
            pools = [ng for ng in g.same_cluster_nodes(cluster) if has_capacity(ng)]
            waited = [ng for ng in pools if ng.urn in g.waits_for(r)]
            if not waited:
                why = ("no node group of that cluster has capacity (desired size >= 1, untainted)" if not pools
                       else f"it does not wait for one ({pools[0].urn})")
                yield (f"{what} on cluster {g.cluster_name(cluster)} runs pods that need a node, but {why}: "
                       "it stays pending and times out", r.urn)


POLICIES = [
    readiness_rule(
        "eks-consumers-wait-for-cluster",
        "Access entries and policy associations, add-ons, pod identity associations, node groups and Fargate "
        "profiles name an EKS cluster; EKS accepts them only once that cluster is ACTIVE, and a policy "
        "association only once its access entry exists.",
        "name the cluster through the cluster resource's output, or add it (and the access entry) to dependsOn",
        _cluster_waits),
    readiness_rule(
        "workloads-wait-for-nodes",
        "Add-ons and Helm releases whose pods must schedule (CoreDNS, the EBS CSI controller, every chart) "
        "need a node with room in their cluster; created before one, they time out.",
        "create such add-ons as aws.eks.Addon after the node groups (dependsOn), set "
        "corednsAddonOptions.enabled=false on a pulumi-eks Cluster without its default node group, and make "
        "releases wait for the node groups",
        _nodes_first),
]
