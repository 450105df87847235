"""Typed, validated stack config: the interface platform teams edit.

Every key lives under the project namespace (``global-platform:<key>``) in
``Pulumi.<stack>.yaml``. Validation finds every problem before any resource is
registered and reports each one with the YAML key path the user must edit.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from urllib.parse import urlsplit
from typing import Annotated, Any, Iterable, Literal, Mapping, Optional

import pulumi_aws

from .topology import derived_asn, is_private_asn
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "global-platform"

# Validated against the provider's own list, so a region pulumi-aws cannot deploy to is refused.
KNOWN_REGIONS: tuple[str, ...] = tuple(r.value for r in pulumi_aws.Region)

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)


def _cloudwatch_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"{value} is not a CloudWatch retention period; use one of {list(LOG_RETENTION_DAYS)}")
    return value


RetentionDays = Annotated[int, AfterValidator(_cloudwatch_retention)]


def repeated(values: Iterable[str]) -> list[str]:
    """Values listed more than once, sorted."""
    seen, twice = set(), set()
    for v in values:
        (twice if v in seen else seen).add(v)
    return sorted(twice)


@dataclass(frozen=True)
class ConfigIssue:
    path: str  # YAML key path below the namespace, e.g. "regions[1].name"
    reason: str

    def __str__(self) -> str:
        return f"{NAMESPACE}:{self.path}: {self.reason}" if self.path else self.reason


class ConfigError(Exception):
    """All problems found in one stack's config, reported together."""

    def __init__(self, issues: list[ConfigIssue], source: str = "stack config"):
        self.issues = issues
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        noun = "problem" if len(self.issues) == 1 else "problems"
        lines = [f"invalid {self.source}: {len(self.issues)} {noun}"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


class _Model(BaseModel):
    # camelCase keys in YAML, snake_case in Python; typos are errors, not silently ignored.
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class RegionSpec(_Model):
    name: str = Field(description="AWS region code, e.g. ap-northeast-2.")
    role: Literal["hub", "spoke"] = Field(description="hub runs shared services (ArgoCD); exactly one.")
    cidr: Optional[IPv4Network] = Field(None, description="Pins this region's VPC block.")

    @field_validator("name")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in KNOWN_REGIONS:
            close = difflib.get_close_matches(value, KNOWN_REGIONS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"'{value}' is not an AWS region code known to pulumi-aws{hint}")
        return value


class NetworkSpec(_Model):
    supernet: IPv4Network = Field(description="The environment's address block; every VPC is carved from it.")
    reserved_cidrs: list[IPv4Network] = Field(
        default_factory=list,
        description="Never overlapped: on-prem ranges, other teams' VPCs, the other environment.",
    )
    vpc_prefix_length: int = Field(16, ge=16, le=24, description="Size of each unpinned VPC.")
    az_count: Literal[2, 3] = Field(3, description="Availability zones used per region.")
    nat_gateways: Optional[Literal["single", "perAz", "none"]] = Field(
        None, description="Default: perAz in prod, single elsewhere, none when egress is proxy."
    )
    egress: Literal["nat", "proxy"] = Field("nat", description="proxy = no internet path at all.")
    endpoints: list[str] = Field(default_factory=list, description="Interface endpoint services, e.g. ecr.api.")
    database_tier: bool = Field(False, description="Adds database subnets and a DB subnet group.")
    worker_ips_per_az: int = Field(
        2000, ge=1, le=1_000_000,
        description="Addresses nodes and pods need per AZ; worker subnets get at least twice this.",
    )
    flow_log_retention_days: RetentionDays = Field(90, description="CloudWatch retention of VPC flow logs.")

    @field_validator("endpoints")
    @classmethod
    def _endpoint_names(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not v or not all(c.isalnum() or c in ".-" for c in v)]
        if bad:
            raise ValueError(f"not AWS service names: {bad} (use the short form, e.g. 'ecr.api')")
        dupes = repeated(value)
        if dupes:
            raise ValueError(f"listed twice: {dupes}")
        return value


# What nodes and controllers need to reach AWS with no internet path (air-gapped stacks).
AIRGAP_ENDPOINTS = ("autoscaling", "ec2", "ec2messages", "ecr.api", "ecr.dkr", "eks", "eks-auth",
                    "elasticloadbalancing", "kms", "logs", "monitoring", "sqs", "ssm", "ssmmessages", "sts")

_SLUG = r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"


class TransitGatewaySpec(_Model):
    base_asn: int = Field(64512, description="Per-region ASNs derive from it by region name.")
    amazon_side_asn: dict[str, int] = Field(default_factory=dict, description="Region -> ASN overrides.")
    default_route_table_association: Literal["enable", "disable"] = "disable"
    default_route_table_propagation: Literal["enable", "disable"] = "disable"


class VpnSpec(_Model):
    ip: IPv4Address = Field(description="Public IP of the on-prem VPN device.")
    bgp_asn: int = Field(ge=1, le=4294967294, description="The on-prem side's BGP ASN.")
    region: str = Field(description="Region whose transit gateway terminates the VPN.")


class DirectConnectSpec(_Model):
    region: str = Field(description="Region whose transit gateway associates with the DX gateway.")
    amazon_side_asn: int = Field(64600, description="ASN of the Direct Connect gateway (private range).")
    allowed_prefixes: Optional[list[IPv4Network]] = Field(
        None, description="Prefixes advertised to on-prem; default: every VPC reachable from the region.")


class OnPremSite(_Model):
    name: str = Field(pattern=_SLUG)
    cidrs: list[IPv4Network] = Field(min_length=1)
    vpn: Optional[VpnSpec] = None
    direct_connect: Optional[DirectConnectSpec] = None

    @property
    def link_region(self) -> Optional[str]:
        link = self.vpn or self.direct_connect
        return link.region if link else None


class ResolverSpec(_Model):
    dns_servers: list[IPv4Address] = Field(min_length=1, description="On-prem DNS servers.")
    forward_domains: list[str] = Field(min_length=1, description="Domains forwarded to them.")
    inbound: Literal["hub", "all", "none"] = Field("hub", description="Where on-prem can resolve VPC names.")

    @field_validator("forward_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if not d or d.startswith(".") or " " in d or "." not in d.strip(".")]
        if bad:
            raise ValueError(f"not domain names: {bad}")
        return value


class ConnectivitySpec(_Model):
    transit_gateway: TransitGatewaySpec = Field(default_factory=TransitGatewaySpec)
    peering: Literal["mesh", "hubSpoke", "none"] = "hubSpoke"
    on_prem: list[OnPremSite] = Field(default_factory=list)
    resolver: Optional[ResolverSpec] = None


class ProxySpec(_Model):
    url: str = Field(description="http(s)://host:port of the egress proxy.")
    no_proxy: list[str] = Field(default_factory=list, description="Extra NO_PROXY entries.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.port is None:
            raise ValueError(f"'{value}' is not http(s)://host:port")
        return value


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
_ADDON_VERSION = r"^v\d+\.\d+\.\d+-eksbuild\.\d+$"
_EXACT_SEMVER = r"^\d+\.\d+\.\d+$"
_ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"


class AddonVersions(_Model):
    vpc_cni: str = Field(DEFAULT_ADDONS["vpcCni"], pattern=_ADDON_VERSION)
    coredns: str = Field(DEFAULT_ADDONS["coredns"], pattern=_ADDON_VERSION)
    kube_proxy: str = Field(DEFAULT_ADDONS["kubeProxy"], pattern=_ADDON_VERSION)
    ebs_csi: str = Field(DEFAULT_ADDONS["ebsCsi"], pattern=_ADDON_VERSION)
    pod_identity_agent: str = Field(DEFAULT_ADDONS["podIdentityAgent"], pattern=_ADDON_VERSION)


class NodeGroupSpec(_Model):
    name: str = Field(pattern=_SLUG)
    instance_types: list[str] = Field(min_length=1)
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = Field(ge=0, le=1000)
    max_size: int = Field(ge=1, le=1000)
    desired_size: int = Field(ge=0, le=1000)
    disk_size_gib: int = Field(50, ge=20, le=16384)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[dict[str, str]] = Field(default_factory=list)

    @field_validator("taints")
    @classmethod
    def _taints(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for t in value:
            if set(t) - {"key", "value", "effect"} or "key" not in t or \
                    t.get("effect") not in ("NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"):
                raise ValueError(f"taint {t} needs key, optional value and effect NO_SCHEDULE|NO_EXECUTE|PREFER_NO_SCHEDULE")
        return value


class BlueGreenSpec(_Model):
    active: Literal["blue", "green"] = Field("blue", description="Which node pool carries the load.")


class ClusterSpec(_Model):
    version: str = Field(DEFAULT_K8S_VERSION, pattern=r"^1\.\d{2}$",
                         description="Kubernetes minor (EKS). Raise it one minor per `pulumi up`: EKS "
                                     "upgrades a cluster one minor version at a time.")
    endpoint_access: Literal["private", "privateAndPublic"] = "private"
    public_access_cidrs: list[IPv4Network] = Field(default_factory=list)
    service_cidr: IPv4Network = Field(IPv4Network("172.20.0.0/16"), description="Kubernetes service range.")
    node_groups: list[NodeGroupSpec] = Field(min_length=1)
    blue_green: BlueGreenSpec = Field(default_factory=BlueGreenSpec)
    addons: AddonVersions = Field(default_factory=AddonVersions)
    admin_role_arns: list[str] = Field(default_factory=list)
    log_retention_days: RetentionDays = 90

    @field_validator("admin_role_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        import re
        bad = [a for a in value if not re.match(_ROLE_ARN, a)]
        if bad:
            raise ValueError(f"not IAM role ARNs: {bad}")
        return value


class SsoSpec(_Model):
    issuer: str = Field(pattern=r"^https://[^\s/]+(/[^\s]*)?$", description="OIDC issuer URL, e.g. Okta.")
    client_id: str = Field(min_length=1)
    groups: dict[str, Literal["admin", "readonly"]] = Field(min_length=1, description="IdP group -> Argo CD role.")
    default_role: Literal["readonly", "none"] = "readonly"


class ArgoCdSpec(_Model):
    chart_version: str = Field(pattern=_EXACT_SEMVER, description="argo-helm argo-cd chart, pinned exactly.")
    chart_repository: str = Field("https://argoproj.github.io/argo-helm", pattern=r"^(https://|oci://)\S+$",
                                  description="Where the chart comes from (an internal mirror when air-gapped).")
    ha: bool = False
    sso: Optional[SsoSpec] = None
    domain: str = Field("argocd.internal", pattern=r"^[a-z0-9.-]+$")


class AppProjectSpec(_Model):
    name: str = Field(pattern=_SLUG)
    description: str = ""
    source_repos: list[str] = Field(min_length=1)
    namespaces: list[str] = Field(default_factory=lambda: ["*"])


class GitOpsSpec(_Model):
    argocd: ArgoCdSpec
    repo_url: str = Field(pattern=r"^(https://|ssh://|git@)\S+$")
    path: str = Field(min_length=1)
    target_revision: str = Field("main", min_length=1)
    projects: list[AppProjectSpec] = Field(default_factory=list)


_ALB_SUFFIX = r"^app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$"


class SloSpec(_Model):
    """A service level objective, measured on an ALB (as the AWS Load Balancer Controller creates
    them) or on any CloudWatch metric. One object drives alarms, chaos stop conditions and scaling."""
    name: str = Field(pattern=_SLUG)
    kind: Literal["latency", "errorRate", "custom"]
    percentile: Literal["p50", "p90", "p95", "p99", "p99.9"] = "p99"
    objective: float = Field(gt=0, description="seconds (latency), percent of requests (errorRate), or value")
    period_seconds: Literal[10, 30, 60, 300] = 60
    evaluation_periods: int = Field(3, ge=1, le=100)
    datapoints_to_alarm: Optional[int] = Field(None, ge=1, le=100)
    load_balancers: dict[str, str] = Field(
        default_factory=dict, description="region -> ALB ARN suffix (app/<name>/<id>) for latency/errorRate")
    namespace: Optional[str] = None  # custom
    metric_name: Optional[str] = None  # custom
    dimensions: dict[str, str] = Field(default_factory=dict)  # custom
    statistic: str = "Average"  # custom: Average | Sum | Maximum | pNN

    @field_validator("load_balancers")
    @classmethod
    def _suffixes(cls, value: dict[str, str]) -> dict[str, str]:
        import re
        bad = {r: v for r, v in value.items() if not re.match(_ALB_SUFFIX, v)}
        if bad:
            raise ValueError(f"not ALB ARN suffixes (app/<name>/<16 hex>): {bad}")
        return value


class TargetSelection(_Model):
    mode: Literal["ALL", "COUNT", "PERCENT"] = "ALL"
    value: Optional[int] = Field(None, ge=1, le=100000)

    def fis(self) -> str:
        return self.mode if self.mode == "ALL" else f"{self.mode}({self.value})"


class ScenarioSpec(_Model):
    scenario: str = Field(description="A name from the chaos library (components/chaos_library.py).")
    name: Optional[str] = Field(None, pattern=_SLUG, description="Defaults to the scenario name.")
    parameters: dict[str, Any] = Field(default_factory=dict)
    selection: TargetSelection = Field(default_factory=TargetSelection)
    regions: Optional[list[str]] = Field(None, description="Default: every region.")
    stop_on: Optional[list[str]] = Field(None, description="SLO names; default: every SLO.")

    @property
    def key(self) -> str:
        return self.name or self.scenario


class GameDaySpec(_Model):
    cron: str = Field(description="EventBridge Scheduler cron(...) expression.")
    time_zone: Optional[str] = Field(None, description="Default: each region's own time zone.")
    scenarios: list[str] = Field(min_length=1, description="Scenario names to start.")


class ChaosSpec(_Model):
    scenarios: list[ScenarioSpec] = Field(default_factory=list)
    log_retention_days: RetentionDays = 90
    game_day: Optional[GameDaySpec] = None


class ScheduleSpec(_Model):
    name: str = Field(pattern=_SLUG)
    cron: str = Field(description="5-field cron (minute hour day month weekday), in time_zone.")
    time_zone: Optional[str] = Field(None, description="IANA zone; default: the region's own.")
    node_group: str
    min_size: int = Field(ge=0)
    max_size: int = Field(ge=1)
    desired: int = Field(ge=0)


class WafSpec(_Model):
    requests_per_five_minutes: int = Field(2000, ge=10, le=2_000_000_000)
    scope: Literal["REGIONAL"] = "REGIONAL"  # ALBs; CLOUDFRONT ACLs live in us-east-1 with the distribution
    managed_rule_groups: list[str] = Field(default_factory=lambda: [
        "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"])


class ScalingSpec(_Model):
    node_autoscaler: Literal["karpenter", "clusterAutoscaler", "none"] = "karpenter"
    # Karpenter 1.14.1 supports Kubernetes 1.30-1.36 (website/content/en/preview/upgrading/compatibility.md
    # at v1.14.1: 1.35 needs >= 1.9).
    karpenter_chart_version: str = Field("1.14.1", pattern=_EXACT_SEMVER)
    karpenter_ami_alias: str = Field(
        "al2023@v20260714", pattern=r"^(al2023|al2|bottlerocket)@(v\d{8}|latest)$",
        description="EKS AMI release Karpenter launches (amazon-eks-ami release tag); bump it through dev first.")
    # appVersion 1.35.0 (kubernetes/autoscaler cluster-autoscaler-chart-9.59.0); the image tag comes
    # from CLUSTER_AUTOSCALER_IMAGE_TAGS for the cluster's minor.
    cluster_autoscaler_chart_version: str = Field("9.59.0", pattern=_EXACT_SEMVER)
    keda_chart_version: Optional[str] = Field("2.20.2", pattern=_EXACT_SEMVER)
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    waf: Optional[WafSpec] = Field(default_factory=WafSpec)


class StackConfig(_Model):
    environment: Literal["dev", "stage", "prod"]
    owner: str = Field(min_length=1, max_length=128, pattern=r"^[\w .:/=+\-@]+$",
                       description="Team that owns the stack; goes into every tag set.")
    regions: list[RegionSpec] = Field(min_length=1)
    network: NetworkSpec
    connectivity: ConnectivitySpec = Field(default_factory=ConnectivitySpec)
    proxy: Optional[ProxySpec] = None
    cluster: Optional[ClusterSpec] = None
    gitops: Optional[GitOpsSpec] = None
    slos: list[SloSpec] = Field(default_factory=list)
    chaos: Optional[ChaosSpec] = None
    scaling: Optional[ScalingSpec] = None
    argocd_sso_client_secret: Optional[str] = Field(
        None, description="OIDC client secret; set with `pulumi config set --secret`.")

    @field_validator("regions")
    @classmethod
    def _one_hub_unique_names(cls, regions: list[RegionSpec]) -> list[RegionSpec]:
        problems = []
        names = [r.name for r in regions]
        dupes = repeated(names)
        if dupes:
            problems.append(f"region listed more than once: {', '.join(dupes)}")
        hubs = [r.name for r in regions if r.role == "hub"]
        if len(hubs) != 1:
            problems.append(f"exactly one region must have role 'hub' (found {len(hubs)}: {hubs or 'none'})")
        if problems:
            raise ValueError("; ".join(problems))
        return regions

    # Effective values: defaults that depend on other keys are resolved here, in one place.
    @property
    def nat_mode(self) -> str:
        if self.network.egress == "proxy":
            return "none"
        if self.network.nat_gateways:
            return self.network.nat_gateways
        return "perAz" if self.environment == "prod" else "single"

    @property
    def hub(self) -> RegionSpec:
        return next(r for r in self.regions if r.role == "hub")

    @property
    def region_names(self) -> list[str]:
        return sorted(r.name for r in self.regions)

    @property
    def interface_endpoints(self) -> tuple[str, ...]:
        """Listed endpoints, plus what an air-gapped region cannot work without."""
        wanted = set(self.network.endpoints)
        if self.network.egress == "proxy":
            wanted |= set(AIRGAP_ENDPOINTS)
        return tuple(sorted(wanted))

    def tgw_asns(self) -> dict[str, int]:
        tgw = self.connectivity.transit_gateway
        return {r: tgw.amazon_side_asn.get(r, derived_asn(r, tgw.base_asn)) for r in self.region_names}


TOP_LEVEL_KEYS = tuple(
    (field.alias or name) for name, field in StackConfig.model_fields.items()
)


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _issues_from_validation(err: ValidationError) -> list[ConfigIssue]:
    issues = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if p not in ("function-after",))
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (typo?)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif "input" in e and e["type"] not in ("value_error",) and not isinstance(e["input"], (dict, list)):
            msg = f"{msg} (got {e['input']!r})"
        issues.append(ConfigIssue(_format_loc(loc), msg))
    return issues


def semantic_issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Checks that span sections (pydantic field validators see one field at a time)."""
    issues = []
    net = cfg.network
    if net.egress == "proxy" and net.nat_gateways not in (None, "none"):
        issues.append(ConfigIssue(
            "network.natGateways",
            f"'{net.nat_gateways}' contradicts egress 'proxy' (no internet path); drop the key or set 'none'"))
    if cfg.environment == "prod":
        for i, region in enumerate(cfg.regions):
            if region.cidr is None:
                issues.append(ConfigIssue(
                    f"regions[{i}].cidr",
                    f"prod VPC blocks must be pinned ({region.name} has none): a VPC that moves is a "
                    "region rebuilt; run the preview and copy the block it prints"))
    issues += _connectivity_issues(cfg)
    if net.egress == "proxy" and cfg.proxy is None:
        issues.append(ConfigIssue("proxy.url", "egress 'proxy' needs the proxy's url (http://host:port): "
                                  "nodes and ArgoCD have no other way out"))
    issues += _cluster_issues(cfg)
    issues += _slo_chaos_scaling_issues(cfg)
    if cfg.environment == "prod" and net.database_tier and net.az_count != 3:
        issues.append(ConfigIssue(
            "network.azCount",
            "prod with a database tier needs 3 AZs (Aurora spreads over three); got 2"))
    return issues


def _connectivity_issues(cfg: StackConfig) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    conn, regions = cfg.connectivity, set(cfg.region_names)
    tgw = conn.transit_gateway
    if not is_private_asn(tgw.base_asn):
        issues.append(ConfigIssue("connectivity.transitGateway.baseAsn",
                                  f"{tgw.base_asn} is not a private ASN (64512-65534 or 4200000000-4294967294)"))
    for region, asn in tgw.amazon_side_asn.items():
        path = f"connectivity.transitGateway.amazonSideAsn.{region}"
        if region not in regions:
            issues.append(ConfigIssue(path, f"'{region}' is not one of this stack's regions"))
        if not is_private_asn(asn):
            issues.append(ConfigIssue(path, f"{asn} is not a private ASN (64512-65534 or 4200000000-4294967294)"))
    if not issues:
        by_asn: dict[int, list[str]] = {}
        for region, asn in cfg.tgw_asns().items():
            by_asn.setdefault(asn, []).append(region)
        for asn, shared in sorted(by_asn.items()):
            if len(shared) > 1:
                issues.append(ConfigIssue("connectivity.transitGateway.amazonSideAsn",
                                          f"ASN {asn} is shared by {', '.join(shared)}; give one an explicit ASN"))
    tgw_asns = set(cfg.tgw_asns().values()) if not issues else set()

    reserved = cfg.network.reserved_cidrs
    twice = repeated(s.name for s in conn.on_prem)
    for i, site in enumerate(conn.on_prem):
        base = f"connectivity.onPrem[{i}]"
        if site.name in twice:
            issues.append(ConfigIssue(f"{base}.name", f"site '{site.name}' is listed more than once"))
        for j, cidr in enumerate(site.cidrs):
            if not any(cidr.subnet_of(r) for r in reserved if r.version == cidr.version):
                issues.append(ConfigIssue(f"{base}.cidrs[{j}]", f"{cidr} is not inside network.reservedCidrs; "
                                          "reserve it there so no VPC is ever planned over it"))
        for key, link in (("vpn", site.vpn), ("directConnect", site.direct_connect)):
            if link is not None and link.region not in regions:
                issues.append(ConfigIssue(f"{base}.{key}.region",
                                          f"'{link.region}' is not one of this stack's regions ({', '.join(sorted(regions))})"))
        if site.vpn and site.direct_connect and site.vpn.region != site.direct_connect.region:
            issues.append(ConfigIssue(f"{base}.directConnect.region",
                                      "a site's VPN and Direct Connect must land in the same region (VPN backs up DX)"))
        if site.vpn and site.vpn.bgp_asn in tgw_asns:
            issues.append(ConfigIssue(f"{base}.vpn.bgpAsn", f"{site.vpn.bgp_asn} is also a transit gateway's ASN"))
        if site.direct_connect:
            dx_asn = site.direct_connect.amazon_side_asn
            if not is_private_asn(dx_asn) or dx_asn in tgw_asns:
                issues.append(ConfigIssue(f"{base}.directConnect.amazonSideAsn",
                                          f"{dx_asn} must be a private ASN not used by a transit gateway"))
    if conn.resolver:
        site_cidrs = [c for s in conn.on_prem for c in s.cidrs]
        if not conn.on_prem:
            issues.append(ConfigIssue("connectivity.resolver", "forwarding to on-prem DNS needs connectivity.onPrem sites"))
        for k, ip in enumerate(conn.resolver.dns_servers):
            if site_cidrs and not any(ip in c for c in site_cidrs):
                issues.append(ConfigIssue(f"connectivity.resolver.dnsServers[{k}]",
                                          f"{ip} is in no on-prem site's cidrs, so no route leads to it"))
    return issues


def _cluster_issues(cfg: StackConfig) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    cl, gitops = cfg.cluster, cfg.gitops
    if gitops is not None and cl is None:
        issues.append(ConfigIssue("cluster", "gitops needs clusters: add a cluster section"))
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
    if gitops and gitops.argocd.sso:
        if not cfg.argocd_sso_client_secret:
            issues.append(ConfigIssue("argocdSsoClientSecret",
                                      "SSO needs the OIDC client secret: pulumi config set --secret "
                                      "global-platform:argocdSsoClientSecret <value>"))
    elif gitops and cfg.environment == "prod":
        issues.append(ConfigIssue("gitops.argocd.sso", "prod ArgoCD needs SSO (the local admin is disabled)"))
    return issues


def _slo_chaos_scaling_issues(cfg: StackConfig) -> list[ConfigIssue]:
    from .chaos_library import SCENARIOS, ScenarioError
    from .schedules import CronError, check_cron, check_scheduler_cron, check_time_zone

    issues: list[ConfigIssue] = []
    regions = set(cfg.region_names)
    slo_names = [s.name for s in cfg.slos]
    twice = repeated(slo_names)
    for i, slo in enumerate(cfg.slos):
        base = f"slos[{i}]"
        if slo.name in twice:
            issues.append(ConfigIssue(f"{base}.name", f"SLO '{slo.name}' is defined twice"))
        if slo.kind in ("latency", "errorRate"):
            missing = sorted(regions - set(slo.load_balancers))
            if missing:
                issues.append(ConfigIssue(f"{base}.loadBalancers", f"no ALB given for {', '.join(missing)}"))
            extra = sorted(set(slo.load_balancers) - regions)
            if extra:
                issues.append(ConfigIssue(f"{base}.loadBalancers", f"not this stack's regions: {', '.join(extra)}"))
        elif not (slo.namespace and slo.metric_name):
            issues.append(ConfigIssue(base, "a custom SLO needs namespace and metricName"))
        if slo.kind == "errorRate" and slo.objective >= 100:
            issues.append(ConfigIssue(f"{base}.objective", "an error-rate objective is a percentage below 100"))
        if slo.datapoints_to_alarm and slo.datapoints_to_alarm > slo.evaluation_periods:
            issues.append(ConfigIssue(f"{base}.datapointsToAlarm", "cannot exceed evaluationPeriods"))

    if cfg.chaos:
        if cfg.chaos.scenarios and not cfg.slos:
            issues.append(ConfigIssue("chaos", "experiments need SLOs: their alarms are the stop conditions"))
        keys = [s.key for s in cfg.chaos.scenarios]
        twice = repeated(keys)
        for i, sc in enumerate(cfg.chaos.scenarios):
            base = f"chaos.scenarios[{i}]"
            if sc.key in twice:
                issues.append(ConfigIssue(f"{base}.name", f"'{sc.key}' is used twice; give one a name"))
            entry = SCENARIOS.get(sc.scenario)
            if entry is None:
                issues.append(ConfigIssue(f"{base}.scenario", f"unknown scenario '{sc.scenario}'; known: "
                                          f"{', '.join(sorted(SCENARIOS))}"))
                continue
            try:
                entry.check(sc.parameters, sc.selection, cfg)
            except ScenarioError as err:
                issues.append(ConfigIssue(f"{base}.{err.key}", err.reason))
            sel = sc.selection
            if sel.mode == "ALL" and sel.value is not None:
                issues.append(ConfigIssue(f"{base}.selection.value", "ALL takes no value"))
            if sel.mode == "COUNT" and sel.value is None:
                issues.append(ConfigIssue(f"{base}.selection.value", "COUNT needs how many targets (1 or more)"))
            if sel.mode == "PERCENT" and (sel.value is None or not 1 <= sel.value <= 100):
                issues.append(ConfigIssue(f"{base}.selection.value", "PERCENT needs a value from 1 to 100"))
            for r in sc.regions or []:
                if r not in regions:
                    issues.append(ConfigIssue(f"{base}.regions", f"'{r}' is not one of this stack's regions"))
            for name in sc.stop_on or []:
                if name not in slo_names:
                    issues.append(ConfigIssue(f"{base}.stopOn", f"no SLO named '{name}' (SLOs: {', '.join(slo_names) or 'none'})"))
        gd = cfg.chaos.game_day
        if gd:
            try:
                check_scheduler_cron(gd.cron)
            except CronError as err:
                issues.append(ConfigIssue("chaos.gameDay.cron", str(err)))
            if gd.time_zone and not check_time_zone(gd.time_zone):
                issues.append(ConfigIssue("chaos.gameDay.timeZone", f"'{gd.time_zone}' is not an IANA time zone"))
            for name in gd.scenarios:
                if name not in keys:
                    issues.append(ConfigIssue("chaos.gameDay.scenarios", f"no scenario named '{name}'"))

    sc = cfg.scaling
    if sc:
        if cfg.cluster is None:
            issues.append(ConfigIssue("scaling", "scaling needs clusters: add a cluster section"))
        if sc.node_autoscaler == "clusterAutoscaler" and cfg.cluster is not None \
                and cfg.cluster.version not in CLUSTER_AUTOSCALER_IMAGE_TAGS:
            issues.append(ConfigIssue(
                "cluster.version",
                f"no Cluster Autoscaler image is pinned for Kubernetes {cfg.cluster.version} (its minor must "
                f"match the cluster's; pinned: {', '.join(CLUSTER_AUTOSCALER_IMAGE_TAGS)}); use one of those "
                "or add the minor's newest release to CLUSTER_AUTOSCALER_IMAGE_TAGS in components/config.py"))
        if cfg.environment == "prod" and sc.karpenter_ami_alias.endswith("@latest"):
            issues.append(ConfigIssue("scaling.karpenterAmiAlias",
                                      "prod pins the AMI release: '@latest' replaces every node whenever AWS publishes one"))
        groups = {ng.name for ng in cfg.cluster.node_groups} if cfg.cluster else set()
        twice = repeated(s.name for s in sc.schedules)
        for i, sch in enumerate(sc.schedules):
            base = f"scaling.schedules[{i}]"
            if sch.name in twice:
                issues.append(ConfigIssue(f"{base}.name", f"schedule '{sch.name}' is defined twice"))
            try:
                check_cron(sch.cron)
            except CronError as err:
                issues.append(ConfigIssue(f"{base}.cron", str(err)))
            if sch.time_zone and not check_time_zone(sch.time_zone):
                issues.append(ConfigIssue(f"{base}.timeZone", f"'{sch.time_zone}' is not an IANA time zone"))
            if groups and sch.node_group not in groups:
                issues.append(ConfigIssue(f"{base}.nodeGroup", f"no node group '{sch.node_group}' "
                                          f"(cluster.nodeGroups: {', '.join(sorted(groups))})"))
            if not sch.min_size <= sch.desired <= sch.max_size:
                issues.append(ConfigIssue(base, "needs minSize <= desired <= maxSize"))
    return issues


def parse_stack_config(raw: Mapping[str, Any], source: str = "stack config") -> StackConfig:
    """Validate a plain dict (keys without the namespace) into a StackConfig, or raise ConfigError.
    Types and per-field rules only; cross-section rules are ``semantic_issues`` (components.stack
    reports them together with the address plan's)."""
    try:
        return StackConfig.model_validate(dict(raw))
    except ValidationError as err:
        raise ConfigError(_issues_from_validation(err), source) from None


def _decode_engine_value(value: Any) -> Any:
    """The engine hands config over as strings; objects and lists arrive as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def raw_from_engine_config(all_config: Mapping[str, Any]) -> dict[str, Any]:
    """Pick this project's keys out of the engine's flat config map ("ns:key" -> value)."""
    prefix = NAMESPACE + ":"
    return {k[len(prefix):]: _decode_engine_value(v) for k, v in all_config.items() if k.startswith(prefix)}


def raw_from_pulumi() -> tuple[dict[str, Any], str]:
    """The running stack's config as the engine passed it, and how to name it in errors.

    Every key the engine passed is read, not only the ones we ask for by name, so unknown
    top-level keys are errors too.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    stack = pulumi.get_stack()
    return raw_from_engine_config(merged), f"config of stack '{stack}' (Pulumi.{stack}.yaml)"
