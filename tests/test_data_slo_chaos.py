"""Data-tier SLOs and chaos: alarms watch the very cluster, nodes and queue the stack creates;
FIS scenarios aim at exactly them with roles scoped to them; air-gapped stacks get the
endpoints the tier's clients call."""

from __future__ import annotations

import json

import pytest

from components.naming import cache_member_ids
from tests.helpers import run, shipped, variant

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"


def alarms(r, slo):
    return {r.region_of(a): a for a in r.of_type(ALARM) if a.inputs["name"].endswith(f"-slo-{slo}")}


def in_region(r, typ, region):
    return [x for x in r.of_type(typ) if r.region_of(x) == region]


def test_replica_lag_watches_each_regions_own_cluster_and_the_global_lag_in_secondaries():
    r = shipped("prod")
    hub = r.spec.config.hub.name
    found = alarms(r, "db-replica-lag")
    assert set(found) == set(r.spec.config.region_names)
    for region, alarm in found.items():
        (cluster,) = in_region(r, "aws:rds/cluster:Cluster", region)
        assert alarm.inputs["dimensions"] == {"DBClusterIdentifier": cluster.inputs["clusterIdentifier"]}, alarm.urn
        assert alarm.inputs["namespace"] == "AWS/RDS" and alarm.inputs["statistic"] == "Maximum"
        secondary = "globalClusterIdentifier" in cluster.inputs and "masterUsername" not in cluster.inputs
        assert secondary == (region != hub), cluster.urn
        assert alarm.inputs["metricName"] == ("AuroraGlobalDBReplicationLag" if secondary
                                              else "AuroraReplicaLagMaximum"), alarm.urn


def test_cache_cpu_watches_every_node_of_the_regions_replication_group():
    r = shipped("prod")
    for region, alarm in alarms(r, "cache-cpu").items():
        (rg,) = in_region(r, "aws:elasticache/replicationGroup:ReplicationGroup", region)
        shards = rg.inputs.get("numNodeGroups", 1)
        per_shard = rg.inputs.get("replicasPerNodeGroup", rg.inputs.get("numCacheClusters", 1) - 1)
        expected = cache_member_ids(rg.inputs["replicationGroupId"], shards, per_shard)
        queries = alarm.inputs["metricQueries"]
        nodes = [q["metric"]["dimensions"]["CacheClusterId"] for q in queries if "metric" in q]
        assert tuple(nodes) == expected, alarm.urn
        (expr,) = [q for q in queries if "expression" in q]
        assert expr["expression"] == f"MAX([{', '.join(q['id'] for q in queries if 'metric' in q)}])"
        assert expr["returnData"] is True and all(not q.get("returnData") for q in queries if "metric" in q)


def test_queue_age_watches_the_queue_the_stack_creates():
    r = shipped("prod")
    for region, alarm in alarms(r, "fulfilment-queue-age").items():
        names = {q.inputs["name"] for q in in_region(r, "aws:sqs/queue:Queue", region)}
        assert alarm.inputs["dimensions"]["QueueName"] in names, alarm.urn
        assert alarm.inputs["metricName"] == "ApproximateAgeOfOldestMessage"


def test_data_slos_are_keda_triggers_where_one_metric_carries_them():
    r = shipped("prod")
    maps = [c for c in r.of_type("kubernetes:core/v1:ConfigMap") if "slo" in c.inputs["metadata"]["name"]]
    assert maps
    for cm in maps:
        triggers = {k: json.loads(v) for k, v in cm.inputs["data"].items()}
        assert "cache-cpu" not in triggers, cm.urn  # a MAX over nodes: no single metric
        lag, age = triggers["db-replica-lag"], triggers["fulfilment-queue-age"]
        assert lag["metadata"]["dimensionName"] == "DBClusterIdentifier"
        assert age["metadata"]["metricName"] == "ApproximateAgeOfOldestMessage"


def test_aurora_failover_runs_only_on_clusters_with_a_writer_scoped_to_that_cluster():
    r = shipped("prod")
    templates = [t for t in r.of_type(TEMPLATE) if t.inputs["actions"][0]["actionId"] == "aws:rds:failover-db-cluster"]
    assert [r.region_of(t) for t in templates] == [r.spec.config.hub.name]  # a global database's primary
    (t,) = templates
    (cluster,) = in_region(r, "aws:rds/cluster:Cluster", r.region_of(t))
    assert t.inputs["targets"][0]["resourceArns"] == [cluster.outputs["arn"]]
    # the template's role policy carries the template's name (ctx.name("fis", key))
    (policy,) = [p for p in r.of_type("aws:iam/rolePolicy:RolePolicy")
                 if p.urn.rsplit("::", 1)[-1] == t.urn.rsplit("::", 1)[-1]]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    rds = [s for s in statements if any(a.startswith("rds:") for a in s["Action"])]
    assert rds == [{"Effect": "Allow", "Action": ["rds:DescribeDBClusters", "rds:FailoverDBCluster"],
                    "Resource": [cluster.outputs["arn"]]}]


def test_dev_fails_over_its_standalone_clusters_in_every_region():
    r = shipped("dev")
    regions = sorted(r.region_of(t) for t in r.of_type(TEMPLATE)
                     if t.inputs["actions"][0]["actionId"] == "aws:rds:failover-db-cluster")
    assert regions == r.spec.config.region_names


def test_cache_az_power_selects_the_group_by_its_tag_in_the_slots_zone():
    r = shipped("prod")
    templates = [t for t in r.of_type(TEMPLATE)
                 if t.inputs["actions"][0]["actionId"] == "aws:elasticache:replicationgroup-interrupt-az-power"]
    assert sorted(r.region_of(t) for t in templates) == r.spec.config.region_names
    for t in templates:
        (rg,) = in_region(r, "aws:elasticache/replicationGroup:ReplicationGroup", r.region_of(t))
        target = t.inputs["targets"][0]
        assert all(rg.inputs["tags"][p["key"]] == p["value"] for p in target["resourceTags"]), t.urn
        # slot b: the zone of the second database subnet, one the group has a node in
        zone = target["parameters"]["availabilityZoneIdentifier"]
        assert zone == rg.inputs["preferredCacheClusterAzs"][1], t.urn
        assert {p["key"]: p["value"] for p in t.inputs["actions"][0]["parameters"]} == {"duration": "PT10M"}
        alarms_named = {s["value"] for s in t.inputs["stopConditions"]}
        assert len(alarms_named) == 2, t.urn  # stopOn: web-p99-latency, cache-cpu


def test_airgap_gets_the_endpoints_the_data_tier_calls(tmp_path):
    base = shipped("airgap")
    services = {e.inputs["serviceName"].rsplit(".", 1)[-1] for e in base.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert "secretsmanager" in services and "sns" not in services
    r = run("airgap", variant(tmp_path, "airgap", network={"endpoints": []}, data={"messaging": {
        "topics": [{"name": "orders", "queues": [{"name": "billing"}]}]}}))
    services = {e.inputs["serviceName"].rsplit(".", 1)[-1] for e in r.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {"secretsmanager", "sns", "sqs"} <= services  # none listed: the data tier brings them


@pytest.mark.parametrize("stack", ["dev", "prod", "airgap"])
def test_every_data_slo_alarm_has_its_target_in_the_region(stack):
    r = shipped(stack)
    kinds = {s.name: s.kind for s in r.spec.config.slos}
    for alarm in r.of_type(ALARM):
        name = alarm.inputs["name"].split("-slo-", 1)[-1]
        region = r.region_of(alarm)
        if kinds.get(name) == "dbReplicaLag":
            assert in_region(r, "aws:rds/cluster:Cluster", region), alarm.urn
        if kinds.get(name) == "cacheCpu":
            assert in_region(r, "aws:elasticache/replicationGroup:ReplicationGroup", region), alarm.urn
