"""Scaling per region: a node autoscaler (Karpenter or Cluster Autoscaler) and KEDA as
add-ons, time-based scaling of the node groups in the region's own time zone, and a WAF
Web ACL whose rate-based rule sheds load before the database falls over."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .addons import AddonArgs, AddonIdentity, AddonSpec, ClusterAddon, addon_name
from .cluster import RegionalCluster, node_user_data
from .config import CLUSTER_AUTOSCALER_IMAGE_TAGS, DEFAULT_K8S_VERSION
from .iam import policy_document
from .naming import RegionContext, partition_of
from .proxy import ProxyEnv, proxy_env
from .schedules import region_time_zone
from .stack import StackSpec
from .wiring import RegionWiring
from .observability import kms_use_via_aps
from .slo import _INSIGHTS_FUNCTION as INSIGHTS_FUNCTION
from .slo import has_keda_trigger, keda_trigger, metric_collection_time, slo_args

KARPENTER_REPO = "oci://public.ecr.aws/karpenter"
AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
KEDA_REPO = "https://kedacore.github.io/charts"
# The EventBridge rules of Karpenter's reference template (aws/karpenter-provider-aws v1.14.1,
# website/content/en/preview/getting-started/getting-started-with-karpenter/cloudformation.yaml):
# one per event kind its interruption controller handles (pkg/controllers/interruption/messages).
INTERRUPTION_EVENTS = {
    "health": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    # CapacityReservationInterruptionRule (since Karpenter 1.10): interruptible capacity reservations
    "capacity-reservation": {"source": ["aws.ec2"],
                             "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"]},
}


@dataclass(frozen=True, kw_only=True)
class ScheduleArgs:
    name: str
    cron: str
    time_zone: str
    node_group: str
    min_size: int
    max_size: int
    desired: int


@dataclass(frozen=True, kw_only=True)
class PrometheusTarget:
    """The region's AMP workspace as KEDA's prometheus triggers reach it."""
    query_url: pulumi.Input[str]  # https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>
    workspace_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class ScalingArgs:
    ctx: RegionContext
    provider: aws.Provider
    cluster: RegionalCluster
    account: pulumi.Input[str]
    active_colour: str
    node_autoscaler: str  # karpenter | clusterAutoscaler | none
    karpenter_version: str
    karpenter_ami_alias: str
    cluster_autoscaler_version: str
    keda_version: Optional[str]
    schedules: tuple[ScheduleArgs, ...] = ()
    waf_rate_limit: Optional[int] = None
    waf_managed_groups: tuple[str, ...] = ()
    proxy: Optional[ProxyEnv] = None
    service_cidr: str = "172.20.0.0/16"
    isolated: bool = False  # no internet path: Karpenter must not call public pricing endpoints
    ha: bool = False
    k8s_version: str = DEFAULT_K8S_VERSION
    slos: tuple = ()  # SloArgs of this region: published as KEDA triggers
    logs_kms_key_arn: Optional[pulumi.Input[str]] = None  # the region's logs key (WAF logs)
    log_retention_days: int = 90
    dependents: tuple = ()  # DependentSpec of scaling.dependents: published as KEDA triggers
    prometheus: Optional[PrometheusTarget] = None  # the region's AMP workspace, for prometheus triggers


def _addon(ctx: RegionContext, a: ScalingArgs, spec: AddonSpec, provider: aws.Provider,
           opts: pulumi.ResourceOptions, after: Sequence[pulumi.Resource] = ()) -> ClusterAddon:
    return ClusterAddon(addon_name(ctx, spec), AddonArgs(ctx=ctx, cluster=a.cluster, spec=spec, aws_provider=provider,
                                                         after=tuple(after)), opts)


def scaling_args(spec: StackSpec, w: RegionWiring) -> Optional[ScalingArgs]:
    """Node autoscaling, KEDA, schedules and WAF need a cluster: without one, none."""
    cfg, sc, ctx = spec.config, spec.config.scaling, w.ctx
    if sc is None or w.cluster is None:
        return None
    return ScalingArgs(
        ctx=ctx, provider=w.provider, cluster=w.cluster, account=w.account,
        active_colour=cfg.cluster.blue_green.active,
        node_autoscaler=sc.node_autoscaler, karpenter_version=sc.karpenter_chart_version,
        karpenter_ami_alias=sc.karpenter_ami_alias,
        cluster_autoscaler_version=sc.cluster_autoscaler_chart_version, keda_version=sc.keda_chart_version,
        schedules=tuple(ScheduleArgs(name=s.name, cron=s.cron, time_zone=s.time_zone or region_time_zone(ctx.region),
                                     node_group=s.node_group, min_size=s.min_size, max_size=s.max_size,
                                     desired=s.desired) for s in sc.schedules),
        waf_rate_limit=sc.waf.requests_per_five_minutes if sc.waf else None,
        waf_managed_groups=tuple(sc.waf.managed_rule_groups) if sc.waf else (),
        proxy=proxy_env(spec, ctx.region), service_cidr=str(cfg.cluster.service_cidr),
        isolated=cfg.network.egress == "proxy", ha=cfg.environment == "prod", k8s_version=cfg.cluster.version,
        slos=slo_args(spec, ctx.region), logs_kms_key_arn=w.logs_key.arn,
        log_retention_days=cfg.network.flow_log_retention_days,
        dependents=tuple(sc.dependents),
        prometheus=PrometheusTarget(query_url=w.observability.query_url, workspace_arn=w.observability.workspace.arn,
                                    key_arn=w.observability.key.arn) if w.observability else None)


def karpenter_policy(a: ScalingArgs, queue_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Karpenter's controller policy: statement for statement the reference policies of Karpenter
    1.14.1 (aws/karpenter-provider-aws v1.14.1, website/content/en/preview/getting-started/
    getting-started-with-karpenter/cloudformation.yaml: NodeLifecyclePolicy, IAMIntegrationPolicy,
    EKSIntegrationPolicy, InterruptionPolicy, ZonalShiftPolicy, ResourceDiscoveryPolicy, since 1.9
    the split of 1.8's KarpenterControllerPolicy), read 2026-11-26, as one document scoped to this
    cluster, region and queue. One deliberate difference: nodes use the instance profile this
    stack creates (EC2NodeClass spec.instanceProfile), so the controller never creates, tags,
    changes or deletes instance profiles (its profile reconciler makes no IAM call then:
    pkg/controllers/nodeclass/instanceprofile.go) and the IAMIntegrationPolicy's instance-profile
    write statements are left out. Unless settings.isolatedVPC, the controller still reads them:
    the profile garbage collector (pkg/controllers/nodeclass/garbagecollection, registered in
    pkg/controllers/controllers.go only without isolatedVPC) lists them, and an EC2NodeClass's
    finalizer (pkg/controllers/nodeclass/controller.go cleanupManagedInstanceProfiles) lists
    them and gets the legacy profile name, for which it needs iam:GetInstanceProfile to see
    NotFound instead of AccessDenied, or the EC2NodeClass is never deleted. With isolatedVPC
    neither runs, and the pricing endpoint is not called (pkg/providers/pricing)."""
    ctx, name = a.ctx, a.cluster.cluster_name
    p, r = partition_of(ctx.region), ctx.region
    cluster_tag = f"kubernetes.io/cluster/{name}"
    created = [f"arn:{p}:ec2:{r}:*:{t}/*" for t in
               ("fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request")]
    owned_nodepool = {"StringEquals": {f"aws:ResourceTag/{cluster_tag}": "owned"},
                      "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}
    request_tags = {f"aws:RequestTag/{cluster_tag}": "owned", "aws:RequestTag/eks:eks-cluster-name": name}
    cluster_arn = pulumi.Output.from_input(a.account).apply(lambda acct: f"arn:{p}:eks:{r}:{acct}:cluster/{name}")
    statements = [
        # NodeLifecyclePolicy
        {"Sid": "AllowScopedEC2InstanceAccessActions", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Resource": [f"arn:{p}:ec2:{r}::image/*", f"arn:{p}:ec2:{r}::snapshot/*",
                      f"arn:{p}:ec2:{r}:*:security-group/*", f"arn:{p}:ec2:{r}:*:subnet/*",
                      f"arn:{p}:ec2:{r}:*:capacity-reservation/*", f"arn:{p}:ec2:{r}:*:placement-group/*"]},
        {"Sid": "AllowScopedEC2LaunchTemplateAccessActions", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet"], "Resource": f"arn:{p}:ec2:{r}:*:launch-template/*",
         "Condition": owned_nodepool},
        {"Sid": "AllowScopedEC2InstanceActionsWithTags", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
         "Resource": created,
         "Condition": {"StringEquals": request_tags, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "AllowScopedResourceCreationTagging", "Effect": "Allow", "Action": ["ec2:CreateTags"],
         "Resource": created,
         "Condition": {"StringEquals": {**request_tags, "ec2:CreateAction": ["RunInstances", "CreateFleet",
                                                                            "CreateLaunchTemplate"]},
                       "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "AllowScopedResourceTagging", "Effect": "Allow", "Action": ["ec2:CreateTags"],
         "Resource": f"arn:{p}:ec2:{r}:*:instance/*",
         "Condition": {**owned_nodepool,
                       "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": name},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim",
                                                                    "Name"]}}},
        {"Sid": "AllowScopedDeletion", "Effect": "Allow", "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
         "Resource": [f"arn:{p}:ec2:{r}:*:instance/*", f"arn:{p}:ec2:{r}:*:launch-template/*"],
         "Condition": owned_nodepool},
        # IAMIntegrationPolicy (its instance-profile writes left out, see above)
        {"Sid": "AllowPassingInstanceRole", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": a.cluster.node_role.arn,
         "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}}},
        # EKSIntegrationPolicy
        {"Sid": "AllowAPIServerEndpointDiscovery", "Effect": "Allow", "Action": ["eks:DescribeCluster"],
         "Resource": cluster_arn},
        # InterruptionPolicy
        {"Sid": "AllowInterruptionQueueActions", "Effect": "Allow",
         "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], "Resource": queue_arn},
        # ZonalShiftPolicy left out: arc-zonal-shift:GetManagedResource is called only with
        # settings.enableZonalShift (pkg/operator/operator.go), which this platform does not set.
        # ResourceDiscoveryPolicy
        {"Sid": "AllowRegionalReadActions", "Effect": "Allow",
         "Action": ["ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates", "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"],
         "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": r}}},
        {"Sid": "AllowSSMReadActions", "Effect": "Allow", "Action": ["ssm:GetParameter"],
         "Resource": f"arn:{p}:ssm:{r}::parameter/aws/service/*"},
    ]
    if not a.isolated:  # no pricing endpoint, no profile garbage collector, no finalizer IAM calls
        statements += [
            {"Sid": "AllowPricingReadActions", "Effect": "Allow", "Action": ["pricing:GetProducts"], "Resource": "*"},
            {"Sid": "AllowUnscopedInstanceProfileListAction", "Effect": "Allow",
             "Action": ["iam:ListInstanceProfiles"], "Resource": "*"},
            {"Sid": "AllowInstanceProfileReadActions", "Effect": "Allow", "Action": ["iam:GetInstanceProfile"],
             "Resource": pulumi.Output.from_input(a.account).apply(
                 lambda acct: f"arn:{p}:iam::{acct}:instance-profile/*")},
        ]
    return policy_document(statements)


def cluster_autoscaler_policy(a: ScalingArgs) -> pulumi.Output[str]:
    """Cluster Autoscaler's AWS policy (kubernetes/autoscaler cloudprovider/aws/README.md), with
    its writes and its node-group reads scoped to this cluster."""
    name, p, r = a.cluster.cluster_name, partition_of(a.ctx.region), a.ctx.region
    return policy_document([
        {"Sid": "ScaleOwnGroups", "Effect": "Allow",
         "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
         "Resource": "*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{name}": "owned"}}},
        {"Sid": "Discover", "Effect": "Allow",
         "Action": ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements"],
         "Resource": "*"},
        {"Sid": "DescribeOwnNodegroups", "Effect": "Allow", "Action": ["eks:DescribeNodegroup"],
         "Resource": pulumi.Output.from_input(a.account).apply(
             lambda acct: f"arn:{p}:eks:{r}:{acct}:nodegroup/{name}/*/*")},
    ])


KEDA_STATEMENTS = [{
    "Sid": "ReadSloMetrics", "Effect": "Allow",
    "Action": ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"],
    "Resource": "*"}]


def keda_statements(a: ScalingArgs) -> list:
    """KEDA's operator reads CloudWatch (SLO and dependent triggers) and, with prometheus triggers,
    queries the region's AMP workspace: aps:QueryMetrics for GET /api/v1/query (AMP user guide, "IAM
    permissions": "Run a query on AMP metrics"), and the workspace's key through AMP."""
    statements = list(KEDA_STATEMENTS)
    if a.prometheus is not None and any(d.upstream or d.promql for d in a.dependents):
        statements += [{"Sid": "QueryPrometheus", "Effect": "Allow", "Action": "aps:QueryMetrics",
                        "Resource": a.prometheus.workspace_arn},
                       kms_use_via_aps(a.prometheus.key_arn, [a.ctx.region])]
    return statements


def dependent_trigger(dep, region: str, query_url: Optional[str]) -> dict:
    """One `scaling.dependents` entry as a KEDA trigger. Mesh and PromQL: the `prometheus` scaler
    (kedacore/keda v2.20.2 pkg/scalers/prometheus_scaler.go: serverAddress, query, threshold required;
    with podIdentity provider `aws` and no authModes it signs with SigV4 for service `aps` in
    `awsRegion`, pkg/scalers/aws/aws_sigv4.go); the query must return one series. CloudWatch: the
    `aws-cloudwatch` scaler, as the SLO triggers are built."""
    auth = {"name": "aws-pod-identity", "kind": "ClusterTriggerAuthentication"}
    if dep.upstream or dep.promql:
        if query_url is None:
            raise ValueError(f"dependent {dep.name}: no Prometheus workspace in {region}")
        if dep.upstream:
            name, namespace = dep.upstream.split(".", 1)
            query = (f'sum(rate(istio_requests_total{{reporter="destination",destination_service_name="{name}",'
                     f'destination_service_namespace="{namespace}"}}[{dep.rate_window}]))')
        else:
            query = dep.promql
        meta = {"serverAddress": query_url, "query": query, "threshold": str(dep.target), "awsRegion": region}
        if dep.activation is not None:
            meta["activationThreshold"] = str(dep.activation)
        return {"type": "prometheus", "metadata": meta, "authenticationRef": auth}
    cw = dep.cloudwatch
    meta = {"awsRegion": region, "namespace": cw.namespace, "metricName": cw.metric_name, "minMetricValue": "0",
            "targetMetricValue": str(dep.target), "metricStatPeriod": str(cw.period_seconds),
            "metricCollectionTime": str(metric_collection_time(cw.period_seconds))}
    if dep.activation is not None:
        meta["activationTargetMetricValue"] = str(dep.activation)
    if cw.dimensions:
        names, values = zip(*sorted(cw.dimensions.items()))
        meta.update(dimensionName=";".join(names), dimensionValue=";".join(values), metricStat=cw.statistic)
    else:
        meta["expression"] = f'SELECT {INSIGHTS_FUNCTION[cw.statistic]}("{cw.metric_name}") FROM "{cw.namespace}"'
        del meta["metricName"], meta["namespace"]
    return {"type": "aws-cloudwatch", "metadata": meta, "authenticationRef": auth}


class RegionalScaling(pulumi.ComponentResource):
    def __init__(self, name: str, args: ScalingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, a = args.ctx, args
        super().__init__("global-platform:scaling:RegionalScaling", name, None, opts)
        self.addons: dict[str, ClusterAddon] = {}
        if a.node_autoscaler == "karpenter":
            self._karpenter(a)
        elif a.node_autoscaler == "clusterAutoscaler":
            self.addons["cluster-autoscaler"] = _addon(ctx, a, AddonSpec(
                name="cluster-autoscaler", chart="cluster-autoscaler", repository=AUTOSCALER_REPO,
                version=a.cluster_autoscaler_version, namespace="kube-system",
                # The autoscaler's minor version must match the cluster's (its support policy): the
                # pinned newest release of that minor (config validation refuses a minor not pinned).
                values={"cloudProvider": "aws", "awsRegion": ctx.region,
                        "image": {"tag": CLUSTER_AUTOSCALER_IMAGE_TAGS[a.k8s_version]},
                        "autoDiscovery": {"clusterName": a.cluster.cluster_name},
                        "rbac": {"serviceAccount": {"name": "cluster-autoscaler"}},
                        "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste",
                                      "skip-nodes-with-system-pods": False}},
                identity=AddonIdentity(namespace="kube-system", service_accounts=("cluster-autoscaler",),
                                       policy=cluster_autoscaler_policy(a))),
                a.provider, opts=pulumi.ResourceOptions(parent=self))
        if a.keda_version:
            keda = _addon(ctx, a, AddonSpec(
                name="keda", chart="keda", repository=KEDA_REPO, version=a.keda_version, namespace="keda",
                values={"serviceAccount": {"operator": {"name": "keda-operator"}}},
                identity=AddonIdentity(namespace="keda", service_accounts=("keda-operator",),
                                       policy=policy_document(keda_statements(a)))),
                a.provider, opts=pulumi.ResourceOptions(parent=self))
            self.addons["keda"] = keda
            # Apps' ScaledObjects read the SLO metrics with the operator's pod identity.
            k8s.apiextensions.CustomResource(
                ctx.name("keda-aws-auth"), api_version="keda.sh/v1alpha1", kind="ClusterTriggerAuthentication",
                metadata={"name": "aws-pod-identity"}, spec={"podIdentity": {"provider": "aws"}},
                opts=pulumi.ResourceOptions(parent=self, provider=a.cluster.k8s_provider, depends_on=[keda.release]))
            triggers = {slo.name: keda_trigger(slo, ctx.region) for slo in a.slos if has_keda_trigger(slo)}
            if triggers:
                # One SLO object, three uses: alarm, chaos stop condition, and this scaling trigger.
                k8s.core.v1.ConfigMap(
                    ctx.name("slo-triggers"),
                    metadata={"name": "platform-slo-triggers", "namespace": "keda",
                              "labels": {"app.kubernetes.io/managed-by": "global-platform"}},
                    data={name: json.dumps(trigger, sort_keys=True) for name, trigger in triggers.items()},
                    opts=pulumi.ResourceOptions(parent=self, provider=a.cluster.k8s_provider,
                                                depends_on=[keda.release]))
            self._dependent_triggers(a, keda)
        self.schedules = [self._schedule(s, a) for s in a.schedules]
        self.web_acl = self._waf(a) if a.waf_rate_limit else None
        self.register_outputs({"webAclArn": self.web_acl.arn if self.web_acl else None})

    def _dependent_triggers(self, a: ScalingArgs, keda: ClusterAddon) -> None:
        """scaling.dependents as ready KEDA triggers, like the SLO triggers: the ConfigMap
        `keda/platform-dependent-triggers`, one JSON trigger per name."""
        if not a.dependents:
            return
        url = a.prometheus.query_url if a.prometheus else None
        data = pulumi.Output.from_input(url).apply(lambda u: {
            d.name: json.dumps(dependent_trigger(d, a.ctx.region, u), sort_keys=True) for d in a.dependents})
        k8s.core.v1.ConfigMap(
            a.ctx.name("dependent-triggers"),
            metadata={"name": "platform-dependent-triggers", "namespace": "keda",
                      "labels": {"app.kubernetes.io/managed-by": "global-platform"}},
            data=data, opts=pulumi.ResourceOptions(parent=self, provider=a.cluster.k8s_provider,
                                                   depends_on=[keda.release]))

    def _karpenter(self, a: ScalingArgs) -> None:
        ctx, name = a.ctx, a.cluster.cluster_name
        child = pulumi.ResourceOptions(parent=self, provider=a.provider)
        queue = aws.sqs.Queue(ctx.name("karpenter"), name=f"{name}-karpenter", message_retention_seconds=300,
                              sqs_managed_sse_enabled=True, tags=ctx.tags("karpenter"), opts=child)
        aws.sqs.QueuePolicy(ctx.name("karpenter"), queue_url=queue.url, opts=child, policy=policy_document([
            {"Sid": "EventBridgeDelivers", "Effect": "Allow",
             "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
             "Action": "sqs:SendMessage", "Resource": queue.arn},
            {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": queue.arn,
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]))
        for key, pattern in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(ctx.name("karpenter", key), event_pattern=json.dumps(pattern),
                                            description=f"Karpenter interruption handling: {key}",
                                            tags=ctx.tags(f"karpenter-{key}"), opts=child)
            aws.cloudwatch.EventTarget(ctx.name("karpenter", key), rule=rule.name, arn=queue.arn, opts=child)
        # Karpenter's CRDs come from their own chart, so that upgrading Karpenter upgrades them too
        # (Helm never upgrades a chart's crds/; Karpenter upgrade guide, "CRD Upgrades"). The
        # release job publishes karpenter-crd with every version (hack/release/common.sh).
        crds = _addon(ctx, a, AddonSpec(
            name="karpenter-crd", chart="karpenter-crd", repository=KARPENTER_REPO, version=a.karpenter_version,
            namespace="kube-system"), a.provider, opts=pulumi.ResourceOptions(parent=self))
        addon = _addon(ctx, a, AddonSpec(
            name="karpenter", chart="karpenter", repository=KARPENTER_REPO, version=a.karpenter_version,
            namespace="kube-system", skip_crds=True,
            values={"settings": {"clusterName": name, "interruptionQueue": queue.name, "isolatedVPC": a.isolated},
                    "serviceAccount": {"name": "karpenter"}, "replicas": 2 if a.ha else 1},
            identity=AddonIdentity(namespace="kube-system", service_accounts=("karpenter",), policy=karpenter_policy(a, queue.arn))),
            a.provider, opts=pulumi.ResourceOptions(parent=self), after=[crds.release])
        self.addons["karpenter"] = addon
        # Karpenter launches nodes with this profile (EC2NodeClass spec.instanceProfile) instead of
        # managing profiles itself for spec.role: IAM has no VPC endpoint, so an air-gapped
        # controller could never reach it, and the controller needs no IAM write access at all.
        profile = aws.iam.InstanceProfile(ctx.name("karpenter-nodes"), name=f"{name}-karpenter-nodes",
                                          role=a.cluster.node_role.name, tags=ctx.tags("karpenter-nodes"),
                                          opts=child)
        after = pulumi.ResourceOptions(parent=self, provider=a.cluster.k8s_provider, depends_on=[addon.release])
        node_class = k8s.apiextensions.CustomResource(
            ctx.name("karpenter-nodeclass"), api_version="karpenter.k8s.aws/v1", kind="EC2NodeClass",
            metadata={"name": "default"},
            spec={
                "instanceProfile": profile.name,
                "amiSelectorTerms": [{"alias": a.karpenter_ami_alias}],
                "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": name}}],
                "securityGroupSelectorTerms": [{"tags": {"aws:eks:cluster-name": name}}],
                "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required",
                                    "httpPutResponseHopLimit": 1},
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {
                    "volumeSize": "50Gi", "volumeType": "gp3", "encrypted": True}}],
                "tags": ctx.tags(f"karpenter-{name}"),
                **({"userData": _decoded(node_user_data(a.proxy, f".{ctx.region}.eks.amazonaws.com",
                                                        a.service_cidr))} if a.proxy else {}),
            },
            opts=after)
        k8s.apiextensions.CustomResource(
            ctx.name("karpenter-nodepool"), api_version="karpenter.sh/v1", kind="NodePool",
            metadata={"name": "default"},
            spec={
                "template": {"metadata": {"labels": {"platform/pool": "karpenter"}}, "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                    "requirements": [
                        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]},
                        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                        {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]},
                    ],
                    "expireAfter": "720h"}},
                "limits": {"cpu": "1000"},
                "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=a.cluster.k8s_provider, depends_on=[node_class]))

    def _schedule(self, s: ScheduleArgs, a: ScalingArgs) -> aws.autoscaling.Schedule:
        """Scheduled action on the active pool's Auto Scaling group, in the schedule's zone;
        the node group ignores desired-size drift, so `pulumi up` never undoes it."""
        ctx = a.ctx
        group = a.cluster.node_groups[f"{s.node_group}-{a.active_colour}"]
        asg = group.resources.apply(lambda rs: rs[0].autoscaling_groups[0].name)
        return aws.autoscaling.Schedule(
            ctx.name("schedule", s.name), scheduled_action_name=f"{ctx.environment}-{s.name}",
            autoscaling_group_name=asg, recurrence=s.cron, time_zone=s.time_zone,
            min_size=s.min_size, max_size=s.max_size, desired_capacity=s.desired,
            opts=pulumi.ResourceOptions(parent=self, provider=a.provider))

    def _waf(self, a: ScalingArgs) -> aws.wafv2.WebAcl:
        ctx = a.ctx
        child = pulumi.ResourceOptions(parent=self, provider=a.provider)

        def visibility(metric: str) -> dict:
            return {"cloudwatch_metrics_enabled": True, "sampled_requests_enabled": True,
                    "metric_name": f"{ctx.environment}-{ctx.code}-{metric}"}

        rules = [{"name": "rate-limit-per-ip", "priority": 0, "action": {"block": {}},
                  "statement": {"rate_based_statement": {"limit": a.waf_rate_limit, "aggregate_key_type": "IP",
                                                         "evaluation_window_sec": 300}},
                  "visibility_config": visibility("rate-limit")}]
        for i, group in enumerate(a.waf_managed_groups, start=1):
            rules.append({"name": group, "priority": i, "override_action": {"none": {}},
                          "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
                          "visibility_config": visibility(group)})
        acl = aws.wafv2.WebAcl(
            ctx.name("waf"), name=f"{ctx.environment}-{ctx.code}-ingress", scope="REGIONAL",
            description="Sheds abusive load before it reaches the services and their database",
            default_action={"allow": {}}, rules=rules, visibility_config=visibility("web-acl"),
            tags=ctx.tags("waf"), opts=child)
        # Every blocked and counted request is kept: WAF logs to CloudWatch only into groups named
        # aws-waf-logs-* (WAF developer guide, "CloudWatch Logs log group"), encrypted with the
        # region's logs key; the Authorization header never reaches the logs.
        logs = aws.cloudwatch.LogGroup(
            ctx.name("waf-logs"), name=f"aws-waf-logs-{ctx.environment}-{ctx.code}",
            retention_in_days=a.log_retention_days, kms_key_id=a.logs_kms_key_arn, tags=ctx.tags("waf-logs"),
            opts=child)
        aws.wafv2.WebAclLoggingConfiguration(
            ctx.name("waf-logging"), resource_arn=acl.arn, log_destination_configs=[logs.arn],
            redacted_fields=[{"single_header": {"name": "authorization"}}], opts=child)
        # The AWS Load Balancer Controller attaches it: alb.ingress.kubernetes.io/wafv2-acl-arn.
        aws.ssm.Parameter(ctx.name("waf-arn"), name=f"/global-platform/{ctx.environment}/waf/{ctx.region}/web-acl-arn",
                          type="String", value=acl.arn, tags=ctx.tags("waf-arn"), opts=child)
        return acl


def _decoded(b64: Optional[str]) -> Optional[str]:
    import base64
    return base64.b64decode(b64).decode() if b64 else None
