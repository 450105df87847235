"""Managed Prometheus and Grafana, the dashboard's cluster capacity, and KEDA triggers on what
services depend on: on the shipped stacks, on bad config, and through the upstream and readiness
checks that guard them."""

from __future__ import annotations

import json

import pytest
import yaml

from components.config import ConfigError
from components.config.observability import AIRGAP_GRAFANA, promql_problem
from components.naming import region_short_code
from tests.helpers import run, run_tool, shipped, variant
from tests.test_readiness import fired, pack, res, u  # noqa: F401 (pack is a fixture)
from tools.upstream import prometheus as prom_check
from tools.upstream.keda_triggers import check as keda_check
from tools.upstream.keda_triggers import check_trigger

STACKS = ["dev", "prod", "airgap"]
WORKSPACE, SCRAPER = "aws:amp/workspace:Workspace", "aws:amp/scraper:Scraper"
RULES = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
GRAFANA = "aws:grafana/workspace:Workspace"


def by_region(r, typ) -> dict:
    out: dict = {}
    for x in r.of_type(typ):
        out.setdefault(r.region_of(x), []).append(x)
    return out


def region_by_name(r, reg) -> str:
    """The region a resource belongs to by its name's region code (Kubernetes objects have no AWS provider)."""
    name = reg.urn.rsplit("::", 1)[-1]
    return next(x for x in r.spec.config.region_names if name.startswith(region_short_code(x) + "-"))


# -- shipped stacks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_every_region_has_a_cmk_encrypted_logged_workspace_and_a_scraper_per_cluster(stack):
    r = shipped(stack)
    regions = set(r.spec.config.region_names)
    workspaces = by_region(r, WORKSPACE)
    assert set(workspaces) == regions
    keys = {k.outputs["arn"]: k for k in r.of_type("aws:kms/key:Key")}
    groups = {g.outputs["arn"]: g for g in r.of_type("aws:cloudwatch/logGroup:LogGroup")}
    clusters = {c.inputs["name"]: c for c in r.of_type("eks:index:Cluster")}
    for region, (ws,) in workspaces.items():
        key = keys[ws.inputs["kmsKeyArn"]]  # a customer-managed key of this stack
        assert r.region_of(key) == region and key.inputs["enableKeyRotation"] is True
        arn = ws.inputs["loggingConfiguration"]["logGroupArn"]
        assert arn.endswith(":*") and groups[arn[:-2]].inputs["kmsKeyId"]
        assert ws.inputs["tags"]["AMPAgentlessScraper"] == ""  # the tag the scraper adds: no drift
    scrapers = by_region(r, SCRAPER)
    assert set(scrapers) == regions  # one cluster per region
    for region, (s,) in scrapers.items():
        eks = s.inputs["source"]["eks"]
        cluster = clusters[eks["clusterArn"].rsplit("/", 1)[-1]]
        assert eks["clusterArn"] == f"arn:aws:eks:{region}:123456789012:cluster/{cluster.inputs['name']}"
        assert cluster.urn in s.dependencies
        assert eks["securityGroupIds"] == [cluster.outputs["clusterSecurityGroupId"]]
        workers = {x.id for x in r.of_type("aws:ec2/subnet:Subnet") if r.region_of(x) == region
                   and "workers" in x.urn}
        assert set(eks["subnetIds"]) == workers and len(workers) >= 2
        assert s.inputs["destination"]["amp"]["workspaceArn"] == workspaces[region][0].outputs["arn"]
        roles = s.inputs["roleConfiguration"]
        assert roles["sourceRoleArn"] != roles["targetRoleArn"]
        config = yaml.safe_load(s.inputs["scrapeConfiguration"])
        assert config["global"]["scrape_interval"] == "30s"
        assert {"kubelet", "cadvisor", "envoy-stats", "ztunnel", "kube-state-metrics"} <= {
            j["job_name"] for j in config["scrape_configs"]}


def test_prometheus_rules_are_the_slos_with_a_prometheus_form():
    r = shipped("prod")
    for region, (ns,) in by_region(r, RULES).items():
        rules = {x["alert"]: x for g in yaml.safe_load(ns.inputs["data"])["groups"] for x in g["rules"]}
        # latency/errorRate with a mesh service, custom with PromQL; the data-tier kinds have no form
        assert set(rules) == {"slo-web-p99-latency", "slo-web-5xx-rate", "slo-ticket-queue-lag"}, region
        latency = rules["slo-web-p99-latency"]
        assert latency["expr"].startswith("histogram_quantile(0.99, sum by (le) (rate("
                                          "istio_request_duration_milliseconds_bucket{")
        assert latency["expr"].endswith("> 500.0") and latency["for"] == "120s"  # 0.5 s; 2 of 3 minutes
        assert 'destination_service_name="web",destination_service_namespace="frontend"' in latency["expr"]
        assert 'response_code=~"5.."' in rules["slo-web-5xx-rate"]["expr"]
        assert all(promql_problem(x["expr"]) is None for x in rules.values())


def test_grafana_only_in_prods_hub_customer_managed_with_a_role_for_every_workspace():
    assert not shipped("dev").of_type(GRAFANA) and not shipped("airgap").of_type(GRAFANA)
    r = shipped("prod")
    (ws,) = r.of_type(GRAFANA)
    assert r.region_of(ws) == r.spec.config.hub.name
    assert ws.inputs["permissionType"] == "CUSTOMER_MANAGED" and ws.inputs["authenticationProviders"] == ["AWS_SSO"]
    assert ws.inputs["grafanaVersion"] == "12.4"
    assert "dataSources" not in ws.inputs  # botocore: "for internal use only"
    role = next(x for x in r.of_type("aws:iam/role:Role") if x.outputs["arn"] == ws.inputs["roleArn"])
    policy = next(json.loads(p.inputs["policy"]) for p in r.of_type("aws:iam/rolePolicy:RolePolicy")
                  if p.inputs["role"] == role.id)
    query = next(s for s in policy["Statement"] if s["Sid"] == "QueryWorkspaces")
    assert sorted(query["Resource"]) == sorted(f"arn:aws:aps:{x}:123456789012:workspace/*"
                                               for x in r.spec.config.region_names)
    assert [x.inputs["groupIds"] for x in r.of_type("aws:grafana/roleAssociation:RoleAssociation")]


def test_airgap_reaches_its_workspaces_through_the_aps_workspaces_endpoint():
    r = shipped("airgap")
    endpoints = {(r.region_of(e), e.inputs["serviceName"].rsplit(".", 1)[-1])
                 for e in r.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {(x, "aps-workspaces") for x in r.spec.config.region_names} <= endpoints
    # with a NAT path pods reach AMP's public endpoint: no endpoint is added there
    assert not [e for e in shipped("dev").of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                if e.inputs["serviceName"].endswith(".aps-workspaces")]


@pytest.mark.parametrize("stack", STACKS)
def test_the_dashboard_shows_each_clusters_pods_waiting_for_capacity(stack):
    r = shipped(stack)
    for dash in r.of_type("aws:cloudwatch/dashboard:Dashboard"):
        region = r.region_of(dash)
        (cluster,) = [c for c in r.of_type("eks:index:Cluster") if region_by_name(r, c) == region]
        metrics = [m for w in json.loads(dash.inputs["dashboardBody"])["widgets"] if w["type"] == "metric"
                   for m in w["properties"]["metrics"]]
        assert ["AWS/EKS", "scheduler_pending_pods_UNSCHEDULABLE", "ClusterName", cluster.inputs["name"],
                {"label": "unschedulable"}] in metrics


def test_dependent_triggers_are_published_and_keda_may_query_its_workspace():
    r = shipped("prod")
    maps = [m for m in r.of_type("kubernetes:core/v1:ConfigMap")
            if m.inputs["metadata"]["name"] == "platform-dependent-triggers"]
    assert len(maps) == len(r.spec.config.regions)
    assert keda_check(r.doc) == []
    workspaces = {r.region_of(w): w for w in r.of_type(WORKSPACE)}
    for m in maps:
        region = region_by_name(r, m)
        triggers = {k: json.loads(v) for k, v in m.inputs["data"].items()}
        assert set(triggers) == {"checkout-on-web", "fulfilment-on-orders", "booking-on-tickets-sold"}
        web = triggers["checkout-on-web"]
        assert web["type"] == "prometheus" and web["metadata"]["awsRegion"] == region
        assert web["metadata"]["serverAddress"] == workspaces[region].outputs["prometheusEndpoint"].rstrip("/")
        assert web["authenticationRef"] == {"name": "aws-pod-identity", "kind": "ClusterTriggerAuthentication"}
        assert triggers["booking-on-tickets-sold"]["type"] == "aws-cloudwatch"
    keda = [p for p in r.of_type("aws:iam/rolePolicy:RolePolicy") if "keda" in p.urn]
    assert len(keda) == len(r.spec.config.regions)
    for p in keda:
        region = region_by_name(r, p)
        statements = {s["Sid"]: s for s in json.loads(p.inputs["policy"])["Statement"]}
        assert statements["QueryPrometheus"]["Resource"] == workspaces[region].outputs["arn"]
        assert statements["QueryPrometheus"]["Action"] == "aps:QueryMetrics"


def test_without_prometheus_nothing_of_it_is_built(tmp_path):
    r = run("dev", variant(tmp_path, "dev", observability={"prometheus": None}))
    assert not r.of_type(WORKSPACE) and not r.of_type(SCRAPER) and not r.of_type(RULES)
    keda = [json.loads(p.inputs["policy"]) for p in r.of_type("aws:iam/rolePolicy:RolePolicy") if "keda" in p.urn]
    assert keda and all("aps:" not in json.dumps(p) for p in keda)


# -- bad config ---------------------------------------------------------------------------------------
def rendered(tmp_path, base, **overrides) -> str:
    with pytest.raises(ConfigError) as err:
        run(base, variant(tmp_path, base, **overrides))
    return err.value.render()


def _slos(base, **changes):
    slos = yaml.safe_load((__import__("pathlib").Path(__file__).parent.parent / f"Pulumi.{base}.yaml").read_text())[
        "config"]["global-platform:slos"]
    return [{**s, **changes.get(s["name"], {})} for s in slos]


GRAF = {"authentication": "AWS_SSO"}


@pytest.mark.parametrize("base, overrides, key, needle", [
    ("airgap", {"observability": {"grafana": GRAF}}, "observability.grafana", "grafana-workspace"),
    ("dev", {"observability": {"prometheus": None, "grafana": GRAF}}, "observability.grafana",
     "add observability.prometheus"),
    ("dev", {"observability": {"grafana": {"authentication": "SAML"}}}, "observability.grafana.samlMetadataUrl",
     "metadata URL"),
    ("dev", {"regions": [{"name": "ap-northeast-3", "role": "hub", "cidr": "10.16.0.0/18"},
                         {"name": "ap-southeast-1", "role": "spoke", "cidr": "10.16.64.0/18"}],
             "observability": {"grafana": GRAF}}, "observability.grafana", "not offered in the hub region"),
    ("dev", {"observability": {"prometheus": {"placement": "hub"}}}, "observability.prometheus.placement",
     "Scraper limitations"),
    ("dev", {"observability": {"prometheus": {"scrapeIntervalSeconds": 15}}},
     "observability.prometheus.scrapeIntervalSeconds", "greater than or equal to 30"),
    ("dev", {"slos": _slos("dev", **{"db-replica-lag": {"service": "web.frontend"}})}, "slos[2].service",
     "only latency and errorRate"),
    ("prod", {"slos": _slos("prod", **{"ticket-queue-lag": {"promql": "histogram_quantile(0.95, sum(x"}})},
     "slos[2].promql", "not PromQL"),
    ("dev", {"slos": _slos("dev", **{"web-p99-latency": {"promql": "sum(x)"}})}, "slos[0].promql",
     "only custom SLOs"),
    ("prod", {"scaling": {"dependents": [{"name": "a", "upstream": "web.frontend", "promql": "sum(x)", "target": 1}]}},
     "scaling.dependents[0]", "exactly one of upstream, promql, cloudwatch"),
    ("prod", {"scaling": {"dependents": [{"name": "a", "promql": "sum by (pod) (rate(x[1m]))", "target": 1}]}},
     "scaling.dependents[0].promql", "one series"),
    ("dev", {"observability": {"prometheus": None},
             "scaling": {"dependents": [{"name": "a", "upstream": "web.frontend", "target": 5}]}},
     "scaling.dependents[0]", "add observability.prometheus"),
    ("dev", {"scaling": {"dependents": [{"name": "a", "target": 5, "cloudwatch": {
        "namespace": "Ticketing", "metricName": "Sold", "statistic": "p95"}}]}},
     "scaling.dependents[0].cloudwatch.statistic", "Metrics Insights"),
    ("dev", {"scaling": {"dependents": [{"name": "a", "upstream": "web.frontend", "target": 5},
                                        {"name": "a", "upstream": "web.frontend", "target": 5}]}},
     "scaling.dependents[1].name", "defined twice"),
])
def test_bad_observability_config_names_the_key(tmp_path, base, overrides, key, needle):
    text = rendered(tmp_path, base, **overrides)
    assert key in text and needle in text, text


def test_the_airgap_grafana_refusal_gives_the_reason():
    assert "network access control" in AIRGAP_GRAFANA and "com.amazonaws.<region>.grafana-workspace" in AIRGAP_GRAFANA


def test_a_bad_observability_config_stops_the_preview_cli_with_one_message(tmp_path):
    path = variant(tmp_path, "airgap", observability={"grafana": GRAF})
    out = run_tool("tools.preview", "airgap", "--stack-file", path)
    assert out.returncode != 0 and "Traceback" not in out.stderr + out.stdout
    assert "observability.grafana" in out.stderr + out.stdout


# -- PromQL --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query, one_series", [
    ("sum(rate(x[5m]))", True), ("100 * sum(a) / sum(b)", True), ("sum by () (x)", True),
    ("histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))", True),
    ("x", False), ("sum by (pod) (x)", False), ("sum without (a) (x)", False), ("rate(x[5m])", False),
])
def test_single_series_queries(query, one_series):
    assert promql_problem(query) is None
    assert (promql_problem(query, single_series=True) is None) == one_series


# -- upstream: KEDA's prometheus scaler ------------------------------------------------------------
AMP = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234"
PROM = {"type": "prometheus", "metadata": {"serverAddress": AMP, "query": "sum(rate(x[2m]))", "threshold": "5",
                                           "awsRegion": "eu-west-1"},
        "authenticationRef": {"name": "aws-pod-identity", "kind": "ClusterTriggerAuthentication"}}


def prom(**meta):
    m = {**PROM["metadata"], **meta}
    return {**PROM, "metadata": {k: v for k, v in m.items() if v is not None}}


@pytest.mark.parametrize("trigger, path, needle", [
    (prom(serverAddress=AMP + "/"), "metadata.serverAddress", "appends /api/v1/query"),
    (prom(awsRegion="us-east-1"), "metadata.awsRegion", "SigV4 signs"),
    (prom(awsRegion=None), "metadata.awsRegion", "SigV4 signs"),
    (prom(authModes="bearer"), "metadata.authModes", "pod identity cannot be enabled"),
    (prom(query="rate(x[2m])"), "metadata.query", "one series"),
    (prom(query="sum(x"), "metadata.query", "not PromQL"),
    (prom(threshold=None), "metadata.threshold", "required"),
    (prom(threshold="five"), "metadata.threshold", "not a number"),
    (prom(querry="x"), "metadata.querry", "not a parameter of the prometheus scaler"),
    ({**PROM, "authenticationRef": None}, "authenticationRef", "SigV4"),
])
def test_keda_or_amp_would_refuse_the_prometheus_trigger(trigger, path, needle):
    problems = check_trigger(trigger)
    assert any(p == path and needle in m for p, m in problems), problems
    assert check_trigger(PROM) == []


def test_a_trigger_must_name_a_trigger_authentication_of_the_plan():
    def doc(provider):
        auth = {"op": "create", "urn": "urn:x::auth", "newState": {
            "type": "kubernetes:keda.sh/v1alpha1:ClusterTriggerAuthentication",
            "inputs": {"kind": "ClusterTriggerAuthentication", "metadata": {"name": "aws-pod-identity"},
                       "spec": {"podIdentity": {"provider": provider}}}}}
        cm = {"op": "create", "urn": "urn:x::cm", "newState": {"type": "kubernetes:core/v1:ConfigMap", "inputs": {
            "metadata": {"name": "platform-dependent-triggers"}, "data": {"t": json.dumps(PROM)}}}}
        return {"steps": [auth, cm]}
    assert keda_check(doc("aws")) == []
    (finding,) = keda_check(doc("azure-workload"))
    assert finding.path == "data.t.authenticationRef" and "provider aws" in finding.message


# -- upstream: rule files and scrape configurations ---------------------------------------------------
GOOD_RULES = {"groups": [{"name": "g", "rules": [
    {"alert": "a", "expr": "sum(x) > 1", "for": "5m", "labels": {"slo": "a"}, "annotations": {"summary": "s"}},
    {"record": "job:x:sum", "expr": "sum by (job) (x)"}]}]}


@pytest.mark.parametrize("change, path, needle", [
    (lambda d: d["groups"].append({"name": "g", "rules": []}), "data.groups[1].name", "repeated"),
    (lambda d: d["groups"][0]["rules"][0].update(record="r"), "data.groups[0].rules[0]", "only one of"),
    (lambda d: d["groups"][0]["rules"][0].update(expr="sum(x"), "data.groups[0].rules[0].expr", "could not parse"),
    (lambda d: d["groups"][0]["rules"][0].update(**{"for": "5 minutes"}), "data.groups[0].rules[0].for", "duration"),
    (lambda d: d["groups"][0]["rules"][0].update(severity="x"), "data.groups[0].rules[0].severity", "not found"),
    (lambda d: d["groups"][0]["rules"][1].update(annotations={"a": "b"}), "data.groups[0].rules[1].annotations",
     "recording rule"),
    (lambda d: d["groups"][0]["rules"][1].update(record="job-x"), "data.groups[0].rules[1].record",
     "invalid recording rule name"),
    (lambda d: d["groups"][0]["rules"][0]["labels"].update({"bad-label": "x"}),
     "data.groups[0].rules[0].labels.bad-label", "invalid label name"),
])
def test_rule_files_prometheus_would_refuse(change, path, needle):
    assert prom_check.check_rule_file(yaml.safe_dump(GOOD_RULES)) == []
    doc = json.loads(json.dumps(GOOD_RULES))
    change(doc)
    problems = prom_check.check_rule_file(yaml.safe_dump(doc))
    assert any(p == path and needle in m for p, m in problems), problems


@pytest.mark.parametrize("change, path, needle", [
    (lambda d: d["global"].update(scrape_interval="10s"), "scrapeConfiguration.global.scrape_interval", "30 s"),
    (lambda d: d["scrape_configs"][0].update(ec2_sd_configs=[{}]), "scrapeConfiguration.scrape_configs[0]"
     ".ec2_sd_configs", "only kubernetes_sd_configs"),
    (lambda d: d["scrape_configs"][0].update(authorization={"type": "Basic", "credentials": "x"}),
     "scrapeConfiguration.scrape_configs[0].authorization", "only Bearer"),
    (lambda d: d.update(remote_write=[{"url": "x"}]), "scrapeConfiguration.remote_write", "only global"),
    (lambda d: d["scrape_configs"][0].update(static_configs=[{"targets": ["db.internal:9100"]}]),
     "scrapeConfiguration.scrape_configs[0].static_configs[0]", "IP addresses"),
])
def test_scrape_configurations_amp_would_refuse(change, path, needle):
    from components.observability import scrape_config
    good = scrape_config("dev-apne2", "ap-northeast-2", 30)
    assert prom_check.check_scrape_config(good) == []
    doc = yaml.safe_load(good)
    change(doc)
    problems = prom_check.check_scrape_config(yaml.safe_dump(doc))
    assert any(p == path and needle in m for p, m in problems), problems


# -- readiness --------------------------------------------------------------------------------------------
def amp_world(*, waits_cluster=True, mode="API", ws_region="eu-west-1", waits_policy=True):
    aws_eu = res("pulumi:providers:aws", "eu", {"region": "eu-west-1"})
    aws_other = res("pulumi:providers:aws", "other", {"region": ws_region})
    cluster = res("eks:index:Cluster", "c", {"name": "prod-euw1", "authenticationMode": mode,
                                              "endpointPrivateAccess": True})
    ws = res("aws:amp/workspace:Workspace", "ws", {}, provider=u(aws_other))
    role = res("aws:iam/role:Role", "target", {}, provider=u(aws_eu))
    policy = res("aws:iam/rolePolicy:RolePolicy", "target", {"role": "target"}, prop={"role": u(role)},
                 provider=u(aws_eu))
    scraper = res("aws:amp/scraper:Scraper", "s", {
        "source": {"eks": {"clusterArn": "arn:aws:eks:eu-west-1:123456789012:cluster/prod-euw1"}}},
        deps=([u(cluster)] if waits_cluster else []) + ([u(policy)] if waits_policy else []),
        prop={"destination": u(ws), "roleConfiguration": u(role)}, provider=u(aws_eu))
    return [aws_eu, aws_other, cluster, ws, role, policy, scraper]


@pytest.mark.parametrize("broken", [{"waits_cluster": False}, {"mode": "CONFIG_MAP"}, {"ws_region": "us-east-1"},
                                    {"waits_policy": False}])
def test_scraper_readiness_fires_on_the_break_and_not_on_the_fix(pack, broken):  # noqa: F811
    rule = "amp-scraper-ready-to-collect"
    assert rule not in fired(pack, amp_world())
    assert fired(pack, amp_world(**broken)).get(rule) == [amp_world()[-1]["urn"]]


def test_saml_grafana_gets_its_idp_and_admin_groups(tmp_path):
    r = run("prod", variant(tmp_path, "prod", observability={"grafana": {
        "authentication": "SAML", "samlMetadataUrl": "https://idp.example.com/metadata", "adminGroups": ["ops"]}}))
    (saml,) = r.of_type("aws:grafana/workspaceSamlConfiguration:WorkspaceSamlConfiguration")
    assert saml.inputs["idpMetadataUrl"] == "https://idp.example.com/metadata"
    assert saml.inputs["adminRoleValues"] == ["ops"] and saml.inputs["roleAssertion"] == "groups"
    assert not r.of_type("aws:grafana/roleAssociation:RoleAssociation")
    (ws,) = r.of_type(GRAFANA)
    assert ws.inputs["authenticationProviders"] == ["SAML"]


# -- security pack --------------------------------------------------------------------------------------
def test_security_rules_for_workspaces(security_pack):
    def fired_on(typ, inputs):
        r = {"type": typ, "inputs": inputs, "urn": f"urn:pulumi:prod::global-platform::{typ}::r", "name": "r",
             "parent": "", "provider": "", "dependencies": [], "propertyDependencies": {}}
        return {d.policyName for d in security_pack.analyze(r, {})}
    good = {"kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k",
            "loggingConfiguration": {"logGroupArn": "arn:aws:logs:eu-west-1:123456789012:log-group:g:*"}}
    assert "amp-workspace-customer-key-and-logs" not in fired_on(WORKSPACE, good)
    assert "amp-workspace-customer-key-and-logs" in fired_on(WORKSPACE, {"loggingConfiguration": good[
        "loggingConfiguration"]})
    assert "amp-workspace-customer-key-and-logs" in fired_on(WORKSPACE, {"kmsKeyArn": good["kmsKeyArn"]})
    g = {"permissionType": "CUSTOMER_MANAGED", "roleArn": "arn:aws:iam::123456789012:role/g",
         "authenticationProviders": ["AWS_SSO"], "accountAccessType": "CURRENT_ACCOUNT"}
    assert "grafana-customer-managed-role" not in fired_on(GRAFANA, g)
    assert "grafana-customer-managed-role" in fired_on(GRAFANA, {**g, "permissionType": "SERVICE_MANAGED"})
