"""Connectivity: a transit gateway per region, inter-region TGW peering with static routes,
site-to-site VPN and Direct Connect to on-prem, and Route 53 Resolver for hybrid DNS.

``RegionalTransit`` lives under a region's component (its provider is inherited);
``TransitPeering`` joins two regions and so takes both providers explicitly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from .naming import RegionContext
from .stack import StackSpec
from .topology import Destination, next_hop, reachable
from .wiring import RegionWiring

# Strong IKEv2 proposals only: AES-GCM/AES-256, SHA-2, ECP DH groups.
PHASE_ENCRYPTION = ["AES256", "AES256-GCM-16"]
PHASE_INTEGRITY = ["SHA2-256", "SHA2-384", "SHA2-512"]
PHASE_DH_GROUPS = [19, 20, 21]


def cidr_slug(cidr: str) -> str:
    return cidr.replace(".", "-").replace("/", "-")


@dataclass(frozen=True, kw_only=True)
class SiteLink:
    """An on-prem site whose VPN and/or Direct Connect terminate in this region."""
    name: str
    cidrs: tuple[str, ...]
    vpn_ip: Optional[str] = None
    vpn_bgp_asn: Optional[int] = None
    dx_amazon_side_asn: Optional[int] = None
    dx_allowed_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ResolverArgs:
    dns_servers: tuple[str, ...]
    domains: tuple[str, ...]
    outbound: bool
    inbound: bool
    on_prem_cidrs: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TransitArgs:
    ctx: RegionContext
    asn: int
    vpc_id: pulumi.Input[str]
    attachment_subnet_ids: Sequence[pulumi.Input[str]]  # endpoint tier, one per AZ
    resolver_subnet_ids: Sequence[pulumi.Input[str]]  # two AZs
    vpc_route_tables: dict[str, pulumi.Input[str]]  # key -> route table id (private tiers)
    remote: tuple[Destination, ...]  # what the VPC sends to the TGW
    association: str = "disable"
    propagation: str = "disable"
    sites: tuple[SiteLink, ...] = ()
    resolver: Optional[ResolverArgs] = None
    logs_kms_key_arn: Optional[pulumi.Input[str]] = None
    log_retention_days: int = 90
    protect_stateful: bool = False
    # A network account that owns the TGW (not the region's account): its context (names, tags, the
    # role its provider assumes), the region's account id (the RAM principal), and whether the share
    # leaves the organisation (then the region's account accepts an invitation).
    owner_ctx: Optional[RegionContext] = None
    workload_account: Optional[pulumi.Input[str]] = None
    share_outside_organization: bool = False


def transit_args(spec: StackSpec, w: RegionWiring, dests: tuple[Destination, ...]) -> TransitArgs:
    """This region's TGW: attached to the region's VPC, its on-prem links, hybrid DNS, and the
    destinations the VPC reaches through it."""
    cfg = spec.config
    conn, region, hub, mode = cfg.connectivity, w.ctx.region, cfg.hub.name, cfg.connectivity.peering
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
    tgw, net = conn.transit_gateway, w.network
    owner_ctx = None
    if tgw.account is not None:
        network = cfg.accounts[tgw.account]
        if w.ctx.account is None or network.account_id != w.ctx.account.account_id:
            owner_ctx = dataclasses.replace(w.ctx, account=network)
    return TransitArgs(
        owner_ctx=owner_ctx, workload_account=w.account if owner_ctx else None,
        share_outside_organization=tgw.share_outside_organization,
        ctx=w.ctx, asn=cfg.tgw_asns()[region], vpc_id=net.vpc.id,
        attachment_subnet_ids=[s.id for s in net.subnets["endpoints"]],
        resolver_subnet_ids=[s.id for s in net.subnets["endpoints"][:2]],
        vpc_route_tables={k: rt.id for k, rt in net.private_route_tables.items()},
        remote=tuple(reachable(region, dests, hub, mode)),
        association=tgw.default_route_table_association, propagation=tgw.default_route_table_propagation,
        sites=tuple(sites), resolver=resolver, logs_kms_key_arn=w.logs_key.arn,
        log_retention_days=cfg.network.flow_log_retention_days, protect_stateful=cfg.environment == "prod")


class RegionalTransit(pulumi.ComponentResource):
    def __init__(self, name: str, args: TransitArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:connectivity:RegionalTransit", name, None, opts)
        ctx = args.ctx
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        # The TGW's side (the TGW, its route tables, peerings, on-prem links) lives in the owner
        # account: the network account's provider when there is one, else the region's (inherited).
        # Late import: components.platform imports this module.
        from .platform.providers import account_of, network_provider
        self.owner_ctx = args.owner_ctx or ctx
        self.owner_provider = network_provider(args.owner_ctx, self) if args.owner_ctx else None
        self._own = pulumi.ResourceOptions(parent=self, provider=self.owner_provider)
        octx = self.owner_ctx
        self._logs_key_arn = args.logs_kms_key_arn

        self.tgw = aws.ec2transitgateway.TransitGateway(
            ctx.name("tgw"),
            description=f"{ctx.environment} platform transit gateway in {ctx.region}",
            amazon_side_asn=args.asn,
            # Shared VPC attachments wait for an explicit VpcAttachmentAccepter in the owner account.
            auto_accept_shared_attachments="disable",
            default_route_table_association=args.association,
            default_route_table_propagation=args.propagation,
            dns_support="enable",
            vpn_ecmp_support="enable",
            tags=octx.tags("tgw"),
            opts=pulumi.ResourceOptions.merge(self._own, pulumi.ResourceOptions(protect=args.protect_stateful)),
        )
        if args.association == "enable":
            self.route_table_id = self.tgw.association_default_route_table_id
        else:
            self.route_table_id = aws.ec2transitgateway.RouteTable(
                ctx.name("tgw-rt"), transit_gateway_id=self.tgw.id, tags=octx.tags("tgw-rt"), opts=self._own).id

        shared = self._share() if self.owner_provider else []
        # Must match the TGW's defaults, or AWS associates the attachment twice. On a shared TGW the
        # attaching account cannot set them (the provider skips them: TF v6.58.0
        # resourceTransitGatewayVPCAttachmentCreate, "cannot modify Transit Gateway Route Tables for
        # RAM shared Transit Gateways"): the owner's accepter sets them instead.
        defaults = dict(transit_gateway_default_route_table_association=args.association == "enable",
                        transit_gateway_default_route_table_propagation=args.propagation == "enable")
        self.vpc_attachment = aws.ec2transitgateway.VpcAttachment(
            ctx.name("tgw-vpc"),
            transit_gateway_id=self.tgw.id,
            vpc_id=args.vpc_id,
            subnet_ids=list(args.attachment_subnet_ids),
            dns_support="enable",
            tags=ctx.tags("tgw-vpc"),
            # A shared TGW is only visible to the region's account once the share holds it and
            # names the account (and, outside an organisation, once the invitation is accepted).
            opts=pulumi.ResourceOptions(parent=self, depends_on=shared) if shared else child,
            **({} if self.owner_provider else defaults),
        )
        attachment_ready: list[pulumi.Resource] = [self.vpc_attachment]
        attachment_id = self.vpc_attachment.id
        if self.owner_provider:
            # The attachment waits in pendingAcceptance (TF v6.58.0 waitTransitGatewayVPCAttachmentCreated
            # targets available|pendingAcceptance) until the owner accepts it.
            accepter = aws.ec2transitgateway.VpcAttachmentAccepter(
                ctx.name("tgw-vpc-accept"), transit_gateway_attachment_id=self.vpc_attachment.id,
                tags=octx.tags("tgw-vpc"), opts=pulumi.ResourceOptions.merge(
                    self._own, pulumi.ResourceOptions(depends_on=[self.vpc_attachment])), **defaults)
            attachment_ready.append(accepter)
            attachment_id = accepter.id
            self.owner_account = account_of(self.owner_provider)
            if any(s.vpn_ip for s in args.sites):
                # VPN tunnel logs live in the owner account: a logs key of its own there.
                from .logs_key import logs_kms_key
                self._logs_key_arn = logs_kms_key(octx, self.owner_account, args.protect_stateful, self._own,
                                                 key="network-logs").arn
        self.vpc_attachment_ready = attachment_ready
        self.attach("vpc", attachment_id, propagate=True)

        for key, table_id in sorted(args.vpc_route_tables.items()):
            for dest in args.remote:
                aws.ec2.Route(
                    ctx.name("to-tgw", key, cidr_slug(dest.cidr)),
                    route_table_id=table_id,
                    destination_cidr_block=dest.cidr,
                    transit_gateway_id=self.tgw.id,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=attachment_ready),
                )

        self.vpns = [self._vpn(site) for site in args.sites if site.vpn_ip]
        self.dx = [self._direct_connect(site) for site in args.sites if site.dx_amazon_side_asn]
        self.resolver_inbound = None
        if args.resolver:
            self._resolver(args.resolver)
        self.register_outputs({"transitGatewayId": self.tgw.id, "routeTableId": self.route_table_id})

    def attach(self, key: str, attachment_id: pulumi.Input[str], propagate: bool) -> None:
        """Associate an attachment with the platform route table (and propagate its routes),
        unless the TGW's defaults already do it."""
        ctx = self._args.ctx
        opts = self._own
        if self._args.association == "disable":
            aws.ec2transitgateway.RouteTableAssociation(
                ctx.name("tgw-assoc", key), transit_gateway_attachment_id=attachment_id,
                transit_gateway_route_table_id=self.route_table_id, opts=opts)
        if propagate and self._args.propagation == "disable":
            aws.ec2transitgateway.RouteTablePropagation(
                ctx.name("tgw-prop", key), transit_gateway_attachment_id=attachment_id,
                transit_gateway_route_table_id=self.route_table_id, opts=opts)

    def _share(self) -> list[pulumi.Resource]:
        """The TGW shared with the region's account through AWS RAM, in the owner account. Inside
        one organisation with RAM sharing enabled no invitation is sent and external principals
        are refused; outside it the region's account accepts the invitation (pulumi-aws
        ram.PrincipalAssociation / ResourceShareAccepter docs, read 2026-11-26)."""
        ctx, octx, a = self._args.ctx, self.owner_ctx, self._args
        share = aws.ram.ResourceShare(
            ctx.name("tgw-share"), name=f"{ctx.environment}-{ctx.code}-tgw",
            allow_external_principals=a.share_outside_organization, tags=octx.tags("tgw-share"), opts=self._own)
        resource = aws.ram.ResourceAssociation(
            ctx.name("tgw-share"), resource_arn=self.tgw.arn, resource_share_arn=share.arn, opts=self._own)
        principal = aws.ram.PrincipalAssociation(
            ctx.name("tgw-share"), principal=a.workload_account, resource_share_arn=share.arn, opts=self._own)
        done: list[pulumi.Resource] = [resource, principal]
        if a.share_outside_organization:
            done.append(aws.ram.ResourceShareAccepter(
                ctx.name("tgw-share"), share_arn=share.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[resource, principal])))
        self.share = share
        return done

    def _log_group(self, key: str) -> aws.cloudwatch.LogGroup:
        ctx = self.owner_ctx
        return aws.cloudwatch.LogGroup(
            ctx.name(key), name=ctx.log_group_name(key),
            retention_in_days=self._args.log_retention_days, kms_key_id=self._logs_key_arn,
            tags=ctx.tags(key), opts=self._own)

    def _vpn(self, site: SiteLink) -> aws.ec2.VpnConnection:
        ctx = self.owner_ctx
        child = self._own
        cgw = aws.ec2.CustomerGateway(
            ctx.name("cgw", site.name), bgp_asn=str(site.vpn_bgp_asn), ip_address=site.vpn_ip,
            type="ipsec.1", device_name=site.name, tags=ctx.tags(f"cgw-{site.name}"), opts=child)
        logs = self._log_group(f"vpn-{site.name}")
        log_options = {"cloudwatch_log_options": {"log_enabled": True, "log_group_arn": logs.arn,
                                                  "log_output_format": "json"}}
        tunnel = {}
        for t in ("tunnel1", "tunnel2"):
            tunnel.update({
                f"{t}_ike_versions": ["ikev2"],
                f"{t}_phase1_encryption_algorithms": PHASE_ENCRYPTION,
                f"{t}_phase1_integrity_algorithms": PHASE_INTEGRITY,
                f"{t}_phase1_dh_group_numbers": PHASE_DH_GROUPS,
                f"{t}_phase2_encryption_algorithms": PHASE_ENCRYPTION,
                f"{t}_phase2_integrity_algorithms": PHASE_INTEGRITY,
                f"{t}_phase2_dh_group_numbers": PHASE_DH_GROUPS,
                f"{t}_log_options": log_options,
            })
        vpn = aws.ec2.VpnConnection(
            ctx.name("vpn", site.name),
            customer_gateway_id=cgw.id,
            transit_gateway_id=self.tgw.id,
            type="ipsec.1",
            static_routes_only=False,  # BGP: on-prem prefixes propagate into the TGW route table
            preshared_key_storage="SecretsManager",  # tunnel keys stay out of Pulumi state
            tags=ctx.tags(f"vpn-{site.name}"),
            opts=child,
            **tunnel,
        )
        self.attach(f"vpn-{site.name}", vpn.transit_gateway_attachment_id, propagate=True)
        return vpn

    def _direct_connect(self, site: SiteLink) -> aws.directconnect.GatewayAssociation:
        ctx = self.owner_ctx
        stateful = pulumi.ResourceOptions.merge(self._own, pulumi.ResourceOptions(protect=self._args.protect_stateful))
        # The DX gateway is global; the physical connection and transit VIF belong to the
        # network team's account and attach to this gateway.
        gateway = aws.directconnect.Gateway(
            ctx.name("dxgw", site.name), name=f"{ctx.environment}-{site.name}",
            amazon_side_asn=str(site.dx_amazon_side_asn), tags=ctx.tags(f"dxgw-{site.name}"), opts=stateful)
        association = aws.directconnect.GatewayAssociation(
            ctx.name("dxgw-tgw", site.name), dx_gateway_id=gateway.id, associated_gateway_id=self.tgw.id,
            allowed_prefixes=list(site.dx_allowed_prefixes), opts=self._own)
        self.attach(f"dx-{site.name}", association.transit_gateway_attachment_id, propagate=True)
        return association

    def _dns_sg(self, key: str, description: str, peers: Sequence[str], ingress: bool) -> aws.ec2.SecurityGroup:
        ctx = self._args.ctx
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(ctx.name(key), vpc_id=self._args.vpc_id, description=description,
                                   tags=ctx.tags(key), opts=child)
        rule = aws.vpc.SecurityGroupIngressRule if ingress else aws.vpc.SecurityGroupEgressRule
        for peer in peers:
            for proto in ("tcp", "udp"):
                rule(ctx.name(key, proto, cidr_slug(peer)), security_group_id=sg.id, cidr_ipv4=peer,
                     ip_protocol=proto, from_port=53, to_port=53, description=f"DNS {proto}",
                     tags=ctx.tags(f"{key}-{proto}"), opts=child)
        return sg

    def _resolver(self, r: ResolverArgs) -> None:
        ctx, a = self._args.ctx, self._args
        child = pulumi.ResourceOptions(parent=self)
        ips = [{"subnet_id": s} for s in a.resolver_subnet_ids]
        if r.outbound:
            sg = self._dns_sg("resolver-out", "Route 53 Resolver outbound: DNS to on-prem servers",
                              [f"{ip}/32" for ip in r.dns_servers], ingress=False)
            endpoint = aws.route53.ResolverEndpoint(
                ctx.name("resolver-out"), name=f"{ctx.environment}-{ctx.code}-outbound", direction="OUTBOUND",
                security_group_ids=[sg.id], ip_addresses=ips, protocols=["Do53"],
                tags=ctx.tags("resolver-out"), opts=child)
            for domain in r.domains:
                rule = aws.route53.ResolverRule(
                    ctx.name("fwd", domain.replace(".", "-")), name=f"{ctx.environment}-{domain.replace('.', '-')}",
                    domain_name=domain, rule_type="FORWARD", resolver_endpoint_id=endpoint.id,
                    target_ips=[{"ip": ip, "port": 53} for ip in r.dns_servers],
                    tags=ctx.tags(f"fwd-{domain}"), opts=child)
                aws.route53.ResolverRuleAssociation(
                    ctx.name("fwd", domain.replace(".", "-")), resolver_rule_id=rule.id, vpc_id=a.vpc_id, opts=child)
        if r.inbound:
            sg = self._dns_sg("resolver-in", "Route 53 Resolver inbound: DNS from on-prem",
                              list(r.on_prem_cidrs), ingress=True)
            self.resolver_inbound = aws.route53.ResolverEndpoint(
                ctx.name("resolver-in"), name=f"{ctx.environment}-{ctx.code}-inbound", direction="INBOUND",
                security_group_ids=[sg.id], ip_addresses=ips, protocols=["Do53"],
                tags=ctx.tags("resolver-in"), opts=child)


@dataclass(frozen=True, kw_only=True)
class PeerEnd:
    ctx: RegionContext
    provider: aws.Provider
    transit: RegionalTransit
    routes: tuple[Destination, ...]  # destinations this side reaches through the peering


@dataclass(frozen=True, kw_only=True)
class PeeringArgs:
    requester: PeerEnd
    accepter: PeerEnd
    association: str  # the TGWs' default route table association (enable | disable)


def peering_name(a: RegionContext, b: RegionContext) -> str:
    return f"{a.code}-{b.code}"


class TransitPeering(pulumi.ComponentResource):
    """TGW peering between two regions: attachment (requester side), accepter (peer side),
    route table associations, and the static routes each side sends through it."""

    def __init__(self, name: str, args: PeeringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        a, b, association = args.requester, args.accepter, args.association
        super().__init__("global-platform:connectivity:TransitPeering", name, None, opts)
        # TGWs of two accounts (each region owning its own, no network account): the peer's account
        # must be named, or EC2 looks for the peer TGW in the requester's account.
        a_acct, b_acct = (e.ctx.account.account_id if e.ctx.account else None for e in (a, b))
        self.attachment = aws.ec2transitgateway.PeeringAttachment(
            a.ctx.name("peer", b.ctx.code),
            transit_gateway_id=a.transit.tgw.id,
            peer_region=b.ctx.region,
            peer_transit_gateway_id=b.transit.tgw.id,
            tags=a.ctx.tags(f"peer-{b.ctx.code}"),
            opts=pulumi.ResourceOptions(parent=self, provider=a.provider),
            **({"peer_account_id": b_acct} if b_acct and b_acct != a_acct else {}),
        )
        self.accepter = aws.ec2transitgateway.PeeringAttachmentAccepter(
            b.ctx.name("peer", a.ctx.code),
            transit_gateway_attachment_id=self.attachment.id,
            tags=b.ctx.tags(f"peer-{a.ctx.code}"),
            opts=pulumi.ResourceOptions(parent=self, provider=b.provider),
        )
        for end, other in ((a, b), (b, a)):
            # Routes and associations need the peering accepted (available) on both sides.
            opts_end = pulumi.ResourceOptions(parent=self, provider=end.provider, depends_on=[self.accepter])
            if association == "disable":
                aws.ec2transitgateway.RouteTableAssociation(
                    end.ctx.name("tgw-assoc", "peer", other.ctx.code),
                    transit_gateway_attachment_id=self.accepter.id,
                    transit_gateway_route_table_id=end.transit.route_table_id, opts=opts_end)
            for dest in end.routes:
                aws.ec2transitgateway.Route(
                    end.ctx.name("tgw-route", cidr_slug(dest.cidr)),
                    destination_cidr_block=dest.cidr,
                    transit_gateway_attachment_id=self.accepter.id,
                    transit_gateway_route_table_id=end.transit.route_table_id,
                    opts=opts_end,
                )
        self.register_outputs({"attachmentId": self.attachment.id})
