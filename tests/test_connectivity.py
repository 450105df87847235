"""Transit gateways, peering, routing to every region and on-prem, VPN, Resolver.
Every assertion message names the resource's URN."""

from ipaddress import IPv4Network
from itertools import permutations

import pytest

from components.topology import derived_asn, is_private_asn, next_hop, peering_pairs
from tests.helpers import run, shipped, variant

TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
PEERING = "aws:ec2transitgateway/peeringAttachment:PeeringAttachment"
TGW_ROUTE = "aws:ec2transitgateway/route:Route"
STACKS = ["dev", "prod", "airgap", "org"]


def tgw_of_region(r):
    return {r.region_of(t): t for t in r.of_type(TGW)}


@pytest.mark.parametrize("stack", STACKS)
def test_one_transit_gateway_per_region_with_its_asn(stack):
    r = shipped(stack)
    tgws = tgw_of_region(r)
    assert set(tgws) == set(r.spec.config.region_names)
    asns = r.spec.config.tgw_asns()
    for region, tgw in tgws.items():
        assert tgw.inputs["amazonSideAsn"] == asns[region], tgw.urn
        assert is_private_asn(tgw.inputs["amazonSideAsn"]), tgw.urn
        assert tgw.inputs["autoAcceptSharedAttachments"] == "disable", tgw.urn
        assert tgw.protect == (r.spec.config.environment == "prod"), tgw.urn
    assert len(set(asns.values())) == len(asns)


def test_prod_uses_its_explicit_asns_dev_derives_them_from_names():
    assert shipped("prod").spec.config.tgw_asns() == {"ap-northeast-1": 64601, "ap-northeast-2": 64600, "us-west-2": 64602}
    assert shipped("dev").spec.config.tgw_asns()["ap-northeast-2"] == derived_asn("ap-northeast-2", 64512)


@pytest.mark.parametrize("stack", STACKS)
def test_vpc_attachment_per_vpc_in_the_endpoint_tier_one_per_az(stack):
    r = shipped(stack)
    tgws = tgw_of_region(r)
    attachments = r.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
    for vpc in r.of_type("aws:ec2/vpc:Vpc"):
        mine = [a for a in attachments if a.inputs["vpcId"] == vpc.id]
        assert len(mine) == 1, vpc.urn
        att = mine[0]
        assert att.inputs["transitGatewayId"] == tgws[r.region_of(vpc)].id, att.urn
        endpoint_subnets = {s.id: s for s in r.of_type("aws:ec2/subnet:Subnet")
                            if s.inputs["vpcId"] == vpc.id and s.inputs["tags"]["tier"] == "endpoints"}
        assert set(att.inputs["subnetIds"]) == set(endpoint_subnets), att.urn
        assert len({endpoint_subnets[s].inputs["availabilityZone"] for s in att.inputs["subnetIds"]}) == \
            r.spec.config.network.az_count, att.urn
        # a TGW shared from another account: the owner's accepter sets the route-table defaults
        accepters = [a for a in r.of_type("aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter")
                     if a.inputs["transitGatewayAttachmentId"] == att.id]
        assert len(accepters) == (1 if r.spec.config.connectivity.transit_gateway.account else 0), att.urn
        setter = accepters[0] if accepters else att
        assert setter.inputs["transitGatewayDefaultRouteTableAssociation"] is False, setter.urn


@pytest.mark.parametrize("mode, expected", [("mesh", 3), ("hubSpoke", 2), ("none", 0)])
def test_peering_count_per_mode(tmp_path, mode, expected):
    # (chaos dropped: its cross-region scenario rightly refuses a stack without peering)
    r = shipped("prod") if mode == "mesh" else run("prod", variant(tmp_path, "prod", connectivity={"peering": mode},
                                                                   chaos=None))
    peerings = r.of_type(PEERING)
    assert len(peerings) == expected, [p.urn for p in peerings]
    pairs = {frozenset((r.region_of(p), p.inputs["peerRegion"])) for p in peerings}
    assert len(pairs) == expected, "a pair peers twice"
    if mode == "hubSpoke":
        assert all(r.region_of(p) == "ap-northeast-2" for p in peerings)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_topology_pair_counts(n):
    names = [f"r{i}" for i in range(n)]
    assert len(peering_pairs(names, "r0", "mesh")) == n * (n - 1) // 2
    assert len(peering_pairs(names, "r0", "hubSpoke")) == n - 1
    assert peering_pairs(list(reversed(names)), "r0", "mesh") == peering_pairs(names, "r0", "mesh")
    for a, b in permutations(names, 2):
        hop = next_hop(a, b, "r0", "hubSpoke")
        assert hop == b or (a != "r0" and hop == "r0")


def _walk(r, src, cidr):
    """Follow TGW static routes from src's route table toward `cidr`, through peerings.
    Returns the region whose TGW owns the destination (by propagation), or None."""
    peer_regions = {}
    for p in r.of_type(PEERING):
        peer_regions[p.id] = (r.region_of(p), p.inputs["peerRegion"])
    routes = {}
    for route in r.of_type(TGW_ROUTE):
        routes[(r.region_of(route), route.inputs["destinationCidrBlock"])] = route
    region, hops = src, 0
    while hops < 4:
        route = routes.get((region, cidr))
        if route is None:
            return region
        a, b = peer_regions[route.inputs["transitGatewayAttachmentId"]]
        assert region in (a, b), f"{route.urn} uses a peering that does not touch {region}"
        region, hops = (b if region == a else a), hops + 1
    raise AssertionError(f"routing loop toward {cidr} from {src}")


@pytest.mark.parametrize("stack", STACKS)
def test_every_vpc_and_on_prem_cidr_is_routed_from_every_other_region(stack):
    r = shipped(stack)
    cfg = r.spec.config
    vpc_of = {name: str(v.cidr) for name, v in r.spec.plan.vpcs.items()}
    sites = [(s.link_region, str(c)) for s in cfg.connectivity.on_prem if s.link_region for c in s.cidrs]
    tgws = tgw_of_region(r)
    vpc_routes = [x for x in r.of_type("aws:ec2/route:Route") if x.inputs.get("transitGatewayId")]
    private_tables = {}
    for rt in r.of_type("aws:ec2/routeTable:RouteTable"):
        if not rt.name.split("-", 2)[2].startswith("public"):
            private_tables.setdefault(r.region_of(rt), []).append(rt)
    for src in cfg.region_names:
        targets = [(region, cidr) for region, cidr in vpc_of.items() if region != src] + sites
        assert private_tables[src], src
        for home, cidr in targets:
            # 1. every private route table of src sends it to src's TGW
            for table in private_tables[src]:
                hits = [x for x in vpc_routes if x.inputs["routeTableId"] == table.id
                        and x.inputs["destinationCidrBlock"] == cidr]
                assert len(hits) == 1, f"{table.urn} has no route to {cidr}"
                assert hits[0].inputs["transitGatewayId"] == tgws[src].id, hits[0].urn
            # 2. the TGWs carry it to the region that owns it
            assert _walk(r, src, cidr) == home, f"{cidr} from {src} does not reach {home}"


def test_hub_spoke_spokes_reach_each_other_through_the_hub(tmp_path):
    r = run("prod", variant(tmp_path, "prod", connectivity={"peering": "hubSpoke"}))
    tokyo = str(r.spec.plan["ap-northeast-1"].cidr)
    assert _walk(r, "us-west-2", tokyo) == "ap-northeast-1"
    first_hop = [x for x in r.of_type(TGW_ROUTE) if r.region_of(x) == "us-west-2"
                 and x.inputs["destinationCidrBlock"] == tokyo]
    peer = next(p for p in r.of_type(PEERING) if p.id == first_hop[0].inputs["transitGatewayAttachmentId"])
    assert {r.region_of(peer), peer.inputs["peerRegion"]} == {"ap-northeast-2", "us-west-2"}


def test_peering_none_leaves_regions_apart(tmp_path):
    r = run("prod", variant(tmp_path, "prod", connectivity={"peering": "none"}, chaos=None))
    assert r.of_type(TGW_ROUTE) == []
    for route in r.of_type("aws:ec2/route:Route"):
        dest = route.inputs.get("destinationCidrBlock", "")
        if route.inputs.get("transitGatewayId"):  # only the local on-prem site is reachable
            assert IPv4Network(dest).subnet_of(IPv4Network("10.100.0.0/15")), route.urn


@pytest.mark.parametrize("stack", STACKS)
def test_vpn_tunnels_are_ikev2_only_with_strong_algorithms_and_logs(stack):
    r = shipped(stack)
    vpns = r.of_type("aws:ec2/vpnConnection:VpnConnection")
    assert len(vpns) == sum(1 for s in r.spec.config.connectivity.on_prem if s.vpn)
    groups = {g.outputs["arn"]: g for g in r.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for vpn in vpns:
        assert vpn.inputs["staticRoutesOnly"] is False and vpn.inputs["type"] == "ipsec.1", vpn.urn
        for t in ("tunnel1", "tunnel2"):
            assert vpn.inputs[f"{t}IkeVersions"] == ["ikev2"], vpn.urn
            for phase in ("phase1", "phase2"):
                assert set(vpn.inputs[f"{t}{phase.capitalize()}EncryptionAlgorithms"]) <= {"AES256", "AES256-GCM-16"}
                assert not any("SHA1" in a for a in vpn.inputs[f"{t}{phase.capitalize()}IntegrityAlgorithms"]), vpn.urn
                assert min(vpn.inputs[f"{t}{phase.capitalize()}DhGroupNumbers"]) >= 19, vpn.urn
            logs = vpn.inputs[f"{t}LogOptions"]["cloudwatchLogOptions"]
            assert logs["logEnabled"] is True, vpn.urn
            assert groups[logs["logGroupArn"]].inputs["retentionInDays"] > 0, vpn.urn
        tgw = tgw_of_region(r)[r.region_of(vpn)]
        assert vpn.inputs["transitGatewayId"] == tgw.id, vpn.urn


def test_direct_connect_gateway_associates_the_sites_region_tgw():
    r = shipped("prod")
    (assoc,) = r.of_type("aws:directconnect/gatewayAssociation:GatewayAssociation")
    assert assoc.inputs["associatedGatewayId"] == tgw_of_region(r)["ap-northeast-2"].id, assoc.urn
    assert set(assoc.inputs["allowedPrefixes"]) == {str(v.cidr) for v in r.spec.plan.vpcs.values()}, assoc.urn
    (gw,) = r.of_type("aws:directconnect/gateway:Gateway")
    assert gw.inputs["amazonSideAsn"] == "64700" and gw.protect, gw.urn


@pytest.mark.parametrize("stack, inbound_regions", [("dev", {"ap-northeast-2"}), ("prod", {"ap-northeast-2"}),
                                                    ("airgap", {"ap-northeast-2", "ap-northeast-3"})])
def test_resolver_endpoints_and_forwarding_rules(stack, inbound_regions):
    r = shipped(stack)
    cfg = r.spec.config.connectivity.resolver
    endpoints = r.of_type("aws:route53/resolverEndpoint:ResolverEndpoint")
    subnets = {s.id: s for s in r.of_type("aws:ec2/subnet:Subnet")}
    for ep in endpoints:
        ips = ep.inputs["ipAddresses"]
        assert len(ips) == 2, ep.urn
        assert len({subnets[i["subnetId"]].inputs["availabilityZone"] for i in ips}) == 2, f"{ep.urn} not in two AZs"
    assert {r.region_of(e) for e in endpoints if e.inputs["direction"] == "INBOUND"} == inbound_regions
    outbound = {r.region_of(e): e for e in endpoints if e.inputs["direction"] == "OUTBOUND"}
    assert set(outbound) == set(r.spec.config.region_names)
    rules = r.of_type("aws:route53/resolverRule:ResolverRule")
    assocs = r.of_type("aws:route53/resolverRuleAssociation:ResolverRuleAssociation")
    vpc_of = {r.region_of(v): v for v in r.of_type("aws:ec2/vpc:Vpc")}
    for region, ep in outbound.items():
        mine = [x for x in rules if r.region_of(x) == region]
        assert {x.inputs["domainName"] for x in mine} == set(cfg.forward_domains), region
        for rule in mine:
            assert rule.inputs["ruleType"] == "FORWARD" and rule.inputs["resolverEndpointId"] == ep.id, rule.urn
            assert [t["ip"] for t in rule.inputs["targetIps"]] == [str(i) for i in cfg.dns_servers], rule.urn
            assert [a.inputs["vpcId"] for a in assocs if a.inputs["resolverRuleId"] == rule.id] == \
                [vpc_of[region].id], rule.urn


def test_inbound_resolver_allows_dns_only_from_on_prem():
    r = shipped("prod")
    (inbound,) = [e for e in r.of_type("aws:route53/resolverEndpoint:ResolverEndpoint")
                  if e.inputs["direction"] == "INBOUND"]
    (sg_id,) = inbound.inputs["securityGroupIds"]
    rules = [x for x in r.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if x.inputs["securityGroupId"] == sg_id]
    assert {(x.inputs["ipProtocol"], x.inputs["fromPort"], x.inputs["toPort"], x.inputs["cidrIpv4"]) for x in rules} == \
        {(p, 53, 53, c) for p in ("tcp", "udp") for c in ("10.100.0.0/16", "10.101.0.0/16")}, inbound.urn


def test_airgap_exports_proxy_settings_for_the_cluster_layer():
    r = shipped("airgap")
    stack = r.of_type("pulumi:pulumi:Stack")[0]
    step = next(s for s in r.doc["steps"] if s["urn"] == stack.urn)
    proxy = step["newState"]["outputs"]["proxy"]
    for region, env in proxy.items():
        assert env["HTTPS_PROXY"] == "http://10.110.0.10:3128"
        no_proxy = env["NO_PROXY"].split(",")
        assert {"169.254.169.254", str(r.spec.plan[region].cidr), f".{region}.amazonaws.com",
                ".carrier.example.net", "10.110.0.0/16"} <= set(no_proxy), region
    assert "proxy" not in next(s for s in shipped("dev").doc["steps"]
                               if s["urn"].endswith("::global-platform-dev"))["newState"]["outputs"]
