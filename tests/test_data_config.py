"""The data tier's config rules: what production must not run, what AWS would refuse, and
data-tier SLOs and chaos scenarios that would watch or hit nothing. Each bad config is one
message naming its key."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from components.config.data import s3_name_problem
from components.naming import cache_member_ids
from tests.helpers import run, run_tool, variant

AURORA = {"engineVersion": "8.0.mysql_aurora.3.10.4", "instanceClass": "db.r7g.large", "instances": 3,
          "backupRetentionDays": 14}
CACHE = {"engine": "valkey", "engineVersion": "8.1", "nodeType": "cache.r7g.large", "replicasPerShard": 2}


def rendered(tmp_path, base, **overrides) -> str:
    with pytest.raises(ConfigError) as err:
        run(base, variant(tmp_path, base, **overrides))
    return err.value.render()


@pytest.mark.parametrize("base, overrides, key, needle", [
    # prod Aurora over two AZs
    ("prod", {"network": {"azCount": 2}}, "data.aurora", "prod Aurora spreads over three AZs"),
    # prod backups under a week
    ("prod", {"data": {"aurora": {**AURORA, "backupRetentionDays": 3}}}, "data.aurora.backupRetentionDays",
     "at least 7 days; got 3"),
    ("prod", {"data": {"aurora": {**AURORA, "instances": 1}}}, "data.aurora.instances", "a reader to fail over to"),
    # a version that is not an aurora-mysql engine version
    ("dev", {"data": {"aurora": {**AURORA, "engineVersion": "3.10.4"}}}, "data.aurora.engineVersion", "pattern"),
    ("dev", {"data": {"aurora": {**AURORA, "backupRetentionDays": 36}}}, "data.aurora.backupRetentionDays",
     "less than or equal to 35"),
    ("dev", {"network": {"databaseTier": False}}, "data.aurora", "set network.databaseTier: true"),
    ("prod", {"data": {"aurora": {**AURORA, "global": True, "regions": ["us-west-2"]}}}, "data.aurora.regions",
     "primary is in the hub"),
    ("dev", {"data": {"aurora": {**AURORA, "global": True, "instanceClass": "db.t4g.medium"}}},
     "data.aurora.instanceClass", "burstable"),
    # a cache with one node per shard and automatic failover
    ("prod", {"data": {"cache": {**CACHE, "replicasPerShard": 0}}}, "data.cache.replicasPerShard",
     "needs a replica to fail over to"),
    ("prod", {"data": {"cache": {**CACHE, "automaticFailover": False}}}, "data.cache.automaticFailover",
     "prod caches fail over automatically"),
    ("prod", {"data": {"cache": {**CACHE, "engineVersion": "8"}}}, "data.cache.engineVersion", "pattern"),
    ("prod", {"data": {"cache": {**CACHE, "engine": "memcached"}}}, "data.cache.engine", "'valkey' or 'redis'"),
    # bucket names S3 would refuse
    ("dev", {"data": {"storage": {"buckets": [{"name": "Example_Uploads"}]}}}, "data.storage.buckets[0].name",
     "lowercase letters, digits, dots and hyphens"),
    ("dev", {"data": {"storage": {"buckets": [{"name": "xn--uploads"}]}}}, "data.storage.buckets[0].name",
     "reserves the prefix 'xn--'"),
    ("dev", {"data": {"storage": {"buckets": [{"name": "a" * 60}]}}}, "data.storage.buckets[0].name",
     "3-63 characters"),
    ("dev", {"data": {"storage": {"buckets": [{"name": "example-uploads", "infrequentAccessAfterDays": 7}]}}},
     "data.storage.buckets[0].infrequentAccessAfterDays", "greater than or equal to 30"),
    ("dev", {"data": {"storage": {"buckets": [
        {"name": "example-static", "cdn": {"domain": "static.example.com", "hostedZoneId": "Z0123456789EXAMPLE0"}}]}}},
     "data.storage.buckets[0].regions", "lives in one region"),
    ("dev", {"data": {"storage": {"buckets": [
        {"name": "example-static", "cdn": {"domain": "static.example.com", "hostedZoneId": "not-a-zone"}}]}}},
     "data.storage.buckets[0].cdn.hostedZoneId", "pattern"),
])
def test_bad_data_config_names_the_key(tmp_path, base, overrides, key, needle):
    text = rendered(tmp_path, base, **overrides)
    assert f"global-platform:{key}" in text and needle in text, text


def test_a_bad_data_config_stops_the_preview_cli_with_one_message(tmp_path):
    path = variant(tmp_path, "prod", data={"cache": {**CACHE, "replicasPerShard": 0}})
    out = run_tool("tools.preview", "prod", "--stack-file", path)
    assert out.returncode != 0 and "Traceback" not in out.stderr + out.stdout
    assert "data.cache.replicasPerShard" in out.stderr + out.stdout


@pytest.mark.parametrize("slo, key, needle", [
    ({"name": "cache-cpu", "kind": "cacheCpu", "objective": 80}, "kind",
     "watches data.cache, which this stack does not have"),
    ({"name": "age", "kind": "queueAge", "objective": 300, "queue": "orders/nope"}, "queue",
     "orders/fulfilment"),
    ({"name": "lat", "kind": "latency", "objective": 1, "queue": "orders/fulfilment",
      "loadBalancers": {"ap-northeast-2": "app/dev-web/0a1b2c3d4e5f6a7b",
                        "ap-southeast-1": "app/dev-web/1b2c3d4e5f6a7b8c"}}, "queue", "only queueAge"),
])
def test_data_slos_must_watch_something_this_stack_has(tmp_path, slo, key, needle):
    from tests.helpers import stack_yaml
    slos = stack_yaml("dev")["config"]["global-platform:slos"] + [slo]
    key = f"slos[{len(slos) - 1}].{key}"
    text = rendered(tmp_path, "dev", slos=slos)
    assert f"global-platform:{key}" in text and needle in text, text


def test_a_cache_cpu_slo_cannot_watch_more_nodes_than_an_alarm_holds(tmp_path):
    from tests.helpers import stack_yaml
    slos = stack_yaml("prod")["config"]["global-platform:slos"] + [
        {"name": "busy", "kind": "cacheCpu", "objective": 80}]
    text = rendered(tmp_path, "prod", slos=slos, data={"cache": {**CACHE, "shards": 4, "replicasPerShard": 2}})
    assert "12 nodes exceed the 10 metrics an alarm can hold" in text, text


def test_data_scenarios_need_their_target_in_each_region_they_name(tmp_path):
    from tests.helpers import stack_yaml
    chaos = stack_yaml("prod")["config"]["global-platform:chaos"]
    scenarios = chaos["scenarios"] + [{"scenario": "aurora-failover", "name": "db-failover-spoke",
                                       "regions": ["us-west-2"]}]
    text = rendered(tmp_path, "prod", chaos={"scenarios": scenarios})
    assert "has nothing to act on in 'us-west-2'" in text and "fails over in its primary region" in text, text


def test_a_cache_scenario_without_a_cache_is_refused(tmp_path):
    text = rendered(tmp_path, "dev", chaos={"scenarios": [{"scenario": "cache-az-power"}]})
    assert "global-platform:chaos.scenarios[0].scenario" in text and "data.cache" in text, text


@pytest.mark.parametrize("name, problem", [
    ("example-uploads-prod-apne2", None),
    ("ex..ample", "adjacent periods"),
    ("10.0.0.1", "IP addresses"),
    ("uploads-s3alias", "suffix '-s3alias'"),
    ("ab", "3-63 characters"),
])
def test_s3_bucket_name_rules(name, problem):
    found = s3_name_problem(name)
    assert (found is None) if problem is None else (problem in found), found


def test_cache_member_ids_follow_elasticache_naming():
    assert cache_member_ids("prod-apne2-cache", 1, 2) == (
        "prod-apne2-cache-001", "prod-apne2-cache-002", "prod-apne2-cache-003")
    assert cache_member_ids("rg", 2, 1) == ("rg-0001-001", "rg-0001-002", "rg-0002-001", "rg-0002-002")


def test_data_null_is_the_empty_data_tier():
    from components.config import parse_stack_config
    from tests.helpers import stack_yaml
    raw = {k.split(":", 1)[1]: v for k, v in stack_yaml("dev")["config"].items()}
    raw.pop("data")
    absent = parse_stack_config(raw)
    null = parse_stack_config({**raw, "data": None})
    assert null.data == absent.data and absent.data.aurora is None and absent.data.messaging is None
