"""Inter-region topology, pure: which regions peer, the next hop between two regions, the
routes each region needs, and stable per-region transit gateway ASNs.

TGW peerings do not propagate routes, so every remote destination needs a static route
in each region's TGW route table, pointing at the peering toward the next hop. With
``hubSpoke`` a spoke reaches everything through the hub; with ``mesh`` every pair peers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import combinations
from typing import Mapping, Optional, Sequence

PRIVATE_ASN_16 = (64512, 65534)
PRIVATE_ASN_32 = (4200000000, 4294967294)


def is_private_asn(asn: int) -> bool:
    return PRIVATE_ASN_16[0] <= asn <= PRIVATE_ASN_16[1] or PRIVATE_ASN_32[0] <= asn <= PRIVATE_ASN_32[1]


def derived_asn(region: str, base: int) -> int:
    """A stable ASN for a region: base + a hash of the region *name* (never a list position),
    kept inside the private range the base lies in."""
    top = PRIVATE_ASN_16[1] if base <= PRIVATE_ASN_16[1] else PRIVATE_ASN_32[1]
    span = min(top - base + 1, 1000)
    digest = int.from_bytes(hashlib.sha256(region.encode()).digest()[:8], "big")
    return base + digest % span


def peering_pairs(regions: Sequence[str], hub: str, mode: str) -> list[tuple[str, str]]:
    """(requester, accepter) pairs. hubSpoke: the hub requests each spoke; mesh: the
    alphabetically first region of each pair requests, so reordering changes nothing."""
    names = sorted(regions)
    if mode == "mesh":
        return list(combinations(names, 2))
    if mode == "hubSpoke":
        return [(hub, r) for r in names if r != hub]
    return []


def next_hop(src: str, dst: str, hub: str, mode: str) -> Optional[str]:
    """The neighbouring region traffic from src to dst goes to first; None: unreachable."""
    if src == dst:
        return src
    if mode == "mesh":
        return dst
    if mode == "hubSpoke":
        return dst if src == hub else hub
    return None


@dataclass(frozen=True)
class Destination:
    cidr: str
    region: str  # where it lives: a VPC's region, or the region of the on-prem site's link
    kind: str  # "vpc" | "onprem"
    site: str = ""


def destinations(vpc_cidrs: Mapping[str, str], sites: Sequence[tuple[str, str, Sequence[str]]]) -> list[Destination]:
    """Every routable destination: each region's VPC and each linked on-prem site's CIDRs.
    ``sites`` holds (site name, link region, cidrs)."""
    out = [Destination(c, r, "vpc") for r, c in sorted(vpc_cidrs.items())]
    for name, region, cidrs in sites:
        out += [Destination(c, region, "onprem", name) for c in cidrs]
    return out


def tgw_routes(src: str, dests: Sequence[Destination], hub: str, mode: str) -> dict[str, list[Destination]]:
    """Static TGW routes in src's route table, grouped by the neighbour they go through.
    Destinations in src itself are reached by attachment propagation (VPC, VPN, DX)."""
    out: dict[str, list[Destination]] = {}
    for d in dests:
        if d.region == src:
            continue
        hop = next_hop(src, d.region, hub, mode)
        if hop is not None:
            out.setdefault(hop, []).append(d)
    return out


def reachable(src: str, dests: Sequence[Destination], hub: str, mode: str) -> list[Destination]:
    """Remote destinations src's VPC route tables should send to the TGW."""
    return [d for d in dests if (d.region != src or d.kind == "onprem") and next_hop(src, d.region, hub, mode)]
