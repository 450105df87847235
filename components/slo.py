"""SLO alarms: one CloudWatch metric alarm per SLO per region, notifying an SNS topic.
The same alarms are the FIS stop conditions and the signal scaling is judged by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .iam import document, key_admin_statement
from .naming import RegionContext, partition_of
from .stack import StackSpec
from .wiring import RegionWiring


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
class SloAlarmsArgs:
    ctx: RegionContext
    slos: tuple[SloArgs, ...]
    account: pulumi.Input[str]
    protect_key: bool = False


def slo_args(spec: StackSpec, region: str) -> tuple[SloArgs, ...]:
    """The stack's SLOs as this region watches them (its own load balancer, where given)."""
    return tuple(SloArgs(
        name=s.name, kind=s.kind, percentile=s.percentile, objective=s.objective,
        period_seconds=s.period_seconds, evaluation_periods=s.evaluation_periods,
        datapoints_to_alarm=s.datapoints_to_alarm, load_balancer=s.load_balancers.get(region),
        namespace=s.namespace, metric_name=s.metric_name, dimensions=tuple(sorted(s.dimensions.items())),
        statistic=s.statistic) for s in spec.config.slos)


def slo_alarms_args(spec: StackSpec, w: RegionWiring) -> Optional[SloAlarmsArgs]:
    slos = slo_args(spec, w.ctx.region)
    if not slos:
        return None
    return SloAlarmsArgs(ctx=w.ctx, slos=slos, account=w.account, protect_key=spec.config.environment == "prod")


class SloAlarms(pulumi.ComponentResource):
    def __init__(self, name: str, args: SloAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:slo:SloAlarms", name, None, opts)
        ctx, slos, account, protect_key = args.ctx, args.slos, args.account, args.protect_key
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


# Metrics Insights aggregate for each CloudWatch statistic it can express (CloudWatch user guide,
# Metrics Insights query syntax: "The valid values for FUNCTION are AVG, COUNT, MAX, MIN, and SUM").
_INSIGHTS_FUNCTION = {"Average": "AVG", "Sum": "SUM", "Minimum": "MIN", "Maximum": "MAX", "SampleCount": "COUNT"}


def has_keda_trigger(slo: SloArgs) -> bool:
    """Whether KEDA's aws-cloudwatch scaler (v2.20) can watch this SLO's own signal. It reads one
    metric by namespace/metricName/dimensionName/dimensionValue (dimensions required) or one
    Metrics Insights query, which takes one aggregate (AVG, COUNT, MAX, MIN, SUM) with no
    arithmetic around it. So an error rate (a ratio of two metrics) never can, nor a custom
    metric without dimensions on a percentile; those SLOs drive alarms and chaos stop
    conditions only."""
    if slo.kind == "errorRate":
        return False
    if slo.kind == "custom" and not slo.dimensions:
        return slo.statistic in _INSIGHTS_FUNCTION
    return True


def metric_collection_time(period: int) -> int:
    """KEDA's metricCollectionTime (default 300) must be a multiple of metricStatPeriod: the
    smallest multiple of the period that still spans KEDA's default five minutes."""
    return period * max(1, -(-300 // period))


def keda_trigger(slo: SloArgs, region: str) -> dict:
    """The same SLO as a KEDA `aws-cloudwatch` trigger (metadata + auth), so an app's
    ScaledObject scales on the signal the alarm and the chaos stop conditions watch. Parameters
    as kedacore/keda v2.20.2 pkg/scalers/aws_cloudwatch_scaler.go reads them; the identity comes
    from the ClusterTriggerAuthentication (podIdentity.provider aws)."""
    if not has_keda_trigger(slo):
        raise ValueError(f"SLO {slo.name}: no KEDA aws-cloudwatch trigger can carry it (see has_keda_trigger)")
    target = round(slo.objective * SCALE_AT_SHARE_OF_OBJECTIVE, 6)
    meta: dict = {"awsRegion": region, "minMetricValue": "0", "targetMetricValue": str(target),
                  "metricStatPeriod": str(slo.period_seconds),
                  "metricCollectionTime": str(metric_collection_time(slo.period_seconds))}
    if slo.kind == "latency":
        meta.update(namespace="AWS/ApplicationELB", metricName="TargetResponseTime", dimensionName="LoadBalancer",
                    dimensionValue=slo.load_balancer, metricStat=slo.percentile)
    elif slo.dimensions:
        names, values = zip(*slo.dimensions)
        meta.update(namespace=slo.namespace, metricName=slo.metric_name, metricStat=slo.statistic,
                    dimensionName=";".join(names), dimensionValue=";".join(values))
    else:
        meta["expression"] = (f'SELECT {_INSIGHTS_FUNCTION[slo.statistic]}("{slo.metric_name}") '
                              f'FROM "{slo.namespace}"')
    return {"type": "aws-cloudwatch", "metadata": meta,
            "authenticationRef": {"name": "aws-pod-identity", "kind": "ClusterTriggerAuthentication"}}
