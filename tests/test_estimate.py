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
    # the three stack regions, plus us-east-1 when the data tier puts CloudFront's certificate
    # and its keys there
    assert {"ap-northeast-2", "ap-northeast-1", "us-west-2"} <= set(mc["byRegion"]) <= {
        "ap-northeast-2", "ap-northeast-1", "us-west-2", "us-east-1"}
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


# ------------------------------------------------------------------ data tier

AURORA = _urn(est.RDS_CLUSTER, "aurora")
AURORA_IO = _urn(est.RDS_CLUSTER, "aurora-io")
RG = "aws:elasticache/replicationGroup:ReplicationGroup"


def _instance(name: str, cls: str, cluster: str = AURORA, provider: str = P1, **extra) -> dict:
    return _step(est.CLUSTER_INSTANCE, name, {"engine": "aurora-mysql", "instanceClass": cls, **extra},
                 [cluster], provider=provider, prop={"clusterIdentifier": [cluster]})


def data_plan() -> dict:
    """Aurora: two db.r7g.large and one db.t4g.medium in a Standard cluster in r1 (Performance
    Insights on, 7 days), one db.r7g.large in an I/O-Optimized cluster in r2 and one
    db.serverless; ElastiCache: 2 shards x (1 + 1 replica) Valkey and 3 Redis OSS clusters in r1,
    1 shard x (1 + 2 replicas) Valkey in r2."""
    return {"steps": [
        _step("pulumi:providers:aws", "r1", {"region": "r1"}, provider=None),
        _step("pulumi:providers:aws", "r2", {"region": "r2"}, provider=None),
        _step(est.RDS_CLUSTER, "aurora", {"engine": "aurora-mysql"}),
        _step(est.RDS_CLUSTER, "aurora-io", {"engine": "aurora-mysql", "storageType": "aurora-iopt1"},
              provider=P2),
        _instance("writer", "db.r7g.large", performanceInsightsEnabled=True,
                  performanceInsightsRetentionPeriod=7),
        _instance("reader", "db.r7g.large", performanceInsightsEnabled=True),
        _instance("small", "db.t4g.medium"),
        _instance("long-pi", "db.t4g.medium", performanceInsightsEnabled=True,
                  performanceInsightsRetentionPeriod=465),
        _instance("io", "db.r7g.large", AURORA_IO, P2),
        _instance("serverless", "db.serverless"),
        _step(RG, "valkey", {"engine": "valkey", "nodeType": "cache.r7g.large", "numNodeGroups": 2,
                             "replicasPerNodeGroup": 1}),
        _step(RG, "redis", {"engine": "redis", "nodeType": "cache.r7g.large", "numCacheClusters": 3}),
        _step(RG, "valkey-r2", {"engine": "valkey", "nodeType": "cache.r7g.large",
                                "replicasPerNodeGroup": 2}, provider=P2),
    ]}


def _unknown(mc: dict) -> dict:
    return {(u["priceKey"], u["region"]): (u["quantity"], u["monthlyUnits"], u["resources"])
            for u in mc["unknown"]}


def test_aurora_instances_are_counted_per_class_region_and_storage_configuration(versions):
    mc = est.estimate_plan(data_plan(), PRICES, DURATIONS, versions, AS_OF)["monthlyCost"]
    unknown = _unknown(mc)
    # PRICES has no Aurora entry: every instance is an unknown, with its instance-hours
    assert unknown[("aurora.mysql.standard.instance:db.r7g.large", "r1")] == (2, 1460.0, 2)
    assert unknown[("aurora.mysql.standard.instance:db.t4g.medium", "r1")] == (2, 1460.0, 2)
    assert unknown[("aurora.mysql.iooptimized.instance:db.r7g.large", "r2")] == (1, 730.0, 1)
    charges = {u["priceKey"]: u["charge"] for u in mc["unknown"]}
    assert charges["aurora.mysql.standard.instance:db.r7g.large"] == "Aurora MySQL instances (Aurora Standard)"
    assert charges["aurora.mysql.iooptimized.instance:db.r7g.large"] == (
        "Aurora MySQL instances (Aurora I/O-Optimized)")
    assert not any("serverless" in k for k, _ in unknown)
    why = {(n["type"], n["why"]) for n in mc["notPriced"]}
    assert any(t == est.CLUSTER_INSTANCE and "db.serverless" in w for t, w in why)
    assert any(t == est.CLUSTER_INSTANCE and "465 days" in w for t, w in why)
    # Performance Insights at 7 days (set, or by default) is the free tier: one line per instance
    assert unknown[("rds.performanceInsights.freeTier", "r1")] == (2, 2.0, 2)
    assert any(a.startswith("Aurora:") for a in mc["assumptions"])


def test_aurora_known_prices_are_multiplied_by_instance_hours(versions):
    prices = copy.deepcopy(PRICES)
    prices["prices"]["aurora.mysql.standard.instance"] = {
        "unit": "instance-hour", "source": "t",
        "byInstanceType": {"db.r7g.large": {"r1": 0.5}, "db.t4g.medium": {"r1": 0.1}}}
    prices["prices"]["aurora.mysql.iooptimized.instance"] = {
        "unit": "instance-hour", "source": "t", "byInstanceType": {"db.r7g.large": {"r2": 0.6}}}
    prices["prices"]["rds.performanceInsights.freeTier"] = {
        "unit": "instance-month", "byRegion": {"*": 0.0}, "source": "t"}
    mc = est.estimate_plan(data_plan(), prices, DURATIONS, versions, AS_OF)["monthlyCost"]
    lines = {(ln["priceKey"], ln["region"]): (ln["quantity"], ln["monthlyUsd"]) for ln in mc["lines"]}
    assert lines[("aurora.mysql.standard.instance:db.r7g.large", "r1")] == (2, 730.0)   # 2 x 0.5 x 730
    assert lines[("aurora.mysql.standard.instance:db.t4g.medium", "r1")] == (2, 146.0)  # 2 x 0.1 x 730
    assert lines[("aurora.mysql.iooptimized.instance:db.r7g.large", "r2")] == (1, 438.0)
    assert lines[("rds.performanceInsights.freeTier", "r1")] == (2, 0.0)
    assert mc["byType"]["Aurora MySQL instances (Aurora Standard)"] == 876.0
    assert not any(u["priceKey"].startswith("aurora.") for u in mc["unknown"])


def test_cache_nodes_follow_shards_replicas_or_cache_clusters(versions):
    mc = est.estimate_plan(data_plan(), PRICES, DURATIONS, versions, AS_OF)["monthlyCost"]
    unknown = _unknown(mc)
    assert unknown[("elasticache.valkey.node:cache.r7g.large", "r1")] == (4, 2920.0, 1)  # 2 x (1 + 1)
    assert unknown[("elasticache.redis.node:cache.r7g.large", "r1")] == (3, 2190.0, 1)   # numCacheClusters
    assert unknown[("elasticache.valkey.node:cache.r7g.large", "r2")] == (3, 2190.0, 1)  # 1 x (1 + 2)
    charges = {u["priceKey"]: u["charge"] for u in mc["unknown"]}
    assert charges["elasticache.redis.node:cache.r7g.large"] == "ElastiCache nodes (Redis OSS)"
    assert charges["elasticache.valkey.node:cache.r7g.large"] == "ElastiCache nodes (Valkey)"
    prices = copy.deepcopy(PRICES)
    prices["prices"]["elasticache.valkey.node"] = {
        "unit": "node-hour", "source": "t", "byInstanceType": {"cache.r7g.large": {"r1": 0.2, "r2": 0.25}}}
    prices["prices"]["elasticache.redis.node"] = {
        "unit": "node-hour", "source": "t", "byInstanceType": {"cache.r7g.large": {"r1": 0.3}}}
    mc = est.estimate_plan(data_plan(), prices, DURATIONS, versions, AS_OF)["monthlyCost"]
    lines = {(ln["priceKey"], ln["region"]): ln["monthlyUsd"] for ln in mc["lines"]}
    assert lines[("elasticache.valkey.node:cache.r7g.large", "r1")] == 584.0   # 4 x 0.2 x 730
    assert lines[("elasticache.redis.node:cache.r7g.large", "r1")] == 657.0    # 3 x 0.3 x 730
    assert lines[("elasticache.valkey.node:cache.r7g.large", "r2")] == 547.5   # 3 x 0.25 x 730
    assert not any(u["priceKey"].startswith("elasticache.") for u in mc["unknown"])


def test_shipped_prices_leave_the_data_tier_unknown_with_its_quantity(versions, tmp_path):
    prices = json.loads(est.PRICES_PATH.read_text())
    mc = est.estimate_plan(data_plan(), prices, DURATIONS, versions, AS_OF)["monthlyCost"]
    unknown = {(u["priceKey"], u["region"]): u for u in mc["unknown"]}
    u = unknown[("aurora.mysql.standard.instance:db.r7g.large", "r1")]
    assert (u["quantity"], u["unit"], u["monthlyUnits"]) == (2, "instance-hour", 1460.0)
    assert "no sourced instance-hour price for db.r7g.large in r1" in u["reason"]
    u = unknown[("elasticache.valkey.node:cache.r7g.large", "r1")]
    assert (u["quantity"], u["unit"]) == (4, "node-hour") and u["reason"]
    # the free tier is a sourced zero, not an unknown
    assert ("rds.performanceInsights.freeTier", "r1") not in unknown
    assert not mc["complete"]
    plan = tmp_path / "data.json"
    plan.write_text(json.dumps(data_plan()))
    text = est.render(est.estimate(plan, as_of=AS_OF))
    assert "2 db.t4g.medium instance-hour (1460/month)" in text
    assert "4 cache.r7g.large node-hour (2920/month)" in text


def test_usage_only_data_types_are_listed_as_not_priced(versions):
    types = ["aws:rds/cluster:Cluster", "aws:rds/globalCluster:GlobalCluster",
             "aws:rds/clusterParameterGroup:ClusterParameterGroup", "aws:elasticache/subnetGroup:SubnetGroup",
             "aws:elasticache/user:User", "aws:elasticache/userGroup:UserGroup", "aws:s3/bucket:Bucket",
             "aws:cloudfront/distribution:Distribution",
             "aws:cloudfront/originAccessControl:OriginAccessControl", "aws:acm/certificate:Certificate",
             "aws:sqs/queue:Queue", "aws:sns/topic:Topic"]
    assert set(types) <= set(est.NOT_PRICED)
    steps = [_step("pulumi:providers:aws", "r1", {"region": "r1"}, provider=None)]
    steps += [_step(t, f"x{i}") for i, t in enumerate(types)]
    steps.append(_step("aws:acm/certificate:Certificate", "exportable", {"options": {"export": "ENABLED"}}))
    mc = est.estimate_plan({"steps": steps}, PRICES, DURATIONS, versions, AS_OF)["monthlyCost"]
    listed = {n["type"]: [] for n in mc["notPriced"]}
    for n in mc["notPriced"]:
        listed[n["type"]].append((n["why"], n["count"]))
    for t in types:
        assert (est.NOT_PRICED[t], 1) in listed[t], t
    assert any("exportable" in w for w, _ in listed["aws:acm/certificate:Certificate"])
    assert "pricing" in est.NOT_PRICED["aws:acm/certificate:Certificate"]
    assert mc["lines"] == [] and mc["unknown"] == [] and mc["totalUsd"] == 0


def test_shipped_durations_give_the_data_tier_its_create_timeouts(versions):
    durations = json.loads(est.DURATIONS_PATH.read_text())
    for typ, minutes in [(est.CLUSTER_INSTANCE, 90), (est.RDS_CLUSTER, 120),
                         ("aws:rds/globalCluster:GlobalCluster", 30), (RG, 60),
                         ("aws:cloudfront/distribution:Distribution", 90),
                         ("aws:acm/certificateValidation:CertificateValidation", 75)]:
        assert durations["types"][typ]["timeoutSeconds"] == minutes * 60, typ
    plan = {"steps": [_step("pulumi:providers:aws", "r1", {"region": "r1"}, provider=None),
                      _step(est.RDS_CLUSTER, "aurora", {"engine": "aurora-mysql"}),
                      _instance("writer", "db.r7g.large")]}
    cp = est.estimate_plan(plan, PRICES, durations, versions, AS_OF)["criticalPath"]
    chain = [r["urn"] for r in cp["upperBound"]["resources"]]
    assert chain == [AURORA, _urn(est.CLUSTER_INSTANCE, "writer")]
    assert cp["upperBound"]["seconds"] == 7200 + 5400
    # no published typical figure: both are weighted with the default and listed as such
    assert set(cp["defaultWeightedTypes"]) == {est.RDS_CLUSTER, est.CLUSTER_INSTANCE}


# -- FIS: cost per run and a month of game days ------------------------------------------------------

FIS_PRICES = {**PRICES, "sources": {**PRICES["sources"], "fis": {"url": "https://aws.amazon.com/fis/pricing/",
                                                                  "what": "FIS", "read": "2026-11-26"}},
              "prices": {**PRICES["prices"], "fis.actionMinute": {"unit": "action-minute", "byRegion": {"*": 0.10},
                                                                   "source": "fis"}}}
TEMPLATE = _urn(est.FIS_TEMPLATE, "outage")


def _action(name: str, action_id: str, duration: str | None = None, after: list[str] = ()) -> dict:
    a = {"name": name, "actionId": action_id,
         "parameters": [{"key": "duration", "value": duration}] if duration else []}
    if after:
        a["startAfters"] = list(after)
    return a


def fis_plan(cron: str = "cron(0 10 ? * TUE#2 *)") -> dict:
    """A 10-minute network cut beside a 3-minute wait, then two terminations (no duration) on
    COUNT(5) targets, started by a game-day schedule."""
    template = _step(est.FIS_TEMPLATE, "outage", {
        "tags": {"Name": "prod-apne1-az-outage"},
        "actions": [_action("cut", "aws:network:disrupt-connectivity", "PT10M"), _action("wait", "aws:fis:wait", "PT3M"),
                    _action("kill-a", "aws:ec2:terminate-instances", after=["wait"]),
                    _action("kill-b", "aws:ec2:terminate-instances", after=["wait"])],
        "targets": [{"name": n, "selectionMode": "COUNT(5)"} for n in ("cut", "kill-a", "kill-b")]})
    schedule = _step(est.SCHEDULE, "gameday", {
        "scheduleExpression": cron, "scheduleExpressionTimezone": "Asia/Tokyo",
        "target": {"arn": "arn:aws:scheduler:::aws-sdk:fis:startExperiment", "input": "{}"}},
        [TEMPLATE], prop={"target": [TEMPLATE]})
    other = _step(est.SCHEDULE, "not-fis", {"scheduleExpression": cron,
                                            "target": {"arn": "arn:aws:lambda:r1:1:function:f"}})
    return {"steps": [_step("pulumi:providers:aws", "r1", {"region": "r1"}, provider=None), template, schedule, other]}


def test_fis_cost_per_run_sums_action_minutes_and_targets_do_not_multiply(versions):
    mc = est.estimate_plan(fis_plan(), FIS_PRICES, DURATIONS, versions, AS_OF)["monthlyCost"]
    (run,) = mc["fisPerExperimentRun"]
    # 10 + 3 timed, and each termination counted as one minute: FIS bills no more for COUNT(5)
    assert [(a["name"], a["minutes"], a["timed"]) for a in run["actions"]] == [
        ("cut", 10, True), ("wait", 3, True), ("kill-a", 1, False), ("kill-b", 1, False)]
    assert run["actionMinutes"] == 15 and run["usdPerRun"] == 1.5 and run["targetsMultiply"] is False
    assert run["actionsWithoutDuration"] == ["aws:ec2:terminate-instances"] * 2
    assert run["template"] == "prod-apne1-az-outage" and run["source"] == "https://aws.amazon.com/fis/pricing/"
    assert mc["totalUsd"] == 0, "a run is not a monthly charge"


@pytest.mark.parametrize("cron, runs", [
    ("cron(0 10 ? * TUE#2 *)", 1),   # 8 December 2026
    ("cron(0 14 ? * WED *)", 4),     # 2, 9, 16, 23 December
    ("cron(0 9,15 ? * MON-FRI *)", 44),  # 22 weekdays from Thu 26 November to Fri 25 December, twice a day
    ("cron(0 9 L * ? *)", 1),        # 30 November
    ("cron(0 9 ? * 6L *)", 2),       # the last Fridays: 27 November, 25 December
    ("cron(0 9 1W * ? *)", 1),       # Tuesday 1 December
    ("cron(0 10 ? * TUE#2 2027)", 0),
])
def test_game_days_in_the_30_days_from_the_as_of_date(versions, cron, runs):
    assert est.scheduler_cron_runs(cron, AS_OF) == runs
    gd = est.estimate_plan(fis_plan(cron), FIS_PRICES, DURATIONS, versions, AS_OF)["monthlyCost"]["fisGameDays"]
    (e,) = gd["schedules"]  # the Lambda schedule is no game day
    assert (e["templateUrn"], e["runs"], e["usdPerRun"]) == (TEMPLATE, runs, 1.5)
    assert gd["usd"] == round(runs * 1.5, 2) and gd["complete"] and gd["from"] == "2026-11-26"


def test_a_cron_the_estimate_cannot_read_is_named_not_guessed(versions, tmp_path):
    gd = est.estimate_plan(fis_plan("rate(7 days)"), FIS_PRICES, DURATIONS, versions, AS_OF)["monthlyCost"]["fisGameDays"]
    (e,) = gd["schedules"]
    assert e["runs"] is None and e["usd"] is None and "cannot count runs" in e["note"] and not gd["complete"]
    with pytest.raises(ValueError):
        est.scheduler_cron_runs("cron(0 25 * * ? *)", AS_OF)


def test_render_shows_cost_per_run_and_the_month_of_game_days(versions, tmp_path):
    plan = tmp_path / "fis.json"
    plan.write_text(json.dumps(fis_plan()))
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(FIS_PRICES))
    text = est.render(est.estimate(plan, prices_path=prices, as_of=AS_OF))
    assert "4 action(s), 15 action-min = $1.50; 2 without a duration counted as 1 min each" in text, text
    assert "targets do not multiply" in text
    assert "FIS game days (30 days from 2026-11-26): $1.50" in text
    assert "cron(0 10 ? * TUE#2 *) Asia/Tokyo -> 1 run(s) x $1.50 = $1.50" in text


def test_observability_and_lambda_types_are_priced_or_listed(versions):
    """AMP's managed collector is billed by the hour it runs: an unknown with its quantity (the
    rate is not sourced); the rest of issue 13's types are usage or free and listed as such."""
    free = ["aws:amp/workspace:Workspace", "aws:amp/ruleGroupNamespace:RuleGroupNamespace",
            "aws:grafana/workspace:Workspace", "aws:appautoscaling/target:Target",
            "aws:appautoscaling/policy:Policy", "aws:appautoscaling/scheduledAction:ScheduledAction",
            "aws:sns/topicPolicy:TopicPolicy"]
    steps = [_step("pulumi:providers:aws", "r1", {"region": "r1"}, provider=None)]
    steps += [_step(t, f"x{i}") for i, t in enumerate(free)]
    steps += [_step("aws:amp/scraper:Scraper", f"s{i}") for i in range(2)]
    mc = est.estimate_plan({"steps": steps}, PRICES, DURATIONS, versions, AS_OF)["monthlyCost"]
    assert {n["type"] for n in mc["notPriced"]} == set(free)
    (u,) = mc["unknown"]
    assert (u["priceKey"], u["quantity"], u["unit"], u["monthlyUnits"]) == ("amp.collector.hour", 2, "collector-hour",
                                                                           2 * 730.0)
