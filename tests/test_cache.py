"""Data tier, cache: a Valkey/Redis OSS replication group per region, Multi-AZ with automatic
failover, encrypted at rest (its own key) and in transit (TLS required), IAM authentication
through a user group whose `default` user is off, 6379 only from the cluster's nodes, logs to
CloudWatch; the security rules on violating and compliant replication groups."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import pytest

from components.config import ConfigError
from components.naming import cache_member_ids
from tests.helpers import run, shipped, variant

RG = "aws:elasticache/replicationGroup:ReplicationGroup"
USER = "aws:elasticache/user:User"
GROUP = "aws:elasticache/userGroup:UserGroup"
PARAMS = "aws:elasticache/parameterGroup:ParameterGroup"
SUBNETS = "aws:elasticache/subnetGroup:SubnetGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CACHE = {"engine": "valkey", "engineVersion": "8.1", "nodeType": "cache.r7g.large", "replicasPerShard": 1}


def _by_id(r, typ, key):
    return {reg.outputs[key]: reg for reg in r.of_type(typ)}


def _in(r, reg, typ):
    """The resources of a type in the same region as reg."""
    return [x for x in r.of_type(typ) if r.region_of(x) == r.region_of(reg)]


@pytest.mark.parametrize("stack, replicas, azs", [("prod", 2, 3), ("airgap", 1, 2)])
def test_one_multi_az_group_per_region_a_node_per_az(stack, replicas, azs):
    r = shipped(stack)
    groups = r.of_type(RG)
    assert sorted(r.region_of(g) for g in groups) == sorted(x.name for x in r.spec.config.regions)
    for g in groups:
        i = g.inputs
        assert (i["engine"], i["engineVersion"], i["nodeType"]) == ("valkey", "8.1", "cache.r7g.large")
        assert i["clusterMode"] == "disabled" and i["numCacheClusters"] == replicas + 1
        assert "numNodeGroups" not in i and "replicasPerNodeGroup" not in i
        assert i["automaticFailoverEnabled"] is True and i["multiAzEnabled"] is True
        # the primary and each replica in a different AZ of the database subnets
        zones = i["preferredCacheClusterAzs"]
        assert len(zones) == replicas + 1 and len(set(zones)) == min(replicas + 1, azs)
        assert all(z.startswith(r.region_of(g)) for z in zones)
        assert i["port"] == 6379 and i["replicationGroupId"] == f"{r.spec.config.environment}-" \
                                                                f"{g.name.split('-')[0]}-cache"
        assert len(i["replicationGroupId"]) <= 40
        assert i["snapshotRetentionLimit"] >= 1


def test_encrypted_at_rest_with_its_own_rotating_key_and_tls_required():
    r = shipped("prod")
    keys = {k.outputs["arn"]: k for k in r.of_type("aws:kms/key:Key")}
    for g in r.of_type(RG):
        i = g.inputs
        assert i["atRestEncryptionEnabled"] is True
        key = keys[i["kmsKeyId"]]
        assert "ElastiCache" in key.inputs["description"] and r.region_of(key) == r.region_of(g)
        assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30
        assert json.loads(key.inputs["policy"])["Statement"][0]["Sid"] == "AccountAdministers"
        assert key.protect, key.urn
        assert i["transitEncryptionEnabled"] is True and i["transitEncryptionMode"] == "required"


def test_iam_users_in_a_group_whose_default_user_is_off():
    r = shipped("prod")
    groups = _by_id(r, GROUP, "userGroupId")
    users = _by_id(r, USER, "userId")
    for g in r.of_type(RG):
        assert "authToken" not in g.inputs and "authTokenWoVersion" not in g.inputs
        (gid,) = g.inputs["userGroupIds"]
        group = groups[gid]
        assert group.urn in g.dependencies and group.inputs["engine"] == "redis"
        members = [users[u] for u in group.inputs["userIds"]]
        assert all(m.urn in group.dependencies and m.inputs["engine"] == "redis" for m in members)
        (default,) = [m for m in members if m.inputs["userName"] == "default"]
        # not the built-in default user (id "default", `on ~* +@all`, no password): a stand-in, off
        assert default.inputs["userId"] != "default" and default.inputs["accessString"].split()[0] == "off"
        assert default.inputs["noPasswordRequired"] is True and "passwords" not in default.inputs
        (app,) = [m for m in members if m is not default]
        assert app.inputs["authenticationMode"] == {"type": "iam"} and "passwords" not in app.inputs
        assert app.inputs["userId"] == app.inputs["userName"], "IAM authentication needs id == name"
        assert app.inputs["accessString"].startswith("on ")
        # nothing secret anywhere: no input of these resources is a Pulumi secret (shown "[secret]")
        for reg in (g, group, *members):
            assert "[secret]" not in json.dumps(reg.inputs), reg.urn


def test_only_the_cluster_nodes_reach_6379():
    r = shipped("prod")
    eks = {c.urn: c for c in r.of_type("eks:index:Cluster")}
    for g in r.of_type(RG):
        (sg_id,) = g.inputs["securityGroupIds"]
        sg = r.by_id(sg_id)
        assert sg is not None and sg.urn in g.dependencies and "ingress" not in sg.inputs and "egress" not in sg.inputs
        rules = [x for x in r.of_type(INGRESS) if x.inputs["securityGroupId"] == sg_id]
        assert len(rules) == 1, "one way in"
        (rule,) = rules
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 6379, 6379)
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
        (source,) = rule.property_dependencies["referencedSecurityGroupId"]
        # the EKS cluster security group (every node carries it) of the same region's cluster
        assert rule.inputs["referencedSecurityGroupId"] == eks[source].outputs["clusterSecurityGroupId"]
        assert eks[source].name == g.name.replace("-cache", "-eks")


def test_in_the_database_subnets():
    r = shipped("prod")
    for g in r.of_type(RG):
        (sn,) = [s for s in _in(r, g, SUBNETS) if s.inputs["name"] == g.inputs["subnetGroupName"]]
        database = {s.id for s in _in(r, g, "aws:ec2/subnet:Subnet") if "-database-" in s.name}
        assert set(sn.inputs["subnetIds"]) == database and len(database) == 3


def test_slow_and_engine_logs_to_encrypted_log_groups_with_retention():
    r = shipped("prod")
    log_groups = {lg.inputs["name"]: lg for lg in r.of_type("aws:cloudwatch/logGroup:LogGroup")}
    logs_keys = {k.outputs["arn"] for k in r.of_type("aws:kms/key:Key") if "CloudWatch Logs" in k.inputs["description"]}
    for g in r.of_type(RG):
        deliveries = {d["logType"]: d for d in g.inputs["logDeliveryConfigurations"]}
        assert set(deliveries) == {"slow-log", "engine-log"}
        for d in deliveries.values():
            assert d["destinationType"] == "cloudwatch-logs" and d["logFormat"] == "json"
            lg = log_groups[d["destination"]]
            assert lg.urn in g.dependencies and r.region_of(lg) == r.region_of(g)
            assert lg.inputs["retentionInDays"] == 365 and lg.inputs["kmsKeyId"] in logs_keys


def test_protected_in_prod_only():
    for stack, protected in (("prod", True), ("airgap", False)):
        for g in shipped(stack).of_type(RG):
            assert g.protect is protected, g.urn
            assert ("finalSnapshotIdentifier" in g.inputs) is protected


def test_dev_has_no_cache():
    r = shipped("dev")
    assert not [reg for reg in r.regs.values() if reg.type.startswith("aws:elasticache/")]


def test_the_parameter_group_matches_the_engine_and_cluster_mode():
    r = shipped("prod")
    params = {p.inputs["name"]: p for p in r.of_type(PARAMS)}
    for g in r.of_type(RG):
        p = params[g.inputs["parameterGroupName"]]
        assert p.inputs["family"] == "valkey8"
        assert p.inputs["parameters"] == [{"name": "cluster-enabled", "value": "no"}]


def test_member_cluster_ids_are_the_names_elasticache_gives_its_nodes():
    # botocore's own examples of DescribeReplicationGroups/CreateReplicationGroup answers
    examples = Path(botocore.__file__).parent / "data" / "elasticache" / "2015-02-02" / "examples-1.json"
    doc = json.loads(examples.read_text())["examples"]
    (created,) = doc["CreateReplicationGroup"][:1]
    assert list(cache_member_ids("my-redis-rg", 1, 2)) == created["output"]["ReplicationGroup"]["MemberClusters"]
    (described,) = doc["DescribeReplicationGroups"][:1]
    group = described["output"]["ReplicationGroups"][0]
    assert list(cache_member_ids("clustered-redis", 2, 1)) == group["MemberClusters"]
    # and the ids the offline run gives are the ones the SLOs watch
    for g in shipped("prod").of_type(RG):
        assert tuple(g.outputs["memberClusters"]) == cache_member_ids(g.inputs["replicationGroupId"], 1, 2)
        assert all(len(m) <= 50 for m in g.outputs["memberClusters"])


def test_cluster_mode_with_shards_and_a_redis_engine(tmp_path):
    cache = {**CACHE, "engine": "redis", "engineVersion": "7.1", "shards": 3, "replicasPerShard": 2}
    r = run("airgap", variant(tmp_path, "airgap", data={"cache": cache}))
    params = {p.inputs["name"]: p for p in r.of_type(PARAMS)}
    for g in r.of_type(RG):
        i = g.inputs
        assert (i["engine"], i["engineVersion"], i["clusterMode"]) == ("redis", "7.1", "enabled")
        assert (i["numNodeGroups"], i["replicasPerNodeGroup"]) == (3, 2)
        assert "numCacheClusters" not in i and "preferredCacheClusterAzs" not in i
        assert i["automaticFailoverEnabled"] is True
        p = params[i["parameterGroupName"]]
        assert p.inputs["family"] == "redis7" and p.inputs["parameters"] == [{"name": "cluster-enabled", "value": "yes"}]
        members = g.outputs["memberClusters"]
        assert tuple(members) == cache_member_ids(i["replicationGroupId"], 3, 2) and len(members) == 9
        assert members[0].endswith("-0001-001") and members[-1].endswith("-0003-003")


def test_a_cache_limited_to_some_regions(tmp_path):
    r = run("airgap", variant(tmp_path, "airgap", data={"cache": {**CACHE, "regions": ["ap-northeast-3"]}}))
    assert [r.region_of(g) for g in r.of_type(RG)] == ["ap-northeast-3"]


@pytest.mark.parametrize("cache, key, needle", [
    # Valkey 9 is on ElastiCache, but its parameter group family is not in AWS's model yet
    ({**CACHE, "engineVersion": "9.0"}, "data.cache.engineVersion", "knows the parameter group families"),
    # Redis OSS 6 has no IAM authentication
    ({**CACHE, "engine": "redis", "engineVersion": "6.2"}, "data.cache.engineVersion", "Redis OSS 7.x"),
    ({**CACHE, "engineVersion": "7.1"}, "data.cache.engineVersion", "Valkey 7.2+"),
    ({**CACHE, "shards": 2, "replicasPerShard": 0, "automaticFailover": False}, "data.cache.automaticFailover",
     "cluster mode (2 shards) needs automatic failover"),
    ({**CACHE, "logRetentionDays": 100}, "data.cache.logRetentionDays", "retention"),
    ({**CACHE, "replicasPerShard": 6}, "data.cache.replicasPerShard", "less than or equal to 5"),
])
def test_bad_cache_config_names_the_key(tmp_path, cache, key, needle):
    with pytest.raises(ConfigError) as err:
        run("airgap", variant(tmp_path, "airgap", data={"cache": cache}))
    text = err.value.render()
    assert f"global-platform:{key}" in text and needle in text, text


# --- security rules (policy/rules/cache.py), over the real Analyzer protocol

TAGS = {"environment": "prod", "owner": "team", "managed-by": "pulumi", "region": "us-east-1"}
GOOD = {"replicationGroupId": "prod-use1-cache", "description": "d", "engine": "valkey", "engineVersion": "8.1",
        "nodeType": "cache.r7g.large", "atRestEncryptionEnabled": True, "kmsKeyId": "arn:k",
        "transitEncryptionEnabled": True, "transitEncryptionMode": "required", "userGroupIds": ["prod-use1-cache-users"],
        "automaticFailoverEnabled": True, "multiAzEnabled": True, "numCacheClusters": 2, "tags": TAGS}


@pytest.fixture
def pack(security_pack):
    return security_pack


def fired(pack, props):
    resource = {"type": RG, "inputs": props, "urn": f"urn:pulumi:prod::global-platform::{RG}::rg", "name": "rg",
                "parent": "", "provider": "", "dependencies": [], "propertyDependencies": {}}
    return sorted({d.policyName for d in pack.analyze(resource, {})})


def _without(*keys, **changes):
    return {**{k: v for k, v in GOOD.items() if k not in keys}, **changes}


@pytest.mark.parametrize("policy, bad", [
    ("elasticache-encrypted-at-rest", _without("atRestEncryptionEnabled", "kmsKeyId")),
    ("elasticache-encrypted-at-rest", _without(atRestEncryptionEnabled=False)),
    ("elasticache-encrypted-in-transit", _without("transitEncryptionEnabled", "transitEncryptionMode")),
    ("elasticache-encrypted-in-transit", _without(transitEncryptionMode="preferred")),
    ("elasticache-authenticated", _without("userGroupIds")),
    ("elasticache-authenticated", _without(userGroupIds=[])),
    ("elasticache-multi-az-in-prod", _without(multiAzEnabled=False)),
    ("elasticache-multi-az-in-prod", _without("automaticFailoverEnabled", "multiAzEnabled")),
])
def test_cache_rule_fires_on_the_violation(pack, policy, bad):
    assert policy in fired(pack, bad)


@pytest.mark.parametrize("policy, good", [
    ("elasticache-encrypted-at-rest", GOOD),
    ("elasticache-encrypted-at-rest", _without("kmsKeyId")),  # the service key (GovCloud) is still at rest
    ("elasticache-encrypted-in-transit", GOOD),
    ("elasticache-authenticated", GOOD),
    ("elasticache-authenticated", _without("userGroupIds", authToken="a-token-from-elsewhere-0123")),
    ("elasticache-authenticated", _without("userGroupIds", authTokenWoVersion=1)),
    ("elasticache-multi-az-in-prod", GOOD),
    # outside prod a single node without failover is allowed
    ("elasticache-multi-az-in-prod", _without("automaticFailoverEnabled", "multiAzEnabled",
                                               tags={**TAGS, "environment": "stage"})),
])
def test_cache_rule_holds_on_the_fix(pack, policy, good):
    assert policy not in fired(pack, good)


@pytest.mark.parametrize("stack", ["prod", "airgap"])
def test_the_shipped_groups_pass_the_cache_rules(pack, stack):
    for g in shipped(stack).of_type(RG):
        assert not [p for p in fired(pack, g.inputs) if p.startswith("elasticache-")], g.urn
