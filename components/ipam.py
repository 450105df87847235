"""Address planning: pure functions, no Pulumi, no cloud.

VPC blocks
    Each region's VPC is carved from the environment's supernet in slots of
    ``vpcPrefixLength``. A pinned ``cidr`` is honoured as given (and checked). An
    unpinned region starts probing at a home slot derived from a hash of its *name*,
    and unpinned regions are placed in name order, so reordering ``regions`` changes
    nothing. A new region only takes a free slot, so it can move an existing unpinned
    region only when both hash to the same free slot; pin ``cidr`` (the preview prints
    the line) to freeze a region for good. The shipped stacks pin every region.

Subnet tiers
    Every VPC is cut the same way: per AZ slot (always three, so growing from 2 to 3
    AZs moves nothing) a workers subnet with at least twice the addresses the nodes
    need (a blue/green node group or cluster runs beside the live one), then public,
    database and endpoints subnets. The database slots are reserved even when the tier
    is off, so turning it on moves nothing. Blocks are placed largest first, aligned,
    which never wastes space between power-of-two blocks.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Iterator, Optional, Sequence

TIERS = ("workers", "public", "database", "endpoints")
AZ_SLOTS = 3
AZ_LETTERS = "abc"  # slot index -> the letter child names use (never the AZ's own name)
AWS_RESERVED_PER_SUBNET = 5  # network, VPC router, DNS, future use, broadcast
SMALLEST_SUBNET_PREFIX = 28  # AWS minimum subnet size
MIN_VPC_PREFIX, MAX_VPC_PREFIX = 16, 24


class PlanError(Exception):
    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Subnet:
    tier: str
    az_index: int
    cidr: IPv4Network

    @property
    def az_letter(self) -> str:
        return AZ_LETTERS[self.az_index]

    @property
    def usable(self) -> int:
        return self.cidr.num_addresses - AWS_RESERVED_PER_SUBNET


@dataclass(frozen=True)
class VpcPlan:
    region: str
    cidr: IPv4Network
    pinned: bool
    subnets: tuple[Subnet, ...]

    def tier(self, name: str, az_count: int = AZ_SLOTS) -> list[Subnet]:
        return [s for s in self.subnets if s.tier == name and s.az_index < az_count]


@dataclass(frozen=True)
class AddressPlan:
    vpcs: dict[str, VpcPlan] = field(default_factory=dict)

    def __getitem__(self, region: str) -> VpcPlan:
        return self.vpcs[region]


@dataclass(frozen=True)
class RegionRequest:
    name: str
    pinned: Optional[IPv4Network] = None


def worker_prefix(addresses_needed: int) -> int:
    """Smallest block whose usable addresses are at least twice what the nodes need."""
    size = 2 * addresses_needed + AWS_RESERVED_PER_SUBNET
    return min(32 - math.ceil(math.log2(size)), SMALLEST_SUBNET_PREFIX)


def small_tier_prefix(vpc_prefix: int) -> int:
    """Public, database and endpoint subnets: 1/64 of the VPC, between /22 and /28."""
    return min(max(vpc_prefix + 6, 22), SMALLEST_SUBNET_PREFIX)


def plan_subnets(vpc: IPv4Network, worker_ips_per_az: int) -> tuple[Subnet, ...]:
    """Cut one VPC into its tiers; raises PlanError when they do not fit."""
    wanted: list[tuple[int, int, str, int]] = []  # (prefix, order, tier, az)
    wp, sp = worker_prefix(worker_ips_per_az), small_tier_prefix(vpc.prefixlen)
    for order, tier in enumerate(TIERS):
        prefix = wp if tier == "workers" else sp
        wanted += [(prefix, order, tier, az) for az in range(AZ_SLOTS)]
    total = sum(2 ** (32 - p) for p, *_ in wanted)
    if wp < vpc.prefixlen or total > vpc.num_addresses:
        raise PlanError(
            "network.workerIpsPerAz",
            f"worker subnets of /{wp} (twice {worker_ips_per_az} addresses) plus the other tiers "
            f"need {total} addresses for {AZ_SLOTS} AZ slots, more than the {vpc.num_addresses} "
            f"of {vpc}; lower workerIpsPerAz or use a larger VPC (smaller vpcPrefixLength)")
    cursor = int(vpc.network_address)
    subnets = []
    # Largest first: every block then starts aligned to its own size.
    for prefix, _order, tier, az in sorted(wanted, key=lambda w: (w[0], w[1], w[3])):
        subnets.append(Subnet(tier, az, IPv4Network((cursor, prefix))))
        cursor += 2 ** (32 - prefix)
    subnets.sort(key=lambda s: (TIERS.index(s.tier), s.az_index))
    return tuple(subnets)


def _home_slot(name: str, slots: int) -> int:
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % slots


def _slots_from(supernet: IPv4Network, prefix: int, start: int) -> Iterator[IPv4Network]:
    count = 2 ** (prefix - supernet.prefixlen)
    size = 2 ** (32 - prefix)
    base = int(supernet.network_address)
    for i in range(count):
        yield IPv4Network((base + ((start + i) % count) * size, prefix))


def _overlapping(net: IPv4Network, others: Sequence[IPv4Network]) -> Optional[IPv4Network]:
    return next((o for o in others if net.overlaps(o)), None)


def allocate_vpcs(
    supernet: IPv4Network,
    reserved: Sequence[IPv4Network],
    prefix: int,
    regions: Sequence[RegionRequest],
) -> dict[str, tuple[IPv4Network, bool]]:
    """Region name -> (VPC block, pinned?). Raises the first PlanError per region, all at once."""
    errors: list[PlanError] = []
    if supernet.prefixlen > prefix:
        raise PlanError("network.supernet", f"{supernet} is smaller than one /{prefix} VPC")

    result: dict[str, tuple[IPv4Network, bool]] = {}
    pinned: list[IPv4Network] = []
    for index, region in enumerate(regions):
        cidr = region.pinned
        if cidr is None:
            continue
        path = f"regions[{index}].cidr"
        clash = _overlapping(cidr, reserved) or _overlapping(cidr, pinned)
        if not MIN_VPC_PREFIX <= cidr.prefixlen <= MAX_VPC_PREFIX:
            errors.append(PlanError(path, f"{cidr}: a VPC block must be /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX}"))
        elif not cidr.subnet_of(supernet):
            errors.append(PlanError(path, f"{cidr} is outside network.supernet {supernet}"))
        elif clash is not None:
            what = "reserved range" if clash in reserved else "another region's pinned block"
            errors.append(PlanError(path, f"{cidr} overlaps {what} {clash}"))
        else:
            pinned.append(cidr)
            result[region.name] = (cidr, True)

    taken = list(reserved) + pinned
    slots = 2 ** (prefix - supernet.prefixlen)
    unpinned = sorted(r.name for r in regions if r.pinned is None)
    for name in unpinned:  # name order: reordering the list changes nothing
        slot = next(
            (s for s in _slots_from(supernet, prefix, _home_slot(name, slots)) if _overlapping(s, taken) is None),
            None,
        )
        if slot is None:
            errors.append(PlanError(
                "network.supernet",
                f"no room for a /{prefix} VPC for {name} in {supernet} after reserved ranges and "
                f"other regions ({len(unpinned)} unpinned region(s) need a slot); use a larger supernet "
                f"or a longer vpcPrefixLength"))
            break
        taken.append(slot)
        result[name] = (slot, False)
    if errors:
        raise PlanErrors(errors)
    return result


class PlanErrors(Exception):
    def __init__(self, errors: list[PlanError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def plan_addresses(
    supernet: IPv4Network,
    reserved: Sequence[IPv4Network],
    vpc_prefix: int,
    regions: Sequence[RegionRequest],
    worker_ips_per_az: int,
) -> AddressPlan:
    """The whole plan for one environment. Raises PlanErrors listing every problem."""
    try:
        blocks = allocate_vpcs(supernet, reserved, vpc_prefix, regions)
    except PlanError as err:
        raise PlanErrors([err]) from None
    vpcs, errors = {}, []
    for region in regions:
        cidr, pinned = blocks[region.name]
        try:
            vpcs[region.name] = VpcPlan(region.name, cidr, pinned, plan_subnets(cidr, worker_ips_per_az))
        except PlanError as err:
            errors.append(err)
    if errors:
        raise PlanErrors(errors[:1])  # the same sizing problem in every VPC: say it once
    return AddressPlan(vpcs)
