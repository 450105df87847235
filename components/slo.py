"""SLO alarms: one CloudWatch metric alarm per SLO per region, notifying an SNS topic.
The same alarms are the FIS stop conditions and the signal scaling is judged by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .naming import RegionContext


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


class SloAlarms(pulumi.ComponentResource):
    def __init__(self, ctx: RegionContext, slos: tuple[SloArgs, ...], opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:slo:SloAlarms", ctx.name("slo"), None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(ctx.name("slo-alerts"), name=f"{ctx.environment}-{ctx.code}-slo-alerts",
                                   kms_master_key_id="alias/aws/sns", tags=ctx.tags("slo-alerts"), opts=child)
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
