"""The stack, in order: the hub region first (it owns Argo CD's roles, which spokes grant
access to, and an Aurora global database's primary, which spokes join: explicit hand-overs, not
loop state), then the spokes, the peerings that join their transit gateways, Argo CD on the hub,
and the exports."""

from __future__ import annotations



from ..connectivity import PeerEnd, PeeringArgs, TransitPeering, peering_name
from ..gitops import GitOpsHub, gitops_args
from ..naming import RegionContext
from ..stack import StackSpec
from ..topology import destinations, peering_pairs, tgw_routes
from .exports import export_stack
from .region import RegionalPlatform, RegionArgs


def build_platform(spec: StackSpec) -> dict[str, RegionalPlatform]:
    cfg = spec.config
    hub_name, mode = cfg.hub.name, cfg.connectivity.peering
    dests = tuple(destinations(
        {r: str(v.cidr) for r, v in spec.plan.vpcs.items()},
        [(s.name, s.link_region, [str(c) for c in s.cidrs]) for s in cfg.connectivity.on_prem if s.link_region]))

    def region(name: str, access_role_arn=None, aurora_global=None, hub_role_arn=None) -> RegionalPlatform:
        spec_ = next(r for r in cfg.regions if r.name == name)
        ctx = RegionContext(name, cfg.environment, cfg.owner, cfg.accounts.get(spec_.account) if spec_.account else None)
        return RegionalPlatform(ctx.code, RegionArgs(spec=spec, ctx=ctx, destinations=dests,
                                                     argocd_access_role_arn=access_role_arn,
                                                     aurora_global=aurora_global, argocd_hub_role_arn=hub_role_arn))

    hub = region(hub_name)
    access = hub.argocd_identity.spoke_access_role.arn if hub.argocd_identity else None
    # An Aurora global database's primary is in the hub; the spokes' secondaries join it.
    aurora_global = hub.database.global_handle if hub.database else None
    regions = {hub_name: hub}
    # Argo CD's spoke-access role per account: the hub's for spokes in the hub's account; a spoke of
    # another account gets one there, created by the first such spoke and shared by the others.
    account_of = {r.name: cfg.accounts[r.account].account_id if r.account else None for r in cfg.regions}
    access_by_account = {account_of[hub_name]: access}
    for name in sorted(r.name for r in cfg.regions if r.name != hub_name):
        known = account_of[name] in access_by_account or hub.argocd_identity is None
        regions[name] = region(name, access_by_account.get(account_of[name], access) if known else None,
                               aurora_global, None if known else hub.argocd_identity.hub_role.arn)
        if regions[name].argocd_spoke_access is not None:
            access_by_account[account_of[name]] = regions[name].argocd_spoke_access.role.arn

    for a, b in peering_pairs(cfg.region_names, hub_name, mode):
        # The peering belongs to the TGWs' owner: the network account when there is one.
        ends = [PeerEnd(ctx=regions[me].transit.owner_ctx,
                        provider=regions[me].transit.owner_provider or regions[me].provider, transit=regions[me].transit,
                        routes=tuple(tgw_routes(me, dests, hub_name, mode).get(other, [])))
                for me, other in ((a, b), (b, a))]
        TransitPeering(peering_name(ends[0].ctx, ends[1].ctx), PeeringArgs(
            requester=ends[0], accepter=ends[1],
            association=cfg.connectivity.transit_gateway.default_route_table_association))

    gitops = gitops_args(spec, hub, regions)
    if gitops is not None:
        GitOpsHub(hub.ctx.name("gitops"), gitops)

    export_stack(spec, regions)
    return regions



