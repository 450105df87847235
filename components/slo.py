"""SLO alarms: one CloudWatch metric alarm per SLO per region, notifying an SNS topic.
The same alarms are the FIS stop conditions and the signal scaling is judged by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .iam import document, key_admin_statement
from .naming import RegionContext, partition_of


@dataclass(frozen=True)
class SloArgs:
    name: str
    kind: str  # latency | errorRate | custom
    percentile: str
    objective: float
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: Optional[int]
    load_balancer: Optional[str] = None  # ALB ARN suffix in this region
    namespace: Optional[str] = None
    metric_name: Optional[str] = None
    dimensions: tuple = ()
    statistic: str = "Average"


def alarm_metric(slo: SloArgs) -> dict:
    """The alarm's metric arguments (pulumi-aws MetricAlarm names), per SLO kind."""
    if slo.kind == "latency":
        return {"namespace": "AWS/ApplicationELB", "metric_name": "TargetResponseTime",
                "extended_statistic": slo.percentile, "period": slo.period_seconds,
                "dimensions": {"LoadBalancer": slo.load_balancer}}
    if slo.kind == "errorRate":
        def query(qid: str, metric: str) -> dict:
            return {"id": qid, "metric": {"namespace": "AWS/ApplicationELB", "metric_name": metric,
                                          "dimensions": {"LoadBalancer": slo.load_balancer},
                                          "period": slo.period_seconds, "stat": "Sum"}}
        return {"metric_queries": [
            query("errors", "HTTPCode_Target_5XX_Count"), query("requests", "RequestCount"),
            {"id": "rate", "expression": "100 * errors / requests", "label": f"{slo.name} 5xx %",
             "return_data": True}]}
    stat = {"extended_statistic": slo.statistic} if slo.statistic.startswith("p") else {"statistic": slo.statistic}
    return {"namespace": slo.namespace, "metric_name": slo.metric_name, "period": slo.period_seconds,
            "dimensions": dict(slo.dimensions), **stat}


def alerts_key_policy(account: str, partition: str) -> str:
    """CloudWatch must be able to use the topic's key: the AWS-managed aws/sns key does not
    allow it, and alarms then fail to publish. A customer key that names CloudWatch does."""
    return document([
        key_admin_statement(account, partition),
        {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
    ])


class SloAlarms(pulumi.ComponentResource):
    def __init__(self, ctx: RegionContext, slos: tuple[SloArgs, ...], account: pulumi.Input[str],
                 protect_key: bool = False, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:slo:SloAlarms", ctx.name("slo"), None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            ctx.name("slo-alerts"), description=f"{ctx.environment} SLO alert topic in {ctx.region}",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.from_input(account).apply(lambda a: alerts_key_policy(a, partition_of(ctx.region))),
            tags=ctx.tags("slo-alerts-key"), opts=pulumi.ResourceOptions(parent=self, protect=protect_key))
        self.topic = aws.sns.Topic(ctx.name("slo-alerts"), name=f"{ctx.environment}-{ctx.code}-slo-alerts",
                                   kms_master_key_id=self.key.arn, tags=ctx.tags("slo-alerts"), opts=child)
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for slo in slos:
            self.alarms[slo.name] = aws.cloudwatch.MetricAlarm(
                ctx.name("slo", slo.name),
                name=f"{ctx.environment}-{ctx.code}-slo-{slo.name}",
                alarm_description=f"SLO {slo.name}: {slo.kind} objective {slo.objective} "
                                  f"(stops chaos experiments in {ctx.region})",
                comparison_operator="GreaterThanThreshold",
                threshold=slo.objective,
                evaluation_periods=slo.evaluation_periods,
                datapoints_to_alarm=slo.datapoints_to_alarm or slo.evaluation_periods,
                treat_missing_data="notBreaching",
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                tags=ctx.tags(f"slo-{slo.name}", {"slo": slo.name}),
                opts=child,
                **alarm_metric(slo),
            )
        self.register_outputs({"alarmArns": {n: a.arn for n, a in self.alarms.items()}})


# Scale out while there is still headroom: at this share of the objective, not at breach.
SCALE_AT_SHARE_OF_OBJECTIVE = 0.7


def has_keda_trigger(slo: SloArgs) -> bool:
    """An error rate is a ratio of two metrics. KEDA's aws-cloudwatch scaler reads one metric
    (namespace/metricName/metricStat) or one Metrics Insights query, and Metrics Insights takes
    one aggregate per query with no arithmetic around it (CloudWatch user guide, Metrics Insights
    query components and syntax), so no trigger can carry the ratio the alarm watches. Such
    SLOs drive alarms and chaos stop conditions only; scale on latency or a custom metric."""
    return slo.kind != "errorRate"


def keda_trigger(slo: SloArgs, region: str) -> dict:
    """The same SLO as a KEDA `aws-cloudwatch` trigger (metadata + auth), so an app's
    ScaledObject scales on the signal the alarm and the chaos stop conditions watch."""
    if not has_keda_trigger(slo):
        raise ValueError(f"SLO {slo.name}: an error rate cannot be a KEDA aws-cloudwatch trigger")
    target = round(slo.objective * SCALE_AT_SHARE_OF_OBJECTIVE, 6)
    meta: dict = {"awsRegion": region, "identityOwner": "operator", "minMetricValue": "0",
                  "targetMetricValue": str(target), "metricStatPeriod": str(slo.period_seconds)}
    if slo.kind == "latency":
        meta.update(namespace="AWS/ApplicationELB", metricName="TargetResponseTime", dimensionName="LoadBalancer",
                    dimensionValue=slo.load_balancer, metricStat=slo.percentile)
    else:
        meta.update(namespace=slo.namespace, metricName=slo.metric_name, metricStat=slo.statistic)
        if slo.dimensions:
            names, values = zip(*slo.dimensions)
            meta.update(dimensionName=";".join(names), dimensionValue=";".join(values))
    return {"type": "aws-cloudwatch", "metadata": meta,
            "authenticationRef": {"name": "aws-pod-identity", "kind": "ClusterTriggerAuthentication"}}
