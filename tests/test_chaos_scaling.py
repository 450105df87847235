"""SLO alarms, FIS experiments and scaling, all driven by the same SLO objects."""

import json
import zoneinfo

import pulumi_aws
import pytest

from components.chaos_library import ACTION_IDS, SCENARIOS, TARGET_KEYS
from components.schedules import REGION_TIME_ZONES, CronError, check_cron, check_scheduler_cron
from components.config import ConfigError
from components.config.slos import slo_regions
from components.stack import build_stack_spec
from tests.helpers import deep_merge, shipped, stack_yaml

STACKS = ["dev", "prod", "airgap"]
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FIS = "aws:fis/experimentTemplate:ExperimentTemplate"
# AWS FIS action ids (aws fis list-actions; shared/REFERENCES.md).
REAL_FIS_ACTIONS = {
    "aws:ec2:terminate-instances", "aws:ec2:stop-instances", "aws:ec2:reboot-instances",
    "aws:ec2:send-spot-instance-interruptions", "aws:ec2:asg-insufficient-instance-capacity-error",
    "aws:eks:terminate-nodegroup-instances", "aws:eks:pod-cpu-stress", "aws:eks:pod-delete",
    "aws:eks:pod-io-stress", "aws:eks:pod-memory-stress", "aws:eks:pod-network-blackhole-port",
    "aws:eks:pod-network-latency", "aws:eks:pod-network-packet-loss", "aws:network:disrupt-connectivity",
    "aws:network:route-table-disrupt-cross-region-connectivity",
    "aws:network:transit-gateway-disrupt-cross-region-connectivity", "aws:fis:inject-api-internal-error",
    "aws:fis:inject-api-throttle-error", "aws:fis:inject-api-unavailable-error", "aws:fis:wait",
    "aws:rds:failover-db-cluster", "aws:rds:reboot-db-instances",
    # REFERENCES.md lists it by its first name, aws:elasticache:interrupt-cluster-az-power; FIS
    # renamed it (the FIS actions reference lists the new id, which the issue names too)
    "aws:elasticache:replicationgroup-interrupt-az-power",
}


def alarms_by_region(r):
    out = {}
    for a in r.of_type(ALARM):
        out.setdefault(r.region_of(a), {})[a.inputs["tags"]["slo"]] = a
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_an_alarm_per_slo_per_region_notifying_sns(stack):
    r = shipped(stack)
    by_region = alarms_by_region(r)
    topics = {t.outputs["arn"]: t for t in r.of_type("aws:sns/topic:Topic")}
    assert set(by_region) == set(r.spec.config.region_names)
    for region, alarms in by_region.items():
        watched = [s for s in r.spec.config.slos if region in slo_regions(r.spec.config, s)]
        assert set(alarms) == {s.name for s in watched}, region
        for slo in watched:
            a = alarms[slo.name]
            assert a.inputs["threshold"] == slo.objective, a.urn
            assert a.inputs["comparisonOperator"] == "GreaterThanThreshold", a.urn
            (topic_arn,) = a.inputs["alarmActions"]
            assert r.region_of(topics[topic_arn]) == region, a.urn
            if slo.kind == "latency":
                assert a.inputs["metricName"] == "TargetResponseTime", a.urn
                assert a.inputs["extendedStatistic"] == slo.percentile, a.urn
                assert a.inputs["dimensions"] == {"LoadBalancer": slo.load_balancers[region]}, a.urn
            elif slo.kind == "errorRate":
                queries = {q["id"]: q for q in a.inputs["metricQueries"]}
                assert queries["rate"]["expression"] == "100 * errors / requests", a.urn
                assert queries["errors"]["metric"]["metricName"] == "HTTPCode_Target_5XX_Count", a.urn
                assert queries["errors"]["metric"]["dimensions"] == {"LoadBalancer": slo.load_balancers[region]}
            elif slo.kind == "custom":  # the data-tier kinds: tests/test_data_slo_chaos.py
                assert (a.inputs["namespace"], a.inputs["metricName"]) == (slo.namespace, slo.metric_name), a.urn


def _policy(r, role_id):
    (policy,) = [p for p in r.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role_id]
    return json.loads(policy.inputs["policy"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_experiment_stops_on_its_regions_slo_alarms_and_logs(stack):
    r = shipped(stack)
    alarms = alarms_by_region(r)
    groups = {g.outputs["arn"]: g for g in r.of_type("aws:cloudwatch/logGroup:LogGroup")}
    templates = r.of_type(FIS)
    assert templates
    specs = {sc.key: sc for sc in r.spec.config.chaos.scenarios}
    for t in templates:
        region = r.region_of(t)
        spec = specs[t.inputs["tags"]["Name"].split("-", 2)[2]]
        wanted = r.spec.config.chaos.stop_on_of(spec) or [s.name for s in r.spec.config.slos]
        assert sorted(c["value"] for c in t.inputs["stopConditions"]) == \
            sorted(alarms[region][n].outputs["arn"] for n in wanted), t.urn
        assert all(c["source"] == "aws:cloudwatch:alarm" for c in t.inputs["stopConditions"]), t.urn
        log_arn = t.inputs["logConfiguration"]["cloudwatchLogsConfiguration"]["logGroupArn"]
        group = groups[log_arn.removesuffix(":*")]
        assert group.inputs["retentionInDays"] == r.spec.config.chaos.log_retention_days, t.urn
        assert r.region_of(group) == region, t.urn
        if SCENARIOS[spec.scenario].steps:  # a composite (az-outage): tests/test_chaos_practice.py
            assert {a["actionId"] for a in t.inputs["actions"]} <= REAL_FIS_ACTIONS, t.urn
            continue
        (action,) = t.inputs["actions"]
        assert action["actionId"] in REAL_FIS_ACTIONS and action["actionId"] == SCENARIOS[spec.scenario].action_id
        assert t.inputs["targets"][0]["selectionMode"] == spec.selection.fis(), t.urn


@pytest.mark.parametrize("stack", STACKS)
def test_each_experiment_role_allows_only_what_its_action_needs(stack):
    r = shipped(stack)
    roles = {x.outputs["arn"]: x for x in r.of_type("aws:iam/role:Role")}
    for t in r.of_type(FIS):
        role = roles[t.inputs["roleArn"]]
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "fis.amazonaws.com"}, role.urn
        actions = set()
        for st in _policy(r, role.id)["Statement"]:
            listed = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in listed), f"{role.urn} allows {listed}"
            actions |= set(listed)
        action_ids = {a["actionId"] for a in t.inputs["actions"]}  # several: the role holds their union
        service_verbs = {a for a in actions if not a.startswith("logs:") and not a.split(":")[1].startswith("Describe")}
        needs = {
            "aws:eks:terminate-nodegroup-instances": {"ec2:TerminateInstances"},
            "aws:network:disrupt-connectivity": {"ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry",
                                                 "ec2:DeleteNetworkAcl", "ec2:CreateTags",
                                                 "ec2:ReplaceNetworkAclAssociation", "ec2:GetManagedPrefixListEntries"},
            "aws:fis:inject-api-throttle-error": {"fis:InjectApiThrottleError"},
            "aws:network:transit-gateway-disrupt-cross-region-connectivity": {
                "ec2:DisassociateTransitGatewayRouteTable", "ec2:AssociateTransitGatewayRouteTable"},
            "aws:ec2:send-spot-instance-interruptions": {"ec2:SendSpotInstanceInterruptions"},
            "aws:rds:failover-db-cluster": {"rds:FailoverDBCluster", "tag:GetResources"},
            "aws:elasticache:replicationgroup-interrupt-az-power": {"elasticache:InterruptClusterAzPower",
                                                                    "tag:GetResources"},
            "aws:ec2:terminate-instances": {"ec2:TerminateInstances"},
        }
        expected = set().union(*(needs.get(a, set()) for a in action_ids))
        assert service_verbs == expected, f"{t.urn}: {sorted(service_verbs)}"


def test_pod_experiments_get_rbac_and_an_access_entry_on_their_cluster():
    r = shipped("prod")
    pod_templates = [t for t in r.of_type(FIS) if t.inputs["actions"][0]["actionId"].startswith("aws:eks:pod-")]
    assert pod_templates
    entries = r.of_type("aws:eks/accessEntry:AccessEntry")
    for t in pod_templates:
        region = r.region_of(t)
        cluster = f"prod-{t.name.split('-')[0]}"
        namespace = t.inputs["targets"][0]["parameters"]["namespace"]
        assert t.inputs["targets"][0]["parameters"]["clusterIdentifier"].endswith(f":cluster/{cluster}"), t.urn
        mine = [e for e in entries if e.inputs["principalArn"] == t.inputs["roleArn"]]
        assert [(e.inputs["clusterName"], e.inputs["userName"]) for e in mine] == [(cluster, "fis-experiment")], t.urn
        params = {p["key"]: p["value"] for p in t.inputs["actions"][0]["parameters"]}
        assert params["kubernetesServiceAccount"] == "fis-experiment", t.urn
        k8s_objects = [x for x in r.regs.values() if x.type.startswith("kubernetes:") and
                       (x.inputs.get("metadata") or {}).get("namespace") == namespace and
                       x.name.startswith(t.name.split("-")[0] + "-fis")]
        kinds = {x.type.rsplit(":", 1)[1] for x in k8s_objects}
        assert kinds == {"ServiceAccount", "Role", "RoleBinding"}, f"{t.urn}: {kinds}"
        binding = next(x for x in k8s_objects if x.type.endswith("RoleBinding"))
        assert {(s["kind"], s["name"]) for s in binding.inputs["subjects"]} == \
            {("ServiceAccount", "fis-experiment"), ("User", "fis-experiment")}, binding.urn
        provider = r.regs[binding.provider.rsplit("::", 1)[0]]
        assert provider.revealed["kubeconfig"].count(f"{region}.eks.amazonaws.com") == 1, binding.urn


def test_game_days_start_experiments_in_each_regions_time_zone():
    r = shipped("prod")
    schedules = r.of_type("aws:scheduler/schedule:Schedule")
    gd = r.spec.config.chaos.game_day
    assert len(schedules) == len(gd.scenarios) * len(r.spec.config.regions)
    templates = {t.id: t for t in r.of_type(FIS)}
    for s in schedules:
        region = r.region_of(s)
        assert s.inputs["scheduleExpression"] == gd.cron and s.inputs["scheduleExpressionTimezone"] == \
            REGION_TIME_ZONES[region], s.urn
        target = s.inputs["target"]
        assert target["arn"] == "arn:aws:scheduler:::aws-sdk:fis:startExperiment", s.urn
        assert r.region_of(templates[json.loads(target["input"])["ExperimentTemplateId"]]) == region, s.urn


@pytest.mark.parametrize("stack, autoscaler", [("dev", "cluster-autoscaler"), ("prod", "karpenter"),
                                              ("airgap", "karpenter")])
def test_node_autoscaler_and_keda_are_pinned_add_ons_with_pod_identity(stack, autoscaler):
    r = shipped(stack)
    sc = r.spec.config.scaling
    releases = {}
    for rel in r.of_type("kubernetes:helm.sh/v3:Release"):
        releases.setdefault(rel.inputs["name"], []).append(rel)
    n = len(r.spec.config.regions)
    assert len(releases[autoscaler]) == n and len(releases["keda"]) == n
    version = sc.karpenter_chart_version if autoscaler == "karpenter" else sc.cluster_autoscaler_chart_version
    for rel in releases[autoscaler]:
        assert rel.inputs["version"] == version, rel.urn
    for rel in releases["keda"]:
        assert rel.inputs["version"] == sc.keda_chart_version, rel.urn
    pod_ids = {(p.inputs["clusterName"], p.inputs["serviceAccount"])
               for p in r.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")}
    sa = {"karpenter": "karpenter", "cluster-autoscaler": "cluster-autoscaler"}[autoscaler]
    clusters = {c.inputs["name"] for c in r.of_type("eks:index:Cluster")}
    assert {(c, sa) for c in clusters} <= pod_ids and {(c, "keda-operator") for c in clusters} <= pod_ids


def test_karpenter_has_its_interruption_queue_rules_and_discovery_tags():
    r = shipped("prod")
    queues = [q for q in r.of_type("aws:sqs/queue:Queue") if q.inputs["name"].endswith("-karpenter")]
    rules = [x for x in r.of_type("aws:cloudwatch/eventRule:EventRule") if "-karpenter-" in x.urn]
    targets = r.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(queues) == 3 and len(rules) == 15
    for q in queues:
        assert q.inputs["sqsManagedSseEnabled"] is True, q.urn
        mine = [t for t in targets if t.inputs["arn"] == q.outputs["arn"]]
        assert len(mine) == 5, q.urn
    details = {json.loads(x.inputs["eventPattern"])["detail-type"][0] for x in rules}
    assert details == {"AWS Health Event", "EC2 Spot Instance Interruption Warning",
                       "EC2 Instance Rebalance Recommendation", "EC2 Instance State-change Notification",
                       "EC2 Capacity Reservation Instance Interruption Warning"}
    for s in r.of_type("aws:ec2/subnet:Subnet"):
        tagged = s.inputs["tags"].get("karpenter.sh/discovery")
        assert (tagged is not None) == (s.inputs["tags"]["tier"] == "workers"), s.urn
    classes = r.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    assert len(classes) == 3
    for c in classes:
        assert c.inputs["spec"]["metadataOptions"]["httpTokens"] == "required", c.urn
        assert c.inputs["spec"]["amiSelectorTerms"] == [{"alias": r.spec.config.scaling.karpenter_ami_alias}], c.urn
        assert not c.inputs["spec"]["amiSelectorTerms"][0]["alias"].endswith("@latest"), c.urn


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_schedules_scale_the_active_pool_in_the_regions_time_zone(stack):
    r = shipped(stack)
    cfg = r.spec.config
    schedules = r.of_type("aws:autoscaling/schedule:Schedule")
    assert len(schedules) == len(cfg.scaling.schedules) * len(cfg.regions)
    groups = r.of_type("aws:eks/nodeGroup:NodeGroup")
    for s in schedules:
        region = r.region_of(s)
        assert s.inputs["timeZone"] == REGION_TIME_ZONES[region], s.urn
        group = next(g for g in groups if g.outputs["resources"][0]["autoscalingGroups"][0]["name"]
                     == s.inputs["autoscalingGroupName"])
        assert group.inputs["nodeGroupName"].endswith(cfg.cluster.blue_green.active), s.urn
        check_cron(s.inputs["recurrence"])
    for g in groups:
        assert g.options["ignoreChanges"] == ["scalingConfig.desiredSize"], g.urn


def test_seoul_scales_on_seoul_time_and_singapore_on_singapore_time():
    zones = {shipped("dev").region_of(s): s.inputs["timeZone"]
             for s in shipped("dev").of_type("aws:autoscaling/schedule:Schedule")}
    assert zones == {"ap-northeast-2": "Asia/Seoul", "ap-southeast-1": "Asia/Singapore"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_waf_sheds_load_with_a_rate_based_rule_and_publishes_its_arn(stack):
    r = shipped(stack)
    acls = [a for a in r.of_type("aws:wafv2/webAcl:WebAcl") if a.inputs["scope"] == "REGIONAL"]  # not the CDN's
    params = {p.inputs["name"]: p for p in r.of_type("aws:ssm/parameter:Parameter")}
    assert len(acls) == len(r.spec.config.regions)
    for acl in acls:
        rate = [x for x in acl.inputs["rules"] if "rateBasedStatement" in x["statement"]]
        assert len(rate) == 1 and rate[0]["action"] == {"block": {}}, acl.urn
        assert rate[0]["statement"]["rateBasedStatement"]["limit"] == \
            r.spec.config.scaling.waf.requests_per_five_minutes, acl.urn
        managed = {x["statement"]["managedRuleGroupStatement"]["name"] for x in acl.inputs["rules"]
                   if "managedRuleGroupStatement" in x["statement"]}
        assert "AWSManagedRulesCommonRuleSet" in managed, acl.urn
        region = r.region_of(acl)
        p = params[f"/global-platform/{r.spec.config.environment}/waf/{region}/web-acl-arn"]
        assert p.revealed["value"] == acl.outputs["arn"] and r.region_of(p) == region, p.urn


def test_every_region_has_a_real_time_zone():
    for region in pulumi_aws.Region:
        zoneinfo.ZoneInfo(REGION_TIME_ZONES[region.value])


@pytest.mark.parametrize("expr", ["30 11 * * MON-FRI", "*/15 0-6 1,15 * *", "0 22 * JAN-MAR SUN"])
def test_good_unix_cron(expr):
    check_cron(expr)


@pytest.mark.parametrize("expr, needle", [("30 11 * *", "needs 5 fields"), ("61 * * * *", "outside 0-59"),
                                          ("0 25 * * *", "outside 0-23"), ("0 0 * FOO *", "not a number"),
                                          ("0 0 */0 * *", "bad step")])
def test_bad_unix_cron(expr, needle):
    with pytest.raises(CronError, match=needle):
        check_cron(expr)


def test_scheduler_cron_needs_one_question_mark():
    check_scheduler_cron("cron(0 10 ? * TUE#2 *)")
    with pytest.raises(CronError, match="exactly one"):
        check_scheduler_cron("cron(0 10 * * TUE *)")
    with pytest.raises(CronError, match="not cron"):
        check_scheduler_cron("rate(5 minutes)")


def test_the_library_only_uses_real_fis_actions():
    assert ACTION_IDS <= REAL_FIS_ACTIONS
    assert ACTION_IDS <= set(TARGET_KEYS), "every action needs the target key FIS expects"
    assert {"nodegroup-termination", "az-network-disruption", "pod-cpu-stress", "pod-delete", "pod-network-latency",
            "api-throttle", "cross-region-connectivity", "spot-interruption"} <= set(SCENARIOS)


@pytest.mark.parametrize("stack", STACKS)
def test_alarm_topics_use_a_key_cloudwatch_may_use(stack):
    """aws/sns would silently stop alarms from publishing; the topic key must name CloudWatch."""
    r = shipped(stack)
    keys = {k.outputs["arn"]: k for k in r.of_type("aws:kms/key:Key")}
    for topic in [t for t in r.of_type("aws:sns/topic:Topic") if t.inputs["name"].endswith("-slo-alerts")]:
        key = keys[topic.inputs["kmsMasterKeyId"]]
        statements = json.loads(key.inputs["policy"])["Statement"]
        assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and "kms:GenerateDataKey*" in s["Action"]
                   for s in statements), key.urn
        assert key.inputs["enableKeyRotation"] is True and r.region_of(key) == r.region_of(topic), key.urn


def test_cluster_autoscaler_matches_the_cluster_minor_version():
    (ca,) = [x for x in shipped("dev").of_type("kubernetes:helm.sh/v3:Release")
             if x.inputs["name"] == "cluster-autoscaler" and x.name.startswith("apne2")]
    # the newest recorded Cluster Autoscaler release of the cluster's minor (1.35)
    assert ca.inputs["values"]["image"]["tag"] == "v1.35.2", ca.urn


@pytest.mark.parametrize("version, refused", [("1.34", False), ("1.35", False), ("1.32", True), ("1.36", True)])
def test_cluster_autoscaler_needs_a_pinned_image_for_the_cluster_minor(version, refused):
    """The image tag comes from a pinned map per minor; a minor it lacks is a config error."""
    raw = {k.split(":", 1)[1]: v for k, v in stack_yaml("dev")["config"].items()}
    raw = deep_merge(raw, {"cluster": {"version": version}})
    assert raw["scaling"]["nodeAutoscaler"] == "clusterAutoscaler"
    if not refused:
        assert build_stack_spec(raw).config.cluster.version == version
        return
    with pytest.raises(ConfigError) as info:
        build_stack_spec(raw)
    [issue] = info.value.issues
    assert issue.path == "cluster.version" and f"no Cluster Autoscaler image is pinned for Kubernetes {version}" \
        in issue.reason
    # Karpenter has no such map: the same version is fine with it
    assert build_stack_spec(deep_merge(raw, {"scaling": {"nodeAutoscaler": "karpenter"}})).config.cluster.version \
        == version


@pytest.mark.parametrize("stack", STACKS)
def test_each_slo_is_also_a_keda_trigger_on_the_same_signal(stack):
    """One SLO object: the alarm, the chaos stop condition, and the scaling trigger."""
    r = shipped(stack)
    alarms = alarms_by_region(r)
    maps = [m for m in r.of_type("kubernetes:core/v1:ConfigMap") if m.inputs["metadata"]["name"] == "platform-slo-triggers"]
    assert len(maps) == len(r.spec.config.regions)
    for m in maps:
        region = next(reg for reg in r.spec.config.region_names if f".{reg}.eks." in
                      r.regs[m.provider.rsplit("::", 1)[0]].revealed["kubeconfig"])
        for slo in r.spec.config.slos:
            if slo.kind in ("errorRate", "cacheCpu"):  # a ratio, a MAX over nodes: no one metric carries it
                assert slo.name not in m.inputs["data"], m.urn
                continue
            trigger = json.loads(m.inputs["data"][slo.name])
            meta, alarm = trigger["metadata"], alarms[region][slo.name]
            assert trigger["type"] == "aws-cloudwatch" and meta["awsRegion"] == region, m.urn
            assert trigger["authenticationRef"] == {"name": "aws-pod-identity", "kind": "ClusterTriggerAuthentication"}
            assert float(meta["targetMetricValue"]) < alarm.inputs["threshold"], "scale out before the SLO breaks"
            if slo.kind == "latency":
                assert (meta["metricName"], meta["metricStat"], meta["dimensionValue"]) == \
                    (alarm.inputs["metricName"], alarm.inputs["extendedStatistic"],
                     alarm.inputs["dimensions"]["LoadBalancer"]), m.urn
            elif slo.kind == "custom":
                assert (meta["namespace"], meta["metricName"]) == (slo.namespace, slo.metric_name), m.urn
            else:  # data-tier kinds watch one metric with one dimension, as their alarm does
                assert (meta["namespace"], meta["metricName"], meta["metricStat"]) == \
                    (alarm.inputs["namespace"], alarm.inputs["metricName"], alarm.inputs["statistic"]), m.urn
                assert {meta["dimensionName"]: meta["dimensionValue"]} == alarm.inputs["dimensions"], m.urn


@pytest.mark.parametrize("stack", ["prod", "airgap"])
def test_karpenter_crds_come_from_their_own_release_installed_first(stack):
    """Helm never upgrades a chart's crds/: the karpenter-crd chart carries them, same version,
    and the controller's release skips its own and waits for it."""
    r = shipped(stack)
    by_region: dict = {}
    for x in r.of_type("kubernetes:helm.sh/v3:Release"):
        if "karpenter" in x.inputs["chart"]:
            by_region.setdefault(x.provider, {})[x.inputs["chart"].rsplit("/", 1)[-1]] = x
    assert len(by_region) == len(r.spec.config.regions)
    for charts in by_region.values():
        crd, controller = charts["karpenter-crd"], charts["karpenter"]
        assert crd.inputs["version"] == controller.inputs["version"], controller.urn
        assert controller.inputs["skipCrds"] is True and not crd.inputs.get("skipCrds"), controller.urn
        assert crd.urn in controller.dependencies, controller.urn
