"""`observability`: what the platform shows about itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field

from .base import RetentionDays, _Model, doc
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# Where each service has an endpoint: botocore 1.44.8 data/endpoints.json (partition "aws"), services
# "aps" (Amazon Managed Service for Prometheus) and "grafana" (Amazon Managed Grafana), read
# 2026-11-26. Amazon Managed Grafana is offered in far fewer regions (not ap-northeast-3, for one).
AMP_REGIONS = frozenset((
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
    "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1",
    "us-gov-west-1"))
GRAFANA_REGIONS = frozenset((
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "eu-central-1", "eu-west-1", "eu-west-2",
    "us-east-1", "us-east-2", "us-west-2", "us-gov-east-1", "us-gov-west-1"))
# AMP user guide, "Using an AWS managed collector", Scraper limitations (read 2026-11-26): "The scraper
# config can't specify a scrape interval of less than 30 seconds."
MIN_SCRAPE_INTERVAL_SECONDS = 30


def promql_problem(query: str, single_series: bool = False) -> Optional[str]:
    """Why Prometheus would refuse this query, or None. Parsed with promql-parser (PyPI 0.11.0, MIT:
    Python bindings of GreptimeTeam's Rust PromQL parser, which follows Prometheus' grammar).
    `single_series`: the query must reduce to one series (KEDA v2.20.2's prometheus scaler fails on
    more than one: "prometheus query ... returned multiple elements"), i.e. its outermost expression is
    a number, a `scalar()`/`vector()` call, or an aggregation without `by`/`without`, possibly inside
    arithmetic with numbers."""
    import promql_parser

    try:
        expr = promql_parser.parse(query)
    except ValueError as err:
        return f"not PromQL: {err}"
    if single_series and not _one_series(expr):
        return ("must reduce to one series (KEDA's prometheus scaler refuses several): wrap it in an aggregation "
                "without by/without, e.g. sum(...)")
    return None


def _one_series(expr) -> bool:
    import promql_parser as pp

    if isinstance(expr, pp.NumberLiteral):
        return True
    if isinstance(expr, pp.ParenExpr):
        return _one_series(expr.expr)
    if isinstance(expr, pp.UnaryExpr):
        return _one_series(expr.expr)
    if isinstance(expr, pp.AggregateExpr):
        return expr.modifier is None or (expr.modifier.type == pp.AggModifierType.By and not expr.modifier.labels)
    if isinstance(expr, pp.Call):
        name, args = expr.func.name, [a for a in expr.args if not isinstance(a, pp.NumberLiteral)]
        if name in ("scalar", "vector", "time"):
            return True
        if name == "histogram_quantile":  # the buckets' `le` label is consumed: `sum by (le)` gives one series
            inner = args[0] if args else None
            while isinstance(inner, pp.ParenExpr):
                inner = inner.expr
            return isinstance(inner, pp.AggregateExpr) and inner.modifier is not None \
                and inner.modifier.type == pp.AggModifierType.By and list(inner.modifier.labels) == ["le"]
        return name in ("abs", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max") and bool(args) \
            and _one_series(args[0])
    if isinstance(expr, pp.BinaryExpr):
        return _one_series(expr.lhs) and _one_series(expr.rhs)
    return False


class PrometheusSpec(_Model):
    """Amazon Managed Service for Prometheus: a workspace encrypted with its own customer-managed key,
    its logs in CloudWatch (the region's logs key), an AWS managed collector (agentless scraper) per
    cluster, and the SLOs that have a Prometheus form as alerting rules."""

    placement: Literal["perRegion", "hub"] = Field(
        "perRegion",
        description="`perRegion`: a workspace in every region; `hub`: one workspace in the hub. A managed scraper "
                    "writes only into a workspace of its own region (AMP user guide, \"Scraper limitations\"), so "
                    "`hub` suits stacks whose only cluster is the hub's")
    scrape_interval_seconds: int = Field(
        30, ge=MIN_SCRAPE_INTERVAL_SECONDS, le=300,
        description="how often the managed scraper collects (AMP refuses less than 30 s)")
    log_retention_days: RetentionDays = Field(90, description="the workspace's CloudWatch log group retention")


class GrafanaSpec(_Model):
    """Amazon Managed Grafana in the hub region: one workspace whose IAM role may query every
    workspace of the stack (the AMP data source signs with it). Never in an air-gapped stack."""

    authentication: Literal["AWS_SSO", "SAML"] = Field(
        description="how users sign in: IAM Identity Center or a SAML 2.0 identity provider")
    # The Grafana versions Amazon Managed Grafana offers (pulumi-aws 7.51.1 grafana.Workspace
    # grafana_version: "Supported values are 9.4, 10.4, 12.4 and 13.2"); pinned, not "latest".
    version: Literal["9.4", "10.4", "12.4", "13.2"] = Field("12.4", description="the workspace's Grafana version")
    saml_metadata_url: Optional[str] = Field(
        None, pattern=r"^https://\S+$", description="SAML: the identity provider's metadata URL (required with SAML)")
    admin_groups: list[str] = Field(
        default_factory=list,
        description="who administers the workspace: SAML group values (assertion attribute `groups`), or IAM "
                    "Identity Center group IDs with AWS_SSO",
        json_schema_extra=doc(type="list of group names or IDs"))


class ObservabilitySpec(_Model):
    """A CloudWatch dashboard per region (`<environment>-<region code>-platform`): one alarm widget per
    SLO (its signal against its objective, and its state), the transit gateway's traffic, the
    requests the WAF blocks, and the cluster's pods waiting for capacity (the free `AWS/EKS`
    scheduler metrics; node and pod counts would need Container Insights' agent). Optionally Amazon
    Managed Service for Prometheus (workspace, managed scraper per cluster, SLO alerting rules) and
    Amazon Managed Grafana.

    With `prometheus`, each workspace holds the rule namespace `platform-slos`, one alerting rule
    per SLO that has a Prometheus form: `latency` with `service: <name>.<namespace>` as
    `histogram_quantile` over the mesh's `istio_request_duration_milliseconds_bucket`, `errorRate`
    with `service` as the share of 5xx in `istio_requests_total`, `custom` with `promql`; the rule's
    `for` is the SLO's alarm window. The others (no `service` or `promql`, and the data-tier kinds,
    whose metrics exist only in CloudWatch) keep their CloudWatch alarm only. The scraper,
    cluster and workspace must share a region (AMP user guide, "Scraper limitations").

    Air-gapped stacks get no Grafana: a Managed Grafana workspace is an internet-facing web
    endpoint; keeping it private takes network access control with `grafana-workspace` VPC
    endpoints, on-prem DNS for the workspace name and a sign-in path users' browsers can reach,
    none of which the platform builds (and AMG is not offered in ap-northeast-3 at all, botocore
    endpoints). Query the workspaces through the `aps-workspaces` endpoint instead."""

    dashboards: bool = Field(True, description="a CloudWatch dashboard per region, generated from the SLOs, "
                                               "the transit gateway, the WAF and the cluster's scheduler")
    prometheus: Optional[PrometheusSpec] = Field(
        None, description="Amazon Managed Service for Prometheus; `null` leaves it out",
        json_schema_extra=doc(default="none"))
    grafana: Optional[GrafanaSpec] = Field(
        None, description="Amazon Managed Grafana with every workspace as data source; needs `prometheus`; not with "
                          "`egress: proxy`", json_schema_extra=doc(default="none"))


# Why an air-gapped stack gets no Grafana: an Amazon Managed Grafana workspace is an AWS-hosted web
# endpoint (`<id>.grafana-workspace.<region>.amazonaws.com`) open to every address unless its network
# access control lists VPC endpoints of com.amazonaws.<region>.grafana-workspace (Grafana API reference,
# NetworkAccessConfiguration; user guide, "Interface VPC endpoints"), and users sign in through IAM
# Identity Center or a SAML IdP from their browsers.
AIRGAP_GRAFANA = (
    "Amazon Managed Grafana is an AWS-hosted web endpoint (<id>.grafana-workspace.<region>.amazonaws.com) reachable "
    "from the internet unless network access control limits it to VPC endpoints of "
    "com.amazonaws.<region>.grafana-workspace, with on-prem DNS pointing the workspace name at them and the "
    "sign-in (IAM Identity Center or SAML) reachable from users' browsers; this platform builds none of that, so an "
    "air-gapped stack (egress: proxy) gets no Grafana: query the Prometheus workspaces through the aps-workspaces "
    "VPC endpoint instead")


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """AMP/AMG offered in the stack's regions; scrapers write into their own region; Grafana needs
    Prometheus, is not air-gapped, and SAML needs its metadata."""
    obs = cfg.observability
    out: list[ConfigIssue] = []
    if obs is None:
        return out
    prom, graf = obs.prometheus, obs.grafana
    if prom is not None:
        regions = [cfg.hub.name] if prom.placement == "hub" else cfg.region_names
        missing = sorted(set(regions) - AMP_REGIONS)
        if missing:
            out.append(ConfigIssue("observability.prometheus",
                                   f"Amazon Managed Service for Prometheus is not offered in {', '.join(missing)}"))
        spokes = sorted(set(cfg.region_names) - {cfg.hub.name})
        if prom.placement == "hub" and cfg.cluster is not None and spokes:
            out.append(ConfigIssue(
                "observability.prometheus.placement",
                f"'hub' leaves the clusters in {', '.join(spokes)} unscraped: an AMP managed scraper writes only into "
                "a workspace in its own region (AMP user guide, 'Scraper limitations'); use 'perRegion' (Grafana "
                "reads every region's workspace)"))
    if graf is not None:
        if prom is None:
            out.append(ConfigIssue("observability.grafana",
                                   "Grafana's data source is the Prometheus workspaces: add observability.prometheus"))
        if cfg.network.egress == "proxy":
            out.append(ConfigIssue("observability.grafana", AIRGAP_GRAFANA))
        if cfg.hub.name not in GRAFANA_REGIONS:
            out.append(ConfigIssue("observability.grafana",
                                   f"Amazon Managed Grafana is not offered in the hub region {cfg.hub.name} "
                                   f"(offered in {', '.join(sorted(GRAFANA_REGIONS))})"))
        if graf.authentication == "SAML" and not graf.saml_metadata_url:
            out.append(ConfigIssue("observability.grafana.samlMetadataUrl", "SAML sign-in needs the IdP's metadata URL"))
        if graf.authentication == "AWS_SSO" and graf.saml_metadata_url:
            out.append(ConfigIssue("observability.grafana.samlMetadataUrl", "only SAML sign-in takes a metadata URL"))
    return out
