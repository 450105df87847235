"""Terraform-plan export of the offline preview (tools/export_tfplan.py) and the Checkov gate
(tools/checkov_gate.py): layout, names, references, secrets, and the waiver logic."""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path

import pytest

from tests.helpers import shipped
from tools import checkov_gate as gate
from tools.export_tfplan import EVIDENCE_PATH, ExportError, Mapping, export, main, snake

STACKS = ("dev", "prod", "airgap")
EVIDENCE = json.loads(EVIDENCE_PATH.read_text())
SKIPPED_PREFIXES = ("kubernetes:", "eks:")


@pytest.fixture(scope="module")
def mapping() -> Mapping:
    return Mapping()


_exports: dict = {}


def exported(stack: str) -> tuple[dict, dict, dict]:
    """(preview, plan, report) of a shipped stack, computed once."""
    if stack not in _exports:
        doc = shipped(stack).doc
        plan, report = export(doc)
        _exports[stack] = (doc, plan, report)
    return _exports[stack]


def aws_states(doc: dict) -> list[dict]:
    return [s["newState"] for s in doc["steps"]
            if s["newState"]["type"].startswith("aws:") and s["newState"].get("custom")]


def by_address(plan: dict, section: str) -> dict:
    if section == "planned":
        items = plan["planned_values"]["root_module"]["resources"]
    elif section == "changes":
        items = plan["resource_changes"]
    else:
        items = plan["configuration"]["root_module"]["resources"]
    return {r["address"]: r for r in items}


def address_of(plan: dict, state: dict) -> str:
    """The exported address of a preview state (type from the evidence, name from the URN)."""
    tf_type = EVIDENCE["resources"][state["type"]][0]
    name = state["urn"].rsplit("::", 1)[1]
    planned = by_address(plan, "planned")
    if f"{tf_type}.{name}" in planned:
        return f"{tf_type}.{name}"
    cands = [a for a in planned if a.startswith(f"{tf_type}.{name}_")]
    assert len(cands) == 1, (state["urn"], cands)
    return cands[0]


# -- shipped stacks ------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_export_has_the_terraform_plan_sections(stack):
    _, plan, report = exported(stack)
    assert plan["format_version"] and plan["terraform_version"]
    planned = plan["planned_values"]["root_module"]["resources"]
    assert planned and len(planned) == len(plan["resource_changes"]) == len(
        plan["configuration"]["root_module"]["resources"]) == report["exported"]
    for r in planned:
        assert r["mode"] == "managed" and r["provider_name"] == "registry.terraform.io/hashicorp/aws"
        assert r["address"] == f"{r['type']}.{r['name']}" and isinstance(r["values"], dict)
    for c in plan["resource_changes"]:
        assert set(c["change"]) >= {"actions", "before", "after", "after_unknown"}
        assert c["change"]["actions"] == ["create"]  # a fresh offline preview creates everything
    assert len({r["address"] for r in planned}) == len(planned)


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_is_exported_with_its_terraform_type(stack):
    doc, plan, report = exported(stack)
    planned = by_address(plan, "planned")
    states = aws_states(doc)
    assert len(states) == len(planned) == report["exported"]
    for state in states:
        assert planned[address_of(plan, state)]["type"] == EVIDENCE["resources"][state["type"]][0]
    types = {s["type"] for s in states}
    known = {"aws:ec2/vpc:Vpc": "aws_vpc", "aws:ec2/flowLog:FlowLog": "aws_flow_log",
             "aws:kms/key:Key": "aws_kms_key", "aws:ec2transitgateway/vpcAttachment:VpcAttachment":
             "aws_ec2_transit_gateway_vpc_attachment", "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy"}
    for token, tf in known.items():
        if token in types:
            assert any(r["type"] == tf for r in planned.values())


@pytest.mark.parametrize("stack", STACKS)
def test_skipped_types_are_counted(stack):
    doc, _, report = exported(stack)
    types = [s["newState"]["type"] for s in doc["steps"]]
    assert report["skipped"].get("kubernetes", 0) == sum(t.startswith("kubernetes:") for t in types)
    assert report["skipped"].get("pulumi-eks", 0) == sum(t.startswith("eks:") for t in types)
    assert report["skipped"].get("pulumi-eks", 0) >= 1


@pytest.mark.parametrize("stack", STACKS)
def test_references_follow_the_property_dependencies(stack):
    doc, plan, report = exported(stack)
    conf = by_address(plan, "configuration")
    urn_to_addr = {s["urn"]: address_of(plan, s) for s in aws_states(doc)}
    checked = 0
    for state in aws_states(doc):
        entry = conf[urn_to_addr[state["urn"]]]
        for camel, deps in (state.get("propertyDependencies") or {}).items():
            targets = {urn_to_addr[d] for d in deps if d in urn_to_addr and d != state["urn"]}
            if not targets or camel not in state["inputs"]:
                continue
            checked += 1
            exprs = json.dumps(entry["expressions"])
            for t in targets:
                assert f'"{t}"' in exprs or t in entry.get("depends_on", []), (entry["address"], camel, t)
    assert checked == report["references"] > 0


def test_flow_log_references_its_vpc_and_log_group():
    doc, plan, _ = exported("dev")
    conf, planned = by_address(plan, "configuration"), by_address(plan, "planned")
    changes = by_address(plan, "changes")
    flow_logs = [s for s in aws_states(doc) if s["type"] == "aws:ec2/flowLog:FlowLog"]
    assert flow_logs
    for fl in flow_logs:
        addr = address_of(plan, fl)
        vpc_urn = fl["propertyDependencies"]["vpcId"][0]
        vpc = next(s for s in aws_states(doc) if s["urn"] == vpc_urn)
        vpc_addr = address_of(plan, vpc)
        assert conf[addr]["expressions"]["vpc_id"]["references"] == [f"{vpc_addr}.id", vpc_addr]
        # unknown until the VPC exists, as in a Terraform plan: no mock id is exported
        assert "vpc_id" not in planned[addr]["values"]
        assert changes[addr]["change"]["after_unknown"]["vpc_id"] is True
        assert conf[addr]["expressions"]["log_destination"]["references"][0].startswith(
            "aws_cloudwatch_log_group.")
        assert conf[addr]["expressions"]["log_destination"]["references"][0].endswith(".arn")


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_never_exported(stack):
    doc, plan, _ = exported(stack)
    text = json.dumps(plan)
    assert "[secret]" not in text and "04da6b54-80e4-46f7-96ec-b56ff0331ba9" not in text
    changes = by_address(plan, "changes")
    secret_inputs = [(s, k) for s in aws_states(doc) for k, v in s["inputs"].items() if v == "[secret]"]
    assert secret_inputs
    for state, camel in secret_inputs:
        addr = address_of(plan, state)
        tf = Mapping().props(state["type"])[camel].tf
        change = changes[addr]["change"]
        assert tf not in change["after"] and change["after_unknown"][tf] is True
        assert change["after_sensitive"][tf] is True


@pytest.mark.parametrize("stack", STACKS)
def test_every_exported_name_has_evidence(stack):
    _, _, report = exported(stack)
    assert report["unverified"] == [] and report["unmapped_keys"] == []


def test_blocks_are_lists_and_maps_keep_their_keys():
    doc, plan, _ = exported("dev")
    planned = by_address(plan, "planned")
    lt = next(v for a, v in planned.items() if v["type"] == "aws_launch_template")["values"]
    assert isinstance(lt["metadata_options"], list) and len(lt["metadata_options"]) == 1
    assert lt["metadata_options"][0]["http_tokens"] == "required"
    assert isinstance(lt["block_device_mappings"][0]["ebs"], list)
    waf = next(v for v in planned.values() if v["type"] == "aws_wafv2_web_acl")["values"]
    assert waf["default_action"] == [{"allow": [{}]}]
    names = {r["statement"][0].get("managed_rule_group_statement", [{}])[0].get("name") for r in waf["rule"]}
    assert "AWSManagedRulesKnownBadInputsRuleSet" in names
    vpc = next(v for v in planned.values() if v["type"] == "aws_vpc")["values"]
    assert vpc["tags"]["managed-by"] == "pulumi" and vpc["tags_all"] == vpc["tags"]
    alarm = next(v for v in planned.values() if v["type"] == "aws_cloudwatch_metric_alarm")["values"]
    assert "alarm_name" in alarm and "name" not in alarm  # bridge-metadata: name -> alarm_name


# -- the mapping data ----------------------------------------------------------------------
def _sdk_names(token: str, mapping: Mapping) -> set:
    mod = importlib.import_module("pulumi_aws." + token.split(":")[1].split("/")[0])
    member = token.rsplit(":", 1)[1]
    names = set(mapping.props(token))
    cls = getattr(mod, member, None) or getattr(mod.outputs, member, None)
    for v in vars(cls).values():
        if isinstance(v, property) and getattr(v.fget, "_pulumi_name", None):
            names.add(v.fget._pulumi_name)
    return names


def test_every_transcribed_name_exists_in_the_installed_sdk(mapping):
    for token in EVIDENCE["resources"]:
        mod = importlib.import_module("pulumi_aws." + token.split(":")[1].split("/")[0])
        assert getattr(mod, token.rsplit(":", 1)[1] + "Args"), token
    for token, entry in EVIDENCE["types"].items():
        names = _sdk_names(token, mapping)
        missing = [k for k in [*entry["renames"], *entry["identity"]] if k not in names]
        assert not missing, (token, missing)
        assert all(tf == snake(k) or k in entry["renames"] for k, tf in entry["renames"].items())
    for token, entry in EVIDENCE["extra"].items():
        assert set(entry) <= _sdk_names(token, mapping), token
        assert all(cite.split()[0] in EVIDENCE["citations"] for _, cite in entry.values())
    for token, (tf, cite) in EVIDENCE["resources"].items():
        assert tf.startswith("aws_") and cite.split("@")[0] in EVIDENCE["citations"], token


def test_sdk_shapes(mapping):
    p = mapping.props("aws:fis/experimentTemplate:ExperimentTemplate")
    assert (p["stopConditions"].tf, p["stopConditions"].shape) == ("stop_condition", "list_object")
    assert p["logConfiguration"].shape == "object" and p["tags"].shape == "map"
    t = mapping.props("aws:fis/ExperimentTemplateTarget:ExperimentTemplateTarget")
    assert t["parameters"].shape == "map" and t["resourceTags"].tf == "resource_tag"
    assert mapping.props("aws:ec2/vpnConnection:VpnConnection")["tunnel1IkeVersions"].tf == "tunnel1_ike_versions"


def test_resource_args_shadowed_by_a_nested_type(mapping):
    # pulumi_aws 7.51.1: s3.BucketVersioningArgs is the nested type of Bucket.versioning; the
    # BucketVersioning resource's inputs are in s3.BucketVersioningInitArgs (same for the SSE config)
    v = mapping.props("aws:s3/bucketVersioning:BucketVersioning")
    assert (v["bucket"].tf, v["versioningConfiguration"].tf) == ("bucket", "versioning_configuration")
    assert v["versioningConfiguration"].shape == "object" and "enabled" not in v
    s = mapping.props("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert (s["rules"].tf, s["rules"].shape) == ("rule", "list_object")
    rule = mapping.props(s["rules"].type_token)
    assert rule["applyServerSideEncryptionByDefault"].tf == "apply_server_side_encryption_by_default"


# -- a hand-made preview -------------------------------------------------------------------
P = "urn:pulumi:t::p::"
PROV = P + "pulumi:providers:aws::use1"
VPC = P + "my:net:Net$aws:ec2/vpc:Vpc::main"
LG = P + "my:net:Net$aws:cloudwatch/logGroup:LogGroup::flow"
FL = P + "my:net:Net$aws:ec2/flowLog:FlowLog::fl"
ALARM = P + "aws:cloudwatch/metricAlarm:MetricAlarm::a"
PARAM = P + "aws:ssm/parameter:Parameter::p"


def _state(urn, typ, inputs, custom=True, deps=None, provider=PROV + "::04da6b54-80e4-46f7-96ec-b56ff0331ba9"):
    deps = deps or {}
    return {"op": "create", "urn": urn, "newState": {
        "urn": urn, "type": typ, "custom": custom, "inputs": inputs, "outputs": {},
        "provider": provider if custom else "", "parent": "",
        "dependencies": sorted({u for us in deps.values() for u in us}),
        "propertyDependencies": {k: deps.get(k, []) for k in inputs}}}


HAND_MADE = {"steps": [
    _state(P + "pulumi:pulumi:Stack::p-t", "pulumi:pulumi:Stack", {}, custom=False),
    _state(PROV, "pulumi:providers:aws", {"region": "us-east-1",
                                          "defaultTags": json.dumps({"tags": {"team": "core"}})}, provider=""),
    _state(P + "my:net:Net::net", "my:net:Net", {}, custom=False),
    _state(VPC, "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16", "enableDnsHostnames": True, "tags": {"Name": "main"}}),
    _state(LG, "aws:cloudwatch/logGroup:LogGroup", {"name": "/flow", "retentionInDays": 365}),
    _state(FL, "aws:ec2/flowLog:FlowLog", {"vpcId": "vpc-123", "trafficType": "ALL",
                                           "logDestination": "arn:aws:logs:us-east-1:1:log-group:/flow"},
           deps={"vpcId": [VPC], "logDestination": [LG]}),
    _state(ALARM, "aws:cloudwatch/metricAlarm:MetricAlarm", {
        "name": "a", "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 1, "threshold": 1,
        "metricQueries": [{"id": "e", "returnData": True, "metric": {
            "metricName": "Errors", "namespace": "X", "period": 60, "stat": "Sum",
            "dimensions": {"LoadBalancer": "lb"}}}]}),
    _state(PARAM, "aws:ssm/parameter:Parameter", {"name": "/p", "type": "String", "value": "[secret]"}),
    _state(P + "kubernetes:core/v1:Namespace::ns", "kubernetes:core/v1:Namespace", {"metadata": {"name": "x"}}),
    _state(P + "eks:index:Cluster::c", "eks:index:Cluster", {}, custom=False),
]}

TAGS_ALL = {"team": "core"}
AWS = "registry.terraform.io/hashicorp/aws"
EXPECTED_VALUES = {
    "aws_cloudwatch_log_group.flow": {"name": "/flow", "retention_in_days": 365, "tags_all": TAGS_ALL},
    "aws_cloudwatch_metric_alarm.a": {
        "alarm_name": "a", "comparison_operator": "GreaterThanThreshold", "evaluation_periods": 1,
        "threshold": 1, "tags_all": TAGS_ALL,
        "metric_query": [{"id": "e", "return_data": True, "metric": [{
            "dimensions": {"LoadBalancer": "lb"}, "metric_name": "Errors", "namespace": "X",
            "period": 60, "stat": "Sum"}]}]},
    "aws_flow_log.fl": {"traffic_type": "ALL", "tags_all": TAGS_ALL},
    "aws_ssm_parameter.p": {"name": "/p", "type": "String", "tags_all": TAGS_ALL},
    "aws_vpc.main": {"cidr_block": "10.0.0.0/16", "enable_dns_hostnames": True, "tags": {"Name": "main"},
                     "tags_all": {"Name": "main", "team": "core"}},
}
EXPECTED_UNKNOWN = {"aws_flow_log.fl": {"log_destination": True, "vpc_id": True},
                    "aws_ssm_parameter.p": {"value": True}}
EXPECTED_SENSITIVE = {"aws_ssm_parameter.p": {"value": True}}
EXPECTED_EXPRESSIONS = {
    "aws_cloudwatch_log_group.flow": {"name": {"constant_value": "/flow"},
                                      "retention_in_days": {"constant_value": 365}},
    "aws_cloudwatch_metric_alarm.a": {
        "alarm_name": {"constant_value": "a"},
        "comparison_operator": {"constant_value": "GreaterThanThreshold"},
        "evaluation_periods": {"constant_value": 1}, "threshold": {"constant_value": 1},
        "metric_query": [{"id": {"constant_value": "e"}, "return_data": {"constant_value": True}, "metric": [{
            "dimensions": {"constant_value": {"LoadBalancer": "lb"}}, "metric_name": {"constant_value": "Errors"},
            "namespace": {"constant_value": "X"}, "period": {"constant_value": 60},
            "stat": {"constant_value": "Sum"}}]}]},
    "aws_flow_log.fl": {
        "log_destination": {"references": ["aws_cloudwatch_log_group.flow.arn", "aws_cloudwatch_log_group.flow"]},
        "traffic_type": {"constant_value": "ALL"},
        "vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}},
    "aws_ssm_parameter.p": {"name": {"constant_value": "/p"}, "type": {"constant_value": "String"}},
    "aws_vpc.main": {"cidr_block": {"constant_value": "10.0.0.0/16"},
                     "enable_dns_hostnames": {"constant_value": True},
                     "tags": {"constant_value": {"Name": "main"}}},
}


def _expected_plan() -> dict:
    planned, changes, conf = [], [], []
    for addr in sorted(EXPECTED_VALUES):
        typ, name = addr.split(".")
        head = {"address": addr, "mode": "managed", "type": typ, "name": name}
        sens = EXPECTED_SENSITIVE.get(addr, {})
        planned.append({**head, "provider_name": AWS, "schema_version": 0,
                        "values": EXPECTED_VALUES[addr], "sensitive_values": sens})
        changes.append({**head, "provider_name": AWS, "change": {
            "actions": ["create"], "before": None, "after": EXPECTED_VALUES[addr],
            "after_unknown": EXPECTED_UNKNOWN.get(addr, {}), "before_sensitive": False,
            "after_sensitive": sens}})
        conf.append({**head, "provider_config_key": "aws.use1", "expressions": EXPECTED_EXPRESSIONS[addr],
                     "schema_version": 0})
    return {
        "format_version": "1.2", "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                "aws": {"name": "aws", "full_name": AWS},
                "aws.use1": {"name": "aws", "full_name": AWS, "alias": "use1",
                             "expressions": {"region": {"constant_value": "us-east-1"}}}},
            "root_module": {"resources": conf}},
        "applyable": True, "complete": True, "errored": False,
    }


def test_hand_made_preview_exports_exactly():
    plan, report = export(json.loads(json.dumps(HAND_MADE)))
    assert plan == _expected_plan()
    assert report["skipped"] == {"components": 1, "kubernetes": 1, "providers": 1, "pulumi-eks": 1, "stack": 1}
    assert report["exported"] == 5 and report["references"] == 2


def test_unmapped_aws_type_is_an_error():
    doc = json.loads(json.dumps(HAND_MADE))
    doc["steps"].append(_state(P + "aws:s3/bucketV2:BucketV2::b", "aws:s3/bucketV2:BucketV2", {}))
    with pytest.raises(ExportError, match="aws:s3/bucketV2:BucketV2"):
        export(doc)


def test_cli_writes_the_plan(tmp_path, capsys):
    src = tmp_path / "preview.json"
    src.write_text(json.dumps(HAND_MADE))
    out = tmp_path / "plan.json"
    assert main(["--preview-json", str(src), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == _expected_plan()
    line = capsys.readouterr().out.splitlines()[0]
    assert "exported 5 AWS resources" in line and "kubernetes 1" in line and "pulumi-eks 1" in line
    assert main(["--preview-json", str(tmp_path / "missing.json"), "--out", str(out)]) == 2


# -- the gate ------------------------------------------------------------------------------
def _fake_checkov(failed: list[tuple[str, str]], passed: int = 3, as_list: bool = False) -> dict:
    report = {"check_type": "terraform_plan", "results": {
        "passed_checks": [{"check_id": "CKV_AWS_1", "resource": f"aws_vpc.v{i}"} for i in range(passed)],
        "failed_checks": [{"check_id": c, "check_name": f"name of {c}", "resource": r} for c, r in failed],
        "skipped_checks": []},
        "summary": {"passed": passed, "failed": len(failed), "skipped": 0, "parsing_errors": 0,
                    "resource_count": 5, "checkov_version": "9.9.9"}}
    return [report] if as_list else report


def _waivers(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "waivers.yaml"
    p.write_text(text)
    return p


WAIVERS = """
waivers:
  - check: CKV2_AWS_34
    resources: ["aws_ssm_parameter.*-registry-*"]
    reason: "discovery data, no secret (AWS docs: SecureString is for sensitive data)"
  - check: CKV_AWS_338
    resources: ["aws_cloudwatch_log_group.*"]
    stacks: [dev]
    reason: dev keeps 30 days by design
"""


def _run_gate(tmp_path, result, waivers=WAIVERS, stack="dev"):
    res = tmp_path / "ckv.json"
    res.write_text(json.dumps(result))
    args = ["--tfplan", "plan.json", "--checkov-json", str(res), "--waivers", str(_waivers(tmp_path, waivers))]
    if stack:
        args += ["--stack", stack]
    return gate.main(args)


def test_gate_waives_and_fails_on_the_rest(tmp_path, capsys):
    result = _fake_checkov([("CKV2_AWS_34", "aws_ssm_parameter.apne2-registry-x"),
                            ("CKV_AWS_338", "aws_cloudwatch_log_group.flow"),
                            ("CKV_AWS_297", "aws_scheduler_schedule.s")], as_list=True)
    assert _run_gate(tmp_path, result) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "checkov 9.9.9 plan.json: passed 3, failed 1, waived 2"
    assert out[1:] == ["  FAIL CKV_AWS_297 aws_scheduler_schedule.s: name of CKV_AWS_297"]


def test_gate_passes_when_everything_is_waived(tmp_path, capsys):
    result = _fake_checkov([("CKV2_AWS_34", "aws_ssm_parameter.a-registry-b"),
                            ("CKV_AWS_338", "aws_cloudwatch_log_group.x")])
    assert _run_gate(tmp_path, result) == 0
    assert capsys.readouterr().out.strip() == "checkov 9.9.9 plan.json: passed 3, failed 0, waived 2"


def test_stack_scoped_waiver_does_not_apply_elsewhere(tmp_path, capsys):
    result = _fake_checkov([("CKV2_AWS_34", "aws_ssm_parameter.a-registry-b"),
                            ("CKV_AWS_338", "aws_cloudwatch_log_group.x")])
    assert _run_gate(tmp_path, result, stack="prod") == 1
    assert "FAIL CKV_AWS_338 aws_cloudwatch_log_group.x" in capsys.readouterr().out


def test_waiver_matching_nothing_is_an_error(tmp_path, capsys):
    result = _fake_checkov([("CKV2_AWS_34", "aws_ssm_parameter.a-registry-b")])
    assert _run_gate(tmp_path, result) == 2  # the dev-only CKV_AWS_338 waiver matched nothing
    assert "waiver #2 (CKV_AWS_338" in capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    ("waivers:\n  - check: CKV_AWS_1\n    resources: [x]\n", "needs a 'reason'"),
    ("waivers:\n  - check: CKV_AWS_1\n    resources: [x]\n    reason: '  '\n", "needs a 'reason'"),
    ("waivers:\n  - check: CKV_AWS_1\n    reason: r\n", "needs 'resources'"),
    ("waivers:\n  - resources: [x]\n    reason: r\n", "needs 'check'"),
    ("waivers:\n  - check: CKV_AWS_1\n    resources: [x]\n    reason: r\n    until: 2027\n", "unknown key"),
    ("waivers:\n  - check: CKV_AWS_1\n    resources: [x]\n    reason: r\n    stacks: []\n", "'stacks'"),
    ("other: 1\n", "one key, 'waivers'"),
])
def test_bad_waivers_are_errors(tmp_path, text, message):
    with pytest.raises(gate.GateError, match=message):
        gate.load_waivers(_waivers(tmp_path, text))


def test_unparsable_plan_is_an_error(tmp_path):
    result = _fake_checkov([])
    result["summary"]["parsing_errors"] = 1
    assert _run_gate(tmp_path, result, waivers="waivers: []\n") == 2


def test_shipped_waiver_file_is_valid():
    waivers = gate.load_waivers(gate.DEFAULT_WAIVERS)
    assert waivers and all(w.reason and w.resources for w in waivers)
    assert all(w.references for w in waivers)  # every waiver cites its upstream source


# -- the real checkov (slow, needs build/checkov-venv) -------------------------------------
@pytest.mark.skipif(not gate.DEFAULT_CHECKOV.exists(), reason="checkov venv not built (build/checkov-venv)")
def test_real_checkov_on_the_dev_export(tmp_path):
    _, plan, report = exported("dev")
    path = tmp_path / "tfplan-dev.json"
    path.write_text(json.dumps(plan))
    started = time.monotonic()
    result = gate.run_checkov(str(gate.DEFAULT_CHECKOV), path)
    assert time.monotonic() - started < 60
    rep = gate._report(result)
    assert rep["summary"]["parsing_errors"] == 0
    assert rep["summary"]["resource_count"] == report["exported"]
    passed = {(c["check_id"], c["resource"]) for c in rep["results"]["passed_checks"]}
    vpcs = [r["address"] for r in plan["planned_values"]["root_module"]["resources"] if r["type"] == "aws_vpc"]
    # graph checks see the references: every VPC has its flow log, every default SG its VPC
    assert all(("CKV2_AWS_11", v) in passed for v in vpcs)
    assert all(("CKV2_AWS_12", v) in passed for v in vpcs)
    verdict = gate.evaluate(result, gate.load_waivers(gate.DEFAULT_WAIVERS), "dev")
    assert not verdict.unused_waivers
