"""tools/estimate.py: deploy critical path and monthly list-price cost of a plan."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pytest

from tests.helpers import run, run_tool, shipped, stack_yaml, variant
from tools import estimate as est

AS_OF = dt.date(2026, 11, 26)
P1 = "urn:pulumi:t::p::pulumi:providers:aws::r1"
P2 = "urn:pulumi:t::p::pulumi:providers:aws::r2"


def _urn(typ: str, name: str) -> str:
    return f"urn:pulumi:t::p::{typ}::{name}"


def _step(typ: str, name: str, inputs: dict | None = None, deps: list[str] = (), provider: str | None = P1,
          prop: dict | None = None, custom: bool = True, parent: str = "") -> dict:
    urn = _urn(typ, name)
    return {"op": "create", "urn": urn, "newState": {
        "urn": urn, "type": typ, "custom": custom, "inputs": inputs or {},
        "dependencies": list(deps), "propertyDependencies": prop or {},
        "provider": f"{provider}::04da6b54" if provider else "", "parent": parent}}


COMP = _urn("test:index:Region", "r1")
VPC = _urn("aws:ec2/vpc:Vpc", "vpc")
EKS = _urn("eks:index:Cluster", "eks")
LT = _urn("aws:ec2/launchTemplate:LaunchTemplate", "lt")
NG = _urn("aws:eks/nodeGroup:NodeGroup", "ng")
NAT = _urn("aws:ec2/natGateway:NatGateway", "nat")
PEER = _urn(est.PEERING, "peer")
ACC = _urn(est.ACCEPTER, "acc")
ROUTE = _urn("aws:ec2transitgateway/route:Route", "route")
VPN = _urn("aws:ec2/vpnConnection:VpnConnection", "vpn")


def small_plan() -> dict:
    """VPC -> cluster -> node group (160 s), and VPC -> peering -> accepter -> route (231 s)
    once the accepter wait AWS imposes is added (the route only names the attachment)."""
    return {"steps": [
        _step("pulumi:providers:aws", "r1", {"region": "r1"}, provider=None),
        _step("pulumi:providers:aws", "r2", {"region": "r2"}, provider=None),
        _step("test:index:Region", "r1", provider=None, custom=False),
        _step("aws:ec2/vpc:Vpc", "vpc", parent=COMP),
        # a remote component: no provider of its own, its region comes from its parent's children
        _step("eks:index:Cluster", "eks", {"version": "1.33"}, [VPC], provider=None, custom=False,
              parent=COMP),
        _step("aws:ec2/launchTemplate:LaunchTemplate", "lt", {"blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 20, "volumeType": "gp3"}}]}),
        _step("aws:eks/nodeGroup:NodeGroup", "ng", {
            "capacityType": "ON_DEMAND", "instanceTypes": ["m6i.large", "m6a.large"],
            "scalingConfig": {"desiredSize": 2, "minSize": 1, "maxSize": 4}},
            [EKS, LT], prop={"launchTemplate": [LT]}),
        _step("aws:ec2/natGateway:NatGateway", "nat", {}, [VPC]),
        _step(est.PEERING, "peer", {"peerRegion": "r2"}, [VPC]),
        _step(est.ACCEPTER, "acc", {}, [PEER], provider=P2,
              prop={"transitGatewayAttachmentId": [PEER]}),
        _step("aws:ec2transitgateway/route:Route", "route", {}, [PEER]),
        _step("aws:ec2/vpnConnection:VpnConnection", "vpn", {"type": "ipsec.1"}, [VPC]),
    ]}


DURATIONS = {
    "defaultSeconds": 0,
    "sources": {"s": {"url": "https://example.invalid/durations", "what": "test figure"}},
    "types": {
        "aws:ec2/vpc:Vpc": {"typicalSeconds": 10, "typicalSource": "s"},
        "eks:index:Cluster": {"typicalSeconds": 100, "typicalSource": "s", "timeoutSeconds": 1800,
                              "timeoutSource": "s"},
        "aws:eks/nodeGroup:NodeGroup": {"typicalSeconds": 50, "typicalSource": "s"},
        "aws:ec2/natGateway:NatGateway": {"typicalSeconds": 30, "typicalSource": "s"},
        est.PEERING: {"typicalSeconds": 20, "typicalSource": "s"},
        est.ACCEPTER: {"typicalSeconds": 200, "typicalSource": "s"},
        "aws:ec2transitgateway/route:Route": {"typicalSeconds": 1, "typicalSource": "s"},
    },
}

PRICES = {
    "hoursPerMonth": 730, "read": "2026-11-26",
    "sources": {"t": {"url": "https://example.invalid/prices", "what": "test price", "read": "2026-11-26"},
                "none": {"url": None, "what": "not found"}},
    "prices": {
        "eks.cluster.standard": {"unit": "cluster-hour", "byRegion": {"*": 0.10}, "source": "t"},
        "eks.cluster.extended": {"unit": "cluster-hour", "byRegion": {"*": 0.60}, "source": "t"},
        "ec2.ondemand.linux": {"unit": "instance-hour", "byInstanceType": {"m6i.large": {"r1": 0.2}},
                               "source": "t"},
        "ebs.gp3.gbMonth": {"unit": "GB-month", "byRegion": {"r1": 0.1}, "source": "t"},
        "natgw.hour": {"unit": "NAT-gateway-hour", "byRegion": {"r1": 0.05}, "source": "t"},
        "tgw.attachment.hour": {"unit": "attachment-hour", "byRegion": {"r1": 0.07, "r2": 0.07},
                                "source": "t"},
        "vpn.connection.hour": {"unit": "VPN-connection-hour", "byRegion": {}, "source": "none"},
    },
}


@pytest.fixture(scope="module")
def versions() -> dict:
    return json.loads(est.EKS_VERSIONS_PATH.read_text())


def test_small_plan_longest_chain_and_prices(versions):
    out = est.estimate_plan(small_plan(), PRICES, DURATIONS, versions, dt.date(2026, 1, 1))
    cp = out["criticalPath"]
    assert cp["seconds"] == 231
    assert [r["urn"] for r in cp["resources"]] == [VPC, PEER, ACC, ROUTE]
    assert [r["seconds"] for r in cp["resources"]] == [10, 20, 200, 1]
    assert all(r["source"].startswith("typical") for r in cp["resources"])
    assert cp["implicitWaits"] == [{"before": ROUTE, "waitFor": ACC, "peeringAttachment": PEER,
                                    "why": cp["implicitWaits"][0]["why"]}]
    mc = out["monthlyCost"]
    # EKS 0.1*730 + EC2 2*0.2*730 + EBS 2*20*0.1 + NAT 0.05*730 + TGW peering 0.07*730 on each side
    assert mc["byRegion"] == {"r1": 456.6, "r2": 51.1}
    assert mc["totalUsd"] == 507.7
    assert mc["byType"] == {
        "EBS gp3 root volumes (node groups)": 4.0,
        "EC2 instances, ON_DEMAND node groups": 292.0,
        "EKS cluster (standard support)": 73.0,
        "NAT gateway": 36.5,
        "TGW attachments (peering (accepter side))": 51.1,
        "TGW attachments (peering (requester side))": 51.1,
    }
    assert not mc["complete"]
    assert [(u["charge"], u["region"], u["quantity"], u["monthlyUnits"]) for u in mc["unknown"]] == [
        ("Site-to-Site VPN connections", "r1", 1, 730.0)]
    assert all(ln["source"] == "https://example.invalid/prices" for ln in mc["lines"])


def test_without_the_implied_accepter_wait_the_cluster_chain_is_longer(versions):
    plan = small_plan()
    plan["steps"] = [s for s in plan["steps"] if s["urn"] != ACC]
    out = est.estimate_plan(plan, PRICES, DURATIONS, versions, AS_OF)
    assert out["criticalPath"]["seconds"] == 160
    assert [r["urn"] for r in out["criticalPath"]["resources"]] == [VPC, EKS, NG]


def test_eks_support_follows_the_version_calendar(versions):
    assert est.eks_support("1.33", dt.date(2026, 7, 28), versions)[0] == "standard"
    assert est.eks_support("1.33", dt.date(2026, 7, 29), versions)[0] == "extended"
    assert est.eks_support("1.33", dt.date(2026, 7, 29), versions, "STANDARD")[0] == "standard"
    assert est.eks_support("1.27", AS_OF, versions)[0] is None
    assert est.eks_support("9.99", AS_OF, versions)[0] is None
    out = est.estimate_plan(small_plan(), PRICES, DURATIONS, versions, AS_OF)
    assert out["monthlyCost"]["byType"]["EKS cluster (extended support)"] == 438.0


def test_shipped_data_files_have_a_source_for_every_figure():
    prices = json.loads(est.PRICES_PATH.read_text())
    for key, entry in prices["prices"].items():
        src = prices["sources"][entry["source"]]
        values = list(entry.get("byRegion", {}).values()) + [
            v for per in entry.get("byInstanceType", {}).values() for v in per.values()]
        if values:
            assert src["url"] and src["read"] and src["licence"], key
        else:
            assert entry["source"] == "not-found", key
    durations = json.loads(est.DURATIONS_PATH.read_text())
    for typ, spec in durations["types"].items():
        if spec.get("typicalSeconds") is not None:
            assert durations["sources"][spec["typicalSource"]]["url"], typ
        if isinstance(spec.get("timeoutSeconds"), (int, float)):
            assert durations["sources"][spec["timeoutSource"]]["url"] and spec["timeoutPath"], typ


def test_prod_critical_path_runs_through_a_cluster_and_its_node_group(tmp_path):
    plan = tmp_path / "prod.json"
    plan.write_text(json.dumps(shipped("prod").doc))
    out = est.estimate(plan, as_of=AS_OF)
    chain = out["criticalPath"]["resources"]
    clusters = [r["urn"] for r in chain if r["type"] == "eks:index:Cluster"]
    groups = [r for r in chain if r["type"] == "aws:eks/nodeGroup:NodeGroup"]
    assert len(clusters) == 1 and groups
    doc = shipped("prod").doc
    state = next(s["newState"] for s in doc["steps"] if s["urn"] == groups[0]["urn"])
    assert clusters[0] in state["dependencies"]
    assert chain.index(next(r for r in chain if r["urn"] == clusters[0])) < chain.index(groups[0])
    assert out["criticalPath"]["seconds"] >= 600
    assert out["criticalPath"]["upperBound"]["seconds"] > out["criticalPath"]["seconds"]
    mc = out["monthlyCost"]
    assert set(mc["byRegion"]) == {"ap-northeast-2", "ap-northeast-1", "us-west-2"}
    assert mc["unknown"] and "out of scope" in mc["outOfScope"]


def test_adding_a_region_raises_the_cost(tmp_path):
    cfg = stack_yaml("dev")["config"]
    regions = cfg["global-platform:regions"] + [
        {"name": "ap-northeast-1", "role": "spoke", "cidr": "10.16.128.0/18"}]
    slos = copy.deepcopy(cfg["global-platform:slos"])
    for slo in slos:
        if "loadBalancers" in slo:
            slo["loadBalancers"]["ap-northeast-1"] = "app/dev-web/2c3d4e5f6a7b8c9d"
    path = variant(tmp_path, "dev", regions=regions, slos=slos)
    base = tmp_path / "base.json"
    new = tmp_path / "new.json"
    base.write_text(json.dumps(shipped("dev").doc))
    new.write_text(json.dumps(run("dev", stack_path=path).doc))
    out = est.estimate(new, baseline=base, as_of=AS_OF)
    d = out["delta"]
    assert d["monthlyUsd"] > 0
    assert d["byRegion"]["ap-northeast-1"] > 0
    assert out["monthlyCost"]["totalUsd"] > out["baseline"]["monthlyCost"]["totalUsd"]
    assert d["byType"]["EKS cluster (standard support)"] == 73.0


def test_removing_a_node_group_lowers_the_cost(tmp_path):
    doc = json.loads(json.dumps(shipped("prod").doc))
    groups = [s["urn"] for s in doc["steps"] if s["newState"]["type"] == "aws:eks/nodeGroup:NodeGroup"
              and (s["newState"]["inputs"].get("scalingConfig") or {}).get("desiredSize")]
    gone = groups[0]
    steps = [s for s in doc["steps"] if s["urn"] != gone]
    for s in steps:
        st = s["newState"]
        st["dependencies"] = [d for d in st.get("dependencies", []) if d != gone]
        st["propertyDependencies"] = {k: [d for d in v if d != gone]
                                      for k, v in (st.get("propertyDependencies") or {}).items()}
    smaller = dict(doc, steps=steps)
    itypes = {t for s in doc["steps"] if s["newState"]["type"] == "aws:eks/nodeGroup:NodeGroup"
              for t in s["newState"]["inputs"].get("instanceTypes", [])[:1]}
    regions = ["ap-northeast-2", "ap-northeast-1", "us-west-2"]
    prices = copy.deepcopy(PRICES)
    prices["prices"]["ec2.ondemand.linux"]["byInstanceType"] = {t: {r: 0.2 for r in regions} for t in itypes}
    prices["prices"]["ebs.gp3.gbMonth"]["byRegion"] = {r: 0.1 for r in regions}
    pp = tmp_path / "prices.json"
    pp.write_text(json.dumps(prices))
    base, new = tmp_path / "base.json", tmp_path / "new.json"
    base.write_text(json.dumps(doc))
    new.write_text(json.dumps(smaller))
    out = est.estimate(new, baseline=base, prices_path=pp, as_of=AS_OF)
    assert out["delta"]["monthlyUsd"] < 0
    assert out["delta"]["byType"]["EC2 instances, ON_DEMAND node groups"] < 0
    # with the shipped prices (EC2 rates unknown) the unknown quantity shrinks instead
    out = est.estimate(new, baseline=base, as_of=AS_OF)
    q = lambda mc: sum(u["quantity"] for u in mc["unknown"] if u["charge"].startswith("EC2"))  # noqa: E731
    assert q(out["monthlyCost"]) < q(out["baseline"]["monthlyCost"])


def test_cli_writes_json_and_text(tmp_path):
    plan, out = tmp_path / "plan.json", tmp_path / "out.json"
    plan.write_text(json.dumps(small_plan()))
    proc = run_tool("tools.estimate", "--preview-json", plan, "--json", out, "--baseline", plan,
                    "--as-of", "2026-11-26")
    assert proc.returncode == 0, proc.stderr
    assert "Deploy critical path" in proc.stdout and "out of scope" in proc.stdout
    data = json.loads(out.read_text())
    assert set(data) >= {"criticalPath", "monthlyCost", "baseline", "delta"}
    assert set(data["criticalPath"]) >= {"seconds", "resources"}
    assert set(data["criticalPath"]["resources"][0]) >= {"urn", "type", "seconds", "source"}
    assert set(data["monthlyCost"]) >= {"totalUsd", "byRegion", "byType", "unknown", "assumptions"}
    assert data["delta"]["monthlyUsd"] == 0 and data["delta"]["criticalPathSeconds"] == 0


@pytest.mark.parametrize("content,expect", [
    (None, "no such file"),
    ("{not json", "not valid JSON"),
    ('{"steps": []}', "no steps"),
    ('[1, 2]', "no steps"),
    ('{"steps": [{"op": "create"}]}', "no newState"),
])
def test_bad_input_exits_2_with_one_message(tmp_path, content, expect):
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content)
    proc = run_tool("tools.estimate", "--preview-json", path)
    assert proc.returncode == 2
    assert expect in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_baseline_and_date_exit_2(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(small_plan()))
    for extra in (["--baseline", tmp_path / "missing.json"], ["--as-of", "yesterday"]):
        proc = run_tool("tools.estimate", "--preview-json", plan, *extra)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
