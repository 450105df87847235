"""Lambda concurrency shared by traffic: each region's reserved-concurrency shares of existing functions
(published for the owning stacks, compared with the functions), provisioned concurrency on an alias scaled
by Application Auto Scaling in the region's own time zone, the config rules that keep 100 unreserved and
provisioned concurrency inside the reservation, and the readiness rules on scalable targets."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from components.lambda_concurrency import DIMENSION, METRIC, FunctionArgs, ProvisionedArgs, ScheduleArgs, drift
from components.naming import RegionContext
from components.schedules import region_time_zone
from tests.helpers import run, run_tool, shipped, stack_yaml, variant, plan_resource
from tools.upstream import aws_models

TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
PARAMETER = "aws:ssm/parameter:Parameter"


def _lambda(stack: str) -> dict:
    return stack_yaml(stack)["config"]["global-platform:lambda"]


def _function(**overrides) -> dict:
    fn = {"name": "checkout-api", "alias": "live", "reservedConcurrency": 100,
          "provisioned": {"min": 1, "max": 20, "targetUtilization": 0.7,
                          "schedules": [{"name": "peak", "cron": "cron(30 11 ? * MON-FRI *)", "min": 10, "max": 50}]}}
    fn.update(overrides)
    return fn


def _in(r, typ, region):
    return [x for x in r.of_type(typ) if r.region_of(x) == region]


def _lambda_warnings(r) -> list[str]:
    return [d["message"] for d in r.doc["diagnostics"] if "Lambda function" in d["message"]]


# -- the shipped stacks ------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_region_publishes_each_share_and_scales_the_alias_in_its_own_time_zone(stack):
    r = shipped(stack)
    functions = _lambda(stack)["functions"]
    env = r.spec.config.environment
    for region in r.spec.config.region_names:
        mine = [f for f in functions if f.get("regions") is None or region in f["regions"]]
        params = {p.inputs["name"]: p.inputs["insecureValue"] for p in _in(r, PARAMETER, region) if "/lambda/" in p.inputs["name"]}
        assert params == {f"/global-platform/{env}/lambda/{region}/{f['name']}/reserved-concurrency":
                          str(f["reservedConcurrency"]) for f in mine}, region
        targets = {t.inputs["resourceId"]: t for t in _in(r, TARGET, region)}
        assert set(targets) == {f"function:{f['name']}:{f['alias']}" for f in mine if f.get("provisioned")}
        for f in (f for f in mine if f.get("provisioned")):
            p = f["provisioned"]
            t = targets[f"function:{f['name']}:{f['alias']}"]
            assert (t.inputs["serviceNamespace"], t.inputs["scalableDimension"]) == ("lambda", DIMENSION)
            assert (t.inputs["minCapacity"], t.inputs["maxCapacity"]) == (p["min"], p["max"])
            assert "roleArn" not in t.inputs  # the service-linked role, created by Application Auto Scaling
            # Scheduled actions move min/max: the target leaves that drift to them.
            assert (t.options.get("ignoreChanges") or []) == (["minCapacity", "maxCapacity"] if p.get("schedules")
                                                               else [])
            policies = [x for x in _in(r, POLICY, region) if x.inputs["resourceId"] == t.inputs["resourceId"]]
            (policy,) = policies
            tt = policy.inputs["targetTrackingScalingPolicyConfiguration"]
            assert policy.inputs["policyType"] == "TargetTrackingScaling"
            assert tt["predefinedMetricSpecification"]["predefinedMetricType"] == METRIC
            assert tt["targetValue"] == p.get("targetUtilization", 0.7)
            assert t.urn in policy.property_dependencies["resourceId"]
            actions = {a.inputs["schedule"]: a for a in _in(r, ACTION, region)
                       if a.inputs["resourceId"] == t.inputs["resourceId"]}
            assert set(actions) == {s["cron"] for s in p.get("schedules", [])}
            previous = policy.urn
            for s in p.get("schedules", []):
                a = actions[s["cron"]]
                assert a.inputs["timezone"] == region_time_zone(region) != "UTC", a.urn
                assert a.inputs["scalableTargetAction"] == {"minCapacity": s["min"], "maxCapacity": s["max"]}
                assert t.urn in a.property_dependencies["resourceId"]
                assert previous in a.dependencies, "each action waits for the call before it on the target"
                previous = a.urn
    assert not _lambda_warnings(r), "the offline accounts hold the shipped shares (tools/mocks.py)"


def test_the_air_gapped_stack_has_no_lambda_section():
    r = shipped("airgap")
    assert r.spec.config.lambda_ is None
    assert not r.of_type(TARGET) and not r.of_type(POLICY) and not r.of_type(ACTION)


def test_shares_per_region_and_functions_listed_for_disjoint_regions(tmp_path):
    functions = [_function(regions=["ap-northeast-2"], reservedConcurrency=300,
                           provisioned={"min": 5, "max": 250}),
                 _function(regions=["ap-southeast-1"], reservedConcurrency=50, provisioned=None)]
    r = run("dev", variant(tmp_path, "dev", **{"lambda": {"functions": functions}}))
    (seoul,) = _in(r, TARGET, "ap-northeast-2")
    assert (seoul.inputs["minCapacity"], seoul.inputs["maxCapacity"]) == (5, 250)
    assert not seoul.options.get("ignoreChanges"), "no schedules: config owns min and max"
    assert not _in(r, TARGET, "ap-southeast-1") and not _in(r, ACTION, "ap-northeast-2")
    values = {r.region_of(p): p.inputs["insecureValue"] for p in r.of_type(PARAMETER) if "/lambda/" in p.inputs["name"]}
    assert values == {"ap-northeast-2": "300", "ap-southeast-1": "50"}


# -- what the preview reports about the functions it does not own -------------------------------------
def test_a_function_whose_reservation_differs_is_reported_with_its_consequence(tmp_path):
    # The offline dev account's checkout-api reserves 100 (tools/mocks.py); the platform now gives it 150.
    fn = _function(reservedConcurrency=150, provisioned={"min": 1, "max": 120})
    r = run("dev", variant(tmp_path, "dev", **{"lambda": {"functions": [fn]}}))
    warnings = _lambda_warnings(r)
    assert len(warnings) == len(r.spec.config.regions), warnings
    seoul = next(w for w in warnings if "ap-northeast-2" in w)
    assert "reserves 100; the platform's share is 150" in seoul
    assert "/global-platform/dev/lambda/ap-northeast-2/checkout-api/reserved-concurrency" in seoul
    assert "provisioned concurrency above 100 fails" in seoul


def test_a_function_nobody_distributed_yet_reads_as_none(tmp_path):
    fn = _function(name="search-api", reservedConcurrency=50, provisioned=None)
    r = run("dev", variant(tmp_path, "dev", **{"lambda": {"functions": [fn]}}))
    warnings = _lambda_warnings(r)
    assert warnings and all("search-api" in w and "reserves none" in w for w in warnings), warnings
    assert not any("fails" in w for w in warnings), "nothing caps provisioned concurrency it does not have"


def test_a_missing_alias_stops_the_preview_naming_it(tmp_path):
    fn = _function(alias="blue")
    out = run_tool("tools.preview", "dev", "--stack-file", variant(tmp_path, "dev", **{"lambda": {"functions": [fn]}}))
    assert out.returncode != 0
    assert "checkout-api:blue" in out.stdout + out.stderr and "ResourceNotFoundException" in out.stdout + out.stderr


def test_drift_messages():
    ctx = RegionContext("us-west-2", "prod", "platform-team")
    f = FunctionArgs(name="checkout-api", alias="live", reserved=400, provisioned=ProvisionedArgs(
        min=20, max=300, target_utilization=0.7,
        schedules=(ScheduleArgs(name="peak", cron="cron(30 11 * * ? *)", time_zone="America/Los_Angeles",
                                min=150, max=350),)))
    assert drift(ctx, f, 400) is None
    assert "reserves none (or 0: throttled)" in drift(ctx, f, -1)
    assert "reserves none (or 0: throttled)" in drift(ctx, f, 0) and "fails" not in drift(ctx, f, 0)
    assert "provisioned concurrency above 320 fails" in drift(ctx, f, 320), "the schedule's 350 is the peak"
    assert "fails" not in drift(ctx, f, 500)


# -- bad config: one message naming the key ----------------------------------------------------------
def rendered(tmp_path, section: dict) -> str:
    with pytest.raises(ConfigError) as err:
        run("dev", variant(tmp_path, "dev", **{"lambda": section}))
    return err.value.render()


@pytest.mark.parametrize("section, key, needle", [
    ({"functions": [_function(reservedConcurrency=901)]}, "lambda.functions",
     "reserves 901 (checkout-api 901) of a quota of 1000 (lambda.concurrencyQuota): Lambda keeps 100 unreserved, "
     "so at most 900"),
    ({"concurrencyQuota": 150, "functions": [_function(reservedConcurrency=60)]}, "lambda.functions", "at most 50"),
    ({"functions": [_function(name="a", reservedConcurrency=500, regions=["ap-southeast-1"], provisioned=None),
                    _function(name="b", reservedConcurrency=500, provisioned=None)]},
     "lambda.functions", "ap-southeast-1 reserves 1000 (a 500, b 500)"),
    ({"functions": [_function(provisioned={"min": 30, "max": 20})]}, "lambda.functions[0].provisioned",
     "needs min <= max; got 30 > 20"),
    ({"functions": [_function(provisioned={"min": 1, "max": 101})]}, "lambda.functions[0].provisioned.max",
     "101 exceeds reservedConcurrency 100"),
    ({"functions": [_function(provisioned={"min": 0, "max": 20})]}, "lambda.functions[0].provisioned.min",
     "greater than or equal to 1"),
    ({"functions": [_function(provisioned={"min": 1, "max": 20, "targetUtilization": 0.95})]},
     "lambda.functions[0].provisioned.targetUtilization", "less than or equal to 0.9"),
    ({"functions": [_function(provisioned={"min": 1, "max": 20, "targetUtilization": 0.05})]},
     "lambda.functions[0].provisioned.targetUtilization", "greater than or equal to 0.1"),
    ({"functions": [_function(provisioned={"min": 1, "max": 20, "schedules": [
        {"name": "peak", "cron": "cron(0 12 * * ? *)", "min": 10, "max": 120}]})]},
     "lambda.functions[0].provisioned.schedules[0].max", "120 exceeds reservedConcurrency 100"),
    ({"functions": [_function(provisioned={"min": 1, "max": 20, "schedules": [
        {"name": "peak", "cron": "cron(0 12 * * ? *)", "min": 60, "max": 50}]})]},
     "lambda.functions[0].provisioned.schedules[0]", "needs min <= max; got 60 > 50"),
    # EC2 Auto Scaling's Unix cron is not what Application Auto Scaling takes
    ({"functions": [_function(provisioned={"min": 1, "max": 20, "schedules": [
        {"name": "peak", "cron": "30 11 * * MON-FRI", "min": 10, "max": 50}]})]},
     "lambda.functions[0].provisioned.schedules[0].cron", "is not cron("),
    ({"functions": [_function(provisioned={"min": 1, "max": 20, "schedules": [
        {"name": "peak", "cron": "cron(30 11 * * MON-FRI *)", "min": 10, "max": 50}]})]},
     "lambda.functions[0].provisioned.schedules[0].cron", "exactly one of day-of-month and day-of-week must be '?'"),
    ({"functions": [_function(provisioned={"min": 1, "max": 20, "schedules": [
        {"name": "peak", "cron": "cron(30 11 * * ? *)", "min": 10, "max": 50, "timeZone": "Asia/Atlantis"}]})]},
     "lambda.functions[0].provisioned.schedules[0].timeZone", "not an IANA time zone"),
    ({"functions": [_function(provisioned={"min": 1, "max": 20, "schedules": [
        {"name": "peak", "cron": "cron(30 11 * * ? *)", "min": 10, "max": 50},
        {"name": "peak", "cron": "cron(0 14 * * ? *)", "min": 1, "max": 20}]})]},
     "lambda.functions[0].provisioned.schedules[1].name", "schedule 'peak' is defined twice"),
    ({"functions": [_function(), _function(regions=["ap-southeast-1"], provisioned=None)]},
     "lambda.functions[1].name", "listed twice for ap-southeast-1 (also lambda.functions[0])"),
    ({"functions": [_function(regions=["us-east-1"])]}, "lambda.functions[0].regions",
     "'us-east-1' is not one of this stack's regions"),
    ({"functions": [_function(alias="7")]}, "lambda.functions[0].alias", "a version number, not an alias name"),
    ({"functions": [_function(name="arn:aws:lambda:ap-northeast-2:123456789012:function:checkout-api")]},
     "lambda.functions[0].name", "pattern"),
    ({"functions": [_function(reservedConcurency=100)]}, "lambda.functions[0].reservedConcurency", "unknown key"),
    ({"functions": []}, "lambda.functions", "at least 1"),
])
def test_bad_lambda_config_names_the_key(tmp_path, section, key, needle):
    text = rendered(tmp_path, section)
    assert f"global-platform:{key}:" in text and needle in text, text


def test_a_bad_lambda_config_stops_the_preview_cli_with_one_message(tmp_path):
    path = variant(tmp_path, "dev", **{"lambda": {"functions": [_function(reservedConcurrency=2000)]}})
    out = run_tool("tools.preview", "dev", "--stack-file", path)
    assert out.returncode == 2 and "Traceback" not in out.stderr + out.stdout
    assert "global-platform:lambda.functions" in out.stderr + out.stdout


# -- upstream values ---------------------------------------------------------------------------------
def test_scalable_target_types_map_to_application_auto_scaling_and_are_checked():
    assert aws_models.operation_for(TARGET) == ("application-autoscaling", "RegisterScalableTarget")
    assert aws_models.operation_for(POLICY) == ("application-autoscaling", "PutScalingPolicy")
    assert aws_models.operation_for(ACTION) == ("application-autoscaling", "PutScheduledAction")
    for stack in ("dev", "prod"):
        doc = shipped(stack).doc
        assert not [f for f in aws_models.check(doc) if "autoscaling" in f.message], stack
        cov = aws_models.coverage(doc)
        for typ in (TARGET, POLICY, ACTION):
            assert cov[typ]["unmatched"] == 0 and cov[typ]["checked"] > 0, (stack, typ, cov[typ])
    # a dimension that reads right but is not Application Auto Scaling's (seen in tutorials)
    bad = {"steps": [{"op": "create", "urn": "urn:pulumi:dev::p::aws:appautoscaling/target:Target::t",
                      "newState": {"type": TARGET, "inputs": {
                          "serviceNamespace": "lambda", "resourceId": "function:checkout-api:live", "minCapacity": 1,
                          "maxCapacity": 5, "scalableDimension": "lambda:function:ProvisionedConcurrentExecutions"}}}]}
    (finding,) = aws_models.check(bad)
    assert finding.path == "scalableDimension" and "RegisterScalableTarget.ScalableDimension" in finding.message


# -- readiness: a policy or action after its target, one call at a time --------------------------------


_res = plan_resource

def _world(*, by_reference=True, chained=True):
    key = {"serviceNamespace": "lambda", "resourceId": "function:checkout-api:live", "scalableDimension": DIMENSION}
    target = _res(TARGET, "t", {**key, "minCapacity": 1, "maxCapacity": 20})
    ref = {"resourceId": [target["urn"]]} if by_reference else None
    policy = _res(POLICY, "p", {**key, "policyType": "TargetTrackingScaling"}, prop=ref)
    peak = _res(ACTION, "peak", {**key, "schedule": "cron(0 11 * * ? *)"}, deps=[policy["urn"]] if chained else [],
                prop=ref)
    night = _res(ACTION, "night", {**key, "schedule": "cron(0 22 * * ? *)"}, deps=[peak["urn"]] if chained else [],
                 prop=ref)
    return [target, policy, peak, night]


@pytest.fixture
def readiness(readiness_pack):
    return readiness_pack


def _fired(pack, resources) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for d in pack.analyze_stack(resources, {}):
        out.setdefault(d.policyName, set()).add(d.urn.rsplit("::", 1)[-1])
    return out


def test_readiness_rules_fire_on_the_break_and_not_on_the_fix(readiness):
    assert not {k: v for k, v in _fired(readiness, _world()).items() if k.startswith("appautoscaling")}
    assert _fired(readiness, _world(by_reference=False))["appautoscaling-after-target"] == {"p", "peak", "night"}
    assert _fired(readiness, _world(chained=False))["appautoscaling-one-at-a-time"] == {"peak", "night"}
    # a target this stack does not register
    orphan = [r for r in _world(by_reference=False) if r["type"] != TARGET]
    assert _fired(readiness, orphan)["appautoscaling-after-target"] == {"p", "peak", "night"}
