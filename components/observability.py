"""Managed Prometheus and Grafana per region (`observability.prometheus`, `observability.grafana`).

Per region (or only in the hub, `placement: hub`): an Amazon Managed Service for Prometheus
workspace encrypted with its own customer-managed key, its logs in CloudWatch, the SLOs that have
a Prometheus form as alerting rules, and an AWS managed collector (agentless scraper) for the
region's cluster. In the hub, optionally, an Amazon Managed Grafana workspace whose role may
query every workspace of the stack.

Facts this follows (read 2026-11-26):
- AMP user guide, "Using an AWS managed collector": a scraper needs the cluster's private endpoint
  and DNS in its VPC, at least two subnets in two AZs and the cluster's security group; with the
  cluster in authentication mode API or API_AND_CONFIG_MAP "any scrapers you create ... will
  automatically have the correct access entry policy created for you" (the aws-auth ClusterRole
  `aps-collector-role` bound to user `aps-collector-user` is the manual path for ConfigMap-only
  clusters; these clusters are API-only, so the access entry is AWS's); "Your EKS cluster, managed
  scraper, and AMP workspace must all be in the same AWS Region"; scrape interval >= 30 s; only
  `kubernetes_sd_configs` discovery; authorization only Bearer from the service account token file;
  a workspace with a customer managed key takes scrapers with `roleConfiguration` (source and target
  roles in the same account).
- A scraper tags its destination workspace `AMPAgentlessScraper` (pulumi-aws 7.51.1 amp.Scraper docs):
  the workspace carries the tag itself so `pulumi up` never strips it.
- botocore 1.44.8 amp CreateLoggingConfiguration.logGroupArn ends in `:*`; grafana CreateWorkspace
  permissionType: "Use only the CUSTOMER_MANAGED permission type when creating a workspace with the
  API, CLI or Amazon Web Services CloudFormation", with a workspaceRoleArn the caller manages;
  workspaceDataSources "is for internal use only, and should not be used".
- AMP alert manager (read 2026-11-26): user guide "Create an alert manager configuration": the
  definition is YAML whose root key `alertmanager_config` holds the Alertmanager configuration as
  a string (`alertmanager_config: |`), beside optional `template_files`; repeat_interval at most 5
  days. "Configure alert manager to send messages to your Amazon SNS topic": SNS is the only
  receiver (`sns_configs`, same account); `api_url` and `http_config` are not allowed; `sigv4`
  must carry `region`; without `subject` the default template may make one too long for SNS.
  "Giving Amazon Managed Service for Prometheus permission to send alert messages to your Amazon
  SNS topic": the topic policy allows aps.amazonaws.com sns:Publish and sns:GetTopicAttributes
  under ArnEquals aws:SourceArn (the workspace) and StringEquals aws:SourceAccount; an encrypted
  topic's key lets aps.amazonaws.com kms:GenerateDataKey* and kms:Decrypt (components/slo.py).
  API reference, AlertManagerDefinitionData: the same `alertmanager_config: |` example.
- Istio standard metrics (istio.io, "Istio Standard Metrics"): `istio_requests_total` (counter) and
  `istio_request_duration_milliseconds` (distribution), labels `reporter`, `destination_service_name`,
  `destination_service_namespace`, `response_code`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws
import yaml

from .iam import document, key_admin_statement, policy_document
from .naming import RegionContext, partition_of
from .config import SloSpec
from .slo import has_prometheus_workspace, slo_args
from .stack import StackSpec
from .wiring import RegionWiring

# The service label values the Istio rules select on; `reporter="destination"` counts each request once,
# as the receiving proxy saw it (the sidecar or waypoint of the service).
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}
RULE_NAMESPACE = "platform-slos"


def _service_selector(service: str, extra: str = "") -> str:
    name, namespace = service.split(".", 1)
    return (f'{{reporter="destination",destination_service_name="{name}",'
            f'destination_service_namespace="{namespace}"{extra}}}')


def slo_promql(slo: SloSpec) -> Optional[str]:
    """The SLO's breach condition as PromQL, or None when it has no Prometheus form. Latency and
    error rate read Istio's standard metrics of the mesh service behind the ALB; `custom` takes
    its own `promql`; the data-tier kinds are CloudWatch metrics AMP never receives (no exporter
    ships them), so they have none."""
    window = f"{max(slo.period_seconds, 120)}s"  # at least four 30 s scrapes in every rate()
    if slo.kind == "latency" and slo.service:
        q = PERCENTILES[slo.percentile]
        return (f"histogram_quantile({q}, sum by (le) (rate(istio_request_duration_milliseconds_bucket"
                f"{_service_selector(slo.service)}[{window}]))) > {round(slo.objective * 1000, 6)}")
    if slo.kind == "errorRate" and slo.service:
        errors = _service_selector(slo.service, ',response_code=~"5.."')
        return (f"100 * sum(rate(istio_requests_total{errors}[{window}])) / "
                f"sum(rate(istio_requests_total{_service_selector(slo.service)}[{window}])) > {slo.objective}")
    if slo.kind == "custom" and slo.promql:
        return f"({slo.promql}) > {slo.objective}"
    return None


def slo_rule_file(ctx: RegionContext, slos: Sequence[SloSpec]) -> Optional[str]:
    """The Prometheus rule file (prometheus/prometheus model/rulefmt: groups[].rules[] of alert,
    expr, for, labels, annotations) with one alerting rule per SLO that has a Prometheus form. `for`
    is the alarm's breaching stretch: datapointsToAlarm (or evaluationPeriods) x periodSeconds."""
    rules = []
    for slo in slos:
        expr = slo_promql(slo)
        if expr is None:
            continue
        breaching = (slo.datapoints_to_alarm or slo.evaluation_periods) * slo.period_seconds
        rules.append({
            "alert": f"slo-{slo.name}", "expr": expr, "for": f"{breaching}s",
            "labels": {"slo": slo.name, "severity": "page", "region": ctx.region, "environment": ctx.environment},
            "annotations": {"summary": f"SLO {slo.name} ({slo.kind}) breaches its objective {slo.objective} "
                                       f"in {ctx.region}"}})
    if not rules:
        return None
    return yaml.safe_dump({"groups": [{"name": f"slo-{ctx.environment}-{ctx.code}", "rules": rules}]},
                          sort_keys=False)


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors/aliases: every job spells its own settings out."""

    def ignore_aliases(self, data) -> bool:
        return True


_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
_API_SERVER = [{"action": "keep", "regex": "default;kubernetes;https", "source_labels": [
    "__meta_kubernetes_namespace", "__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"]}]


ALERT_RECEIVER = "slo-alerts"


def alertmanager_definition(ctx: RegionContext, topic_arn: str) -> str:
    """The workspace's alert manager definition: every alert to the region's SLO topic, grouped
    per alert, with a short subject (SNS subjects are limited; AMP truncates the default one)."""
    config = {
        "route": {"receiver": ALERT_RECEIVER, "group_by": ["alertname"]},
        "receivers": [{"name": ALERT_RECEIVER, "sns_configs": [{
            "topic_arn": topic_arn, "sigv4": {"region": ctx.region},
            "subject": f"{ctx.environment} {ctx.region} {{{{ .GroupLabels.alertname }}}} {{{{ .Status }}}}"}]}],
    }
    inner = yaml.safe_dump(config, sort_keys=False, width=1000)
    return "alertmanager_config: |\n" + "".join(f"  {line}\n" for line in inner.splitlines())


def alerts_topic_policy(topic_arn: str, workspace_arn: str, account: str, partition: str, region: str) -> str:
    """The SLO topic's policy once a resource policy replaces SNS's default one: CloudWatch alarms of
    this account (re:Post knowledge center "cloudwatch-receive-sns-for-alarm-trigger": sns:Publish for
    cloudwatch.amazonaws.com, scoped by aws:SourceArn to the alarms) and this region's workspace's
    alert manager (AMP user guide, "Giving Amazon Managed Service for Prometheus permission to send
    alert messages to your Amazon SNS topic")."""
    return document([
        {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": "sns:Publish", "Resource": topic_arn,
         "Condition": {"ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"},
                       "StringEquals": {"aws:SourceAccount": account}}},
        {"Sid": "AmpAlertManagerPublish", "Effect": "Allow", "Principal": {"Service": "aps.amazonaws.com"},
         "Action": ["sns:Publish", "sns:GetTopicAttributes"], "Resource": topic_arn,
         "Condition": {"ArnEquals": {"aws:SourceArn": workspace_arn},
                       "StringEquals": {"aws:SourceAccount": account}}},
    ])


def _through_api_server(path: str) -> list[dict]:
    """Node metrics fetched through the API server's node proxy (what the AMP sample does for cAdvisor)."""
    return [{"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"},
            {"replacement": "kubernetes.default.svc:443", "target_label": "__address__"},
            {"source_labels": ["__meta_kubernetes_node_name"], "regex": "(.+)", "target_label": "__metrics_path__",
             "replacement": f"/api/v1/nodes/$1/proxy/{path}"}]


def scrape_config(cluster_name: str, region: str, interval_seconds: int) -> str:
    """The scraper's Prometheus configuration, in the sections AMP accepts (global, scrape_configs
    with kubernetes_sd_configs, relabel_configs, metric_relabel_configs; Bearer authorization from
    the service account token only). Jobs: the API server and, through the EKS metrics API, the
    scheduler and controller manager (AMP's sample configuration); kubelet and cAdvisor through the
    API server's node proxy; kube-state-metrics where a cluster runs it; Istio's proxies (`envoy_*`,
    `istio_*`: sidecars and waypoints on their `*-envoy-prom` port, ztunnel on 15020) and istiod;
    and any pod annotated `prometheus.io/scrape: "true"`."""
    auth = {"authorization": {"type": "Bearer", "credentials_file": _TOKEN}}
    kube_api = {"scheme": "https", **auth}
    jobs = [
        {"job_name": "kubernetes-apiservers", **kube_api, "kubernetes_sd_configs": [{"role": "endpoints"}],
         "relabel_configs": _API_SERVER},
        {"job_name": "ksh-metrics", **kube_api, "kubernetes_sd_configs": [{"role": "endpoints"}],
         "metrics_path": "/apis/metrics.eks.amazonaws.com/v1/ksh/container/metrics", "relabel_configs": _API_SERVER},
        {"job_name": "kcm-metrics", **kube_api, "kubernetes_sd_configs": [{"role": "endpoints"}],
         "metrics_path": "/apis/metrics.eks.amazonaws.com/v1/kcm/container/metrics", "relabel_configs": _API_SERVER},
        {"job_name": "kubelet", **kube_api, "kubernetes_sd_configs": [{"role": "node"}],
         "relabel_configs": _through_api_server("metrics")},
        {"job_name": "cadvisor", **kube_api, "kubernetes_sd_configs": [{"role": "node"}],
         "relabel_configs": _through_api_server("metrics/cadvisor")},
        {"job_name": "kube-state-metrics", "kubernetes_sd_configs": [{"role": "endpoints"}],
         "relabel_configs": [{"action": "keep", "regex": "kube-state-metrics;http", "source_labels": [
             "__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"]}]},
        {"job_name": "envoy-stats", "metrics_path": "/stats/prometheus", "kubernetes_sd_configs": [{"role": "pod"}],
         "relabel_configs": [
             {"action": "keep", "regex": ".*-envoy-prom", "source_labels": ["__meta_kubernetes_pod_container_port_name"]},
             {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
             {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
             {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"}]},
        {"job_name": "ztunnel", "metrics_path": "/stats/prometheus", "kubernetes_sd_configs": [{"role": "pod"}],
         "relabel_configs": [
             {"action": "keep", "regex": "istio-system;ztunnel", "source_labels": [
                 "__meta_kubernetes_namespace", "__meta_kubernetes_pod_label_app"]},
             {"source_labels": ["__meta_kubernetes_pod_ip"], "regex": "(.+)", "target_label": "__address__",
              "replacement": "$1:15020"},
             {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"}]},
        {"job_name": "istiod", "kubernetes_sd_configs": [{"role": "endpoints"}],
         "relabel_configs": [{"action": "keep", "regex": "istio-system;istiod;http-monitoring", "source_labels": [
             "__meta_kubernetes_namespace", "__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"]}]},
        {"job_name": "annotated-pods", "kubernetes_sd_configs": [{"role": "pod"}],
         "relabel_configs": [
             {"action": "keep", "regex": "true", "source_labels": [
                 "__meta_kubernetes_pod_annotation_prometheus_io_scrape"]},
             {"action": "replace", "regex": "(.+)", "target_label": "__metrics_path__",
              "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_path"]},
             {"action": "replace", "regex": "([^:]+)(?::\\d+)?;(\\d+)", "replacement": "$1:$2",
              "target_label": "__address__",
              "source_labels": ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"]},
             {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
             {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"}]},
    ]
    return yaml.dump({"global": {"scrape_interval": f"{interval_seconds}s",
                                 "external_labels": {"cluster": cluster_name, "region": region}},
                      "scrape_configs": jobs}, Dumper=_PlainDumper, sort_keys=False)


def workspace_query_url(prometheus_endpoint: str) -> str:
    """The base KEDA's prometheus scaler and Grafana append `/api/v1/query` to: the workspace's
    `prometheusEndpoint` (`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`) without
    its trailing slash."""
    return prometheus_endpoint.rstrip("/")


@dataclass(frozen=True, kw_only=True)
class GrafanaArgs:
    authentication: str
    version: str
    saml_metadata_url: Optional[str]
    admin_groups: tuple[str, ...]
    regions: tuple[str, ...]  # every region whose workspace the role may query


@dataclass(frozen=True, kw_only=True)
class ObservabilityArgs:
    ctx: RegionContext
    account: pulumi.Input[str]
    scrape_interval_seconds: int
    log_retention_days: int
    logs_kms_key_arn: pulumi.Input[str]
    rule_file: Optional[str] = None
    cluster_name: Optional[str] = None  # the region's cluster: it gets a managed scraper
    cluster: Optional[pulumi.Resource] = None  # the pulumi_eks cluster (the scraper waits for it)
    cluster_security_group_id: Optional[pulumi.Input[str]] = None
    worker_subnet_ids: Sequence[pulumi.Input[str]] = ()
    grafana: Optional[GrafanaArgs] = None  # the hub only
    protect_key: bool = False
    alerts_topic_arn: Optional[pulumi.Input[str]] = None  # the region's SLO topic: the alert manager sends there


def observability_args(spec: StackSpec, w: RegionWiring) -> Optional[ObservabilityArgs]:
    """A workspace in every region, or in the hub only (`placement: hub`, refused with clusters
    elsewhere by config validation); Grafana in the hub."""
    cfg = spec.config
    obs = cfg.observability
    prom = obs.prometheus if obs else None
    if not has_prometheus_workspace(spec, w.ctx.region):  # the SLO topic's key admits AMP by the same rule
        return None
    is_hub = w.ctx.region == cfg.hub.name
    graf = obs.grafana
    cluster = w.cluster
    return ObservabilityArgs(
        ctx=w.ctx, account=w.account, scrape_interval_seconds=prom.scrape_interval_seconds,
        log_retention_days=prom.log_retention_days, logs_kms_key_arn=w.logs_key.arn,
        rule_file=slo_rule_file(w.ctx, regional_slos(spec, w.ctx.region)),
        cluster_name=cluster.cluster_name if cluster else None, cluster=cluster.cluster if cluster else None,
        cluster_security_group_id=cluster.cluster.cluster_security_group_id if cluster else None,
        worker_subnet_ids=[s.id for s in w.network.subnets["workers"]] if cluster else (),
        grafana=GrafanaArgs(authentication=graf.authentication, version=graf.version, saml_metadata_url=graf.saml_metadata_url,
                            admin_groups=tuple(graf.admin_groups),
                            regions=tuple([cfg.hub.name] if prom.placement == "hub" else cfg.region_names))
        if graf is not None and is_hub else None,
        protect_key=cfg.environment == "prod",
        alerts_topic_arn=w.slo.topic.arn if w.slo else None)


def regional_slos(spec: StackSpec, region: str) -> list[SloSpec]:
    """The SLOs this region watches (slo_args' rule: data-tier kinds only where the region has what
    they watch), as configured."""
    names = {s.name for s in slo_args(spec, region)}
    return [s for s in spec.config.slos if s.name in names]


def kms_use_via_aps(key_arns: pulumi.Input[Sequence[str]], regions: Sequence[str]) -> dict:
    """What a principal that writes to or queries a workspace needs of its customer-managed key,
    only through AMP (ResourcePolicy API reference: principals of a CMK workspace need access to the
    key)."""
    return {"Sid": "WorkspaceKeyThroughAmp", "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": key_arns,
            "Condition": {"StringEquals": {"kms:ViaService": [f"aps.{r}.amazonaws.com" for r in regions]}}}


class RegionalObservability(pulumi.ComponentResource):
    def __init__(self, name: str, args: ObservabilityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:observability:RegionalObservability", name, None, opts)
        a, ctx = args, args.ctx
        p = partition_of(ctx.region)
        child = pulumi.ResourceOptions(parent=self)
        # The workspace's own key: the account administers it and grants its use through IAM (the
        # scraper's target role, KEDA and Grafana each get kms:* through AMP only).
        self.key = aws.kms.Key(
            ctx.name("prometheus"), description=f"{ctx.environment} Prometheus workspace in {ctx.region}",
            enable_key_rotation=True, deletion_window_in_days=30, tags=ctx.tags("prometheus-key"),
            policy=pulumi.Output.from_input(a.account).apply(lambda acct: document([key_admin_statement(acct, p)])),
            opts=pulumi.ResourceOptions(parent=self, protect=a.protect_key))
        aws.kms.Alias(ctx.name("prometheus"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/prometheus",
                      target_key_id=self.key.key_id, opts=child)
        self.logs = aws.cloudwatch.LogGroup(
            ctx.name("prometheus-logs"), name=ctx.log_group_name("prometheus"),
            retention_in_days=a.log_retention_days, kms_key_id=a.logs_kms_key_arn, tags=ctx.tags("prometheus-logs"),
            opts=child)
        self.workspace = aws.amp.Workspace(
            ctx.name("prometheus"), alias=f"{ctx.environment}-{ctx.code}-platform", kms_key_arn=self.key.arn,
            logging_configuration={"log_group_arn": self.logs.arn.apply(lambda arn: f"{arn}:*")},
            tags=ctx.tags("prometheus", {"AMPAgentlessScraper": ""}), opts=child)
        self.query_url = self.workspace.prometheus_endpoint.apply(workspace_query_url)
        if a.rule_file:
            aws.amp.RuleGroupNamespace(ctx.name("prometheus-slo-rules"), name=RULE_NAMESPACE,
                                       workspace_id=self.workspace.id, data=a.rule_file,
                                       tags=ctx.tags("prometheus-slo-rules"), opts=child)
        if a.alerts_topic_arn is not None:
            self._alert_manager(a, p)
        self.scraper = self._scraper(a, p) if a.cluster_name else None
        self.grafana = self._grafana(a, p) if a.grafana else None
        self.register_outputs({"workspaceArn": self.workspace.arn, "queryUrl": self.query_url,
                               "grafanaEndpoint": self.grafana.endpoint if self.grafana else None})

    def _alert_manager(self, a: ObservabilityArgs, p: str) -> aws.amp.AlertManagerDefinition:
        """Routes the workspace's alerts (the SLO rules) to the region's SLO topic. The topic policy
        must be in place before the first alert is sent: the definition waits for it."""
        ctx = a.ctx
        child = pulumi.ResourceOptions(parent=self)
        policy = aws.sns.TopicPolicy(
            ctx.name("slo-alerts-publishers"), arn=a.alerts_topic_arn,
            policy=pulumi.Output.all(a.alerts_topic_arn, self.workspace.arn, a.account).apply(
                lambda v: alerts_topic_policy(v[0], v[1], v[2], p, ctx.region)),
            opts=child)
        return aws.amp.AlertManagerDefinition(
            ctx.name("prometheus-alert-manager"), workspace_id=self.workspace.id,
            definition=pulumi.Output.from_input(a.alerts_topic_arn).apply(lambda t: alertmanager_definition(ctx, t)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))

    def _scraper(self, a: ObservabilityArgs, p: str) -> aws.amp.Scraper:
        """The cluster's managed collector. The workspace has a customer-managed key, so the scraper
        writes through roleConfiguration (AMP user guide, "Creating scraper for workspaces enabled with
        customer managed keys"): a source role AMP's scraper service assumes, and a target role the
        source role assumes with the scraper's ARN as external ID. The scraper's ARN exists only once it
        is created, so both roles admit any scraper of this account and region (ArnLike/StringLike)."""
        ctx = a.ctx
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(a.account)
        scrapers = account.apply(lambda acct: f"arn:{p}:aps:{ctx.region}:{acct}:scraper/*")
        source = aws.iam.Role(
            ctx.name("prometheus-scraper-source"), description=f"AMP managed scraper of {a.cluster_name} (source)",
            assume_role_policy=pulumi.Output.all(account, scrapers).apply(lambda v: document([{
                "Effect": "Allow", "Principal": {"Service": "scraper.aps.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"ArnLike": {"aws:SourceArn": v[1]}, "StringEquals": {"aws:SourceAccount": v[0]}}}])),
            tags=ctx.tags("prometheus-scraper-source"), opts=child)
        target = aws.iam.Role(
            ctx.name("prometheus-scraper-target"), description=f"AMP managed scraper of {a.cluster_name} (target)",
            assume_role_policy=pulumi.Output.all(source.arn, scrapers).apply(lambda v: document([{
                "Effect": "Allow", "Principal": {"AWS": v[0]}, "Action": "sts:AssumeRole",
                "Condition": {"StringLike": {"sts:ExternalId": v[1]}}}])),
            tags=ctx.tags("prometheus-scraper-target"), opts=child)
        source_policy = aws.iam.RolePolicy(
            ctx.name("prometheus-scraper-source"), role=source.id, opts=child,
            policy=policy_document([{"Sid": "AssumeTarget", "Effect": "Allow", "Action": "sts:AssumeRole",
                                     "Resource": target.arn}]))
        target_policy = aws.iam.RolePolicy(
            ctx.name("prometheus-scraper-target"), role=target.id, opts=child,
            policy=policy_document([
                {"Sid": "RemoteWrite", "Effect": "Allow", "Action": "aps:RemoteWrite", "Resource": self.workspace.arn},
                kms_use_via_aps(self.key.arn, [ctx.region])]))
        return aws.amp.Scraper(
            ctx.name("prometheus-scraper"), alias=a.cluster_name,
            source={"eks": {
                "cluster_arn": account.apply(lambda acct: f"arn:{p}:eks:{ctx.region}:{acct}:cluster/{a.cluster_name}"),
                "subnet_ids": list(a.worker_subnet_ids),
                "security_group_ids": [a.cluster_security_group_id]}},
            destination={"amp": {"workspace_arn": self.workspace.arn}},
            role_configuration={"source_role_arn": source.arn, "target_role_arn": target.arn},
            scrape_configuration=scrape_config(a.cluster_name, ctx.region, a.scrape_interval_seconds),
            tags=ctx.tags("prometheus-scraper"),
            # The access entry AMP creates needs the cluster (API authentication mode) to exist, and
            # the first remote write needs both roles' policies.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[a.cluster, source_policy, target_policy]))

    def _grafana(self, a: ObservabilityArgs, p: str) -> aws.grafana.Workspace:
        """Amazon Managed Grafana in the hub, CUSTOMER_MANAGED with its own role (what the API requires):
        the role may query every workspace of the stack's regions (AMP data sources sign with it)."""
        ctx, g = a.ctx, a.grafana
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(a.account)
        role = aws.iam.Role(
            ctx.name("grafana"), description="Amazon Managed Grafana: queries the platform's Prometheus workspaces",
            assume_role_policy=account.apply(lambda acct: document([{
                "Effect": "Allow", "Principal": {"Service": "grafana.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": acct}}}])),
            tags=ctx.tags("grafana"), opts=child)
        policy = aws.iam.RolePolicy(ctx.name("grafana"), role=role.id, opts=child, policy=account.apply(
            lambda acct: json.dumps({"Version": "2012-10-17", "Statement": [
                {"Sid": "DiscoverWorkspaces", "Effect": "Allow", "Action": "aps:ListWorkspaces", "Resource": "*"},
                {"Sid": "QueryWorkspaces", "Effect": "Allow",
                 "Action": ["aps:DescribeWorkspace", "aps:QueryMetrics", "aps:GetLabels", "aps:GetSeries",
                            "aps:GetMetricMetadata"],
                 "Resource": [f"arn:{p}:aps:{r}:{acct}:workspace/*" for r in g.regions]},
                kms_use_via_aps([f"arn:{p}:kms:{r}:{acct}:key/*" for r in g.regions], g.regions)]}, sort_keys=True)))
        workspace = aws.grafana.Workspace(
            ctx.name("grafana"), name=f"{ctx.environment}-platform",
            description=f"{ctx.environment} platform metrics (Amazon Managed Service for Prometheus)",
            account_access_type="CURRENT_ACCOUNT", authentication_providers=[g.authentication],
            permission_type="CUSTOMER_MANAGED", role_arn=role.arn, grafana_version=g.version, tags=ctx.tags("grafana"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        if g.authentication == "SAML":
            aws.grafana.WorkspaceSamlConfiguration(
                ctx.name("grafana-saml"), workspace_id=workspace.id, idp_metadata_url=g.saml_metadata_url,
                groups_assertion="groups", role_assertion="groups", admin_role_values=list(g.admin_groups) or None,
                editor_role_values=list(g.admin_groups) or ["grafana-editors"], opts=child)
        elif g.admin_groups:
            aws.grafana.RoleAssociation(ctx.name("grafana-admins"), role="ADMIN", workspace_id=workspace.id,
                                        group_ids=list(g.admin_groups), opts=child)
        return workspace
