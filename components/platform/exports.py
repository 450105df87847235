"""The stack's outputs: what other stacks and tools read (VPCs, subnets, TGWs, clusters, alarms,
FIS templates, WAF ACLs, Resolver addresses, proxy settings)."""

from __future__ import annotations

import pulumi

from ..proxy import proxy_env
from ..stack import StackSpec


def export_stack(spec: StackSpec, regions: dict) -> None:
    cfg = spec.config
    pulumi.export("environment", cfg.environment)
    pulumi.export("hubRegion", cfg.hub.name)
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
    if cfg.accounts:
        # Multi-account stacks: where each region deploys and who owns its transit gateway, as the
        # providers report it (GetCallerIdentity through the region's and the TGW owner's provider).
        pulumi.export("accounts", {
            name: {"account": rp.account,
                   "transitGatewayAccount": rp.transit.owner_account if rp.transit.owner_provider else rp.account}
            for name, rp in regions.items()
        })
    proxies = {name: proxy_env(spec, name) for name in regions}
    if any(proxies.values()):
        pulumi.export("proxy", {name: p.as_env() for name, p in proxies.items() if p})
