"""The offline preview: JSON layout, determinism, baseline diff, clean exit."""

import json

import pytest

from tests.helpers import PROJECT_DIR, run, run_tool, shipped, variant
from tools.offline import ProgramError, load_stack_file, run_program
from tools.plan_json import dump


def _cli(*args):
    return run_tool("tools.preview", *args, timeout=180)


def test_json_has_the_pulumi_preview_layout():
    doc = shipped("dev").doc
    assert set(doc) >= {"config", "steps", "diagnostics", "changeSummary"}
    assert "duration" not in doc and "time" not in json.dumps(doc["changeSummary"])
    assert doc["changeSummary"] == {"create": len(doc["steps"])}
    stack_urn = "urn:pulumi:dev::global-platform::pulumi:pulumi:Stack::global-platform-dev"
    urns = {s["urn"] for s in doc["steps"]}
    assert stack_urn in urns
    providers = [s for s in doc["steps"] if s["newState"]["type"] == "pulumi:providers:aws"]
    assert sorted(p["newState"]["inputs"]["region"] for p in providers) == ["ap-northeast-2", "ap-southeast-1"]
    for step in doc["steps"]:
        new = step["newState"]
        assert {"type", "inputs", "parent", "provider", "dependencies", "protect", "custom", "urn"} <= set(new), step["urn"]
        assert step["op"] == "create" and new["urn"] == step["urn"]
        if new["type"] != "pulumi:pulumi:Stack":
            assert new["parent"] in urns, f"{step['urn']} has a parent outside the plan"
        if new["type"].startswith("aws:"):
            assert new["provider"].rsplit("::", 1)[0] in {p["urn"] for p in providers}, step["urn"]


def test_steps_come_after_everything_they_depend_on():
    doc = shipped("prod").doc
    seen = set()
    for step in doc["steps"]:
        new = step["newState"]
        needs = set(new["dependencies"]) | {new["parent"]} - {""}
        if new["provider"]:
            needs.add(new["provider"].rsplit("::", 1)[0])
        assert needs <= seen, f"{step['urn']} comes before {needs - seen}"
        seen.add(step["urn"])


def test_references_in_inputs_are_plain_ids_not_wire_signatures():
    text = json.dumps(shipped("prod").doc)
    assert "4dabf18193072939515e22adb298388d" not in text
    subnet = shipped("prod").of_type("aws:ec2/subnet:Subnet")[0]
    assert subnet.inputs["vpcId"].startswith("vpc-")


def test_two_runs_give_byte_identical_json():
    assert dump(run("prod").doc) == dump(run("prod").doc)


def test_mocks_answer_like_aws_not_echoes():
    r = shipped("prod")
    key = r.of_type("aws:kms/key:Key")[0]
    assert key.outputs["arn"].startswith(f"arn:aws:kms:{r.region_of(key)}:123456789012:key/")
    role = r.of_type("aws:iam/role:Role")[0]
    assert role.outputs["arn"] == f"arn:aws:iam::123456789012:role/{role.id}"
    eip = r.of_type("aws:ec2/eip:Eip")[0]
    assert eip.id.startswith("eipalloc-") and eip.outputs["publicIp"].count(".") == 3
    accepter = "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter"
    ids = [(x.type, x.id) for x in r.regs.values() if x.type.startswith("aws:") and x.type != accepter]
    assert len(ids) == len(set(ids)), "two resources of one type share an id"
    # As in AWS, a peering accepter's id is the attachment's own id.
    attachments = {a.id for a in r.of_type("aws:ec2transitgateway/peeringAttachment:PeeringAttachment")}
    assert {a.id for a in r.of_type(accepter)} == attachments and len(attachments) == 3


def _write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(dump(doc))
    return path


def test_baseline_marks_create_update_replace_delete_same(tmp_path):
    base = _write(tmp_path, "base.json", shipped("dev").doc)
    changed = variant(tmp_path, "dev", owner="payments-platform",  # update: tags everywhere
                      network={"flowLogRetentionDays": 60,           # update on the log groups
                               "endpoints": ["ecr.api", "sts", "ssm"]},  # create ssm, delete ecr.dkr
                      regions=[{"name": "ap-northeast-2", "role": "hub", "cidr": "10.17.0.0/18"},  # replace VPC
                               {"name": "ap-southeast-1", "role": "spoke", "cidr": "10.16.64.0/18"}])
    doc = run("dev", changed, base).doc
    ops = {(s["urn"].split("::")[2].split("$")[-1], s["urn"].rsplit("::", 1)[1]): s for s in doc["steps"]}
    vpc = ops[("aws:ec2/vpc:Vpc", "apne2-vpc")]
    assert vpc["op"] == "replace" and vpc["replaceReasons"] == ["cidrBlock"], vpc
    assert vpc["oldState"]["inputs"]["cidrBlock"] == "10.16.0.0/18"
    log_groups = [s for s in doc["steps"] if s["urn"].split("::")[2].endswith("aws:cloudwatch/logGroup:LogGroup")]
    assert {s["op"] for s in log_groups} == {"update"}  # every one: the owner tag changed
    retention = [s for s in log_groups if "retentionInDays" in s["diffReasons"]]
    assert len(retention) == 5  # 2 flow logs, 1 VPN and 2 WAF logs follow flowLogRetentionDays; EKS logs do not
    assert ops[("aws:ec2/vpcEndpoint:VpcEndpoint", "apne2-vpce-ssm")]["op"] == "create"
    gone = ops[("aws:ec2/vpcEndpoint:VpcEndpoint", "apne2-vpce-ecr-dkr")]
    assert gone["op"] == "delete" and "newState" not in gone and gone["oldState"]["inputs"]["serviceName"].endswith("ecr.dkr")
    spoke_vpc = ops[("aws:ec2/vpc:Vpc", "apse1-vpc")]
    assert spoke_vpc["op"] == "update" and spoke_vpc["diffReasons"] == ["tags"]
    assert ops[("pulumi:pulumi:Stack", "global-platform-dev")]["op"] == "same"
    summary = doc["changeSummary"]
    assert summary["create"] >= 2 and summary["delete"] >= 2 and summary["replace"] >= 1 and summary["same"] >= 1


def test_baseline_of_itself_is_all_same(tmp_path):
    base = _write(tmp_path, "base.json", shipped("dev").doc)
    doc = run("dev", None, base).doc
    assert doc["changeSummary"] == {"same": len(doc["steps"])}


def test_bad_config_inside_the_program_registers_nothing(tmp_path):
    """The program's own check (what a real `pulumi up` runs) stops before any resource."""
    path = variant(tmp_path, "dev", regions=[{"name": "ap-northeast-2", "role": "spoke"}])
    with pytest.raises(ProgramError) as info:
        run_program(PROJECT_DIR, load_stack_file(PROJECT_DIR, "dev", path))
    assert "global-platform:regions: exactly one region must have role 'hub'" in str(info.value)
    assert {r.type for r in info.value.registrations.values()} <= {"pulumi:pulumi:Stack"}


def test_cli_prints_plan_writes_json_and_exits_cleanly(tmp_path):
    out = tmp_path / "dev.json"
    proc = _cli("dev", "--json", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", f"noise on stderr: {proc.stderr!r}"
    assert "ap-northeast-2 (hub)  VPC 10.16.0.0/18  [pinned]" in proc.stdout
    n = len(shipped("dev").doc["steps"])
    assert f"stack dev: {n} resources; {n} to create" in proc.stdout
    assert json.loads(out.read_text())["steps"]


def test_cli_baseline_prints_the_changes(tmp_path):
    base = _write(tmp_path, "base.json", shipped("dev").doc)
    changed = variant(tmp_path, "dev", network={"flowLogRetentionDays": 60})
    proc = _cli("dev", "--stack-file", changed, "--baseline", base)
    assert proc.returncode == 0, proc.stderr
    assert "~ update   apne2-flow-logs  [aws:cloudwatch/logGroup:LogGroup]" in proc.stdout, proc.stdout
    assert "      ~ retentionInDays: 30 => 60" in proc.stdout


def test_a_real_previews_replacement_steps_count_as_the_new_state():
    from tools.plan_json import baseline_states
    doc = {"steps": [
        {"op": "create-replacement", "urn": "u", "newState": {"urn": "u", "inputs": {"cidrBlock": "new"}}},
        {"op": "delete-replaced", "urn": "u", "oldState": {"urn": "u", "inputs": {"cidrBlock": "old"}}},
    ]}
    assert baseline_states(doc)["u"]["inputs"] == {"cidrBlock": "new"}


def test_shipped_stacks_preview_without_diagnostics():
    for stack in ("dev", "prod", "airgap", "org"):
        assert shipped(stack).doc["diagnostics"] == [], stack
