"""The regional network as the real program registers it, one property per test.
Every assertion message names the resource's URN."""

from ipaddress import IPv4Network

import pytest

from components.naming import REQUIRED_TAG_KEYS, region_short_code
from components.aws_types import is_taggable
from tests.helpers import run, shipped, variant

import pulumi_aws

STACKS = ["dev", "prod", "airgap", "org"]


@pytest.mark.parametrize("stack", STACKS)
def test_one_vpc_per_region_in_that_region_with_dns(stack):
    r = shipped(stack)
    vpcs = r.of_type("aws:ec2/vpc:Vpc")
    assert sorted(r.region_of(v) for v in vpcs) == sorted(x.name for x in r.spec.config.regions)
    for v in vpcs:
        assert v.inputs["enableDnsSupport"] is True and v.inputs["enableDnsHostnames"] is True, v.urn
        assert v.inputs["cidrBlock"] == str(r.spec.plan[r.region_of(v)].cidr), v.urn


@pytest.mark.parametrize("stack", STACKS)
def test_vpc_cidrs_disjoint_and_clear_of_reserved(stack):
    r = shipped(stack)
    reserved = r.spec.config.network.reserved_cidrs
    vpcs = r.of_type("aws:ec2/vpc:Vpc")
    for i, v in enumerate(vpcs):
        cidr = IPv4Network(v.inputs["cidrBlock"])
        assert cidr.subnet_of(r.spec.config.network.supernet), v.urn
        assert not any(cidr.overlaps(x) for x in reserved), f"{v.urn} overlaps a reserved range"
        for other in vpcs[i + 1:]:
            assert not cidr.overlaps(IPv4Network(other.inputs["cidrBlock"])), f"{v.urn} overlaps {other.urn}"


@pytest.mark.parametrize("stack", STACKS)
def test_subnets_per_tier_span_az_count_distinct_zones_inside_their_vpc(stack):
    r = shipped(stack)
    az_count = r.spec.config.network.az_count
    tiers = {"workers", "public", "endpoints"} | ({"database"} if r.spec.config.network.database_tier else set())
    for vpc in r.of_type("aws:ec2/vpc:Vpc"):
        subnets = [s for s in r.of_type("aws:ec2/subnet:Subnet") if s.inputs["vpcId"] == vpc.id]
        by_tier = {}
        for s in subnets:
            by_tier.setdefault(s.inputs["tags"]["tier"], []).append(s)
            assert IPv4Network(s.inputs["cidrBlock"]).subnet_of(IPv4Network(vpc.inputs["cidrBlock"])), s.urn
            assert s.inputs["availabilityZone"].startswith(r.region_of(vpc)), s.urn
            assert s.inputs["mapPublicIpOnLaunch"] is False, s.urn
        assert set(by_tier) == tiers, vpc.urn
        for tier, subs in by_tier.items():
            assert len(subs) == az_count, f"{vpc.urn}: {tier} has {len(subs)} subnets"
            assert len({s.inputs["availabilityZone"] for s in subs}) == az_count, f"{vpc.urn}: {tier} AZs repeat"


def test_ap_northeast_1_uses_the_zones_that_exist():
    """ap-northeast-1 has no 1b for new accounts; the mock answers like AWS and the plan follows."""
    r = shipped("prod")
    zones = {s.inputs["availabilityZone"] for s in r.of_type("aws:ec2/subnet:Subnet") if r.region_of(s) == "ap-northeast-1"}
    assert zones == {"ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"}


@pytest.mark.parametrize("stack, per_region", [("dev", 1), ("prod", 3), ("airgap", 0)])
def test_nat_gateways_per_mode(stack, per_region):
    r = shipped(stack)
    nats = r.of_type("aws:ec2/natGateway:NatGateway")
    for region in r.spec.config.regions:
        mine = [n for n in nats if r.region_of(n) == region.name]
        assert len(mine) == per_region, f"{region.name}: {[n.urn for n in mine]}"
        public = {s.id for s in r.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "public"}
        for n in mine:
            assert n.inputs["subnetId"] in public, f"{n.urn} is not in a public subnet"


def test_workers_route_to_their_own_azs_nat_when_per_az():
    r = shipped("prod")
    nat_by_id = {n.id: n for n in r.of_type("aws:ec2/natGateway:NatGateway")}
    defaults = [x for x in r.of_type("aws:ec2/route:Route") if x.inputs.get("natGatewayId")]
    assert len(defaults) == 9
    for route in defaults:
        nat = nat_by_id[route.inputs["natGatewayId"]]
        assert route.name[-1] == nat.name[-1], f"{route.urn} crosses AZs to {nat.urn}"


def test_airgap_stack_has_no_internet_path():
    r = shipped("airgap")
    for typ in ("aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip",
                "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"):
        assert r.of_type(typ) == [], f"{typ} exists: {[x.urn for x in r.of_type(typ)]}"
    for route in r.of_type("aws:ec2/route:Route"):
        assert route.inputs.get("destinationCidrBlock") != "0.0.0.0/0", f"{route.urn} leads out"
        assert not route.inputs.get("gatewayId") and not route.inputs.get("natGatewayId"), route.urn
    for subnet in r.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.inputs["mapPublicIpOnLaunch"] is False, subnet.urn


def test_airgap_stack_reaches_aws_through_endpoints():
    r = shipped("airgap")
    needed = {"ecr.api", "ecr.dkr", "sts", "ec2", "logs", "ssm", "eks", "elasticloadbalancing", "autoscaling"}
    for vpc in r.of_type("aws:ec2/vpc:Vpc"):
        region = r.region_of(vpc)
        services = {e.inputs["serviceName"].split(f"{region}.", 1)[1]
                    for e in r.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.inputs["vpcId"] == vpc.id}
        assert needed | {"s3", "secretsmanager"} <= services, f"{vpc.urn} lacks {needed - services}"


def test_nat_none_keeps_igw_for_public_but_no_nat(tmp_path):
    r = run("dev", variant(tmp_path, "dev", network={"natGateways": "none"}))
    assert r.of_type("aws:ec2/natGateway:NatGateway") == []
    assert len(r.of_type("aws:ec2/internetGateway:InternetGateway")) == 2


@pytest.mark.parametrize("stack", STACKS)
def test_flow_log_per_vpc_to_encrypted_retained_log_group(stack):
    r = shipped(stack)
    groups = {g.id: g for g in r.of_type("aws:cloudwatch/logGroup:LogGroup")}
    keys = {k.outputs["arn"]: k for k in r.of_type("aws:kms/key:Key")}
    logs = r.of_type("aws:ec2/flowLog:FlowLog")
    for vpc in r.of_type("aws:ec2/vpc:Vpc"):
        mine = [f for f in logs if f.inputs["vpcId"] == vpc.id]
        assert len(mine) == 1, f"{vpc.urn} has {len(mine)} flow logs"
        flow = mine[0]
        assert flow.inputs["trafficType"] == "ALL", flow.urn
        group = next(g for g in groups.values() if g.outputs["arn"] == flow.inputs["logDestination"])
        assert group.inputs["retentionInDays"] == r.spec.config.network.flow_log_retention_days, group.urn
        key = keys[group.inputs["kmsKeyId"]]
        assert key.inputs["enableKeyRotation"] is True, key.urn
        assert r.region_of(key) == r.region_of(vpc) == r.region_of(group), flow.urn


@pytest.mark.parametrize("stack", STACKS)
def test_default_security_group_is_locked_in_every_vpc(stack):
    r = shipped(stack)
    sgs = r.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert {s.inputs["vpcId"] for s in sgs} == {v.id for v in r.of_type("aws:ec2/vpc:Vpc")}
    for sg in sgs:
        assert sg.inputs.get("ingress", []) == [] and sg.inputs.get("egress", []) == [], sg.urn


@pytest.mark.parametrize("stack", STACKS)
def test_endpoints_gateway_and_interface(stack):
    r = shipped(stack)
    wanted = set(r.spec.config.interface_endpoints)
    eps = r.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    for vpc in r.of_type("aws:ec2/vpc:Vpc"):
        region = r.region_of(vpc)
        mine = [e for e in eps if e.inputs["vpcId"] == vpc.id]
        gateways = {e.inputs["serviceName"] for e in mine if e.inputs["vpcEndpointType"] == "Gateway"}
        assert gateways == {f"com.amazonaws.{region}.s3", f"com.amazonaws.{region}.dynamodb"}, vpc.urn
        interface = [e for e in mine if e.inputs["vpcEndpointType"] == "Interface"]
        assert {e.inputs["serviceName"] for e in interface} == {f"com.amazonaws.{region}.{s}" for s in wanted}
        endpoint_subnets = {s.id for s in r.of_type("aws:ec2/subnet:Subnet")
                            if s.inputs["tags"]["tier"] == "endpoints" and s.inputs["vpcId"] == vpc.id}
        for e in interface:
            assert e.inputs["privateDnsEnabled"] is True, e.urn
            assert set(e.inputs["subnetIds"]) == endpoint_subnets, e.urn
            (sg_id,) = e.inputs["securityGroupIds"]
            rules = [x for x in r.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                     if x.inputs["securityGroupId"] == sg_id]
            assert [(x.inputs["fromPort"], x.inputs["toPort"], x.inputs["cidrIpv4"]) for x in rules] == \
                [(443, 443, vpc.inputs["cidrBlock"])], e.urn


def test_db_subnet_group_only_with_database_tier_and_protected_in_prod(tmp_path):
    from tests.helpers import stack_yaml
    config = stack_yaml("dev")["config"]
    slos = [s for s in config["global-platform:slos"] if s["kind"] != "dbReplicaLag"]
    chaos = {"scenarios": [c for c in config["global-platform:chaos"]["scenarios"] if c["scenario"] != "aurora-failover"]}
    off = run("dev", variant(tmp_path, "dev", network={"databaseTier": False}, data={"aurora": None},
                             slos=slos, chaos=chaos, mesh={"dbGuard": None}))
    assert off.of_type("aws:rds/subnetGroup:SubnetGroup") == []
    r = shipped("prod")
    groups = r.of_type("aws:rds/subnetGroup:SubnetGroup")
    assert len(groups) == 3
    db_subnets = {s.id: s for s in r.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "database"}
    for g in groups:
        assert g.protect, g.urn
        assert len(g.inputs["subnetIds"]) == 3 and set(g.inputs["subnetIds"]) <= set(db_subnets), g.urn


def test_prod_protects_stateful_resources_dev_does_not():
    for typ in ("aws:ec2/vpc:Vpc", "aws:kms/key:Key"):
        assert all(x.protect for x in shipped("prod").of_type(typ)), typ
        assert not any(x.protect for x in shipped("dev").of_type(typ)), typ


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_aws_resource_carries_the_standard_tags(stack):
    r = shipped(stack)
    env, owner = r.spec.config.environment, r.spec.config.owner
    checked = 0
    for reg in r.regs.values():
        if not reg.custom or not is_taggable(reg.type):
            continue
        tags = reg.inputs.get("tags") or {}
        missing = [k for k in REQUIRED_TAG_KEYS if k not in tags]
        assert not missing, f"{reg.urn} lacks tags {missing}"
        assert (tags["environment"], tags["owner"], tags["managed-by"], tags["region"]) == \
            (env, owner, "pulumi", r.region_of(reg)), reg.urn
        checked += 1
    assert checked > 30


def test_taggable_is_read_from_the_sdk():
    assert is_taggable("aws:ec2/vpc:Vpc") and is_taggable("aws:ec2transitgateway/transitGateway:TransitGateway")
    assert not is_taggable("aws:ec2/route:Route") and not is_taggable("aws:kms/alias:Alias")
    assert not is_taggable("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation")


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_uses_its_regions_provider_and_named_after_it(stack):
    r = shipped(stack)
    for reg in r.regs.values():
        if reg.type.startswith("aws:"):
            assert reg.provider, f"{reg.urn} would use the default provider"
            # named after the region that owns it: its provider's, or for the us-east-1 parts of a
            # region's CloudFront distribution (its own provider `<code>-aws-use1`) that region's
            provider_name = reg.provider.rsplit("::", 1)[0].rsplit("::", 1)[-1]
            owner = provider_name.split("-aws", 1)[0]
            assert reg.name.startswith(region_short_code(r.region_of(reg)) + "-") or (
                provider_name == f"{owner}-aws-{region_short_code(r.region_of(reg))}"
                and reg.name.startswith(owner + "-")), reg.urn
    names = [(x.type, x.name) for x in r.regs.values()]
    assert len(names) == len(set(names))


def test_region_short_codes_are_unique_over_every_aws_region():
    codes = {region_short_code(x.value) for x in pulumi_aws.Region}
    assert len(codes) == len(list(pulumi_aws.Region))


def test_reordering_regions_changes_no_resource(tmp_path):
    from tests.helpers import stack_yaml
    regions = stack_yaml("prod")["config"]["global-platform:regions"]
    reordered = run("prod", variant(tmp_path, "prod", regions=list(reversed(regions))))
    base = shipped("prod")
    assert {u: x.inputs for u, x in reordered.regs.items()} == {u: x.inputs for u, x in base.regs.items()}


def test_region_with_too_few_zones_fails_clearly(tmp_path):
    from tools.offline import ProgramError
    path = variant(tmp_path, "dev", regions=[
        {"name": "ap-northeast-2", "role": "hub", "cidr": "10.16.0.0/18"},
        {"name": "us-west-1", "role": "spoke", "cidr": "10.16.64.0/18"}], network={"azCount": 3}, slos=None, chaos=None)
    with pytest.raises(ProgramError, match="us-west-1 offers 2 availability zones"):
        run("dev", path)


@pytest.mark.parametrize("stack", STACKS)
def test_every_input_key_exists_in_the_pulumi_aws_schema(stack):
    """Dict arguments are not checked by Python: a misspelt nested key would reach the provider.
    Every key, nested blocks included, must be a property of the SDK's own Args types."""
    from components.aws_types import unknown_input_keys
    r = shipped(stack)
    for reg in r.regs.values():
        if reg.type.startswith("aws:"):
            assert unknown_input_keys(reg.type, reg.inputs) == [], reg.urn


def test_the_schema_check_catches_a_nested_typo():
    from components.aws_types import unknown_input_keys
    assert unknown_input_keys("aws:ec2/launchTemplate:LaunchTemplate",
                              {"metadataOptions": {"httpTokenz": "required"}, "tags": {}}) == ["metadataOptions.httpTokenz"]
    assert unknown_input_keys("aws:wafv2/webAcl:WebAcl", {"rules": [{"statement": {"rateBasedStatment": {}}}]}) == \
        ["rules[0].statement.rateBasedStatment"]


def test_types_in_renamed_sdk_modules_are_known_taggable():
    """aws:lambda/* lives in pulumi_aws.lambda_: a guessed module would call it untaggable."""
    from components.aws_types import is_taggable
    assert is_taggable("aws:lambda/function:Function")
    assert is_taggable("aws:ec2/vpc:Vpc") and not is_taggable("aws:ec2/route:Route")
    assert not is_taggable("aws:nosuch/thing:Thing")
