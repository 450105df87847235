"""Amazon Managed Service for Prometheus: what a managed scraper needs before it can collect.

AMP user guide, "Using an AWS managed collector" (read 2026-11-26): the cluster must exist with
private endpoint access; with authentication mode API or API_AND_CONFIG_MAP, AMP creates the
scraper's access entry itself when the scraper is created (a CONFIG_MAP-only cluster needs an
aws-auth mapping and the aps-collector-role ClusterRole instead); the cluster, the scraper and the
workspace must be in one region; with roleConfiguration the scraper writes through the target
role, which needs its permissions before the first remote write."""

from __future__ import annotations

from .graph import CLUSTER_TYPES, Graph, get, known
from .rule import readiness_rule

SCRAPER = "aws:amp/scraper:Scraper"
WORKSPACE = "aws:amp/workspace:Workspace"
ROLE = "aws:iam/role:Role"
ROLE_POLICIES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
ACCESS_ENTRY_MODES = ("API", "API_AND_CONFIG_MAP")


def _region(g: Graph, r):
    provider = g.provider_of(r)
    region = get(r.props, "region") or (get(provider.props, "region") if provider is not None else None)
    return region if known(region) else None


def _scraper_problems(g: Graph):
    for s in g.of_type(SCRAPER):
        arn = get(s.props, "source", "eks", "clusterArn")
        if not known(arn):
            continue
        name = arn.rsplit("/", 1)[-1]
        clusters = [c for c in g.of_type(*CLUSTER_TYPES) if g.cluster_name(c) == name]
        waits = g.waits_for(s)
        for c in clusters:
            if c.urn not in waits:
                yield (f"scraper {s.name} scrapes cluster '{name}' but does not wait for it ({c.urn}): AMP creates "
                       "its access entry at CreateScraper, which needs the cluster ACTIVE", s.urn)
            mode = get(c.props, "authenticationMode") or get(c.props, "accessConfig", "authenticationMode")
            if known(mode) and mode not in ACCESS_ENTRY_MODES:
                yield (f"scraper {s.name}: cluster '{name}' authenticates with {mode}, so AMP creates no access "
                       "entry for the scraper (it needs API or API_AND_CONFIG_MAP, or an aws-auth mapping to "
                       "user aps-collector-user with the aps-collector-role ClusterRole)", s.urn)
            private = get(c.props, "endpointPrivateAccess", default=get(c.props, "vpcConfig", "endpointPrivateAccess"))
            if private is False:
                yield (f"scraper {s.name}: cluster '{name}' has no private endpoint access, which a managed "
                       "scraper requires", s.urn)
        region = _region(g, s)
        for ws in g.prop_deps(s, "destination", [WORKSPACE]):
            if region and _region(g, ws) and _region(g, ws) != region:
                yield (f"scraper {s.name} in {region} writes to a workspace in {_region(g, ws)}: the cluster, the "
                       "scraper and the workspace must be in one region", s.urn)
        roles = g.prop_deps(s, "roleConfiguration", [ROLE])
        for role in roles:
            policies = [p for p in g.of_type(*ROLE_POLICIES) if role in g.prop_deps(p, "role", [ROLE])]
            missing = [p for p in policies if p.urn not in waits]
            if missing:
                yield (f"scraper {s.name} does not wait for the permissions of its role {role.name} ({missing[0].urn}): "
                       "its first remote writes are refused", s.urn)


POLICIES = [
    readiness_rule(
        "amp-scraper-ready-to-collect",
        "An AMP managed scraper needs its cluster ACTIVE with private endpoint access and authentication mode "
        "API or API_AND_CONFIG_MAP (AMP then creates the scraper's access entry), its workspace in its own "
        "region, and with roleConfiguration the roles' permissions in place.",
        "make the scraper depend on the cluster and on the role policies, keep the cluster's authenticationMode "
        "API, and put the workspace in the scraper's region",
        _scraper_problems),
]
