"""`imports`: adopting existing resources with Pulumi's `import` option, through the real program
under the offline runtime (the stack transform, the preview's `import` steps), the config rules,
and the readiness rule that compares recorded attributes with the program's inputs."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.config import ConfigError, NAMESPACE, raw_from_engine_config
from components.config.imports import ID_FORMS
from components.imports import ADOPTION_TYPE, ImportTransform
from components.stack import build_stack_spec
from policy.readiness.checks.imports import REPLACE_ON
from tests.helpers import run, run_tool, shipped, stack_yaml, variant, plan_resource
from tools.plan_json import dump
from tools.replace_rules import replace_paths

VPC, SUBNET = "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet"
TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
VPC_ID, SUBNET_ID, TGW_ID = "vpc-0123456789abcdef0", "subnet-0123456789abcdef0", "tgw-0123456789abcdef0"

DEV_IMPORTS = {
    "apne2-vpc": VPC_ID,
    "apne2-workers-a": {"id": SUBNET_ID, "existing": {"cidrBlock": "10.16.0.0/20",
                                                      "availabilityZone": "ap-northeast-2a"}},
    "apne2-tgw": TGW_ID,
    # created by pulumi-eks inside its remote component: a real run only
    "apne2-eks-eksCluster": {"id": "legacy-dev-apne2", "type": "aws:eks/cluster:Cluster"},
}


@pytest.fixture(scope="module")
def dev_imported(tmp_path_factory):
    return run("dev", variant(tmp_path_factory.mktemp("imports"), "dev", imports=DEV_IMPORTS))


def steps_by_name(doc, typ):
    return {s["urn"].rsplit("::", 1)[-1]: s for s in doc["steps"] if s["newState"]["type"] == typ}


# -- the program --------------------------------------------------------------------------------
def test_shipped_stacks_adopt_nothing():
    for stack in ("dev", "prod", "airgap"):
        doc = shipped(stack).doc
        assert not [s for s in doc["steps"] if s["op"] in ("import", "import-replacement")]
        assert not [s for s in doc["steps"] if s["newState"]["type"] == ADOPTION_TYPE]


def test_imported_resources_are_import_steps_with_their_ids(dev_imported):
    doc = dev_imported.doc
    assert doc["changeSummary"]["import"] == 3
    assert doc["changeSummary"]["create"] == len(doc["steps"]) - 3
    for typ, name, rid in ((VPC, "apne2-vpc", VPC_ID), (SUBNET, "apne2-workers-a", SUBNET_ID),
                           (TGW, "apne2-tgw", TGW_ID)):
        step = steps_by_name(doc, typ)[name]
        assert step["op"] == "import" and step["newState"]["id"] == rid
    # only those: the same names in the other region, and other types, are created
    assert steps_by_name(doc, VPC)["apse1-vpc"]["op"] == "create"
    assert steps_by_name(doc, VPC)["apse1-vpc"]["newState"]["id"] == ""
    assert not [e for e in doc["diagnostics"] if e["severity"] == "error"]


def test_mocks_answer_with_the_imported_id(dev_imported):
    # what depends on the adopted VPC gets its real id, as after a real import
    subnet_b = next(r for r in dev_imported.of_type(SUBNET) if r.name == "apne2-workers-b")
    assert subnet_b.inputs["vpcId"] == VPC_ID
    assert dev_imported.by_id(TGW_ID).name == "apne2-tgw"


def test_the_transform_leaves_protect_as_the_program_says(tmp_path):
    base = shipped("prod")
    tgw = next(r for r in base.of_type(TGW) if r.name == "apne2-tgw")
    assert tgw.protect  # prod protects its transit gateways
    imported = run("prod", variant(tmp_path, "prod", imports={"apne2-tgw": TGW_ID, "apne2-vpc": VPC_ID}))
    for r in imported.regs.values():
        assert r.protect == base.regs[r.urn].protect if r.urn in base.regs else True
    step = steps_by_name(imported.doc, TGW)["apne2-tgw"]
    assert step["op"] == "import" and step["newState"]["protect"] is True


def test_adoption_record_holds_the_entries(dev_imported):
    record = next(s for s in dev_imported.doc["steps"] if s["newState"]["type"] == ADOPTION_TYPE)
    entries = record["newState"]["inputs"]["entries"]
    assert entries["apne2-workers-a"] == {"id": SUBNET_ID, "types": [SUBNET], "existing": {
        "cidrBlock": "10.16.0.0/20", "availabilityZone": "ap-northeast-2a"}}
    assert entries["apne2-vpc"]["existing"] == {}


def test_preview_text_lists_imports():
    proc = run_tool("tools.preview", "dev")  # shipped: no block
    assert "Existing resources adopted" not in proc.stdout


def test_preview_cli_shows_import_ops(tmp_path):
    path = variant(tmp_path, "dev", imports={"apne2-vpc": VPC_ID})
    proc = run_tool("tools.preview", "dev", "--stack-file", path, "--json", tmp_path / "p.json")
    assert proc.returncode == 0, proc.stderr
    assert f"= import   apne2-vpc  [{VPC}]  id {VPC_ID}" in proc.stdout
    assert "1 to import" in proc.stdout.splitlines()[-2]
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["changeSummary"]["import"] == 1


def test_a_name_the_program_never_registers_fails_the_preview(tmp_path):
    path = variant(tmp_path, "dev", imports={"apne2-subnet-workers-a": SUBNET_ID})
    proc = run_tool("tools.preview", "dev", "--stack-file", path, "--quiet")
    assert proc.returncode == 1
    assert "global-platform:imports.apne2-subnet-workers-a: the program registers no aws:ec2/subnet:Subnet " \
           "named 'apne2-subnet-workers-a'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_name_registered_with_another_type_is_not_imported(tmp_path):
    # apne2-vpc is a Vpc; a subnet id for it matches no registration
    r = run("dev", variant(tmp_path, "dev", imports={"apne2-vpc": SUBNET_ID}))
    assert not [s for s in r.doc["steps"] if s["op"] == "import"]
    errors = [d["message"] for d in r.doc["diagnostics"] if d["severity"] == "error"]
    assert len(errors) == 1 and "imports.apne2-vpc" in errors[0]


def test_baseline_created_then_imported_is_an_import_replacement(tmp_path, dev_imported):
    base = tmp_path / "base.json"
    base.write_text(dump(shipped("dev").doc))
    r = run("dev", variant(tmp_path, "dev", imports={"apne2-vpc": VPC_ID}), baseline=base)
    step = steps_by_name(r.doc, VPC)["apne2-vpc"]
    assert step["op"] == "import-replacement" and step["oldState"]["id"] == ""
    # once imported (the baseline holds the id), the same entry changes nothing
    again = tmp_path / "again.json"
    again.write_text(dump(r.doc))
    r2 = run("dev", variant(tmp_path, "dev", imports={"apne2-vpc": VPC_ID}), baseline=again)
    assert steps_by_name(r2.doc, VPC)["apne2-vpc"]["op"] == "same"


# -- the transform on its own --------------------------------------------------------------------
def _args(typ, name, custom=True, protect=None):
    return pulumi.ResourceTransformArgs(custom=custom, type_=typ, name=name, props={"a": 1},
                                        opts=pulumi.ResourceOptions(protect=protect))


def test_transform_matches_name_and_type_only():
    spec = build_stack_spec(_raw({"apne2-vpc": VPC_ID}))
    t = ImportTransform({n: s for n, s in _entries(spec).items()})
    assert t(_args(SUBNET, "apne2-vpc")) is None
    assert t(_args("global-platform:network:RegionalNetwork", "apne2-vpc", custom=False)) is None
    out = t(_args(VPC, "apne2-vpc", protect=True))
    assert out.opts.import_ == VPC_ID and out.opts.protect is True and out.props == {"a": 1}


# -- bad config -----------------------------------------------------------------------------------
def _raw(imports):
    cfg = {k: (json.dumps(v) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v))
           for k, v in stack_yaml("dev")["config"].items()}
    cfg[f"{NAMESPACE}:imports"] = json.dumps(imports)
    return raw_from_engine_config(cfg)


def _entries(spec):
    from components.config.imports import entries
    return entries(spec.config)


def _issues(imports) -> list[str]:
    with pytest.raises(ConfigError) as err:
        build_stack_spec(_raw(imports))
    return [str(i) for i in err.value.issues]


@pytest.mark.parametrize("imports, key, words", [
    ({"apne2-vpc": "vpc-XYZ"}, "apne2-vpc", "has no known id form"),
    ({"apne2-vpc": "vpc-0123"}, "apne2-vpc", "has no known id form"),
    ({"apne2-vpc": {"id": VPC_ID, "type": SUBNET}}, "apne2-vpc", "is not an import id of aws:ec2/subnet:Subnet"),
    ({"apne2-eks-eksCluster": {"id": "-bad", "type": "aws:eks/cluster:Cluster"}}, "apne2-eks-eksCluster",
     "is not an import id of aws:eks/cluster:Cluster"),
    ({"apne2-eks-eksCluster": "legacy-dev"}, "apne2-eks-eksCluster", "give `{id: <name>, type: <type token>}`"),
    ({"euw1-vpc": VPC_ID}, "euw1-vpc", "every resource name starts with its region's short code"),
    ({"apne2-vpc": VPC_ID, "apse1-vpc": VPC_ID}, "apse1-vpc", "is already imported by imports.apne2-vpc"),
    ({"apne2-tgw-vpc": "tgw-attach-0123456789abcdef0", "apne2-peer-apse1": "tgw-attach-0123456789abcdef0"},
     "apne2-tgw-vpc", "is already imported by imports.apne2-peer-apse1"),
])
def test_bad_imports_name_the_key(imports, key, words):
    issues = _issues(imports)
    assert len(issues) == 1, issues
    assert issues[0].startswith(f"{NAMESPACE}:imports.{key}: ") and words in issues[0]


def test_unknown_type_is_refused():
    issues = _issues({"apne2-vpc": {"id": VPC_ID, "type": "aws:ec2/route:Route"}})
    assert len(issues) == 1 and "imports.apne2-vpc.type" in issues[0] and "cannot be imported here" in issues[0]


def test_bad_imports_stop_the_preview_before_anything_registers(tmp_path):
    path = variant(tmp_path, "dev", imports={"apne2-vpc": "vpc-nothex"})
    proc = run_tool("tools.preview", "dev", "--stack-file", path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{NAMESPACE}:imports.apne2-vpc: 'vpc-nothex' has no known id form" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ids_of_both_lengths_are_accepted():
    spec = build_stack_spec(_raw({"apne2-vpc": "vpc-0a1b2c3d", "apne2-workers-a": SUBNET_ID}))
    assert {n: s.id for n, s in _entries(spec).items()} == {"apne2-vpc": "vpc-0a1b2c3d",
                                                              "apne2-workers-a": SUBNET_ID}


# -- the readiness rule ---------------------------------------------------------------------------
def test_replace_on_copy_matches_the_replace_metadata():
    for typ in ID_FORMS:
        assert REPLACE_ON[typ] == {p.split(".", 1)[0] for p in replace_paths(typ)}, typ




_res = plan_resource

def _fired(pack, resources):
    out: dict[str, list[str]] = {}
    for d in pack.analyze_stack(resources, {}):
        out.setdefault(d.policyName, []).append(d.message)
    return out


def _record(existing, rid=VPC_ID, types=(VPC,), name="apne2-vpc"):
    return _res(ADOPTION_TYPE, "imports", {"entries": {name: {"id": rid, "types": list(types),
                                                              "existing": existing}}})


def test_rule_flags_a_replacing_difference(readiness_pack):
    vpc = _res(VPC, "apne2-vpc", {"cidrBlock": "10.16.0.0/18", "tags": {"Name": "dev-vpc"}})
    msgs = _fired(readiness_pack, [vpc, _record({"cidrBlock": "10.0.0.0/16"})])["import-inputs-match"]
    assert len(msgs) == 1
    assert "cidrBlock is '10.0.0.0/16' on the existing resource, the program sets '10.16.0.0/18'" in msgs[0]
    assert "cidrBlock forces replacement" in msgs[0]


def test_rule_is_quiet_when_inputs_match(readiness_pack):
    vpc = _res(VPC, "apne2-vpc", {"cidrBlock": "10.16.0.0/18", "tags": {"Name": "dev-vpc"}})
    record = _record({"cidrBlock": "10.16.0.0/18", "tags": {"Name": "dev-vpc"}})
    assert "import-inputs-match" not in _fired(readiness_pack, [vpc, record])


def test_rule_compares_tags_both_ways_and_says_they_do_not_replace(readiness_pack):
    vpc = _res(VPC, "apne2-vpc", {"cidrBlock": "10.16.0.0/18", "tags": {"Name": "dev-vpc", "owner": "p"}})
    msgs = _fired(readiness_pack, [vpc, _record({"tags": {"Name": "dev-vpc"}})])["import-inputs-match"]
    assert len(msgs) == 1 and "tags.owner is None on the existing resource, the program sets 'p'" in msgs[0]
    assert "forces replacement: once imported" not in msgs[0]


def test_rule_does_not_judge_unknown_values(readiness_pack):
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
    subnet = _res(SUBNET, "apne2-workers-a", {"vpcId": UNKNOWN_STRING_VALUE, "cidrBlock": "10.16.0.0/20"})
    record = _record({"vpcId": "vpc-0aaaaaaaaaaaaaaaa", "cidrBlock": "10.16.0.0/20"}, SUBNET_ID, (SUBNET,),
                     "apne2-workers-a")
    assert "import-inputs-match" not in _fired(readiness_pack, [subnet, record])


def test_rule_over_a_real_preview(dev_imported, tmp_path):
    """The subnet's recorded CIDR and AZ are the plan's: nothing to flag."""
    path = tmp_path / "p.json"
    path.write_text(dump(dev_imported.doc))
    proc = run_tool("tools.policy_check", "--preview-json", path, "--stack", "dev")
    assert "import-inputs-match" not in proc.stdout, proc.stdout


def test_preview_warns_as_the_engine_does_where_existing_differs(tmp_path, dev_imported):
    assert not [d for d in dev_imported.doc["diagnostics"] if "inputs to import" in d["message"]]
    r = run("dev", variant(tmp_path, "dev", imports={"apne2-vpc": {"id": VPC_ID, "existing": {
        "cidrBlock": "10.0.0.0/16", "enableDnsSupport": True}}}))
    warnings = [d for d in r.doc["diagnostics"] if "inputs to import" in d["message"]]
    assert len(warnings) == 1 and warnings[0]["severity"] == "warning"
    assert warnings[0]["urn"].endswith("::apne2-vpc")
    assert warnings[0]["message"].endswith("importing this resource will fail (differs at cidrBlock)")
