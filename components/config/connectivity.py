"""`connectivity`: transit gateways, their peering, on-prem sites (VPN, Direct Connect) and
hybrid DNS."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field, field_validator

from ..topology import is_private_asn
from .base import SLUG, _Model, doc, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from ..ipam import AddressPlan
    from .stack import StackConfig


class TransitGatewaySpec(_Model):
    account: Optional[str] = Field(
        None, description="the `accounts` entry (network account) that owns every region's transit gateway, its "
                          "route tables, peerings and on-prem links; shared with each region's account through "
                          "AWS RAM, the VPC attachments accepted in this account",
        json_schema_extra=doc(type="account name", default="each region's own account"))
    share_outside_organization: bool = Field(
        False, description="`false`: the accounts are in one AWS Organization with RAM sharing enabled (no "
                           "invitations, external principals refused). `true`: each region's account accepts "
                           "the share's invitation")
    base_asn: int = Field(
        64512, description="per-region TGW ASNs derive from it by a hash of the region *name* "
                           "(stable under reordering)",
        json_schema_extra=doc(type="private ASN"))
    amazon_side_asn: dict[str, int] = Field(
        default_factory=dict, description="explicit per-region ASNs; every TGW ASN must be unique",
        json_schema_extra=doc(type="map region -> private ASN"))
    default_route_table_association: Literal["enable", "disable"] = Field(
        "disable", description="`disable`: the platform creates one TGW route table per region and associates "
                               "every attachment explicitly. `enable`: the TGW's default table is used and AWS "
                               "does it")
    default_route_table_propagation: Literal["enable", "disable"] = Field(
        "disable", description="`disable`: every attachment is propagated explicitly to the platform's route "
                               "table. `enable`: AWS propagates to the TGW's default table")


class VpnSpec(_Model):
    ip: IPv4Address = Field(description="public IP of the on-prem VPN device")
    bgp_asn: int = Field(ge=1, le=4294967294,
                         description="the on-prem side's BGP ASN; must differ from every TGW ASN")
    region: str = Field(description="region whose transit gateway terminates the VPN",
                        json_schema_extra=doc(type="region code"))


class DirectConnectSpec(_Model):
    region: str = Field(description="region whose transit gateway associates with the DX gateway; "
                                    "with a `vpn`, the VPN's region (the VPN backs up DX)",
                        json_schema_extra=doc(type="region code"))
    amazon_side_asn: int = Field(64600, description="ASN of the Direct Connect gateway: private, no TGW's",
                                 json_schema_extra=doc(type="private ASN"))
    allowed_prefixes: Optional[list[IPv4Network]] = Field(
        None, description="prefixes advertised to on-prem",
        json_schema_extra=doc(default="every VPC reachable from the region"))


class OnPremSite(_Model):
    name: str = Field(pattern=SLUG, description="the site's name, unique in the stack")
    cidrs: list[IPv4Network] = Field(
        min_length=1, description="the site's ranges; each must lie inside `network.reservedCidrs` and clear of "
                                  "every VPC")
    vpn: Optional[VpnSpec] = Field(
        None, description="customer gateway + BGP VPN on that region's TGW: IKEv2 only, AES-256(-GCM) / SHA-2 / "
                          "DH 19-21 on both tunnels, tunnel logs to KMS-encrypted CloudWatch, pre-shared keys in "
                          "Secrets Manager")
    direct_connect: Optional[DirectConnectSpec] = Field(
        None, description="Direct Connect gateway associated with the region's TGW. The physical connection and "
                          "transit VIF stay with the network team")

    @property
    def link_region(self) -> Optional[str]:
        link = self.vpn or self.direct_connect
        return link.region if link else None


class ResolverSpec(_Model):
    dns_servers: list[IPv4Address] = Field(
        min_length=1, description="on-prem DNS servers, each inside an on-prem site's `cidrs`")
    forward_domains: list[str] = Field(
        min_length=1, description="domains forwarded to them from every region that reaches on-prem")
    inbound: Literal["hub", "all", "none"] = Field(
        "hub", description="inbound endpoints where on-prem can resolve VPC names (the hub region, all regions or "
                           "none), allowing DNS only from on-prem ranges")

    @field_validator("forward_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if not d or d.startswith(".") or " " in d or "." not in d.strip(".")]
        if bad:
            raise ValueError(f"not domain names: {bad}")
        return value


class ConnectivitySpec(_Model):
    """Every private route table (workers, database, endpoints) sends other regions' VPC blocks and
    reachable on-prem ranges to its region's TGW."""

    transit_gateway: TransitGatewaySpec = Field(default_factory=TransitGatewaySpec,
                                                description="one transit gateway per region")
    peering: Literal["mesh", "hubSpoke", "none"] = Field(
        "hubSpoke", description="mesh: every pair peers (n(n-1)/2); hubSpoke: spokes peer with the hub (n-1) and "
                                "reach each other through it. Static TGW routes are added for every remote VPC and "
                                "on-prem range, since TGW peerings do not propagate")
    on_prem: list[OnPremSite] = Field(default_factory=list,
                                      description="on-prem sites, each reached over a VPN, Direct Connect or both")
    resolver: Optional[ResolverSpec] = Field(
        None, description="Route 53 Resolver: an outbound endpoint (2 AZs) and forwarding rules in every region "
                          "that reaches on-prem, associated with its VPC; needs `onPrem` sites")


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """ASNs, on-prem sites against the stack's regions and reserved ranges, the resolver's servers."""
    issues: list[ConfigIssue] = []
    conn, regions = cfg.connectivity, set(cfg.region_names)
    tgw = conn.transit_gateway
    if not is_private_asn(tgw.base_asn):
        issues.append(ConfigIssue("connectivity.transitGateway.baseAsn",
                                  f"{tgw.base_asn} is not a private ASN (64512-65534 or 4200000000-4294967294)"))
    for region, asn in tgw.amazon_side_asn.items():
        path = f"connectivity.transitGateway.amazonSideAsn.{region}"
        if region not in regions:
            issues.append(ConfigIssue(path, f"'{region}' is not one of this stack's regions"))
        if not is_private_asn(asn):
            issues.append(ConfigIssue(path, f"{asn} is not a private ASN (64512-65534 or 4200000000-4294967294)"))
    if not issues:
        by_asn: dict[int, list[str]] = {}
        for region, asn in cfg.tgw_asns().items():
            by_asn.setdefault(asn, []).append(region)
        for asn, shared in sorted(by_asn.items()):
            if len(shared) > 1:
                issues.append(ConfigIssue("connectivity.transitGateway.amazonSideAsn",
                                          f"ASN {asn} is shared by {', '.join(shared)}; give one an explicit ASN"))
    tgw_asns = set(cfg.tgw_asns().values()) if not issues else set()

    reserved = cfg.network.reserved_cidrs
    twice = repeated(s.name for s in conn.on_prem)
    for i, site in enumerate(conn.on_prem):
        base = f"connectivity.onPrem[{i}]"
        if site.name in twice:
            issues.append(ConfigIssue(f"{base}.name", f"site '{site.name}' is listed more than once"))
        for j, cidr in enumerate(site.cidrs):
            if not any(cidr.subnet_of(r) for r in reserved if r.version == cidr.version):
                issues.append(ConfigIssue(f"{base}.cidrs[{j}]", f"{cidr} is not inside network.reservedCidrs; "
                                          "reserve it there so no VPC is ever planned over it"))
        for key, link in (("vpn", site.vpn), ("directConnect", site.direct_connect)):
            if link is not None and link.region not in regions:
                issues.append(ConfigIssue(f"{base}.{key}.region",
                                          f"'{link.region}' is not one of this stack's regions ({', '.join(sorted(regions))})"))
        if site.vpn and site.direct_connect and site.vpn.region != site.direct_connect.region:
            issues.append(ConfigIssue(f"{base}.directConnect.region",
                                      "a site's VPN and Direct Connect must land in the same region (VPN backs up DX)"))
        if site.vpn and site.vpn.bgp_asn in tgw_asns:
            issues.append(ConfigIssue(f"{base}.vpn.bgpAsn", f"{site.vpn.bgp_asn} is also a transit gateway's ASN"))
        if site.direct_connect:
            dx_asn = site.direct_connect.amazon_side_asn
            if not is_private_asn(dx_asn) or dx_asn in tgw_asns:
                issues.append(ConfigIssue(f"{base}.directConnect.amazonSideAsn",
                                          f"{dx_asn} must be a private ASN not used by a transit gateway"))
    if conn.resolver:
        site_cidrs = [c for s in conn.on_prem for c in s.cidrs]
        if not conn.on_prem:
            issues.append(ConfigIssue("connectivity.resolver", "forwarding to on-prem DNS needs connectivity.onPrem sites"))
        for k, ip in enumerate(conn.resolver.dns_servers):
            if site_cidrs and not any(ip in c for c in site_cidrs):
                issues.append(ConfigIssue(f"connectivity.resolver.dnsServers[{k}]",
                                          f"{ip} is in no on-prem site's cidrs, so no route leads to it"))
    return issues


def plan_issues(cfg: StackConfig, plan: AddressPlan) -> list[ConfigIssue]:
    """On-prem ranges against the VPC blocks the address plan chose (pinned or not)."""
    issues = []
    for i, site in enumerate(cfg.connectivity.on_prem):
        for j, cidr in enumerate(site.cidrs):
            for region, vpc in sorted(plan.vpcs.items()):
                if cidr.overlaps(vpc.cidr):
                    issues.append(ConfigIssue(f"connectivity.onPrem[{i}].cidrs[{j}]",
                                              f"{cidr} overlaps the VPC of {region} ({vpc.cidr})"))
    return issues
