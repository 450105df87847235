"""SLO alarms: one CloudWatch metric alarm per SLO per region, notifying an SNS topic.
The same alarms are the FIS stop conditions and the signal scaling is judged by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .config.slos import DATA_KINDS
from .iam import document, key_admin_statement
from .naming import RegionContext, aurora_cluster_id, cache_group_id, cache_member_ids, partition_of, queue_name
from .stack import StackSpec
from .wiring import RegionWiring


@dataclass(frozen=True, kw_only=True)
class SloArgs:
    name: str
    kind: str  # latency | errorRate | custom | dbReplicaLag | cacheCpu | queueAge
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
    # data-tier kinds: what they watch in this region
    db_cluster: Optional[str] = None
    db_global_secondary: bool = False  # a secondary has no readers of its own writer: it lags the primary region
    cache_nodes: tuple[str, ...] = ()
    queue: Optional[str] = None


def single_metric(slo: SloArgs) -> Optional[tuple[str, str, dict, str]]:
    """(namespace, metric, dimensions, statistic) of a data-tier SLO watching one metric.
    Metric names and units: Aurora user guide, "Amazon CloudWatch metrics for Amazon Aurora"
    (AuroraReplicaLagMaximum, ms, on the primary; AuroraGlobalDBReplicationLag, ms, secondary
    regions only); SQS developer guide, "Available CloudWatch metrics for Amazon SQS"
    (ApproximateAgeOfOldestMessage, seconds, dimension QueueName)."""
    if slo.kind == "dbReplicaLag":
        metric = "AuroraGlobalDBReplicationLag" if slo.db_global_secondary else "AuroraReplicaLagMaximum"
        return "AWS/RDS", metric, {"DBClusterIdentifier": slo.db_cluster}, "Maximum"
    if slo.kind == "queueAge":
        return "AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": slo.queue}, "Maximum"
    return None


def alarm_metric(slo: SloArgs) -> dict:
    """The alarm's metric arguments (pulumi-aws MetricAlarm names), per SLO kind."""
    one = single_metric(slo)
    if one:
        namespace, metric, dims, stat = one
        return {"namespace": namespace, "metric_name": metric, "period": slo.period_seconds,
                "dimensions": dims, "statistic": stat}
    if slo.kind == "cacheCpu":
        # The busiest node: EngineCPUUtilization is per node (dimension CacheClusterId; ElastiCache
        # user guide, "Host-level metrics"/"Metrics for Valkey and Redis OSS"), MAX over them.
        ids = [f"n{i}" for i in range(len(slo.cache_nodes))]
        return {"metric_queries": [
            *({"id": qid, "metric": {"namespace": "AWS/ElastiCache", "metric_name": "EngineCPUUtilization",
                                     "dimensions": {"CacheClusterId": node}, "period": slo.period_seconds,
                                     "stat": "Maximum"}} for qid, node in zip(ids, slo.cache_nodes)),
            {"id": "busiest", "expression": f"MAX([{', '.join(ids)}])", "label": f"{slo.name} busiest node %",
             "return_data": True}]}
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


def alerts_key_policy(account: str, partition: str, amp_publishes: bool = False) -> str:
    """CloudWatch must be able to use the topic's key: the AWS-managed aws/sns key does not
    allow it, and alarms then fail to publish. A customer key that names CloudWatch does.
    Where the region's Prometheus workspace routes its SLO alerts here, AMP's alert manager too:
    AMP user guide, "Giving Amazon Managed Service for Prometheus permission to send alert messages
    to your Amazon SNS topic" (read 2026-11-26): for an SSE-enabled topic, add kms:GenerateDataKey*
    and kms:Decrypt for aps.amazonaws.com to the key policy (its example has no condition)."""
    statements = [
        key_admin_statement(account, partition),
        {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
    ]
    if amp_publishes:
        statements.append({"Sid": "AmpAlertManagerPublish", "Effect": "Allow",
                           "Principal": {"Service": "aps.amazonaws.com"},
                           "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"})
    return document(statements)


def has_prometheus_workspace(spec: StackSpec, region: str) -> bool:
    """Whether `region` has an AMP workspace (observability_args' rule: every region, or the hub
    only with `placement: hub`)."""
    obs = spec.config.observability
    prom = obs.prometheus if obs else None
    return prom is not None and (prom.placement != "hub" or region == spec.config.hub.name)


@dataclass(frozen=True, kw_only=True)
class SloAlarmsArgs:
    ctx: RegionContext
    slos: tuple[SloArgs, ...]
    account: pulumi.Input[str]
    protect_key: bool = False
    amp_publishes: bool = False  # the region's Prometheus workspace routes its alerts to the topic


def _data_target(spec: StackSpec, kind: str, slo_queue: Optional[str], ctx: RegionContext) -> Optional[dict]:
    """What a data-tier SLO watches in this region, or None where the region has no such resource."""
    cfg = spec.config
    section = getattr(cfg.data, DATA_KINDS[kind])
    if section.regions is not None and ctx.region not in section.regions:
        return None
    if kind == "dbReplicaLag":
        return {"db_cluster": aurora_cluster_id(ctx),
                "db_global_secondary": section.global_database and ctx.region != cfg.hub.name}
    if kind == "cacheCpu":
        return {"cache_nodes": cache_member_ids(cache_group_id(ctx), section.shards, section.replicas_per_shard)}
    topic, queue = slo_queue.split("/")
    return {"queue": queue_name(ctx, topic, queue)}


def slo_args(spec: StackSpec, region: str) -> tuple[SloArgs, ...]:
    """The stack's SLOs as this region watches them (its own load balancer, where given; data-tier
    SLOs only where the region has what they watch)."""
    cfg = spec.config
    ctx = RegionContext(region, cfg.environment, cfg.owner)
    out = []
    for s in cfg.slos:
        data = _data_target(spec, s.kind, s.queue, ctx) if s.kind in DATA_KINDS else {}
        if data is None:
            continue
        out.append(SloArgs(
            name=s.name, kind=s.kind, percentile=s.percentile, objective=s.objective,
            period_seconds=s.period_seconds, evaluation_periods=s.evaluation_periods,
            datapoints_to_alarm=s.datapoints_to_alarm, load_balancer=s.load_balancers.get(region),
            namespace=s.namespace, metric_name=s.metric_name, dimensions=tuple(sorted(s.dimensions.items())),
            statistic=s.statistic, **data))
    return tuple(out)


def slo_alarms_args(spec: StackSpec, w: RegionWiring) -> Optional[SloAlarmsArgs]:
    slos = slo_args(spec, w.ctx.region)
    if not slos:
        return None
    return SloAlarmsArgs(ctx=w.ctx, slos=slos, account=w.account, protect_key=spec.config.environment == "prod",
                         amp_publishes=has_prometheus_workspace(spec, w.ctx.region))


class SloAlarms(pulumi.ComponentResource):
    def __init__(self, name: str, args: SloAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:slo:SloAlarms", name, None, opts)
        ctx, slos, account, protect_key = args.ctx, args.slos, args.account, args.protect_key
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            ctx.name("slo-alerts"), description=f"{ctx.environment} SLO alert topic in {ctx.region}",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.from_input(account).apply(
                lambda a: alerts_key_policy(a, partition_of(ctx.region), args.amp_publishes)),
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
    arithmetic around it. So an error rate (a ratio of two metrics) never can, nor the busiest
    cache node (a MAX over nodes), nor a custom metric without dimensions on a percentile; those
    SLOs drive alarms and chaos stop conditions only."""
    if slo.kind in ("errorRate", "cacheCpu"):
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
    one = single_metric(slo)
    if one:
        namespace, metric, dims, stat = one
        (name, value), = dims.items()
        meta.update(namespace=namespace, metricName=metric, dimensionName=name, dimensionValue=value, metricStat=stat)
    elif slo.kind == "latency":
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
