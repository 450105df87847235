"""The rest of the chaos practice: notices to the organisation (EventBridge -> encrypted SNS per
region, delivery checked the way the SLO topic's is), multi-step experiments (library `az-outage`,
and steps written in config), blast-radius limits and FIS's template quotas as config errors, and
the readiness rules that guard delivery and template shape."""

from __future__ import annotations

import json

import pytest
import yaml

from components.chaos_library import MAX_STOP_CONDITIONS
from components.config import ConfigError
from components.stack import build_stack_spec
from tests.helpers import deep_merge, run, shipped, stack_yaml, variant, plan_resource

STACKS = ["dev", "prod", "airgap"]
FIS = "aws:fis/experimentTemplate:ExperimentTemplate"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KEY = "aws:kms/key:Key"
POLICY = "aws:iam/rolePolicy:RolePolicy"


def fis_rules(r):
    return [x for x in r.of_type(RULE) if x.inputs.get("name", "").endswith("-fis-state-change")]


def notice_topics(r):
    return [t for t in r.of_type(TOPIC) if t.inputs["name"].endswith("-fis-notices")]


def template(r, region, key):
    (t,) = [t for t in r.of_type(FIS) if r.region_of(t) == region and t.inputs["tags"]["Name"].endswith(f"-{key}")]
    return t


def role_statements(r, t):
    roles = {x.outputs["arn"]: x for x in r.of_type("aws:iam/role:Role")}
    role = roles[t.inputs["roleArn"]]
    (policy,) = [p for p in r.of_type(POLICY) if p.inputs["role"] == role.id]
    return json.loads(policy.inputs["policy"])["Statement"]


# -- notifications ---------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_every_region_tells_the_organisation_through_an_encrypted_topic_only_its_rule_may_use(stack):
    r = shipped(stack)
    regions = set(r.spec.config.region_names)
    rules, topics = fis_rules(r), {t.outputs["arn"]: t for t in notice_topics(r)}
    assert sorted(r.region_of(x) for x in rules) == sorted(regions)
    keys = {k.outputs["arn"]: k for k in r.of_type(KEY)}
    for rule in rules:
        region = r.region_of(rule)
        # FIS user guide, "Monitor AWS FIS experiments using Amazon EventBridge"
        assert json.loads(rule.inputs["eventPattern"]) == {"source": ["aws.fis"],
                                                           "detail-type": ["FIS Experiment State Change"]}
        (target,) = [x for x in r.of_type(TARGET) if x.inputs["rule"] == rule.inputs["name"]
                     and r.region_of(x) == region]
        topic = topics[target.inputs["arn"]]
        assert r.region_of(topic) == region
        # the key lets EventBridge use it, with no source condition (unsupported for EventBridge
        # to encrypted topics: SNS developer guide)
        key = keys[topic.inputs["kmsMasterKeyId"]]
        assert key.inputs["enableKeyRotation"] is True and r.region_of(key) == region
        assert key.protect == (r.spec.config.environment == "prod"), key.urn
        statements = json.loads(key.inputs["policy"])["Statement"]
        (events,) = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
        assert sorted(events["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"] and "Condition" not in events
        assert {json.dumps(s["Principal"]) for s in statements} == {
            json.dumps({"Service": "events.amazonaws.com"}), json.dumps({"AWS": "arn:aws:iam::123456789012:root"})}
        # the topic admits that rule only, and the target waits for the policy that admits it
        (policy,) = [p for p in r.of_type(TOPIC_POLICY) if p.inputs["arn"] == topic.outputs["arn"]]
        assert json.loads(policy.inputs["policy"])["Statement"] == [{
            "Sid": "OnlyTheFisStateRule", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic.outputs["arn"],
            "Condition": {"ArnEquals": {"aws:SourceArn": rule.outputs["arn"]}}}]
        assert policy.urn in target.dependencies, "events matched before the policy exists would be lost"
        params = {p.inputs["name"]: p for p in r.of_type("aws:ssm/parameter:Parameter")}
        param = params[f"/global-platform/{r.spec.config.environment}/chaos/{region}/notifications-topic-arn"]
        assert param.revealed["value"] == topic.outputs["arn"] and r.region_of(param) == region
    assert r.of_type(SUBSCRIPTION) == [] or all(s.inputs["protocol"] == "sqs" for s in r.of_type(SUBSCRIPTION))


def test_subscribers_states_and_turning_notices_off(tmp_path):
    chaos = stack_yaml("dev")["config"]["global-platform:chaos"]
    r = run("dev", variant(tmp_path, "dev", chaos={**chaos, "notifications": {
        "subscribers": ["sre@example.org", "https://hooks.example.org/fis"], "states": ["running", "stopped"]}}))
    subs = [s for s in r.of_type(SUBSCRIPTION) if s.inputs["topic"].endswith("-fis-notices")]
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in subs) == sorted(
        [("email", "sre@example.org"), ("https", "https://hooks.example.org/fis")] * len(r.spec.config.regions))
    for s in subs:
        (topic,) = [t for t in notice_topics(r) if t.outputs["arn"] == s.inputs["topic"]]
        assert r.region_of(topic) == r.region_of(s)
    for rule in fis_rules(r):
        assert json.loads(rule.inputs["eventPattern"])["detail"] == {"new-state": {"status": ["running", "stopped"]}}
    doc = stack_yaml("dev")  # `notifications: null` (variant() would drop a None key)
    doc["config"]["global-platform:chaos"]["notifications"] = None
    path = tmp_path / "Pulumi.dev-off.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    off = run("dev", path)
    assert fis_rules(off) == [] and notice_topics(off) == []
    assert off.of_type(FIS), "experiments stay"


# -- az-outage: a library scenario of steps ----------------------------------------------------------

def test_prod_az_outage_cuts_one_zone_then_terminates_its_nodes_there():
    r = shipped("prod")
    subnets = {s.outputs["arn"]: s for s in r.of_type("aws:ec2/subnet:Subnet")}
    stop_on = r.spec.config.chaos.stop_on
    assert len(stop_on) == MAX_STOP_CONDITIONS
    for region in r.spec.config.region_names:
        t = template(r, region, "az-outage")
        actions = {a["name"]: a for a in t.inputs["actions"]}
        assert [a["actionId"] for a in t.inputs["actions"]] == [
            "aws:network:disrupt-connectivity", "aws:fis:wait", "aws:ec2:terminate-instances",
            "aws:ec2:terminate-instances"]
        params = {a: {p["key"]: p["value"] for p in actions[a]["parameters"]} for a in actions}
        assert params["disrupt-network"] == {"duration": "PT10M", "scope": "all"}
        assert params["wait"] == {"duration": "PT3M"} and "target" not in actions["wait"]
        assert "startAfters" not in actions["disrupt-network"] and "startAfters" not in actions["wait"]
        targets = {x["name"]: x for x in t.inputs["targets"]}
        # the network step cuts every subnet of slot c; the nodes go in that same zone, after the wait
        zones = {subnets[a].inputs["availabilityZone"] for a in targets["disrupt-network"]["resourceArns"]}
        (zone,) = zones
        assert len(targets["disrupt-network"]["resourceArns"]) == 4 and targets["disrupt-network"]["selectionMode"] \
            == "ALL"
        cluster = f"prod-{t.name.split('-')[0]}"
        tags = set()
        for name in ("terminate-nodes-nodegroups", "terminate-nodes-karpenter"):
            assert actions[name]["startAfters"] == ["wait"]
            assert actions[name]["target"] == {"key": "Instances", "value": name}
            tgt = targets[name]
            assert tgt["resourceType"] == "aws:ec2:instance" and tgt["selectionMode"] == "COUNT(2)"
            assert {f["path"]: f["values"] for f in tgt["filters"]} == {"Placement.AvailabilityZone": [zone],
                                                                       "State.Name": ["running"]}
            (tag,) = tgt["resourceTags"]
            assert tag["value"] == cluster
            tags.add(tag["key"])
        assert tags == {"eks:cluster-name", "eks:eks-cluster-name"}  # node group and Karpenter nodes
        assert t.inputs["experimentOptions"]["emptyTargetResolutionMode"] == "skip"
        # one role, the union of both actions' needs, scoped to the cluster's tags
        statements = role_statements(r, t)
        terminate = [s for s in statements if s["Action"] == ["ec2:TerminateInstances"]]
        assert sorted((s["Condition"]["StringEquals"] for s in terminate), key=json.dumps) == sorted(
            [{"aws:ResourceTag/eks:cluster-name": cluster}, {"aws:ResourceTag/eks:eks-cluster-name": cluster}],
            key=json.dumps)
        assert any("ec2:ReplaceNetworkAclAssociation" in s["Action"] for s in statements)
        assert len([s for s in statements if s["Action"] == ["ec2:DescribeInstances"]]) == 1, "each statement once"
        alarms = {a.inputs["tags"]["slo"]: a.outputs["arn"] for a in r.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                  if r.region_of(a) == region}
        assert sorted(s["value"] for s in t.inputs["stopConditions"]) == sorted(alarms[n] for n in stop_on)


@pytest.mark.parametrize("stack", STACKS)
def test_every_template_is_one_fis_accepts(stack):
    for t in shipped(stack).of_type(FIS):
        names = {a["name"] for a in t.inputs["actions"]}
        targets = {x["name"] for x in t.inputs["targets"]}
        assert len(t.inputs["stopConditions"]) <= MAX_STOP_CONDITIONS and len(names) <= 20, t.urn
        for a in t.inputs["actions"]:
            assert set(a.get("startAfters") or []) <= names - {a["name"]}, t.urn
            assert "target" not in a or a["target"]["value"] in targets, t.urn


def test_steps_written_in_config_make_one_template_with_one_role(tmp_path):
    chaos = stack_yaml("dev")["config"]["global-platform:chaos"]
    steps = {"name": "checkout-degraded", "steps": [
        {"name": "slow", "scenario": "pod-network-latency",
         "parameters": {"namespace": "payments", "labelSelector": "app=checkout", "durationMinutes": 10},
         "selection": {"mode": "PERCENT", "value": 50}},
        {"name": "throttle", "scenario": "api-throttle", "parameters": {"durationMinutes": 4}},
        {"name": "kill", "scenario": "pod-delete", "parameters": {"namespace": "payments",
                                                                  "labelSelector": "app=checkout"},
         "selection": {"mode": "COUNT", "value": 1}, "startAfter": ["slow", "throttle"]}]}
    r = run("dev", variant(tmp_path, "dev", chaos={**chaos, "scenarios": chaos["scenarios"] + [steps]}))
    for region in r.spec.config.region_names:
        t = template(r, region, "checkout-degraded")
        actions = {a["name"]: a for a in t.inputs["actions"]}
        assert set(actions) == {"slow", "throttle", "kill"}
        assert sorted(actions["kill"]["startAfters"]) == ["slow", "throttle"]
        assert "startAfters" not in actions["slow"] and "startAfters" not in actions["throttle"]
        targets = {x["name"]: x for x in t.inputs["targets"]}
        assert {n: a["target"]["value"] for n, a in actions.items()} == {n: n for n in actions}
        assert (targets["slow"]["selectionMode"], targets["kill"]["selectionMode"], targets["throttle"]["selectionMode"]) \
            == ("PERCENT(50)", "COUNT(1)", "ALL")
        assert t.inputs["tags"]["scenario"] == "steps"
        verbs = {a for s in role_statements(r, t) for a in s["Action"]}
        assert {"fis:InjectApiThrottleError", "eks:DescribeCluster"} <= verbs
        # FIS runs the pod steps as its service account: the role gets its access entry
        entries = [e for e in r.of_type("aws:eks/accessEntry:AccessEntry") if e.inputs["principalArn"] == t.inputs["roleArn"]]
        assert len(entries) == 1, t.urn


# -- bad config --------------------------------------------------------------------------------------

def raw(stack: str, chaos: dict | None = None, **overrides) -> dict:
    cfg = {k.split(":", 1)[1]: ("decrypted" if isinstance(v, dict) and set(v) == {"secure"} else v)
           for k, v in stack_yaml(stack)["config"].items()}
    if chaos is not None:
        cfg["chaos"] = deep_merge(cfg["chaos"], chaos)
    return deep_merge(cfg, overrides)


def issues(stack: str, chaos: dict | None = None, **overrides) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        build_stack_spec(raw(stack, chaos, **overrides))
    out: dict[str, str] = {}
    for i in info.value.issues:
        out[i.path] = f"{out[i.path]}; {i.reason}" if i.path in out else i.reason
    return out


POD = {"namespace": "payments", "labelSelector": "app=checkout"}


def one(*scenarios, **chaos) -> dict:
    return {"scenarios": list(scenarios), "gameDay": None, **chaos}


def step(name, scenario="pod-delete", after=(), **extra):
    params = extra.pop("parameters", POD if scenario.startswith("pod-") else {})
    return {"name": name, "scenario": scenario, "parameters": params, "startAfter": list(after),
            "selection": extra.pop("selection", {"mode": "COUNT", "value": 1} if scenario.startswith("pod-")
                                   else {"mode": "ALL"}), **extra}


BAD = [
    # steps: references, order, shape
    (one({"name": "x", "steps": [step("a"), step("b", after=["c"])]}), "chaos.scenarios[0].steps[1].startAfter",
     "no step named 'c'"),
    (one({"name": "x", "steps": [step("a", after=["b"]), step("b", after=["a"])]}), "chaos.scenarios[0].steps",
     "goes round in a circle"),
    (one({"name": "x", "steps": [step("a", after=["a"])]}), "chaos.scenarios[0].steps[0].startAfter",
     "cannot start after itself"),
    (one({"name": "x", "steps": [step("a"), step("a")]}), "chaos.scenarios[0].steps", "named twice"),
    (one({"steps": [step("a")]}), "chaos.scenarios[0].name", "needs a name"),
    (one({"name": "x", "scenario": "pod-delete", "steps": [step("a")]}), "chaos.scenarios[0].scenario",
     "either `scenario` or `steps`"),
    (one({"name": "x", "parameters": POD, "steps": [step("a")]}), "chaos.scenarios[0].parameters",
     "each step takes its own parameters"),
    (one({"name": "x", "steps": [step("a", "az-outage")]}), "chaos.scenarios[0].steps[0].scenario",
     "itself made of steps"),
    (one({"name": "x", "steps": [step("a", "meteor")]}), "chaos.scenarios[0].steps[0].scenario",
     "unknown scenario 'meteor'"),
    (one({"name": "x", "steps": [step("a", parameters={"namespace": "p"})]}),
     "chaos.scenarios[0].steps[0].parameters.labelSelector", "needs labelSelector"),
    (one({"scenario": "wait"}), "chaos.scenarios[0].scenario", "only a step"),
    (one({"name": "x", "steps": [step(f"s{i}", after=[f"s{i - 1}"] if i else []) for i in range(21)]}),
     "chaos.scenarios[0].steps", "a template takes 20 at most"),
    (one({"name": "x", "steps": [step(f"s{i}") for i in range(11)]}), "chaos.scenarios[0].steps",
     "11 actions can run at once"),
    (one({"name": "x", "steps": [step("a", "wait", parameters={"durationMinutes": 700}),
                                 step("b", "wait", after=["a"], parameters={"durationMinutes": 30})]}),
     "chaos.scenarios[0].steps", "lasts 730 minutes"),
    # blast radius
    (one({"scenario": "pod-delete", "parameters": POD, "selection": {"mode": "PERCENT", "value": 60}}),
     "chaos.scenarios[0].selection.value", "PERCENT(60) is over chaos.blastRadius.maxPercent (50)"),
    (one({"scenario": "pod-delete", "parameters": POD, "selection": {"mode": "COUNT", "value": 6}}),
     "chaos.scenarios[0].selection.value", "COUNT(6) is over chaos.blastRadius.maxTargets (5)"),
    (one({"scenario": "pod-delete", "parameters": POD}), "chaos.scenarios[0].selection.mode",
     "counts as 100%, over chaos.blastRadius.maxPercent (50)"),
    (one({"name": "x", "steps": [step("a", selection={"mode": "ALL"})]}), "chaos.scenarios[0].steps[0].selection.mode",
     "counts as 100%"),
    (one({"scenario": "nodegroup-termination", "parameters": {"instanceTerminationPercentage": 60}}),
     "chaos.scenarios[0].parameters.instanceTerminationPercentage", "60% of the targets is over"),
    (one({"scenario": "az-network-disruption"}, blastRadius={"maxTargets": 3}), "chaos.scenarios[0].selection.mode",
     "ALL selects 4 targets for 'az-network-disruption', over chaos.blastRadius.maxTargets (3)"),
    (one({"scenario": "az-outage", "selection": {"mode": "PERCENT", "value": 80}}), "chaos.scenarios[0].selection.value",
     "PERCENT(80) is over"),
    (one({"name": "x", "steps": [step("a", "az-network-disruption", parameters={"az": "a"}),
                                 step("b", "az-node-termination", parameters={"az": "b"},
                                      selection={"mode": "COUNT", "value": 1})]}),
     "chaos.scenarios[0].steps", "more than one AZ slot (a: a, b: b)"),
    (one({"name": "x", "steps": [step("a", "az-network-disruption", parameters={"az": "a"}),
                                 step("b", "nodegroup-termination")]}),
     "chaos.scenarios[0].steps", "b acts across AZs beside the AZ-scoped a"),
    (one({"scenario": "az-outage", "parameters": {"az": "c"}, "selection": {"mode": "COUNT", "value": 1}}),
     "chaos.scenarios[0].parameters.az", "AZ slot 'c' does not exist: the stack has 2 AZs"),
    (one({"scenario": "az-outage", "parameters": {"durationMinutes": 5, "terminateAfterMinutes": 5},
          "selection": {"mode": "COUNT", "value": 1}}),
     "chaos.scenarios[0].parameters.terminateAfterMinutes", "must be less than durationMinutes"),
    # stop conditions (FIS takes 5)
    (one({"scenario": "pod-delete", "parameters": POD, "selection": {"mode": "COUNT", "value": 1},
          "stopOn": ["web-p99-latency"] * 6}), "chaos.scenarios[0].stopOn", "6 stop conditions in"),
    (one({"scenario": "pod-delete", "parameters": POD, "selection": {"mode": "COUNT", "value": 1}},
         stopOn=["web-p99-latency", "nope"]), "chaos.stopOn", "no SLO named 'nope'"),
    # notifications
    (one(notifications={"subscribers": ["not an address"]}), "chaos.notifications.subscribers[0]",
     "neither an email address nor an https:// URL"),
    (one(notifications={"subscribers": ["http://hooks.example.org/x"]}), "chaos.notifications.subscribers[0]",
     "neither an email address"),
    (one(notifications={"states": []}), "chaos.notifications.states", "would notify nothing"),
    (one(notifications={"states": ["exploded"]}), "chaos.notifications.states[0]", "Input should be"),
]


@pytest.mark.parametrize("chaos, path, reason", BAD)
def test_each_bad_chaos_config_names_its_key(chaos, path, reason):
    found = issues("dev", chaos)
    assert path in found, f"expected an issue at {path}, got {found}"
    assert reason in found[path], f"{path}: {found[path]!r} does not say {reason!r}"


def test_prod_needs_its_default_stop_on_because_it_has_six_slos():
    found = issues("prod", {"stopOn": None})
    assert "chaos.scenarios[0].stopOn" in found and "6 stop conditions" in found["chaos.scenarios[0].stopOn"]
    assert "quota L-872EC72B, not adjustable" in found["chaos.scenarios[0].stopOn"]
    assert "chaos.scenarios[9].stopOn" not in found  # cache-az-power names two of its own


def test_limits_can_be_raised_and_single_az_turned_off():
    ok = one({"scenario": "pod-delete", "parameters": POD},
             {"name": "x", "steps": [step("a", "az-network-disruption", parameters={"az": "a"}),
                                     step("b", "nodegroup-termination")]},
             blastRadius={"maxPercent": 100, "singleAz": False})
    spec = build_stack_spec(raw("dev", ok))
    assert [sc.key for sc in spec.config.chaos.scenarios] == ["pod-delete", "x"]


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_stay_within_the_default_blast_radius(stack):
    cfg = shipped(stack).spec.config
    assert (cfg.chaos.blast_radius.max_percent, cfg.chaos.blast_radius.single_az,
            cfg.chaos.blast_radius.max_targets) == (50, True, 5)
    assert cfg.chaos.notifications is not None


# -- readiness rules ------------------------------------------------------------------------------------



res = plan_resource

@pytest.fixture
def readiness(readiness_pack):
    return readiness_pack


def fired(pack, resources) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in pack.analyze_stack(resources, {}):
        out.setdefault(d.policyName, []).append(d.urn)
    return out


def notice_world(*, principal="events.amazonaws.com", condition=None, policy=True, waits=True, alarm_key=None):
    statement = {"Effect": "Allow", "Principal": {"Service": principal},
                 "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    key = res(KEY, "k", {"policy": json.dumps({"Statement": [statement]})})
    topic = res(TOPIC, "t", {"name": "t", "kmsMasterKeyId": "arn:k"}, prop={"kmsMasterKeyId": key["urn"]})
    rule = res(RULE, "r", {"name": "r", "eventPattern": "{}"})
    world = [key, topic, rule]
    topic_policy = res(TOPIC_POLICY, "tp", {"arn": "arn:t", "policy": json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
        "Resource": "arn:t", "Condition": {"ArnEquals": {"aws:SourceArn": "arn:r"}}}]})},
        prop={"arn": topic["urn"], "policy": rule["urn"]})
    if policy:
        world.append(topic_policy)
    world.append(res(TARGET, "target", {"rule": "r", "arn": "arn:t"}, deps=[topic_policy["urn"]] if waits and policy
                     else [], prop={"arn": topic["urn"], "rule": rule["urn"]}))
    if alarm_key is not None:
        alarm_statement = {"Effect": "Allow", "Principal": {"Service": alarm_key},
                           "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}
        k2 = res(KEY, "k2", {"policy": json.dumps({"Statement": [alarm_statement]})})
        t2 = res(TOPIC, "t2", {"name": "t2", "kmsMasterKeyId": "arn:k2"}, prop={"kmsMasterKeyId": k2["urn"]})
        world += [k2, t2, res("aws:cloudwatch/metricAlarm:MetricAlarm", "a", {"alarmActions": ["arn:t2"]},
                              prop={"alarmActions": t2["urn"]})]
    return world


@pytest.mark.parametrize("broken, needle", [
    ({"principal": "sns.amazonaws.com"}, "does not let events.amazonaws.com use it"),
    ({"condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}, "only under aws:SourceAccount"),
    ({"policy": False}, "no topic policy of t lets EventBridge"),
    ({"waits": False}, "does not wait for the topic policy"),
    ({"alarm_key": "events.amazonaws.com"}, "does not let cloudwatch.amazonaws.com use it"),
])
def test_delivery_rule_fires_on_each_break_and_not_on_the_fix(readiness, broken, needle):
    assert "sns-publishers-can-use-topic" not in fired(readiness, notice_world(alarm_key="cloudwatch.amazonaws.com"))
    found = [d for d in readiness.analyze_stack(notice_world(**broken), {})
             if d.policyName == "sns-publishers-can-use-topic"]
    assert found and any(needle in d.message for d in found), [d.message for d in found]


def fis_template(*, stops=1, actions=None):
    actions = actions if actions is not None else [{"name": "a", "actionId": "aws:fis:wait"}]
    return res(FIS, "x", {"actions": actions, "targets": [{"name": "tg"}],
                          "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": f"arn:{i}"}
                                             for i in range(stops)]})


@pytest.mark.parametrize("broken, needle", [
    ({"stops": 6}, "6 stop conditions"),
    ({"actions": [{"name": f"a{i}", "actionId": "aws:fis:wait", "startAfters": [f"a{i - 1}"] if i else []}
                  for i in range(21)]}, "21 actions"),
    ({"actions": [{"name": f"a{i}", "actionId": "aws:fis:wait"} for i in range(11)]}, "11 actions may run at once"),
    ({"actions": [{"name": "a", "actionId": "aws:fis:wait", "startAfters": ["b"]}]}, "starts after b"),
    ({"actions": [{"name": "a", "actionId": "aws:fis:wait", "startAfters": ["b"]},
                  {"name": "b", "actionId": "aws:fis:wait", "startAfters": ["a"]}]}, "round in a circle"),
    ({"actions": [{"name": "a", "actionId": "aws:ec2:terminate-instances",
                   "target": {"key": "Instances", "value": "nope"}}]}, "names target nope"),
])
def test_template_quota_rule_fires_on_each_break_and_not_on_the_fix(readiness, broken, needle):
    ok = [{"name": f"a{i}", "actionId": "aws:fis:wait", "startAfters": [f"a{i - 1}"] if i else []} for i in range(20)]
    assert "fis-templates-within-quotas" not in fired(readiness, [fis_template(stops=5, actions=ok)])
    found = [d for d in readiness.analyze_stack([fis_template(**broken)], {})
             if d.policyName == "fis-templates-within-quotas"]
    assert found and any(needle in d.message for d in found), [d.message for d in found]
