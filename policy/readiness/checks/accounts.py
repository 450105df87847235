"""Across accounts: a transit gateway owned by another account (the network account) is usable by
a VPC's account only once AWS RAM shares it with that account, and a VPC attachment to it is
usable only once the owner accepts it.

The account of a resource is the account of the role its provider assumes (`assumeRoles[0].roleArn`);
a provider with no role deploys with the ambient credentials (one unnamed account).

- AWS RAM: a principal sees a shared resource once the share holds the resource (ResourceAssociation)
  and names the principal (PrincipalAssociation); inside an organisation with RAM sharing enabled no
  invitation is sent, outside it (allowExternalPrincipals) the principal must accept the invitation
  (ResourceShareAccepter) first (pulumi-aws ram.PrincipalAssociation / ResourceShareAccepter docs, read
  2026-11-26).
- A VPC attachment to a TGW of another account waits in pendingAcceptance unless the TGW auto-accepts
  shared attachments (TF v6.58.0 waitTransitGatewayVPCAttachmentCreated targets available|pendingAcceptance);
  routes and route-table associations over it need the owner's VpcAttachmentAccepter.
"""

from __future__ import annotations

from typing import Optional

from .graph import Graph, as_json, as_list, get, known
from .rule import readiness_rule

TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
VPC_ACCEPTER = "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter"
SHARE = "aws:ram/resourceShare:ResourceShare"
RESOURCE_ASSOC = "aws:ram/resourceAssociation:ResourceAssociation"
PRINCIPAL_ASSOC = "aws:ram/principalAssociation:PrincipalAssociation"
SHARE_ACCEPTER = "aws:ram/resourceShareAccepter:ResourceShareAccepter"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"


def account_of(g: Graph, r) -> Optional[str]:
    """The account id of the role r's provider assumes; None: the ambient credentials."""
    provider = g.provider_of(r)
    if provider is None:
        return None
    roles = as_list(as_json(get(provider.props, "assumeRoles")))
    arn = get(roles[0], "roleArn") if roles else None
    if not known(arn) or not isinstance(arn, str) or arn.count(":") < 5:
        return None
    return arn.split(":")[4]


def _cross_account_attachments(g: Graph):
    for att in g.of_type(ATTACHMENT):
        for tgw in g.prop_deps(att, "transitGatewayId", (TGW,)):
            if account_of(g, tgw) != account_of(g, att):
                yield att, tgw


def _shared_before_attached(g: Graph):
    for att, tgw in _cross_account_attachments(g):
        owner, me = account_of(g, tgw) or "the ambient account", account_of(g, att) or "the ambient account"
        waits = g.waits_for(att)
        shares = [a for a in g.of_type(RESOURCE_ASSOC) if tgw.urn in {d.urn for d in g.prop_deps(a, "resourceArn")}]
        if not shares:
            yield (f"VPC attachment {att.name} (account {me}) attaches to transit gateway {tgw.name} of account "
                   f"{owner}, which no RAM share in this stack holds: the TGW is invisible to {me}", att.urn)
            continue
        ok = False
        for assoc in shares:
            share_urns = {d.urn for d in g.prop_deps(assoc, "resourceShareArn")}
            principals = [p for p in g.of_type(PRINCIPAL_ASSOC)
                          if share_urns & {d.urn for d in g.prop_deps(p, "resourceShareArn")}]
            needed = [assoc] + principals[:1]
            share = next((g.by_urn[u] for u in share_urns if u in g.by_urn), None)
            external = share is not None and get(share.props, "allowExternalPrincipals") is True
            if external:
                accepters = [a for a in g.of_type(SHARE_ACCEPTER)
                             if share_urns & {d.urn for d in g.prop_deps(a, "shareArn")}]
                needed += accepters[:1]
                if not accepters:
                    continue
            if principals and all(n.urn in waits for n in needed):
                ok = True
                break
        if not ok:
            yield (f"VPC attachment {att.name} (account {me}) does not wait for the RAM share of transit gateway "
                   f"{tgw.name} (account {owner}) to hold the TGW and name its account (and, with external "
                   "principals, for the invitation to be accepted): CreateTransitGatewayVpcAttachment fails "
                   "with InvalidTransitGatewayID.NotFound", att.urn)


def _accepted_before_used(g: Graph):
    cross = {att.urn: (att, tgw) for att, tgw in _cross_account_attachments(g)}
    if not cross:
        return
    accepters: dict[str, list] = {}
    for acc in g.of_type(VPC_ACCEPTER):
        for d in g.prop_deps(acc, "transitGatewayAttachmentId", (ATTACHMENT,)):
            accepters.setdefault(d.urn, []).append(acc)
    for urn, (att, tgw) in cross.items():
        mine = [a for a in accepters.get(urn, []) if account_of(g, a) == account_of(g, tgw)]
        if not mine:
            yield (f"VPC attachment {att.name} to transit gateway {tgw.name} of another account is accepted by "
                   "nothing in this stack in the TGW owner's account: it stays pendingAcceptance "
                   "(autoAcceptSharedAttachments is disable)", att.urn)
            continue
        # Everything that routes over the attachment must wait for the acceptance.
        users = [r for r in g.of_type("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
                                      "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
                                      "aws:ec2transitgateway/route:Route")
                 if urn in {d.urn for d in g.prop_deps(r, "transitGatewayAttachmentId")}
                 or any(a.urn in {d.urn for d in g.prop_deps(r, "transitGatewayAttachmentId")} for a in mine)]
        vpcs = {v.urn for v in g.prop_deps(att, "vpcId")}
        for r in g.of_type("aws:ec2/route:Route"):
            if tgw.urn in {t.urn for t in g.prop_deps(r, "transitGatewayId", (TGW,))} and \
                    {v.urn for rt in g.prop_deps(r, "routeTableId", (ROUTE_TABLE,)) for v in g.prop_deps(rt, "vpcId")} \
                    & vpcs:
                users.append(r)
        for r in users:
            if not any(a.urn in g.waits_for(r) for a in mine):
                yield (f"{r.resource_type.split(':')[-1]} {r.name} uses the cross-account VPC attachment "
                       f"{att.name} before its owner accepts it ({mine[0].urn})", r.urn)


ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"


def _role_chain(g: Graph):
    """Argo CD's chain (components/gitops.py): hub role -> spoke-access role -> access entry on a spoke
    cluster. A role trusting a role of another account is assumable only when both sides allow it:
    its trust policy names the caller and the caller's identity policy allows sts:AssumeRole on it
    (IAM user guide, "Cross account resource access in IAM"); an access entry for a principal of
    another account than the cluster's must be of type STANDARD (EKS user guide, "Create access
    entries", read 2026-11-26)."""
    for entry in g.of_type(ACCESS_ENTRY):
        for role in g.prop_deps(entry, "principalArn", (ROLE,)):
            kind = get(entry.props, "type")
            if account_of(g, role) != account_of(g, entry) and known(kind) and kind not in (None, "STANDARD"):
                yield (f"access entry {entry.name} names role {role.name} of another account with type {kind}: "
                       "EKS accepts principals of another account only in STANDARD entries", entry.urn)
            for caller in g.prop_deps(role, "assumeRolePolicy", (ROLE,)):
                if account_of(g, caller) == account_of(g, role):
                    continue
                allows = [p for p in g.of_type(ROLE_POLICY)
                          if caller.urn in {d.urn for d in g.prop_deps(p, "role")}
                          and role.urn in {d.urn for d in g.prop_deps(p, "policy")}]
                if not allows:
                    yield (f"role {role.name} (account {account_of(g, role)}) trusts role {caller.name} of account "
                           f"{account_of(g, caller)}, but no policy of {caller.name} allows sts:AssumeRole on it: "
                           f"across accounts both sides must allow it, so access entry {entry.name} is unreachable",
                           role.urn)


POLICIES = [
    readiness_rule(
        "cross-account-role-chain",
        "A role assumed from another account needs both its trust policy and the caller's identity policy; an EKS "
        "access entry for another account's principal must be STANDARD.",
        "give the calling role a RolePolicy allowing sts:AssumeRole on the role (built from its ARN), and keep "
        "such access entries STANDARD",
        _role_chain),
    readiness_rule(
        "tgw-shared-before-attached",
        "A VPC attachment to a transit gateway of another account needs the TGW shared with the VPC's account "
        "through AWS RAM first (the share holds the TGW and names the account; outside an organisation the "
        "invitation accepted).",
        "make the VpcAttachment depend on the ResourceAssociation and PrincipalAssociation (and the "
        "ResourceShareAccepter when the share allows external principals)",
        _shared_before_attached),
    readiness_rule(
        "tgw-shared-attachments-accepted",
        "A VPC attachment from another account stays pendingAcceptance until the TGW owner accepts it; "
        "routes and associations over it need that acceptance.",
        "add a VpcAttachmentAccepter on the TGW owner's provider and make routes and associations depend on it",
        _accepted_before_used),
]
