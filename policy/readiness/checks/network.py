"""Transit gateways: a route through a TGW needs the VPC's attachment; a route over a peering
needs the peer to have accepted it."""

from __future__ import annotations

from .graph import Graph
from .rule import readiness_rule

TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
PEERING = "aws:ec2transitgateway/peeringAttachment:PeeringAttachment"
ACCEPTER = "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"


def _vpc_routes(g: Graph):
    attachments = list(g.of_type(ATTACHMENT))
    for r in g.of_type("aws:ec2/route:Route"):
        tgws = {t.urn for t in g.prop_deps(r, "transitGatewayId", (TGW,))}
        if not tgws:
            continue
        vpcs = {v.urn for rt in g.prop_deps(r, "routeTableId", (ROUTE_TABLE,)) for v in g.prop_deps(rt, "vpcId")}
        mine = [a for a in attachments if {t.urn for t in g.prop_deps(a, "transitGatewayId")} & tgws
                and (not vpcs or {v.urn for v in g.prop_deps(a, "vpcId")} & vpcs)]
        if not mine:
            yield (f"route {r.name} sends traffic to a transit gateway of this stack that its VPC is not attached "
                   "to: EC2 rejects the route (the TGW must have an attachment in the VPC)", r.urn)
        elif not any(a.urn in g.waits_for(r) for a in mine):
            yield (f"route {r.name} does not wait for its VPC's TGW attachment ({mine[0].urn}): EC2 rejects a "
                   "route to a TGW before the attachment exists", r.urn)


def _peering_routes(g: Graph):
    accepters = list(g.of_type(ACCEPTER))
    kinds = ("aws:ec2transitgateway/route:Route", "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation")
    for r in g.of_type(*kinds):
        peerings = {p.urn for p in g.prop_deps(r, "transitGatewayAttachmentId", (PEERING,))}
        if not peerings:
            continue
        mine = [a for a in accepters if {p.urn for p in g.prop_deps(a, "transitGatewayAttachmentId")} & peerings]
        if not mine:
            yield (f"{r.resource_type.split(':')[-1]} {r.name} uses a TGW peering that nothing in this stack "
                   "accepts: it stays pendingAcceptance and the route is rejected", r.urn)
        elif not any(a.urn in g.waits_for(r) for a in mine):
            yield (f"{r.resource_type.split(':')[-1]} {r.name} does not wait for the peering's accepter "
                   f"({mine[0].urn}): a route over a peering must wait until it is available", r.urn)


POLICIES = [
    readiness_rule(
        "tgw-routes-wait-for-attachments",
        "A VPC route to a transit gateway is accepted only once the VPC has an attachment to that TGW.",
        "make the route depend on the VPC attachment",
        _vpc_routes),
    readiness_rule(
        "tgw-peering-routes-wait-for-accepter",
        "A TGW route or route-table association over a peering attachment works only once the peer accepted it.",
        "make it depend on the PeeringAttachmentAccepter",
        _peering_routes),
]
