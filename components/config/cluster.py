"""`cluster`: one EKS cluster per region, its blue/green node groups and pinned add-ons."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from .base import SLUG, RetentionDays, _Model, doc, named_pattern, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# The default Kubernetes minor: in EKS standard support until 2027-03-27 (EKS release calendar,
# tools/upstream/data/pins/eks-kubernetes-versions.json). EKS moves a cluster one minor per update.
DEFAULT_K8S_VERSION = "1.35"
# EKS add-on versions for the default Kubernetes version; pinned, never "latest". Each one is
# recorded by an AWS source for Kubernetes 1.35 (tools/upstream/data/pins, checked by the `pins`
# upstream check): vpc-cni, aws-ebs-csi-driver and eks-pod-identity-agent as AWS's EKS Blueprints
# for CDK pin them (awslabs/cdk-eks-blueprints 0b82904e, 2026-04-08, lib/addons/*/index.ts);
# coredns and kube-proxy as the newer builds the EKS user guide lists as latest for 1.35
# (docs.aws.amazon.com/ja_jp/eks/latest/userguide/managing-coredns.md, managing-kube-proxy.md).
DEFAULT_ADDONS = {
    "vpcCni": "v1.21.1-eksbuild.1",
    "coredns": "v1.14.3-eksbuild.3",
    "kubeProxy": "v1.35.3-eksbuild.13",
    "ebsCsi": "v1.57.1-eksbuild.1",
    "podIdentityAgent": "v1.3.10-eksbuild.2",
}
# Cluster Autoscaler image per Kubernetes minor: its minor must match the cluster's, and its README
# ("Schedule") says to run the latest release of that minor. Newest recorded release per minor:
# kubernetes/autoscaler tags cluster-autoscaler-1.33.6, -1.34.5, -1.35.2 (snapshot 55c37cd5, read
# 2026-11-26; tools/upstream/data/pins/images.json). A minor missing here is refused by the config.
CLUSTER_AUTOSCALER_IMAGE_TAGS = {
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
}
_ADDON_VERSION = named_pattern(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$", "`vX.Y.Z-eksbuild.N`")
_ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"


class AddonVersions(_Model):
    vpc_cni: str = Field(DEFAULT_ADDONS["vpcCni"], pattern=_ADDON_VERSION, description="Amazon VPC CNI")
    coredns: str = Field(DEFAULT_ADDONS["coredns"], pattern=_ADDON_VERSION, description="CoreDNS")
    kube_proxy: str = Field(DEFAULT_ADDONS["kubeProxy"], pattern=_ADDON_VERSION, description="kube-proxy")
    ebs_csi: str = Field(DEFAULT_ADDONS["ebsCsi"], pattern=_ADDON_VERSION,
                         description="EBS CSI driver; gets its IAM role through EKS Pod Identity")
    pod_identity_agent: str = Field(DEFAULT_ADDONS["podIdentityAgent"], pattern=_ADDON_VERSION,
                                    description="EKS Pod Identity Agent")


class NodeGroupSpec(_Model):
    name: str = Field(pattern=SLUG, description="names both pools of the node group; unique in the cluster")
    instance_types: list[str] = Field(min_length=1, description="EC2 instance types")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field("ON_DEMAND", description="on-demand or spot capacity")
    min_size: int = Field(ge=0, le=1000, description="the active pool's minimum size")
    max_size: int = Field(ge=1, le=1000, description="the maximum size of each pool")
    desired_size: int = Field(ge=0, le=1000,
                              description="the active pool's desired size; minSize <= desiredSize <= maxSize")
    disk_size_gib: int = Field(50, ge=20, le=16384, description="size of the encrypted gp3 root volume (GiB)")
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes labels of the nodes")
    taints: list[dict[str, str]] = Field(
        default_factory=list, description="Kubernetes taints of the nodes",
        json_schema_extra=doc(type="list of `{key, value?, effect: NO_SCHEDULE|NO_EXECUTE|PREFER_NO_SCHEDULE}`"))

    @field_validator("taints")
    @classmethod
    def _taints(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for t in value:
            if set(t) - {"key", "value", "effect"} or "key" not in t or \
                    t.get("effect") not in ("NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"):
                raise ValueError(f"taint {t} needs key, optional value and effect NO_SCHEDULE|NO_EXECUTE|PREFER_NO_SCHEDULE")
        return value


class BlueGreenSpec(_Model):
    active: Literal["blue", "green"] = Field(
        "blue", description="the active pool carries min/max/desired; the other has min 0, desired 0 (max kept, so "
                            "it can be scaled up for the switch). Flipping this key moves the load to the upgraded "
                            "pool and back, replacing nothing")


class ClusterSpec(_Model):
    """Every cluster: private API endpoint, OIDC provider (IRSA), secrets encrypted with a rotating KMS
    key, all five control-plane log types, deletion protection and `protect` in prod, named
    `<environment>-<region code>` (e.g. `prod-apne2`). In air-gapped stacks the node user data (MIME
    multipart, merged by EKS) gives containerd, kubelet and the sandbox-image pull the proxy
    settings, with the cluster endpoint domain and service range in NO_PROXY."""

    version: str = Field(
        DEFAULT_K8S_VERSION, pattern=r"^1\.\d{2}$",
        description="Kubernetes version of every cluster; raise it one minor per `pulumi up` (EKS upgrades one "
                    "minor at a time). With `clusterAutoscaler` only minors with a pinned autoscaler image "
                    f"({', '.join(CLUSTER_AUTOSCALER_IMAGE_TAGS)}) are accepted",
        json_schema_extra=doc(type="`1.NN`"))
    endpoint_access: Literal["private", "privateAndPublic"] = Field(
        "private", description="prod must be `private`; with GitOps and more than one region, public is refused (a "
                               "spoke's API name would resolve to public IPs outside its VPC, gitops-bridge#79, so "
                               "the hub could not reach it over the TGW)")
    public_access_cidrs: list[IPv4Network] = Field(default_factory=list,
                                                   description="only with `privateAndPublic`; never `0.0.0.0/0`")
    service_cidr: IPv4Network = Field(
        IPv4Network("172.20.0.0/16"),
        description="Kubernetes service range; must not overlap the supernet or reserved ranges; added to nodes' "
                    "NO_PROXY")
    node_groups: list[NodeGroupSpec] = Field(
        min_length=1,
        description="each becomes a **blue** and a **green** managed node group with its own launch template "
                    "(IMDSv2 required, hop limit 1, encrypted gp3 root volume, no SSH) in the private worker subnets")
    blue_green: BlueGreenSpec = Field(default_factory=BlueGreenSpec, description="which pool is live")
    addons: AddonVersions = Field(
        default_factory=AddonVersions,
        description=f"pinned EKS add-on versions, never \"latest\"; the defaults are for {DEFAULT_K8S_VERSION}")
    admin_role_arns: list[str] = Field(
        default_factory=list,
        description="access entries with `AmazonEKSClusterAdminPolicy` (authentication mode API: no aws-auth "
                    "ConfigMap)",
        json_schema_extra=doc(type="list of IAM role ARNs"))
    log_retention_days: RetentionDays = Field(
        90, description="the control-plane log group (`/aws/eks/<name>/cluster`), pre-created with KMS so EKS "
                        "never makes a never-expiring one")

    @field_validator("admin_role_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        import re
        bad = [a for a in value if not re.match(_ROLE_ARN, a)]
        if bad:
            raise ValueError(f"not IAM role ARNs: {bad}")
        return value


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """The API endpoint's exposure, the service range, node group sizes and names."""
    issues: list[ConfigIssue] = []
    cl, gitops = cfg.cluster, cfg.gitops
    if cl is None:
        return issues
    if cl.endpoint_access == "privateAndPublic":
        if cfg.environment == "prod":
            issues.append(ConfigIssue("cluster.endpointAccess", "prod cluster endpoints must be private"))
        if not cl.public_access_cidrs:
            issues.append(ConfigIssue("cluster.publicAccessCidrs",
                                      "privateAndPublic needs the CIDRs allowed to reach the public endpoint"))
        if gitops is not None and len(cfg.regions) > 1:
            issues.append(ConfigIssue(
                "cluster.endpointAccess",
                "with a public endpoint a spoke's API name resolves to public addresses outside its VPC "
                "(gitops-bridge#79), so the hub's ArgoCD cannot reach it over the transit gateway; use private"))
    for j, cidr in enumerate(cl.public_access_cidrs):
        if cidr.prefixlen == 0:
            issues.append(ConfigIssue(f"cluster.publicAccessCidrs[{j}]", "0.0.0.0/0 opens the API to the internet"))
    if cl.endpoint_access == "private" and cl.public_access_cidrs:
        issues.append(ConfigIssue("cluster.publicAccessCidrs", "set only with endpointAccess privateAndPublic"))
    clashes = [str(r) for r in [cfg.network.supernet, *cfg.network.reserved_cidrs] if r.overlaps(cl.service_cidr)]
    if clashes:
        issues.append(ConfigIssue("cluster.serviceCidr", f"{cl.service_cidr} overlaps {', '.join(clashes)}"))
    for i, ng in enumerate(cl.node_groups):
        if not ng.min_size <= ng.desired_size <= ng.max_size:
            issues.append(ConfigIssue(f"cluster.nodeGroups[{i}]",
                                      f"needs minSize <= desiredSize <= maxSize (got {ng.min_size}, {ng.desired_size}, {ng.max_size})"))
    for name in repeated(ng.name for ng in cl.node_groups):
        issues.append(ConfigIssue("cluster.nodeGroups", f"node group '{name}' is listed twice"))
    return issues
