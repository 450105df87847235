"""Address plan properties over generated inputs (hypothesis), plus the sizing rules."""

from ipaddress import IPv4Network

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from components.config import KNOWN_REGIONS
from components.ipam import (AWS_RESERVED_PER_SUBNET, AZ_SLOTS, TIERS, PlanError, PlanErrors,
                             RegionRequest, allocate_vpcs, plan_addresses, plan_subnets, worker_prefix)

region_names = st.lists(st.sampled_from(KNOWN_REGIONS), min_size=1, max_size=8, unique=True)


@st.composite
def environments(draw):
    """A supernet, reserved ranges (some inside it) and a VPC size that leave room for the regions."""
    supernet_prefix = draw(st.integers(8, 14))
    supernet = IPv4Network((draw(st.sampled_from([10 << 24, (172 << 24) | (16 << 16)])), supernet_prefix), strict=False)
    vpc_prefix = draw(st.integers(max(16, supernet_prefix + 3), 24))
    reserved = []
    for _ in range(draw(st.integers(0, 4))):
        prefix = draw(st.integers(supernet_prefix + 2, 24))
        offset = draw(st.integers(0, 2 ** (prefix - supernet_prefix) - 1))
        reserved.append(IPv4Network((int(supernet.network_address) + offset * 2 ** (32 - prefix), prefix)))
    reserved.append(IPv4Network("192.168.0.0/16"))  # outside: must simply never matter
    return supernet, reserved, vpc_prefix


def _alloc(env, names, pinned=None):
    supernet, reserved, prefix = env
    pinned = pinned or {}
    return allocate_vpcs(supernet, reserved, prefix, [RegionRequest(n, pinned.get(n)) for n in names])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(environments(), region_names)
def test_vpcs_disjoint_inside_supernet_and_clear_of_reserved(env, names):
    supernet, reserved, prefix = env
    try:
        blocks = _alloc(env, names)
    except PlanErrors as err:
        # Only a genuinely full supernet may refuse, and it says so under network.supernet.
        assert all(e.path == "network.supernet" and "no room" in e.reason for e in err.errors)
        return
    cidrs = [c for c, _ in blocks.values()]
    assert set(blocks) == set(names)
    for i, a in enumerate(cidrs):
        assert a.subnet_of(supernet), f"{a} outside {supernet}"
        assert a.prefixlen == prefix
        assert not any(a.overlaps(r) for r in reserved), f"{a} overlaps a reserved range"
        assert not any(a.overlaps(b) for b in cidrs[i + 1:]), f"{a} overlaps another VPC"


@settings(max_examples=200)
@given(environments(), region_names, st.randoms())
def test_reordering_regions_changes_no_cidr(env, names, rnd):
    try:
        first = _alloc(env, names)
    except PlanErrors:
        return
    shuffled = list(names)
    rnd.shuffle(shuffled)
    assert _alloc(env, shuffled) == first


@settings(max_examples=200)
@given(environments(), region_names, st.sampled_from(KNOWN_REGIONS))
def test_adding_a_region_never_moves_a_pinned_one(env, names, newcomer):
    """The recommended workflow: pin what the preview printed; then growth moves nothing."""
    assume(newcomer not in names)
    try:
        first = _alloc(env, names)
    except PlanErrors:
        return
    pins = {n: c for n, (c, _) in first.items()}
    try:
        after = _alloc(env, names + [newcomer], pins)
    except PlanErrors as err:
        assert all(e.path == "network.supernet" for e in err.errors)
        return
    for name in names:
        assert after[name][0] == first[name][0], f"{name} moved"
        assert after[name][1] is True
    assert not any(after[newcomer][0].overlaps(c) for c in pins.values())


@settings(max_examples=200)
@given(environments(), region_names, st.sampled_from(KNOWN_REGIONS))
def test_adding_a_region_moves_unpinned_ones_only_on_a_slot_collision(env, names, newcomer):
    assume(newcomer not in names)
    try:
        first = _alloc(env, names)
        after = _alloc(env, names + [newcomer])
    except PlanErrors:
        return
    moved = [n for n in names if after[n] != first[n]]
    # A region can only be displaced by the newcomer taking the block it had.
    if moved:
        assert after[newcomer][0] in {first[n][0] for n in moved}


@given(st.integers(1, 200_000))
def test_worker_subnets_hold_twice_what_nodes_need(need):
    prefix = worker_prefix(need)
    usable = 2 ** (32 - prefix) - AWS_RESERVED_PER_SUBNET
    assert usable >= 2 * need or prefix == 28 and need <= 5
    if prefix < 28:  # and it is the smallest block that does
        assert 2 ** (32 - prefix - 1) - AWS_RESERVED_PER_SUBNET < 2 * need


@settings(max_examples=300)
@given(st.integers(16, 24), st.integers(1, 20000), st.integers(0, 255))
def test_subnet_tiers_tile_the_vpc_without_overlap(prefix, need, second_octet):
    vpc = IPv4Network((int(IPv4Network(f"10.{second_octet}.0.0/16").network_address), prefix), strict=False)
    try:
        subnets = plan_subnets(vpc, need)
    except PlanError as err:
        assert err.path == "network.workerIpsPerAz"
        return
    assert {(s.tier, s.az_index) for s in subnets} == {(t, a) for t in TIERS for a in range(AZ_SLOTS)}
    for i, s in enumerate(subnets):
        assert s.cidr.subnet_of(vpc)
        assert 16 <= s.cidr.prefixlen <= 28, f"{s.cidr} is not a valid AWS subnet size"
        assert not any(s.cidr.overlaps(o.cidr) for o in subnets[i + 1:])
        if s.tier == "workers":
            assert s.usable >= 2 * need


def test_tiers_do_not_depend_on_az_count_or_database_tier():
    """Growing 2->3 AZs or turning the database tier on moves no existing subnet."""
    vpc = IPv4Network("10.1.0.0/16")
    plan = plan_subnets(vpc, 4000)
    assert [s.cidr for s in plan if s.az_index < 2] == [s.cidr for s in plan_subnets(vpc, 4000) if s.az_index < 2]
    workers = [str(s.cidr) for s in plan if s.tier == "workers"]
    assert workers == ["10.1.0.0/19", "10.1.32.0/19", "10.1.64.0/19"]


def test_pinned_block_problems_are_reported_together_with_their_key():
    env = (IPv4Network("10.0.0.0/12"), [IPv4Network("10.8.0.0/16")], 16)
    with pytest.raises(PlanErrors) as info:
        _alloc(env, ["us-east-1", "eu-west-1", "ap-south-1"], {
            "us-east-1": IPv4Network("10.8.0.0/16"),     # reserved
            "eu-west-1": IPv4Network("192.168.0.0/16"),  # outside the supernet
            "ap-south-1": IPv4Network("10.1.0.0/26"),    # too small for a VPC here
        })
    reasons = {e.path: e.reason for e in info.value.errors}
    assert "overlaps reserved range 10.8.0.0/16" in reasons["regions[0].cidr"]
    assert "outside network.supernet" in reasons["regions[1].cidr"]
    assert "/16 to /24" in reasons["regions[2].cidr"]


def test_full_supernet_is_refused_under_network_supernet():
    env = (IPv4Network("10.0.0.0/15"), [IPv4Network("10.0.0.0/16")], 16)
    with pytest.raises(PlanErrors) as info:
        _alloc(env, ["us-east-1", "eu-west-1"])
    assert info.value.errors[0].path == "network.supernet"
    assert "no room" in info.value.errors[0].reason


def test_plan_addresses_refuses_workers_that_do_not_fit():
    with pytest.raises(PlanErrors) as info:
        plan_addresses(IPv4Network("10.0.0.0/12"), [], 24, [RegionRequest("us-east-1")], 4000)
    assert info.value.errors[0].path == "network.workerIpsPerAz"
