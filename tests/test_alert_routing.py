"""AMP alert routing: each region's Prometheus workspace sends its SLO alerts to the region's SLO
topic through an alert manager definition, with the topic policy and key policy AMP needs. On the
shipped stacks, without Prometheus, and through the upstream and readiness checks that guard it."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import yaml

from components.slo import has_prometheus_workspace
from tests.helpers import plan_resource as res
from tests.helpers import run, shipped, variant
from tools.upstream import prometheus as prom_check

STACKS = ["dev", "prod", "airgap"]
DEFINITION = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
WORKSPACE = "aws:amp/workspace:Workspace"
TOPIC, TOPIC_POLICY, KEY = "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy", "aws:kms/key:Key"


def slo_topics(r) -> dict:
    return {r.region_of(t): t for t in r.of_type(TOPIC) if t.inputs["name"].endswith("-slo-alerts")}


def statements(doc: str) -> dict:
    return {s["Sid"]: s for s in json.loads(doc)["Statement"]}


@pytest.mark.parametrize("stack", STACKS)
def test_every_workspace_routes_all_alerts_to_its_regions_slo_topic(stack):
    r = shipped(stack)
    topics = slo_topics(r)
    workspaces = {r.region_of(w): w for w in r.of_type(WORKSPACE)}
    definitions = {r.region_of(d): d for d in r.of_type(DEFINITION)}
    assert len(definitions) == len(r.of_type(DEFINITION))  # one per workspace
    assert set(definitions) == set(topics) & set(workspaces) and definitions
    policies = {p.urn: p for p in r.of_type(TOPIC_POLICY)}
    for region, d in definitions.items():
        topic_arn = topics[region].outputs["arn"]
        assert d.inputs["workspaceId"] == workspaces[region].id
        assert d.inputs["definition"].startswith("alertmanager_config: |\n")
        outer = yaml.safe_load(d.inputs["definition"])
        assert set(outer) == {"alertmanager_config"}
        cfg = yaml.safe_load(outer["alertmanager_config"])
        assert set(cfg) == {"route", "receivers"} and "routes" not in cfg["route"]  # everything to the root
        (receiver,) = cfg["receivers"]
        assert cfg["route"]["receiver"] == receiver["name"] and set(receiver) == {"name", "sns_configs"}
        (sns,) = receiver["sns_configs"]
        assert sns["topic_arn"] == topic_arn and sns["sigv4"] == {"region": region}
        assert not {"api_url", "http_config"} & set(sns)
        assert prom_check.check_alertmanager_definition(d.inputs["definition"]) == []
        # the policy that admits AMP, scoped to this workspace and account, is in place first
        (policy,) = [p for p in policies.values() if p.inputs["arn"] == topic_arn]
        assert policy.urn in d.dependencies
        aps = statements(policy.inputs["policy"])["AmpAlertManagerPublish"]
        assert aps["Principal"] == {"Service": "aps.amazonaws.com"} and aps["Resource"] == topic_arn
        assert set(aps["Action"]) == {"sns:Publish", "sns:GetTopicAttributes"}
        assert aps["Condition"] == {"ArnEquals": {"aws:SourceArn": workspaces[region].outputs["arn"]},
                                    "StringEquals": {"aws:SourceAccount": "123456789012"}}
        # the replaced default policy still lets the region's CloudWatch alarms publish
        cw = statements(policy.inputs["policy"])["CloudWatchAlarmsPublish"]
        assert cw["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and cw["Action"] == "sns:Publish"
        assert cw["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:cloudwatch:{region}:123456789012:alarm:*"
        # and AMP may use the topic's key
        key = next(k for k in r.of_type(KEY) if k.outputs["arn"] == topics[region].inputs["kmsMasterKeyId"])
        kms = statements(key.inputs["policy"])["AmpAlertManagerPublish"]
        assert kms["Principal"] == {"Service": "aps.amazonaws.com"}
        assert set(kms["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}


def test_without_prometheus_the_slo_topic_keeps_its_default_policy_and_key(tmp_path):
    r = run("dev", variant(tmp_path, "dev", observability={"prometheus": None}))
    topics = slo_topics(r)
    assert topics and not r.of_type(DEFINITION)
    assert not [p for p in r.of_type(TOPIC_POLICY) if p.inputs["arn"] in {t.outputs["arn"] for t in topics.values()}]
    keys = [k for k in r.of_type(KEY) if k.outputs["arn"] in {t.inputs["kmsMasterKeyId"] for t in topics.values()}]
    assert keys and all("aps.amazonaws.com" not in k.inputs["policy"] for k in keys)


def test_with_hub_placement_only_the_hub_key_admits_amp():
    def spec(placement):
        return SimpleNamespace(config=SimpleNamespace(
            hub=SimpleNamespace(name="eu-west-1"),
            observability=SimpleNamespace(prometheus=SimpleNamespace(placement=placement))))
    assert has_prometheus_workspace(spec("hub"), "eu-west-1")
    assert not has_prometheus_workspace(spec("hub"), "us-east-1")
    assert has_prometheus_workspace(spec("perRegion"), "us-east-1")
    assert not has_prometheus_workspace(SimpleNamespace(config=SimpleNamespace(
        hub=SimpleNamespace(name="eu-west-1"), observability=None)), "eu-west-1")


# -- upstream: what AMP would refuse ------------------------------------------------------------------
def definition(cfg: dict, **outer) -> str:
    return yaml.safe_dump({"alertmanager_config": yaml.safe_dump(cfg), **outer})


GOOD = {"route": {"receiver": "r"},
        "receivers": [{"name": "r", "sns_configs": [{"topic_arn": "arn:aws:sns:eu-west-1:1:t",
                                                     "sigv4": {"region": "eu-west-1"}}]}]}


def sns(**changes) -> dict:
    cfg = json.loads(json.dumps(GOOD))
    cfg["receivers"][0]["sns_configs"][0].update(changes)
    return cfg


@pytest.mark.parametrize("text, path, needle", [
    (yaml.safe_dump(GOOD), "definition", "alertmanager_config"),  # not wrapped
    (yaml.safe_dump({"alertmanager_config": GOOD}), "definition", "a string"),  # a map, not `|`
    (definition(GOOD, extra="x"), "definition", "template_files"),
    (definition({**GOOD, "route": {"receiver": "nobody"}}), "definition.alertmanager_config.route.receiver",
     "undefined receiver"),
    (definition({**GOOD, "route": {}}), "definition.alertmanager_config.route.receiver", "default receiver"),
    (definition(sns(api_url="https://sns")), "definition.alertmanager_config.receivers[0].sns_configs[0].api_url",
     "not allowed"),
    (definition(sns(sigv4={})), "definition.alertmanager_config.receivers[0].sns_configs[0].sigv4.region",
     "region"),
    (definition({**GOOD, "receivers": [{"name": "r", "webhook_configs": [{"url": "https://x"}]}]}),
     "definition.alertmanager_config.receivers[0].webhook_configs", "only receiver is SNS"),
    (definition({**GOOD, "route": {"receiver": "r", "repeat_interval": "6d"}}),
     "definition.alertmanager_config.route.repeat_interval", "five days"),
])
def test_alert_manager_definitions_amp_would_refuse(text, path, needle):
    assert prom_check.check_alertmanager_definition(definition(GOOD)) == []
    problems = prom_check.check_alertmanager_definition(text)
    assert any(p == path and needle in m for p, m in problems), problems


def test_upstream_check_reads_definitions_in_the_plan():
    doc = {"steps": [{"op": "create", "urn": "urn:pulumi:s::p::" + DEFINITION + "::d", "newState": {
        "type": DEFINITION, "inputs": {"workspaceId": "ws", "definition": definition(sns(sigv4={}))}}}]}
    assert [f.path for f in prom_check.check(doc)] == [
        "definition.alertmanager_config.receivers[0].sns_configs[0].sigv4.region"]


# -- readiness: AMP must be able to publish ------------------------------------------------------------
def fired(pack, resources) -> list[str]:
    return [d.message for d in pack.analyze_stack(resources, {}) if d.policyName == "sns-publishers-can-use-topic"]


def alert_world(*, key_principal="aps.amazonaws.com", policy_principal="aps.amazonaws.com", waits=True):
    key = res(KEY, "k", {"policy": json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": key_principal},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]})})
    topic = res(TOPIC, "t", {"name": "t", "kmsMasterKeyId": "arn:k"}, prop={"kmsMasterKeyId": key["urn"]})
    ws = res(WORKSPACE, "ws", {"alias": "ws"})
    policy = res(TOPIC_POLICY, "tp", {"arn": "arn:t", "policy": json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": policy_principal}, "Action": ["sns:Publish"],
        "Resource": "arn:t", "Condition": {"ArnEquals": {"aws:SourceArn": "arn:ws"}}}]})},
        prop={"arn": topic["urn"], "policy": [topic["urn"], ws["urn"]]})
    d = res(DEFINITION, "am", {"workspaceId": "ws", "definition": definition(GOOD)},
            deps=[policy["urn"]] if waits else [], prop={"definition": topic["urn"], "workspaceId": ws["urn"]})
    return [key, topic, ws, policy, d]


@pytest.mark.parametrize("broken, needle", [
    ({"key_principal": "cloudwatch.amazonaws.com"}, "does not let aps.amazonaws.com use it"),
    ({"policy_principal": "events.amazonaws.com"}, "no topic policy of t lets AMP"),
    ({"waits": False}, "does not wait for the topic policy that admits AMP"),
])
def test_readiness_refuses_an_alert_manager_amp_cannot_deliver_from(readiness_pack, broken, needle):
    assert fired(readiness_pack, alert_world()) == []
    messages = fired(readiness_pack, alert_world(**broken))
    assert any(needle in m for m in messages), messages
