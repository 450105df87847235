"""Multi-account stacks (`accounts:`): providers assume each account's role, the network account
owns the transit gateways and shares them through AWS RAM, the account is in tags and outputs;
single-account stacks are untouched. Bad config names its key."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError
from tests.helpers import run, run_tool, shipped, variant, plan_resource
from tools.plan_json import dump

TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
VPC_ACCEPTER = "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter"
SHARE = "aws:ram/resourceShare:ResourceShare"
RESOURCE_ASSOC = "aws:ram/resourceAssociation:ResourceAssociation"
PRINCIPAL_ASSOC = "aws:ram/principalAssociation:PrincipalAssociation"
SHARE_ACCEPTER = "aws:ram/resourceShareAccepter:ResourceShareAccepter"
PROVIDER = "pulumi:providers:aws"
NETWORK, HUB, SPOKES = "111111111111", "222222222222", "333333333333"


def account_of(r, reg) -> str:
    """The account a resource deploys into: its provider's assumed role (the mocks answer the same)."""
    provider = r.regs[reg.provider.rsplit("::", 1)[0]]
    roles = provider.inputs.get("assumeRoles")
    roles = json.loads(roles) if isinstance(roles, str) else roles
    return roles[0]["roleArn"].split(":")[4]


def stack_outputs(r) -> dict:
    root = next(s for s in r.doc["steps"] if "::pulumi:pulumi:Stack::" in s["urn"])
    return root["newState"]["outputs"]


# -- the shipped org stack ---------------------------------------------------------------------
def test_every_provider_assumes_its_accounts_role():
    r = shipped("org")
    expected = {"apne2-aws": HUB, "apne2-aws-use1": HUB, "apne1-aws": SPOKES, "usw2-aws": SPOKES,
                "apne2-aws-network": NETWORK, "apne1-aws-network": NETWORK, "usw2-aws-network": NETWORK}
    providers = {p.name: p for p in r.of_type(PROVIDER)}
    assert set(providers) == set(expected)
    for name, account in expected.items():
        (role,) = json.loads(providers[name].inputs["assumeRoles"]) if isinstance(
            providers[name].inputs["assumeRoles"], str) else providers[name].inputs["assumeRoles"]
        assert role["roleArn"] == f"arn:aws:iam::{account}:role/platform-deploy", name
        assert role["sessionName"] == "global-platform-org", name
        assert ("externalId" in role) == (account == HUB), name


def test_transit_side_lives_in_the_network_account_vpc_side_in_the_regions():
    r = shipped("org")
    regions = {x.name: x.account for x in r.spec.config.regions}
    accounts = {n: a.account_id for n, a in r.spec.config.accounts.items()}
    network_types = [TGW, "aws:ec2transitgateway/routeTable:RouteTable", VPC_ACCEPTER,
                     "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
                     "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
                     "aws:ec2transitgateway/peeringAttachment:PeeringAttachment",
                     "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter",
                     "aws:ec2transitgateway/route:Route", "aws:ec2/vpnConnection:VpnConnection",
                     "aws:ec2/customerGateway:CustomerGateway", "aws:directconnect/gateway:Gateway",
                     "aws:directconnect/gatewayAssociation:GatewayAssociation", SHARE, RESOURCE_ASSOC,
                     PRINCIPAL_ASSOC]
    seen = 0
    for typ in network_types:
        for reg in r.of_type(typ):
            assert account_of(r, reg) == NETWORK, reg.urn
            seen += 1
    assert seen > 40
    for typ in (ATTACHMENT, "aws:ec2/vpc:Vpc", "aws:ec2/route:Route",
                "aws:route53/resolverEndpoint:ResolverEndpoint"):
        for reg in r.of_type(typ):
            assert account_of(r, reg) == accounts[regions[r.region_of(reg)]], reg.urn


def test_each_tgw_is_shared_with_its_regions_account_before_the_attachment_and_accepted_by_the_owner():
    r = shipped("org")
    accounts = {x.name: r.spec.config.accounts[x.account].account_id for x in r.spec.config.regions}
    tgws = {r.region_of(t): t for t in r.of_type(TGW)}
    for region, tgw in tgws.items():
        (share,) = [s for s in r.of_type(SHARE) if r.region_of(s) == region]
        # one organisation with RAM sharing on: no external principals, no invitation to accept
        assert share.inputs["allowExternalPrincipals"] is False, share.urn
        (assoc,) = [a for a in r.of_type(RESOURCE_ASSOC) if a.inputs["resourceShareArn"] == share.outputs["arn"]]
        assert assoc.inputs["resourceArn"] == tgw.outputs["arn"], assoc.urn
        (principal,) = [p for p in r.of_type(PRINCIPAL_ASSOC) if p.inputs["resourceShareArn"] == share.outputs["arn"]]
        assert principal.inputs["principal"] == accounts[region], principal.urn
        (att,) = [a for a in r.of_type(ATTACHMENT) if r.region_of(a) == region]
        assert {assoc.urn, principal.urn} <= set(att.dependencies), att.urn
        # a shared TGW's route-table defaults are the owner's to set (the attachment cannot)
        assert "transitGatewayDefaultRouteTableAssociation" not in att.inputs, att.urn
        (acc,) = [a for a in r.of_type(VPC_ACCEPTER) if a.inputs["transitGatewayAttachmentId"] == att.id]
        assert acc.inputs["transitGatewayDefaultRouteTableAssociation"] is False, acc.urn
        assert att.urn in acc.dependencies, acc.urn
        assocs = [x for x in r.of_type("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation")
                  if x.inputs["transitGatewayAttachmentId"] == acc.id and r.region_of(x) == region]
        assert assocs and all(acc.urn in x.dependencies or acc.urn in sum(x.property_dependencies.values(), [])
                              for x in assocs), region
    assert r.of_type(SHARE_ACCEPTER) == []
    assert tgws and all(t.inputs["autoAcceptSharedAttachments"] == "disable" for t in tgws.values())


def test_account_tag_and_outputs_record_where_things_live():
    r = shipped("org")
    regions = {x.name: x.account for x in r.spec.config.regions}
    accounts = {n: a.account_id for n, a in r.spec.config.accounts.items()}
    tagged = 0
    for reg in r.regs.values():
        tags = reg.inputs.get("tags") if reg.type.startswith("aws:") else None
        if isinstance(tags, dict) and "environment" in tags:
            assert tags.get("account") == account_of(r, reg), reg.urn
            tagged += 1
    assert tagged > 300
    out = stack_outputs(r)["accounts"]
    assert out == {region: {"account": accounts[regions[region]], "transitGatewayAccount": NETWORK}
                   for region in regions}


@pytest.mark.parametrize("stack", ["dev", "prod", "airgap"])
def test_single_account_stacks_are_unchanged(stack):
    r = shipped(stack)
    assert not r.spec.config.accounts
    assert all("assumeRoles" not in p.inputs for p in r.of_type(PROVIDER))
    for typ in (SHARE, RESOURCE_ASSOC, PRINCIPAL_ASSOC, VPC_ACCEPTER):
        assert r.of_type(typ) == []
    for reg in r.regs.values():
        tags = reg.inputs.get("tags")
        assert not (isinstance(tags, dict) and "account" in tags), reg.urn
    assert "accounts" not in stack_outputs(r)


def test_outside_an_organisation_the_regions_account_accepts_the_invitation(tmp_path):
    r = run("org", variant(tmp_path, "org", connectivity={"transitGateway": {"shareOutsideOrganization": True}}))
    shares = r.of_type(SHARE)
    assert shares and all(s.inputs["allowExternalPrincipals"] is True for s in shares)
    accepters = r.of_type(SHARE_ACCEPTER)
    assert len(accepters) == len(shares)
    for acc in accepters:
        region = r.region_of(acc)
        (att,) = [a for a in r.of_type(ATTACHMENT) if r.region_of(a) == region]
        assert account_of(r, acc) == account_of(r, att) != NETWORK, acc.urn
        assert acc.urn in att.dependencies, att.urn


def test_a_region_in_the_network_account_needs_no_share(tmp_path):
    regions = [dict(x, account="network") if x["name"] == "us-west-2" else x
               for x in __import__("tests.helpers", fromlist=["stack_yaml"]).stack_yaml("org")["config"][
                   "global-platform:regions"]]
    r = run("org", variant(tmp_path, "org", regions=regions))
    assert {r.region_of(s) for s in r.of_type(SHARE)} == {"ap-northeast-1", "ap-northeast-2"}
    (att,) = [a for a in r.of_type(ATTACHMENT) if r.region_of(a) == "us-west-2"]
    assert att.inputs["transitGatewayDefaultRouteTableAssociation"] is False, att.urn
    assert not [a for a in r.of_type(VPC_ACCEPTER) if r.region_of(a) == "us-west-2"]


# -- bad config ----------------------------------------------------------------------------------
def _issues(tmp_path, **overrides) -> list[str]:
    with pytest.raises(ConfigError) as err:
        run("org", variant(tmp_path, "org", **overrides))
    return [f"{i.path}: {i.reason}" for i in err.value.issues]


def _regions(**accounts):
    from tests.helpers import stack_yaml
    regs = stack_yaml("org")["config"]["global-platform:regions"]
    return [dict(x, account=accounts.get(x["name"], x["account"])) for x in regs]


def test_undefined_account_is_named(tmp_path):
    issues = _issues(tmp_path, regions=_regions(**{"us-west-2": "spokez"}))
    assert any(i.startswith("regions[2].account: account 'spokez' is not defined") for i in issues), issues


def test_undefined_network_account_is_named(tmp_path):
    issues = _issues(tmp_path, connectivity={"transitGateway": {"account": "netwrk"}})
    assert any(i.startswith("connectivity.transitGateway.account: account 'netwrk' is not defined")
               for i in issues), issues


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::11111111111:role/platform-deploy",        # 11 digits
    "arn:aws:iam::111111111111:user/platform-deploy",       # a user, not a role
    "arn:aws:sts::111111111111:role/platform-deploy",       # not IAM
    "111111111111",
    "arn:aws:iam::111111111111:role/" + "r" * 65,           # name over 64
])
def test_role_arn_in_the_wrong_format_is_named(tmp_path, arn):
    issues = _issues(tmp_path, accounts={"network": {"roleArn": arn}})
    assert any(i.startswith("accounts.network.roleArn:") for i in issues), issues


def test_role_arn_with_a_path_is_accepted():
    from components.config import AccountSpec
    assert AccountSpec(role_arn="arn:aws:iam::111111111111:role/platform/deploy").account_id == "111111111111"


@pytest.mark.parametrize("key, value", [("externalId", "x"), ("externalId", "has space"),
                                        ("sessionName", "a" * 65), ("sessionName", "no/slash")])
def test_sts_limits_on_external_id_and_session_name(tmp_path, key, value):
    issues = _issues(tmp_path, accounts={"hub": {key: value}})
    assert any(i.startswith(f"accounts.hub.{key}:") for i in issues), issues


def test_unused_account_is_refused(tmp_path):
    issues = _issues(tmp_path, accounts={"audit": {"roleArn": "arn:aws:iam::444444444444:role/x"}})
    assert any(i.startswith("accounts.audit: defined but used by no region") for i in issues), issues


def test_every_region_names_an_account_once_accounts_are_set(tmp_path):
    regs = _regions()
    del regs[1]["account"]
    issues = _issues(tmp_path, regions=regs)
    assert any(i.startswith("regions[1].account: required once `accounts` is set") for i in issues), issues


def test_a_role_of_another_partition_is_refused(tmp_path):
    issues = _issues(tmp_path, accounts={"hub": {"roleArn": "arn:aws-cn:iam::222222222222:role/platform-deploy"}})
    assert any(i.startswith("accounts.hub.roleArn: partition 'aws-cn' cannot deploy to ap-northeast-2")
               for i in issues), issues


def test_two_names_for_one_account_are_refused(tmp_path):
    issues = _issues(tmp_path, accounts={"spokes": {"roleArn": "arn:aws:iam::222222222222:role/other"}})
    assert any("account 222222222222 is also 'hub'" in i for i in issues), issues


def test_account_names_are_slugs(tmp_path):
    issues = _issues(tmp_path, accounts={"Bad_Name": {"roleArn": "arn:aws:iam::444444444444:role/x"}})
    assert any(i.startswith("accounts:") and "Bad_Name" in i for i in issues), issues


# -- the readiness rules on small plans ---------------------------------------------------------


_res = plan_resource

def _fired(pack, resources) -> dict[str, list[str]]:
    providers = {r["urn"]: r for r in resources if r["type"].startswith("pulumi:providers:")}
    out: dict[str, list[str]] = {}
    for d in pack.analyze_stack(resources, providers):
        out.setdefault(d.policyName, []).append(d.urn)
    return out


def shared_world(*, share_waited=True, principal=True, accepted=True, assoc_waits_accepter=True,
                 external=False, invitation_accepted=True):
    u = lambda r: r["urn"]  # noqa: E731
    net = _res(PROVIDER, "net", {"region": "us-west-2",
                                 "assumeRoles": json.dumps([{"roleArn": f"arn:aws:iam::{NETWORK}:role/d"}])})
    wl = _res(PROVIDER, "wl", {"region": "us-west-2", "assumeRoles": [{"roleArn": f"arn:aws:iam::{SPOKES}:role/d"}]})
    vpc = _res("aws:ec2/vpc:Vpc", "vpc", provider=u(wl))
    tgw = _res(TGW, "tgw", provider=u(net))
    share = _res(SHARE, "share", {"allowExternalPrincipals": external}, provider=u(net))
    assoc = _res(RESOURCE_ASSOC, "assoc", prop={"resourceArn": u(tgw), "resourceShareArn": u(share)}, provider=u(net))
    princ = _res(PRINCIPAL_ASSOC, "princ", {"principal": SPOKES}, prop={"resourceShareArn": u(share)}, provider=u(net))
    inv = _res(SHARE_ACCEPTER, "inv", prop={"shareArn": u(share)}, deps=[u(princ)], provider=u(wl))
    waits = ([u(assoc)] + ([u(princ)] if principal else []) + ([u(inv)] if external and invitation_accepted else [])) \
        if share_waited else []
    att = _res(ATTACHMENT, "att", deps=waits, prop={"vpcId": u(vpc), "transitGatewayId": u(tgw)}, provider=u(wl))
    acc = _res(VPC_ACCEPTER, "acc", prop={"transitGatewayAttachmentId": u(att)}, provider=u(net))
    rta = _res("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation", "rta",
               prop={"transitGatewayAttachmentId": u(acc) if assoc_waits_accepter else u(att)}, provider=u(net))
    world = [net, wl, vpc, tgw, share, assoc, att, rta] + ([princ] if principal else [])
    world += [acc] if accepted else []
    world += [inv] if external and invitation_accepted else []
    return world


@pytest.mark.parametrize("rule, broken", [
    ("tgw-shared-before-attached", {"share_waited": False}),
    ("tgw-shared-before-attached", {"principal": False}),
    ("tgw-shared-before-attached", {"external": True, "invitation_accepted": False}),
    ("tgw-shared-attachments-accepted", {"accepted": False}),
    ("tgw-shared-attachments-accepted", {"assoc_waits_accepter": False}),
])
def test_cross_account_tgw_rules_fire_on_the_break_and_not_on_the_fix(readiness_pack, rule, broken):
    assert rule in _fired(readiness_pack, shared_world(**broken)), broken
    assert _fired(readiness_pack, shared_world()) == {}
    assert _fired(readiness_pack, shared_world(external=True)) == {}


def role_chain_world(*, hub_allows=True, entry_type="STANDARD", same_account=False):
    u = lambda r: r["urn"]  # noqa: E731
    hub_p = _res(PROVIDER, "hub", {"region": "ap-northeast-2",
                                   "assumeRoles": [{"roleArn": f"arn:aws:iam::{HUB}:role/d"}]})
    spoke_p = _res(PROVIDER, "spoke", {"region": "ap-northeast-1", "assumeRoles": [
        {"roleArn": f"arn:aws:iam::{HUB if same_account else SPOKES}:role/d"}]})
    hub_role = _res("aws:iam/role:Role", "hub-role", provider=u(hub_p))
    spoke_role = _res("aws:iam/role:Role", "spoke-role", prop={"assumeRolePolicy": u(hub_role)}, provider=u(spoke_p))
    allow = _res("aws:iam/rolePolicy:RolePolicy", "allow", prop={"role": u(hub_role), "policy": u(spoke_role)},
                 provider=u(hub_p))
    cluster = _res("eks:index:Cluster", "c", {"name": "prod-apne1"}, provider=u(spoke_p))
    entry = _res("aws:eks/accessEntry:AccessEntry", "entry", {"clusterName": "prod-apne1", "type": entry_type},
                 deps=[u(cluster)], prop={"principalArn": u(spoke_role)}, provider=u(spoke_p))
    return [hub_p, spoke_p, hub_role, spoke_role, cluster, entry] + ([allow] if hub_allows else [])


def test_cross_account_role_chain_rule(readiness_pack):
    assert _fired(readiness_pack, role_chain_world()) == {}
    assert "cross-account-role-chain" in _fired(readiness_pack, role_chain_world(hub_allows=False))
    assert _fired(readiness_pack, role_chain_world(hub_allows=False, same_account=True)) == {}
    # another account's principal in a non-STANDARD entry
    for kind, fires in (("EC2_LINUX", True), ("STANDARD", False)):
        world = role_chain_world(entry_type=kind)
        entry = next(x for x in world if x["name"] == "entry")
        hub_role = next(x for x in world if x["name"] == "hub-role")
        entry["propertyDependencies"] = {"principalArn": [hub_role["urn"]]}
        entry["dependencies"] = sorted(set(entry["dependencies"]) | {hub_role["urn"]})
        assert ("cross-account-role-chain" in _fired(readiness_pack, world)) == fires, kind


def test_argo_cd_reaches_spokes_of_another_account_through_that_accounts_role():
    """hub role (hub account) -> spoke-access role in the spokes account, trusting it and allowed by
    a hub policy -> STANDARD access entry on each spoke cluster -> the cluster Secret's roleArn."""
    r = shipped("org")
    roles = {x.outputs["arn"]: x for x in r.of_type("aws:iam/role:Role")}
    (hub_role,) = [x for x in roles.values() if x.name == "apne2-argocd-hub"]
    spoke_roles = [x for x in roles.values() if x.name.endswith("argocd-spoke-access") and account_of(r, x) == SPOKES]
    assert len(spoke_roles) == 1, "one spoke-access role per spoke account, not per region"
    (spoke_role,) = spoke_roles
    assert spoke_role.outputs["arn"] == f"arn:aws:iam::{SPOKES}:role/prod-argocd-spoke-access"
    trust = json.loads(spoke_role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"AWS": hub_role.outputs["arn"]}, spoke_role.urn
    allows = [p for p in r.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == hub_role.id
              and json.loads(p.inputs["policy"])["Statement"][0]["Resource"] == spoke_role.outputs["arn"]]
    assert len(allows) == 1 and account_of(r, allows[0]) == HUB
    secrets = {s.revealed["metadata"]["labels"]["platform/region"]: s for s in r.of_type("kubernetes:core/v1:Secret")
               if s.revealed["metadata"]["labels"].get("argocd.argoproj.io/secret-type") == "cluster"}
    for region in ("ap-northeast-1", "us-west-2"):
        config = json.loads(secrets[region].revealed["stringData"]["config"])
        assert config["awsAuthConfig"]["roleArn"] == spoke_role.outputs["arn"], region
        entries = [e for e in r.of_type("aws:eks/accessEntry:AccessEntry")
                   if e.inputs["principalArn"] == spoke_role.outputs["arn"] and r.region_of(e) == region]
        assert len(entries) == 1 and entries[0].inputs["type"] == "STANDARD", region
        assert account_of(r, entries[0]) == SPOKES
    registry = {p.inputs["name"].rsplit("/", 1)[-1]: json.loads(p.revealed["value"])
                for p in r.of_type("aws:ssm/parameter:Parameter") if "/clusters/" in p.inputs["name"]}
    assert registry["ap-northeast-1"]["roleArns"]["argocd"] == spoke_role.outputs["arn"]
    assert registry["ap-northeast-2"]["roleArns"]["argocd"] == f"arn:aws:iam::{HUB}:role/prod-argocd-spoke-access"


def test_org_passes_both_packs_upstream_checks_and_checkov_export(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(dump(shipped("org").doc))
    proc = run_tool("tools.policy_check", "--preview-json", plan, "--stack", "org")
    assert proc.returncode == 0 and "PASS" in proc.stdout, proc.stdout + proc.stderr
    assert "0 violations" in proc.stdout
    proc = run_tool("tools.upstream_check", "--preview-json", plan)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_tool("tools.export_tfplan", "--preview-json", plan, "--out", tmp_path / "tfplan.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    types = {r["type"] for r in json.loads((tmp_path / "tfplan.json").read_text())["resource_changes"]}
    assert {"aws_ram_resource_share", "aws_ram_resource_association", "aws_ram_principal_association",
            "aws_ec2_transit_gateway_vpc_attachment_accepter"} <= types


def test_share_outside_organization_needs_a_network_account(tmp_path):
    with pytest.raises(ConfigError) as err:
        run("prod", variant(tmp_path, "prod", connectivity={"transitGateway": {"shareOutsideOrganization": True}}))
    assert [i.path for i in err.value.issues] == ["connectivity.transitGateway.shareOutsideOrganization"]


def test_without_a_network_account_each_region_owns_its_tgw_and_peerings_name_the_peer_account(tmp_path):
    r = run("org", variant(tmp_path, "org", accounts={"network": None},
                           connectivity={"transitGateway": {"account": None}}))
    assert r.of_type(SHARE) == [] and r.of_type(VPC_ACCEPTER) == []
    for tgw in r.of_type(TGW):
        assert account_of(r, tgw) == (HUB if r.region_of(tgw) == "ap-northeast-2" else SPOKES), tgw.urn
    peerings = r.of_type("aws:ec2transitgateway/peeringAttachment:PeeringAttachment")
    assert len(peerings) == 3
    for p in peerings:
        mine, peer = account_of(r, p), (HUB if p.inputs["peerRegion"] == "ap-northeast-2" else SPOKES)
        assert p.inputs.get("peerAccountId") == (peer if peer != mine else None), p.urn
        (acc,) = [a for a in r.of_type("aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter")
                  if a.inputs["transitGatewayAttachmentId"] == p.id]
        assert account_of(r, acc) == peer, acc.urn
