"""`slos`: service level objectives; one object drives alarms, chaos stop conditions and scaling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field, field_validator

from .base import SLUG, _Model, doc, repeated
from .errors import ConfigIssue
from .observability import promql_problem

if TYPE_CHECKING:
    from .stack import StackConfig

_ALB_SUFFIX = r"^app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$"


class SloSpec(_Model):
    """A service level objective, measured on an ALB (as the AWS Load Balancer Controller creates
    them) or on any CloudWatch metric. One object drives alarms, chaos stop conditions and scaling.
    Alarms notify an SNS topic per region (KMS-encrypted) and treat missing data as not breaching."""
    name: str = Field(pattern=SLUG, description="alarm `<env>-<region code>-slo-<name>` in every region")
    kind: Literal["latency", "errorRate", "custom", "dbReplicaLag", "cacheCpu", "queueAge"] = Field(
        description="latency: ALB `TargetResponseTime` at `percentile`; errorRate: metric math "
                    "`100 * HTTPCode_Target_5XX_Count / RequestCount`; custom: any CloudWatch metric (`namespace`, "
                    "`metricName`, `dimensions`, `statistic`); data tier, in the regions that have it: "
                    "dbReplicaLag: Aurora `AuroraReplicaLagMaximum` (ms; `AuroraGlobalDBReplicationLag` on a global "
                    "secondary), cacheCpu: the busiest cache node's `EngineCPUUtilization` (percent), queueAge: "
                    "`ApproximateAgeOfOldestMessage` of `queue` (seconds)")
    percentile: Literal["p50", "p90", "p95", "p99", "p99.9"] = Field("p99", description="latency percentile")
    objective: float = Field(gt=0, description="the threshold: seconds (latency), percent of requests (errorRate, "
                                               "below 100), or the custom metric's unit")
    period_seconds: Literal[10, 30, 60, 300] = Field(
        60, description="alarm period; the SLO window is periodSeconds x evaluationPeriods")
    evaluation_periods: int = Field(3, ge=1, le=100, description="periods the alarm evaluates")
    datapoints_to_alarm: Optional[int] = Field(
        None, ge=1, le=100, description="breaching periods that set off the alarm; at most evaluationPeriods",
        json_schema_extra=doc(default="= evaluationPeriods"))
    load_balancers: dict[str, str] = Field(
        default_factory=dict,
        description="the ALB (ARN suffix) the AWS Load Balancer Controller made for the ingress; give it a fixed "
                    "name with `alb.ingress.kubernetes.io/load-balancer-name` and paste the suffix once it exists",
        json_schema_extra=doc(type="map region -> `app/<name>/<id>`",
                              default="required for latency/errorRate, every region"))
    namespace: Optional[str] = Field(None, description="custom: the metric's CloudWatch namespace (required)")
    metric_name: Optional[str] = Field(None, description="custom: the metric's name (required)")
    dimensions: dict[str, str] = Field(default_factory=dict, description="custom: the metric's dimensions")
    statistic: str = Field("Average", description="custom: `Average`, `Sum`, `Maximum` or a percentile `pNN`")
    queue: Optional[str] = Field(None, pattern=r"^[a-z0-9-]+/[a-z0-9-]+$",
                                 description="queueAge: the queue, `<topic>/<queue>` of `data.messaging`")
    # Prometheus forms (observability.prometheus): the SLO also becomes an alerting rule in AMP.
    service: Optional[str] = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="latency/errorRate: the mesh service behind the ALB, `<name>.<namespace>`; the SLO then also "
                    "has a Prometheus alerting rule on Istio's standard metrics (`istio_request_duration_milliseconds`, "
                    "`istio_requests_total`)", json_schema_extra=doc(type="`<service>.<namespace>`"))
    promql: Optional[str] = Field(
        None, min_length=1, description="custom: the same signal as a PromQL query, in the objective's unit; the SLO "
                                        "then also has a Prometheus alerting rule `(<promql>) > objective`")

    @field_validator("load_balancers")
    @classmethod
    def _suffixes(cls, value: dict[str, str]) -> dict[str, str]:
        import re
        bad = {r: v for r, v in value.items() if not re.match(_ALB_SUFFIX, v)}
        if bad:
            raise ValueError(f"not ALB ARN suffixes (app/<name>/<16 hex>): {bad}")
        return value


# Each data-tier kind and the `data` section whose resource it watches.
DATA_KINDS = {"dbReplicaLag": "aurora", "cacheCpu": "cache", "queueAge": "messaging"}
# A CloudWatch alarm's metric math takes at most 10 metrics (PutMetricAlarm, Metrics): cacheCpu
# watches each node, so at most 10 nodes.
ALARM_MAX_METRICS = 10


def slo_regions(cfg: StackConfig, slo: SloSpec) -> set[str]:
    """The regions that get this SLO's alarm: all, or for a data-tier kind those that have what
    it watches."""
    section = getattr(cfg.data, DATA_KINDS[slo.kind]) if slo.kind in DATA_KINDS else None
    if slo.kind in DATA_KINDS and section is None:
        return set()
    if section is not None and section.regions is not None:
        return set(section.regions) & set(cfg.region_names)
    return set(cfg.region_names)


def _data_slo_issues(cfg: StackConfig, base: str, slo: SloSpec) -> list[ConfigIssue]:
    section = DATA_KINDS[slo.kind]
    spec = getattr(cfg.data, section)
    if spec is None:
        return [ConfigIssue(f"{base}.kind", f"'{slo.kind}' watches data.{section}, which this stack does not have")]
    out = []
    if slo.kind == "cacheCpu":
        nodes = spec.shards * (1 + spec.replicas_per_shard)
        if nodes > ALARM_MAX_METRICS:
            out.append(ConfigIssue(f"{base}.kind", f"cacheCpu watches every node; {nodes} nodes exceed the "
                                                   f"{ALARM_MAX_METRICS} metrics an alarm can hold"))
    if slo.kind == "queueAge":
        queues = {f"{t.name}/{q.name}" for t in spec.topics for q in t.queues}
        if slo.queue not in queues:
            out.append(ConfigIssue(f"{base}.queue", f"queueAge needs one of data.messaging's queues "
                                                    f"({', '.join(sorted(queues))}); got {slo.queue!r}"))
    return out


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Unique names; an ALB in every region of the stack; what each kind needs."""
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
        elif slo.kind in DATA_KINDS:
            issues += _data_slo_issues(cfg, base, slo)
        elif not (slo.namespace and slo.metric_name):
            issues.append(ConfigIssue(base, "a custom SLO needs namespace and metricName"))
        if slo.queue is not None and slo.kind != "queueAge":
            issues.append(ConfigIssue(f"{base}.queue", "only queueAge takes a queue"))
        if slo.service is not None and slo.kind not in ("latency", "errorRate"):
            issues.append(ConfigIssue(f"{base}.service", "only latency and errorRate SLOs take a mesh service"))
        if slo.promql is not None:
            if slo.kind != "custom":
                issues.append(ConfigIssue(f"{base}.promql", "only custom SLOs take a PromQL query"))
            elif (problem := promql_problem(slo.promql)) is not None:
                issues.append(ConfigIssue(f"{base}.promql", problem))
        if slo.kind == "errorRate" and slo.objective >= 100:
            issues.append(ConfigIssue(f"{base}.objective", "an error-rate objective is a percentage below 100"))
        if slo.datapoints_to_alarm and slo.datapoints_to_alarm > slo.evaluation_periods:
            issues.append(ConfigIssue(f"{base}.datapointsToAlarm", "cannot exceed evaluationPeriods"))
    return issues
