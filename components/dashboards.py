"""Observability: a CloudWatch dashboard per region, generated from the same objects the rest of
the platform uses, so every SLO has a picture: each SLO's alarm (its signal against its
objective, and its state), the transit gateway's traffic, what the WAF blocks, and the cluster's
pods waiting for capacity.

The worked example of a regional capability: its config section (components/config, `observability`),
this module (args builder + component), one line in components/platform/region.py, its tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .naming import RegionContext
from .stack import StackSpec
from .wiring import RegionWiring


@dataclass(frozen=True, kw_only=True)
class DashboardArgs:
    ctx: RegionContext
    alarm_arns: dict  # SLO name -> alarm ARN
    tgw_id: pulumi.Input[str]
    # The WebACL dimension of AWS/WAFV2 metrics is the ACL's visibility-config metric name, not its
    # name (CloudFormation reference, AWS::WAFv2::WebACL VisibilityConfig: "MetricName - A name of the
    # Amazon CloudWatch metric dimension"); Rule=ALL is the whole ACL.
    web_acl_metric: Optional[pulumi.Input[str]] = None
    cluster_name: Optional[str] = None  # the region's EKS cluster: its scheduler's pending pods


def dashboard_args(spec: StackSpec, w: RegionWiring, web_acl: Optional[aws.wafv2.WebAcl]) -> Optional[DashboardArgs]:
    obs = spec.config.observability
    if obs is None or not obs.dashboards:
        return None
    return DashboardArgs(ctx=w.ctx, alarm_arns={n: a.arn for n, a in w.slo.alarms.items()} if w.slo else {},
                         tgw_id=w.transit.tgw.id,
                         web_acl_metric=web_acl.visibility_config.metric_name if web_acl is not None else None,
                         cluster_name=w.cluster.cluster_name if w.cluster else None)


# Cluster capacity without an agent: what EKS vends free in AWS/EKS for Kubernetes 1.28+ clusters,
# one-minute, valid statistic Sum (EKS user guide, "Monitor cluster data with Amazon CloudWatch", basic
# metrics; awsdocs/amazon-eks-user-guide latest/ug/observability/cloudwatch.adoc, read 2026-11-26),
# dimension ClusterName. Pods the scheduler cannot place are the capacity shortfall; node and pod counts
# would need Container Insights (the CloudWatch agent as an EKS add-on, a DaemonSet) or Auto Scaling
# group metrics collection (which Karpenter's nodes, outside any group, never show).
CAPACITY_METRICS = (("scheduler_pending_pods", "pending"), ("scheduler_pending_pods_UNSCHEDULABLE", "unschedulable"),
                    ("scheduler_schedule_attempts_UNSCHEDULABLE", "attempts unschedulable"))


def dashboard_body(region: str, alarm_arns: dict[str, str], tgw_id: str, web_acl_metric: Optional[str],
                   cluster_name: Optional[str] = None) -> str:
    """CloudWatch dashboard body (CloudWatch API reference, "Dashboard Body Structure and Syntax"):
    one alarm widget per SLO, then the TGW's bytes in/out, the WAF's blocked requests, and the
    cluster's pods waiting for capacity."""
    widgets = []
    y = 0
    for i, (name, arn) in enumerate(sorted(alarm_arns.items())):
        widgets.append({"type": "alarm", "x": (i % 2) * 12, "y": y + (i // 2) * 6, "width": 12, "height": 6,
                        "properties": {"title": f"SLO {name}", "alarms": [arn]}})
    y += ((len(alarm_arns) + 1) // 2) * 6
    widgets.append({"type": "metric", "x": 0, "y": y, "width": 12, "height": 6, "properties": {
        "title": "Transit gateway traffic", "region": region, "view": "timeSeries", "stat": "Sum", "period": 300,
        "metrics": [["AWS/TransitGateway", "BytesIn", "TransitGateway", tgw_id],
                    ["AWS/TransitGateway", "BytesOut", "TransitGateway", tgw_id]]}})
    if web_acl_metric:
        widgets.append({"type": "metric", "x": 12, "y": y, "width": 12, "height": 6, "properties": {
            "title": "WAF blocked requests", "region": region, "view": "timeSeries", "stat": "Sum", "period": 300,
            "metrics": [["AWS/WAFV2", "BlockedRequests", "WebACL", web_acl_metric, "Region", region, "Rule", "ALL"]]}})
    if cluster_name:
        widgets.append({"type": "metric", "x": 0, "y": y + 6, "width": 24, "height": 6, "properties": {
            "title": f"Cluster {cluster_name}: pods waiting for capacity", "region": region, "view": "timeSeries",
            "stat": "Sum", "period": 60,
            "metrics": [["AWS/EKS", metric, "ClusterName", cluster_name, {"label": label}]
                        for metric, label in CAPACITY_METRICS]}})
    return json.dumps({"widgets": widgets}, sort_keys=True)


class RegionalDashboard(pulumi.ComponentResource):
    def __init__(self, name: str, args: DashboardArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:dashboards:RegionalDashboard", name, None, opts)
        ctx = args.ctx
        arns = dict(sorted(args.alarm_arns.items()))
        body = pulumi.Output.all(list(arns.values()), args.tgw_id, args.web_acl_metric).apply(
            lambda v: dashboard_body(ctx.region, dict(zip(arns, v[0])), v[1], v[2], args.cluster_name))
        self.dashboard = aws.cloudwatch.Dashboard(
            ctx.name("dashboard"), dashboard_name=f"{ctx.environment}-{ctx.code}-platform", dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"dashboardName": self.dashboard.dashboard_name})
