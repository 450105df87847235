"""Composes the platform: one RegionalPlatform per region, each on its own AWS provider,
then the inter-region peerings that join their transit gateways."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .connectivity import PeerEnd, RegionalTransit, ResolverArgs, SiteLink, TransitArgs, TransitPeering
from .ipam import VpcPlan
from .naming import RegionContext, partition_of
from .network import NetworkArgs, RegionalNetwork
from .proxy import proxy_env
from .stack import StackSpec
from .topology import destinations, next_hop, peering_pairs, reachable, tgw_routes


@dataclass(frozen=True)
class RegionArgs:
    ctx: RegionContext
    role: str
    plan: VpcPlan
    network: NetworkArgs
    transit: Optional[TransitArgs] = None  # vpc ids and route tables are filled in by the component


class RegionalPlatform(pulumi.ComponentResource):
    """Everything that lives in one region, on that region's provider."""

    def __init__(self, args: RegionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.ctx
        super().__init__("global-platform:platform:Region", ctx.code, None, opts)
        # One explicit provider per region, handed down to every child (pulumi_eks components
        # take no `region` argument, so a provider is the one mechanism that works everywhere).
        self.provider = aws.Provider(ctx.name("aws"), region=ctx.region, opts=pulumi.ResourceOptions(parent=self))
        in_region = pulumi.ResourceOptions(parent=self, providers={"aws": self.provider})

        self.logs_key = logs_kms_key(ctx, args.network.protect_stateful, in_region)
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
        self.register_outputs({"vpcId": net.vpc.id, "cidr": str(args.plan.cidr)})


def logs_kms_key(ctx: RegionContext, protect: bool, opts: pulumi.ResourceOptions) -> aws.kms.Key:
    """Customer-managed key for this region's CloudWatch log groups (flow logs, FIS, VPN)."""
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent))
    partition = partition_of(ctx.region)

    def policy(account: str) -> str:
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "AccountAdministers", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                 "Action": "kms:*", "Resource": "*"},
                {"Sid": "CloudWatchLogsUse", "Effect": "Allow",
                 "Principal": {"Service": f"logs.{ctx.region}.amazonaws.com"},
                 "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                 "Resource": "*",
                 "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                           f"arn:{partition}:logs:{ctx.region}:{account}:log-group:*"}}},
            ],
        })

    key = aws.kms.Key(
        ctx.name("logs"),
        description=f"{ctx.environment} CloudWatch Logs encryption in {ctx.region}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=identity.account_id.apply(policy),
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
        ctx=ctx, asn=cfg.tgw_asns()[region], vpc_id="", vpc_cidr=str(spec.plan[region].cidr),
        attachment_subnet_ids=(), resolver_subnet_ids=(), vpc_route_tables={},
        remote=tuple(reachable(region, dests, hub, mode)),
        association=tgw.default_route_table_association, propagation=tgw.default_route_table_propagation,
        sites=tuple(sites), resolver=resolver, log_retention_days=cfg.network.flow_log_retention_days,
        protect_stateful=prod)


def build_platform(spec: StackSpec) -> dict[str, RegionalPlatform]:
    cfg = spec.config
    prod = cfg.environment == "prod"
    conn, hub, mode = cfg.connectivity, cfg.hub.name, cfg.connectivity.peering
    dests = destinations(
        {r: str(v.cidr) for r, v in spec.plan.vpcs.items()},
        [(s.name, s.link_region, [str(c) for c in s.cidrs]) for s in conn.on_prem if s.link_region])

    regions: dict[str, RegionalPlatform] = {}
    contexts: dict[str, RegionContext] = {}
    for region in sorted(cfg.regions, key=lambda r: r.name):
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
        )
        transit = _transit_args(spec, ctx, dests, prod)
        regions[region.name] = RegionalPlatform(RegionArgs(ctx, region.role, plan, network, transit))

    for a, b in peering_pairs(cfg.region_names, hub, mode):
        ends = []
        for me, other in ((a, b), (b, a)):
            routes = tuple(tgw_routes(me, dests, hub, mode).get(other, []))
            ends.append(PeerEnd(contexts[me], regions[me].provider, regions[me].transit, routes))
        TransitPeering(ends[0], ends[1], conn.transit_gateway.default_route_table_association)

    pulumi.export("environment", cfg.environment)
    pulumi.export("hubRegion", hub)
    pulumi.export("regions", {
        name: {
            "vpcId": rp.network.vpc.id,
            "cidr": str(spec.plan[name].cidr),
            "subnets": {tier: [s.id for s in subs] for tier, subs in rp.network.subnets.items()},
            "transitGatewayId": rp.transit.tgw.id,
            "resolverInboundIps": (rp.transit.resolver_inbound.ip_addresses.apply(lambda ips: [i["ip"] for i in ips or []])
                                   if rp.transit.resolver_inbound else []),
        }
        for name, rp in regions.items()
    })
    proxies = {name: proxy_env(spec, name) for name in regions}
    if any(proxies.values()):
        pulumi.export("proxy", {name: p.as_env() for name, p in proxies.items() if p})
    return regions
