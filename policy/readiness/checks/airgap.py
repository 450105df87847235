"""Air-gapped VPCs: every AWS API a node, controller or add-on calls must be reachable, through
a VPC endpoint in that VPC or through the proxy that component is given."""

from __future__ import annotations

import base64
import json
import re

from .facts import APIS
from .graph import RELEASE_TYPES, Graph, chart_name, get
from .rule import readiness_rule

ENDPOINT = re.compile(r"^(?:cn\.)?com\.amazonaws\.[a-z]{2}(?:-[a-z]+)+-\d\.(.+)$")
PROXY = re.compile(r"https_proxy", re.I)


def _isolated_vpcs(g: Graph) -> list:
    attached = {v.urn for igw in g.of_type("aws:ec2/internetGateway:InternetGateway") for v in g.prop_deps(igw, "vpcId")}
    return [v for v in g.of_type("aws:ec2/vpc:Vpc") if v.urn not in attached]


def _endpoints(g: Graph, vpc) -> set[str]:
    out = set()
    for e in g.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        if vpc in g.prop_deps(e, "vpcId"):
            m = ENDPOINT.match(str(get(e.props, "serviceName", default="")))
            if m:
                out.add(m.group(1))
    return out


def _proxied(value) -> bool:
    return bool(PROXY.search(json.dumps(value, default=str))) if value is not None else False


def _node_proxy(g: Graph, ng) -> bool:
    for lt in g.prop_deps(ng, "launchTemplate", ("aws:ec2/launchTemplate:LaunchTemplate",)):
        data = get(lt.props, "userData")
        try:
            text = base64.b64decode(data).decode() if isinstance(data, str) else ""
        except ValueError:
            text = str(data)
        if PROXY.search(text):
            return True
    return False


def _components(g: Graph, cluster):
    """(label, API key, proxied, resource) of everything that runs in the cluster."""
    for ng in g.same_cluster_nodes(cluster):
        yield f"node group {ng.name}", ("nodes", "managed node group"), _node_proxy(g, ng), ng
    for a in g.of_type("aws:eks/addon:Addon"):
        if cluster in g.clusters_named(a):
            name = get(a.props, "addonName")
            yield f"add-on {name}", ("addon", name), _proxied(get(a.props, "configurationValues")), a
    for rel in g.of_type(*RELEASE_TYPES):
        if g.cluster_of_k8s(rel) is cluster:
            yield f"release {rel.name}", ("chart", chart_name(rel)), _proxied(get(rel.props, "values")), rel


def _karpenter_uses_role(g: Graph, cluster) -> bool:
    classes = [r for r in g.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass") if g.cluster_of_k8s(r) is cluster]
    return any(get(c.props, "spec", "instanceProfile") is None for c in classes)


def _reachable(g: Graph):
    for vpc in _isolated_vpcs(g):
        endpoints = _endpoints(g, vpc)
        for cluster in g.of_type("eks:index:Cluster"):
            if vpc not in g.prop_deps(cluster, "vpcId"):
                continue
            for label, key, proxied, r in _components(g, cluster):
                if key not in APIS:
                    yield (f"{label} runs in air-gapped VPC {vpc.name}, but no list of the AWS APIs it calls is "
                           f"recorded ({key[0]} '{key[1]}')", r.urn)
                    continue
                if proxied:
                    continue
                apis = list(APIS[key])
                if key == ("chart", "karpenter"):
                    if not _karpenter_uses_role(g, cluster):
                        apis.remove("iam")
                    if get(r.props, "values", "settings", "isolatedVPC") is not True:
                        apis.append("pricing")  # the pricing API, unless settings.isolatedVPC
                missing = [api for api in apis if api not in endpoints]
                if missing:
                    yield (f"{label} calls {', '.join(missing)}, which VPC {vpc.name} (no internet path) reaches "
                           f"through no VPC endpoint{' (IAM has none)' if 'iam' in missing else ''}, and it is "
                           "given no proxy", r.urn)



POLICIES = [
    readiness_rule(
        "airgap-apis-reachable",
        "In a VPC with no internet path, each AWS API that nodes, add-ons and controllers call (per component, "
        "from their upstream docs, in checks/facts.py) must have a VPC endpoint there, or the component must be "
        "given the proxy.",
        "add the interface endpoint (network.endpoints), give the component the proxy environment, or (Karpenter) "
        "use EC2NodeClass spec.instanceProfile so it never calls IAM",
        _reachable),
]
