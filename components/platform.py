"""Composes the platform: one RegionalPlatform per region, each on its own AWS provider,
then the inter-region peerings that join their transit gateways."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .chaos import ChaosArgs, ChaosExperiments, ExperimentArgs, GameDayArgs
from .chaos_library import RegionFacts
from .cluster import ClusterArgs, NodeGroupArgs, RegionalCluster
from .connectivity import PeerEnd, RegionalTransit, ResolverArgs, SiteLink, TransitArgs, TransitPeering
from .gitops import ArgoCdIdentity, GitOpsArgs, GitOpsHub, ProjectArgs, SsoArgs
from .iam import document, key_admin_statement
from .ipam import AZ_LETTERS, VpcPlan
from .naming import RegionContext, partition_of
from .network import NetworkArgs, RegionalNetwork
from .proxy import proxy_env
from .scaling import RegionalScaling, ScalingArgs, ScheduleArgs
from .schedules import region_time_zone
from .slo import SloAlarms, SloArgs
from .stack import StackSpec
from .topology import destinations, next_hop, peering_pairs, reachable, tgw_routes


@dataclass(frozen=True)
class RegionArgs:
    ctx: RegionContext
    plan: VpcPlan
    network: NetworkArgs
    transit: Optional[TransitArgs] = None  # vpc ids and route tables are filled in by the component
    cluster: Optional[ClusterArgs] = None  # likewise: provider, VPC, subnets, logs key
    argocd_identity: bool = False  # the hub of a GitOps stack owns ArgoCD's IAM roles
    slos: tuple[SloArgs, ...] = ()
    chaos: Optional[ChaosArgs] = None  # facts, alarms and providers are filled in by the component
    scaling: Optional[ScalingArgs] = None  # likewise


class RegionalPlatform(pulumi.ComponentResource):
    """Everything that lives in one region, on that region's provider."""

    def __init__(self, args: RegionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.ctx
        super().__init__("global-platform:platform:Region", ctx.code, None, opts)
        # One explicit provider per region, handed down to every child (pulumi_eks components
        # take no `region` argument, so a provider is the one mechanism that works everywhere).
        self.provider = aws.Provider(ctx.name("aws"), region=ctx.region, opts=pulumi.ResourceOptions(parent=self))
        in_region = pulumi.ResourceOptions(parent=self, providers={"aws": self.provider})
        self.account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id

        self.logs_key = logs_kms_key(ctx, self.account, args.network.protect_stateful, in_region)
        self.network = RegionalNetwork(
            ctx.name("network"),
            dataclasses.replace(args.network, logs_kms_key_arn=self.logs_key.arn),
            in_region,
        )
        net = self.network
        self.transit = None
        if args.transit is not None:
            self.transit = RegionalTransit(
                ctx.name("transit"),
                dataclasses.replace(
                    args.transit,
                    vpc_id=net.vpc.id,
                    attachment_subnet_ids=[s.id for s in net.subnets["endpoints"]],
                    resolver_subnet_ids=[s.id for s in net.subnets["endpoints"][:2]],
                    vpc_route_tables={k: rt.id for k, rt in net.private_route_tables.items()},
                    logs_kms_key_arn=self.logs_key.arn,
                ),
                in_region,
            )
        self.argocd_identity = ArgoCdIdentity(ctx, in_region) if args.argocd_identity else None
        self.cluster = None
        if args.cluster is not None:
            self.cluster = RegionalCluster(
                ctx.name("cluster"),
                dataclasses.replace(
                    args.cluster,
                    provider=self.provider,
                    vpc_id=net.vpc.id,
                    worker_subnet_ids=[s.id for s in net.subnets["workers"]],
                    logs_kms_key_arn=self.logs_key.arn,
                ),
                pulumi.ResourceOptions(parent=self, providers={"aws": self.provider},
                                       depends_on=[self.transit] if self.transit else None),
            )
        self.slo = (SloAlarms(ctx, args.slos, self.account, args.network.protect_stateful, in_region)
                    if args.slos else None)
        self.chaos = None
        if args.chaos is not None and self.cluster is not None and self.slo is not None:
            self.chaos = ChaosExperiments(dataclasses.replace(
                args.chaos, facts=self._facts(args), alarm_arns={n: a.arn for n, a in self.slo.alarms.items()},
                logs_kms_key_arn=self.logs_key.arn, k8s_provider=self.cluster.k8s_provider,
                cluster=self.cluster.cluster), in_region)
        self.scaling = None
        if args.scaling is not None and self.cluster is not None:
            self.scaling = RegionalScaling(dataclasses.replace(
                args.scaling, provider=self.provider, cluster=self.cluster, account=self.account,
                logs_kms_key_arn=self.logs_key.arn), in_region)
        self.register_outputs({"vpcId": net.vpc.id, "cidr": str(args.plan.cidr)})

    def _facts(self, args: RegionArgs) -> RegionFacts:
        """What chaos scenarios can aim at in this region."""
        ctx, net, cl = args.ctx, self.network, self.cluster
        p, acct = partition_of(ctx.region), self.account
        by_az: dict[str, list] = {}
        for subnets in net.subnets.values():
            for letter, subnet in zip(AZ_LETTERS, subnets):
                by_az.setdefault(letter, []).append(subnet.arn)
        active = args.cluster.active_colour
        return RegionFacts(
            region=ctx.region, partition=p, account=acct, cluster_name=cl.cluster_name,
            cluster_arn=acct.apply(lambda a: f"arn:{p}:eks:{ctx.region}:{a}:cluster/{cl.cluster_name}"),
            node_group_arns=[ng.arn for key, ng in sorted(cl.node_groups.items()) if key.endswith(active)],
            subnet_arns_by_az=by_az, vpc_arn=net.vpc.arn,
            tgw_arn=self.transit.tgw.arn,
            tgw_route_table_arn=pulumi.Output.all(acct, self.transit.route_table_id).apply(
                lambda v: f"arn:{p}:ec2:{ctx.region}:{v[0]}:transit-gateway-route-table/{v[1]}"),
            node_role_arn=cl.node_role.arn,
            peer_regions=args.chaos.peer_regions,
        )


def logs_kms_key(ctx: RegionContext, account: pulumi.Input[str], protect: bool,
                 opts: pulumi.ResourceOptions) -> aws.kms.Key:
    """Customer-managed key for this region's CloudWatch log groups (flow logs, FIS, VPN, EKS)."""
    partition = partition_of(ctx.region)

    def policy(account: str) -> str:
        return document([
            key_admin_statement(account, partition),
            {"Sid": "CloudWatchLogsUse", "Effect": "Allow",
             "Principal": {"Service": f"logs.{ctx.region}.amazonaws.com"},
             "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
             "Resource": "*",
             "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                       f"arn:{partition}:logs:{ctx.region}:{account}:log-group:*"}}},
        ])

    key = aws.kms.Key(
        ctx.name("logs"),
        description=f"{ctx.environment} CloudWatch Logs encryption in {ctx.region}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=pulumi.Output.from_input(account).apply(policy),
        tags=ctx.tags("logs-key"),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect)),
    )
    aws.kms.Alias(ctx.name("logs"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/logs",
                  target_key_id=key.key_id, opts=opts)
    return key


def _transit_args(spec: StackSpec, ctx: RegionContext, dests, prod: bool) -> TransitArgs:
    cfg = spec.config
    conn, region, hub, mode = cfg.connectivity, ctx.region, cfg.hub.name, cfg.connectivity.peering
    sites = []
    for site in conn.on_prem:
        if site.link_region != region:
            continue
        dx = site.direct_connect
        prefixes = ()
        if dx is not None:
            prefixes = tuple(str(p) for p in dx.allowed_prefixes) if dx.allowed_prefixes else tuple(
                d.cidr for d in dests if d.kind == "vpc" and next_hop(region, d.region, hub, mode))
        sites.append(SiteLink(
            name=site.name, cidrs=tuple(map(str, site.cidrs)),
            vpn_ip=str(site.vpn.ip) if site.vpn else None, vpn_bgp_asn=site.vpn.bgp_asn if site.vpn else None,
            dx_amazon_side_asn=dx.amazon_side_asn if dx else None, dx_allowed_prefixes=prefixes))
    resolver = None
    if conn.resolver:
        reaches_on_prem = any(d.kind == "onprem" for d in reachable(region, dests, hub, mode))
        inbound = conn.resolver.inbound == "all" or (conn.resolver.inbound == "hub" and region == hub)
        resolver = ResolverArgs(
            dns_servers=tuple(map(str, conn.resolver.dns_servers)), domains=tuple(conn.resolver.forward_domains),
            outbound=reaches_on_prem, inbound=inbound,
            on_prem_cidrs=tuple(str(c) for s in conn.on_prem for c in s.cidrs))
    tgw = conn.transit_gateway
    return TransitArgs(
        ctx=ctx, asn=cfg.tgw_asns()[region], vpc_id="",
        attachment_subnet_ids=(), resolver_subnet_ids=(), vpc_route_tables={},
        remote=tuple(reachable(region, dests, hub, mode)),
        association=tgw.default_route_table_association, propagation=tgw.default_route_table_propagation,
        sites=tuple(sites), resolver=resolver, log_retention_days=cfg.network.flow_log_retention_days,
        protect_stateful=prod)


def _cluster_args(spec: StackSpec, ctx: RegionContext, is_hub: bool,
                  argocd_role_arn: Optional[pulumi.Input[str]]) -> Optional[ClusterArgs]:
    cfg = spec.config
    cl = cfg.cluster
    if cl is None:
        return None
    addons = {k: getattr(cl.addons, snake) for k, snake in (
        ("vpcCni", "vpc_cni"), ("coredns", "coredns"), ("kubeProxy", "kube_proxy"), ("ebsCsi", "ebs_csi"),
        ("podIdentityAgent", "pod_identity_agent"))}
    hub_cidr = str(spec.plan[cfg.hub.name].cidr)
    return ClusterArgs(
        ctx=ctx, provider=None, cluster_name=f"{cfg.environment}-{ctx.code}", version=cl.version,
        vpc_id="", worker_subnet_ids=(),
        private_endpoint_only=cl.endpoint_access == "private",
        public_access_cidrs=tuple(str(c) for c in cl.public_access_cidrs),
        service_cidr=str(cl.service_cidr),
        node_groups=tuple(NodeGroupArgs(
            name=ng.name, instance_types=tuple(ng.instance_types), capacity_type=ng.capacity_type,
            min_size=ng.min_size, max_size=ng.max_size, desired_size=ng.desired_size,
            disk_size_gib=ng.disk_size_gib, labels=dict(ng.labels), taints=tuple(ng.taints)) for ng in cl.node_groups),
        active_colour=cl.blue_green.active,
        addons=addons,
        admin_role_arns=tuple(cl.admin_role_arns),
        extra_admin_role_arns=(argocd_role_arn,) if argocd_role_arn is not None and not is_hub else (),
        api_ingress_cidrs=(hub_cidr,) if cfg.gitops and not is_hub else (),
        proxy=proxy_env(spec, ctx.region),
        log_retention_days=cl.log_retention_days,
        protect_stateful=cfg.environment == "prod",
        # Desired size belongs to schedules and Cluster Autoscaler once they exist.
        ignore_scaling_changes=bool(cfg.scaling and (cfg.scaling.schedules
                                                     or cfg.scaling.node_autoscaler == "clusterAutoscaler")),
    )


def _slo_args(spec: StackSpec, region: str) -> tuple[SloArgs, ...]:
    return tuple(SloArgs(
        name=s.name, kind=s.kind, percentile=s.percentile, objective=s.objective,
        period_seconds=s.period_seconds, evaluation_periods=s.evaluation_periods,
        datapoints_to_alarm=s.datapoints_to_alarm, load_balancer=s.load_balancers.get(region),
        namespace=s.namespace, metric_name=s.metric_name, dimensions=tuple(sorted(s.dimensions.items())),
        statistic=s.statistic) for s in spec.config.slos)


def _chaos_args(spec: StackSpec, ctx: RegionContext) -> Optional[ChaosArgs]:
    cfg = spec.config
    if cfg.chaos is None or cfg.cluster is None or not cfg.slos:
        return None
    experiments = tuple(ExperimentArgs(
        key=sc.key, scenario=sc.scenario, parameters=dict(sc.parameters), selection=sc.selection.fis(),
        stop_on=tuple(sc.stop_on or ())) for sc in cfg.chaos.scenarios if ctx.region in (sc.regions or [ctx.region]))
    hub, mode = cfg.hub.name, cfg.connectivity.peering
    peers = tuple(sorted({b if a == ctx.region else a for a, b in peering_pairs(cfg.region_names, hub, mode)
                          if ctx.region in (a, b)}))
    gd = cfg.chaos.game_day
    return ChaosArgs(
        ctx=ctx, experiments=experiments, log_retention_days=cfg.chaos.log_retention_days, peer_regions=peers,
        game_day=GameDayArgs(gd.cron, gd.time_zone or region_time_zone(ctx.region), tuple(gd.scenarios)) if gd else None)


def _scaling_args(spec: StackSpec, ctx: RegionContext) -> Optional[ScalingArgs]:
    cfg, sc = spec.config, spec.config.scaling
    if sc is None or cfg.cluster is None:
        return None
    return ScalingArgs(
        ctx=ctx, provider=None, cluster=None, account="", active_colour=cfg.cluster.blue_green.active,
        node_autoscaler=sc.node_autoscaler, karpenter_version=sc.karpenter_chart_version,
        karpenter_ami_alias=sc.karpenter_ami_alias,
        cluster_autoscaler_version=sc.cluster_autoscaler_chart_version, keda_version=sc.keda_chart_version,
        schedules=tuple(ScheduleArgs(s.name, s.cron, s.time_zone or region_time_zone(ctx.region), s.node_group,
                                     s.min_size, s.max_size, s.desired) for s in sc.schedules),
        waf_rate_limit=sc.waf.requests_per_five_minutes if sc.waf else None,
        waf_managed_groups=tuple(sc.waf.managed_rule_groups) if sc.waf else (),
        proxy=proxy_env(spec, ctx.region), service_cidr=str(cfg.cluster.service_cidr),
        isolated=cfg.network.egress == "proxy", ha=cfg.environment == "prod", k8s_version=cfg.cluster.version,
        slos=_slo_args(spec, ctx.region), log_retention_days=cfg.network.flow_log_retention_days)


def build_platform(spec: StackSpec) -> dict[str, RegionalPlatform]:
    cfg = spec.config
    prod = cfg.environment == "prod"
    conn, hub, mode = cfg.connectivity, cfg.hub.name, cfg.connectivity.peering
    dests = destinations(
        {r: str(v.cidr) for r, v in spec.plan.vpcs.items()},
        [(s.name, s.link_region, [str(c) for c in s.cidrs]) for s in conn.on_prem if s.link_region])

    regions: dict[str, RegionalPlatform] = {}
    contexts: dict[str, RegionContext] = {}
    argocd_role_arn = None
    # The hub first: it owns ArgoCD's IAM roles, which spokes grant access to.
    for region in sorted(cfg.regions, key=lambda r: (r.role != "hub", r.name)):
        ctx = contexts[region.name] = RegionContext(region.name, cfg.environment, cfg.owner)
        plan = spec.plan[region.name]
        network = NetworkArgs(
            ctx=ctx,
            plan=plan,
            az_count=cfg.network.az_count,
            nat_mode=cfg.nat_mode,
            egress=cfg.network.egress,
            interface_endpoints=cfg.interface_endpoints,
            database_tier=cfg.network.database_tier,
            flow_log_retention_days=cfg.network.flow_log_retention_days,
            protect_stateful=prod,
            worker_subnet_tags=({"karpenter.sh/discovery": f"{cfg.environment}-{ctx.code}"}
                                if cfg.scaling and cfg.scaling.node_autoscaler == "karpenter" else {}),
        )
        transit = _transit_args(spec, ctx, dests, prod)
        is_hub = region.name == hub
        cluster = _cluster_args(spec, ctx, is_hub, argocd_role_arn)
        rp = regions[region.name] = RegionalPlatform(RegionArgs(
            ctx, plan, network, transit, cluster, argocd_identity=is_hub and cfg.gitops is not None,
            slos=_slo_args(spec, region.name), chaos=_chaos_args(spec, ctx), scaling=_scaling_args(spec, ctx)))
        if rp.argocd_identity is not None:
            argocd_role_arn = rp.argocd_identity.spoke_access_role.arn

    for a, b in peering_pairs(cfg.region_names, hub, mode):
        ends = []
        for me, other in ((a, b), (b, a)):
            routes = tuple(tgw_routes(me, dests, hub, mode).get(other, []))
            ends.append(PeerEnd(contexts[me], regions[me].provider, regions[me].transit, routes))
        TransitPeering(ends[0], ends[1], conn.transit_gateway.default_route_table_association)

    if cfg.gitops is not None:
        _gitops(spec, regions, contexts)

    pulumi.export("environment", cfg.environment)
    pulumi.export("hubRegion", hub)
    pulumi.export("regions", {
        name: {
            "vpcId": rp.network.vpc.id,
            "cidr": str(spec.plan[name].cidr),
            "subnets": {tier: [s.id for s in subs] for tier, subs in rp.network.subnets.items()},
            "transitGatewayId": rp.transit.tgw.id,
            "clusterName": rp.cluster.cluster_name if rp.cluster else None,
            "sloAlarmArns": {n: a.arn for n, a in rp.slo.alarms.items()} if rp.slo else {},
            "fisTemplateIds": {k: t.id for k, t in rp.chaos.templates.items()} if rp.chaos else {},
            "webAclArn": rp.scaling.web_acl.arn if rp.scaling and rp.scaling.web_acl else None,
            "resolverInboundIps": (rp.transit.resolver_inbound.ip_addresses.apply(lambda ips: [i["ip"] for i in ips or []])
                                   if rp.transit.resolver_inbound else []),
        }
        for name, rp in regions.items()
    })
    proxies = {name: proxy_env(spec, name) for name in regions}
    if any(proxies.values()):
        pulumi.export("proxy", {name: p.as_env() for name, p in proxies.items() if p})
    return regions


def _gitops(spec: StackSpec, regions: dict[str, RegionalPlatform], contexts: dict[str, RegionContext]) -> GitOpsHub:
    cfg, go = spec.config, spec.config.gitops
    hub = regions[cfg.hub.name]
    sso = None
    if go.argocd.sso:
        sso = SsoArgs(issuer=go.argocd.sso.issuer, client_id=go.argocd.sso.client_id,
                      client_secret=pulumi.Output.secret(cfg.argocd_sso_client_secret),
                      groups=dict(go.argocd.sso.groups), default_role=go.argocd.sso.default_role)
    return GitOpsHub(GitOpsArgs(
        hub_ctx=contexts[cfg.hub.name], hub_provider=hub.provider, hub=hub.cluster,
        spokes={name: rp.cluster for name, rp in regions.items() if name != cfg.hub.name},
        identity=hub.argocd_identity, chart_version=go.argocd.chart_version,
        chart_repository=go.argocd.chart_repository, ha=go.argocd.ha,
        domain=go.argocd.domain, repo_url=go.repo_url, path=go.path, target_revision=go.target_revision,
        projects=tuple(ProjectArgs(p.name, p.description, tuple(p.source_repos), tuple(p.namespaces))
                       for p in go.projects),
        sso=sso, proxy=proxy_env(spec, cfg.hub.name), extra_no_proxy=(str(cfg.cluster.service_cidr),),
        registry={name: rp.cluster for name, rp in regions.items()},
    ))
