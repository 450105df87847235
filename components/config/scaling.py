"""`scaling`: the node autoscaler, KEDA, time-based scaling and the WAF in front of the ingress."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field

from .base import EXACT_SEMVER, SLUG, _Model, doc, repeated
from .cluster import CLUSTER_AUTOSCALER_IMAGE_TAGS
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig


class ScheduleSpec(_Model):
    name: str = Field(pattern=SLUG, description="names the scheduled action; unique")
    cron: str = Field(description="minute hour day month weekday, in `timeZone`",
                      json_schema_extra=doc(type="5-field cron"))
    time_zone: Optional[str] = Field(None, description="the zone `cron` is read in",
                                     json_schema_extra=doc(type="IANA time zone", default="the region's own"))
    node_group: str = Field(description="a node group of `cluster.nodeGroups`; its active pool is scaled",
                            json_schema_extra=doc(type="node group name"))
    min_size: int = Field(ge=0, description="the pool's minimum size from then on")
    max_size: int = Field(ge=1, description="the pool's maximum size from then on")
    desired: int = Field(ge=0, description="the pool's desired size from then on; minSize <= desired <= maxSize")


class WafSpec(_Model):
    requests_per_five_minutes: int = Field(2000, ge=10, le=2_000_000_000,
                                           description="per-IP limit of the rate-based block rule")
    scope: Literal["REGIONAL"] = Field(  # ALBs; CLOUDFRONT ACLs live in us-east-1 with the distribution
        "REGIONAL", description="for ALBs (CloudFront ACLs live in us-east-1 with the distribution)")
    managed_rule_groups: list[str] = Field(default_factory=lambda: [
        "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"],
        description="AWS managed rule groups, after the rate rule")


class CloudWatchMetricSpec(_Model):
    namespace: str = Field(min_length=1, max_length=255, description="the metric's CloudWatch namespace")
    metric_name: str = Field(min_length=1, max_length=255, description="the metric's name")
    dimensions: dict[str, str] = Field(default_factory=dict, description="the metric's dimensions")
    statistic: str = Field("Average", description="`Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount` or `pNN`")
    period_seconds: Literal[60, 300] = Field(60, description="the statistic's period")


class DependentSpec(_Model):
    """A KEDA trigger published for apps (ConfigMap `keda/platform-dependent-triggers`, one JSON trigger
    per name): scale a service on what it depends on. Exactly one of `upstream` (the upstream's
    request rate from the mesh's `istio_requests_total` in the region's AMP workspace), `promql` (any
    business metric in AMP) or `cloudwatch` (any CloudWatch metric)."""

    name: str = Field(pattern=SLUG, description="the trigger's key in the ConfigMap; unique")
    upstream: Optional[str] = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="the upstream mesh service, `<name>.<namespace>`: its requests per second (as the receiving "
                    "proxies report them) drive the scaling", json_schema_extra=doc(type="`<service>.<namespace>`"))
    promql: Optional[str] = Field(None, min_length=1,
                                  description="a PromQL query reducing to one series (e.g. `sum(rate(...))`)")
    cloudwatch: Optional[CloudWatchMetricSpec] = Field(None, description="a CloudWatch metric")
    target: float = Field(gt=0, description="the value per replica KEDA aims at (requests/s per replica for "
                                            "`upstream`)")
    activation: Optional[float] = Field(None, ge=0, description="below this the workload may scale to zero")
    rate_window: str = Field("2m", pattern=r"^[1-9][0-9]*[sm]$",
                             description="upstream: the `rate()` window (at least 4 scrape intervals is safe)")


class ScalingSpec(_Model):
    """KEDA runs with a Pod Identity role that may read CloudWatch metrics, and a
    `ClusterTriggerAuthentication` named `aws-pod-identity`. Each SLO is also published in the
    `keda/platform-slo-triggers` ConfigMap as a ready `aws-cloudwatch` trigger on the very signal the
    alarm watches (same ALB and percentile, or the same custom metric), targeting 70% of the
    objective, so an app's `ScaledObject` scales out before the SLO breaks: one SLO object drives the
    alarm, the chaos stop condition and the scaling trigger. Error-rate SLOs are the exception: a
    ratio of two metrics cannot be a KEDA `aws-cloudwatch` trigger (the scaler reads one metric or one
    CloudWatch Metrics Insights query, and Metrics Insights allows one aggregate per query with no
    arithmetic around it), so they drive alarms and chaos stop conditions only. The idle blue/green pool is tainted
    `platform/idle=true:NoSchedule`, so no autoscaler grows it.

    All add-ons (ArgoCD, Karpenter, Cluster Autoscaler, KEDA) go through one mechanism
    (`components/addons.py`): a typed `AddonSpec` (chart, repository, exact version, values, Pod
    Identity with its policy) installed by `ClusterAddon`."""

    node_autoscaler: Literal["karpenter", "clusterAutoscaler", "none"] = Field(
        "karpenter",
        description="Karpenter (OCI charts `oci://public.ecr.aws/karpenter/karpenter-crd`, then `.../karpenter` "
                    "without its CRDs, so every version bump upgrades the CRDs too, Pod Identity role scoped to the "
                    "cluster tag, interruption SQS queue + 5 EventBridge rules, `EC2NodeClass` with IMDSv2 and "
                    "`NodePool`, worker subnets tagged for discovery; `isolatedVPC` when air-gapped) or Cluster "
                    "Autoscaler (chart from `kubernetes.github.io/autoscaler`, role limited to ASGs tagged for this "
                    "cluster)")
    # Karpenter 1.14.1 supports Kubernetes 1.30-1.36 (website/content/en/preview/upgrading/compatibility.md
    # at v1.14.1: 1.35 needs >= 1.9).
    karpenter_chart_version: str = Field("1.14.1", pattern=EXACT_SEMVER, description="pinned Karpenter charts")
    karpenter_ami_alias: str = Field(
        "al2023@v20260714", pattern=r"^(al2023|al2|bottlerocket)@(v\d{8}|latest)$",
        description="the EKS AMI release Karpenter launches (amazon-eks-ami release tag; bump it through dev "
                    "first); prod refuses `@latest` (it would replace every node whenever AWS publishes an AMI)",
        json_schema_extra=doc(type="`al2023|al2|bottlerocket@vYYYYMMDD` or `@latest`"))
    # appVersion 1.35.0 (kubernetes/autoscaler cluster-autoscaler-chart-9.59.0); the image tag comes
    # from CLUSTER_AUTOSCALER_IMAGE_TAGS for the cluster's minor.
    cluster_autoscaler_chart_version: str = Field(
        "9.59.0", pattern=EXACT_SEMVER,
        description="pinned Cluster Autoscaler chart; the image is the pinned one for the cluster's minor")
    keda_chart_version: Optional[str] = Field("2.20.2", pattern=EXACT_SEMVER,
                                              description="pinned KEDA chart; `null` leaves KEDA out")
    schedules: list[ScheduleSpec] = Field(
        default_factory=list,
        description="an Auto Scaling scheduled action on the active pool of that node group, in the region's own "
                    "time zone (Seoul for ap-northeast-2, Singapore for ap-southeast-1, ...). Node groups then "
                    "ignore desired-size drift so `pulumi up` never undoes a schedule")
    dependents: list[DependentSpec] = Field(
        default_factory=list,
        description="KEDA triggers on what services depend on (an upstream's request rate from the mesh's metrics "
                    "in AMP, any PromQL query, any CloudWatch metric), published in `keda/platform-dependent-triggers`; "
                    "PromQL triggers use KEDA's `prometheus` scaler signing with SigV4 through the "
                    "`aws-pod-identity` ClusterTriggerAuthentication and need `observability.prometheus`")
    waf: Optional[WafSpec] = Field(
        default_factory=WafSpec,
        description="a regional WAFv2 Web ACL: a per-IP rate-based block rule first, then the AWS managed groups; "
                    "`null` leaves it out. Its ARN is exported and written to "
                    "`/global-platform/<env>/waf/<region>/web-acl-arn` for `alb.ingress.kubernetes.io/wafv2-acl-arn`")


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Scaling needs clusters and an autoscaler image for the cluster's minor; prod pins the AMI;
    schedules checked against the node groups."""
    from ..schedules import CronError, check_cron, check_time_zone

    issues: list[ConfigIssue] = []
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
                "or add the minor's newest release to CLUSTER_AUTOSCALER_IMAGE_TAGS in components/config/cluster.py"))
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
        issues += _dependent_issues(cfg)
    return issues


# CloudWatch statistics KEDA's aws-cloudwatch scaler can read without dimensions: a Metrics Insights
# aggregate (AVG, COUNT, MAX, MIN, SUM).
_INSIGHTS_STATS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")


def _dependent_issues(cfg: StackConfig) -> list[ConfigIssue]:
    """One source per trigger; PromQL reduces to one series; AMP and KEDA exist for it."""
    from .observability import promql_problem

    sc, out = cfg.scaling, []
    twice = repeated(d.name for d in sc.dependents)
    prometheus = cfg.observability is not None and cfg.observability.prometheus is not None
    for i, dep in enumerate(sc.dependents):
        base = f"scaling.dependents[{i}]"
        if dep.name in twice:
            out.append(ConfigIssue(f"{base}.name", f"dependent trigger '{dep.name}' is defined twice"))
        sources = [k for k in ("upstream", "promql", "cloudwatch") if getattr(dep, k) is not None]
        if len(sources) != 1:
            out.append(ConfigIssue(base, f"needs exactly one of upstream, promql, cloudwatch (got "
                                         f"{', '.join(sources) or 'none'})"))
        if sc.keda_chart_version is None:
            out.append(ConfigIssue(base, "dependent triggers are KEDA triggers: set scaling.kedaChartVersion"))
        if (dep.upstream or dep.promql) and not prometheus:
            out.append(ConfigIssue(base, "a mesh or PromQL trigger reads the region's AMP workspace: add "
                                         "observability.prometheus"))
        if dep.promql is not None and (problem := promql_problem(dep.promql, single_series=True)):
            out.append(ConfigIssue(f"{base}.promql", problem))
        cw = dep.cloudwatch
        if cw is not None and not cw.dimensions and cw.statistic not in _INSIGHTS_STATS:
            out.append(ConfigIssue(f"{base}.cloudwatch.statistic",
                                   f"without dimensions KEDA reads a Metrics Insights query, whose aggregates are "
                                   f"{', '.join(_INSIGHTS_STATS)}; got '{cw.statistic}'"))
        if cw is not None and cw.statistic not in _INSIGHTS_STATS and not re.match(r"^p\d{1,2}(\.\d+)?$", cw.statistic):
            out.append(ConfigIssue(f"{base}.cloudwatch.statistic", f"'{cw.statistic}' is not a CloudWatch statistic"))
    return out
