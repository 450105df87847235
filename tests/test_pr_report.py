"""The pull-request comment: one per stack, with the property diff, both packs, the upstream
checks, Checkov, deploy time and cost with deltas, and the topology picture."""

from __future__ import annotations

import copy
import json

from tests.helpers import shipped
from tools.plan_json import dump
from tools.pr_report import report
from tools.topology import mermaid


def _plan_with_one_update():
    base = json.loads(dump(shipped("dev").doc))
    for s in base["steps"]:
        s["op"] = "same"
    step = next(s for s in base["steps"] if s["newState"]["type"] == "aws:kms/key:Key")
    old = copy.deepcopy(step["newState"])
    old["inputs"]["enableKeyRotation"] = True
    step["newState"]["inputs"]["enableKeyRotation"] = False
    step.update(op="update", oldState=old, diffReasons=["enableKeyRotation"],
                detailedDiff={"enableKeyRotation": {"kind": "update", "inputDiff": True}})
    base["changeSummary"] = {"update": 1, "same": len(base["steps"]) - 1}
    return base, step


def test_the_comment_has_every_section_with_the_property_level_change(tmp_path):
    plan, step = _plan_with_one_update()
    (tmp_path / "preview-dev.json").write_text(json.dumps(plan))
    (tmp_path / "policy-dev.json").write_text(json.dumps({
        "packs": ["global-platform-security", "global-platform-readiness"],
        "violations": [{"policyPackName": "global-platform-security", "policyName": "kms-key-rotation",
                        "resourceUrn": step["urn"], "enforcementLevel": "mandatory",
                        "message": "KMS keys rotate.\nthe KMS key does not rotate. Fix: set enableKeyRotation: true"}]}))
    (tmp_path / "upstream-dev.json").write_text(json.dumps([
        {"name": "iam", "findings": [], "waived": [{}, {}]},
        {"name": "pins", "findings": [{"urn": step["urn"], "path": "x", "message": "not a release"}], "waived": []}]))
    (tmp_path / "estimate-dev.json").write_text(json.dumps({
        "criticalPath": {"seconds": 1800, "resources": []},
        "monthlyCost": {"totalUsd": 2345.6, "byRegion": {"ap-northeast-2": 2000.0, "ap-southeast-1": 345.6},
                        "byType": {}, "unknown": []},
        "delta": {"criticalPathSeconds": 120, "monthlyUsd": -50.0}}))
    (tmp_path / "checkov-dev.json").write_text(json.dumps({"checkov_version": "3.3.30", "passed": 400, "failed": [],
                                                           "waived": [{"check_id": "CKV2_AWS_34"}]}))
    text = report("dev", tmp_path)
    assert text.startswith("<!-- global-platform:dev -->")
    assert f"~ update {step['urn'].rsplit('::', 1)[-1]} [aws:kms/key:Key]" in text
    assert "    ~ enableKeyRotation: true => false" in text
    assert "**global-platform-security: FAIL** (1 mandatory, 0 advisory)" in text
    assert "**global-platform-readiness: PASS** (0 mandatory, 0 advisory)" in text
    assert "| security | kms-key-rotation | mandatory |" in text
    assert "**Upstream-model checks: FAIL** iam 0 (+2 waived), pins 1" in text
    assert "**Checkov 3.3.30: PASS** (400 passed, 0 failed, 1 waived)" in text
    assert ("**Deploy critical path of this plan** 30 min · **monthly list price** $2,346 "
            "(-50 USD/month against the base branch)") in text
    assert "```mermaid\nflowchart LR" in text


def test_a_plan_pulumi_up_would_refuse_says_so_first(tmp_path):
    plan, step = _plan_with_one_update()
    plan["diagnostics"] = [{"urn": step["urn"], "severity": "error", "message": "the plan would replace a protected"
                                                                               " resource"}]
    (tmp_path / "preview-dev.json").write_text(json.dumps(plan))
    text = report("dev", tmp_path)
    assert "**Checkov: not run**" in text  # a missing result is never a pass
    assert "`pulumi up` would refuse this plan** (1)" in text
    assert text.index("would refuse") < text.index("What changes")


def test_topology_of_prod_draws_regions_peerings_and_on_prem_links():
    text = mermaid(json.loads(dump(shipped("prod").doc)))
    assert 'subgraph ap_northeast_2["ap-northeast-2 · hub"]' in text
    assert 'subgraph us_west_2["us-west-2 · spoke"]' in text
    assert 'apne2_vpc["VPC 10.0.0.0/16"]' in text
    assert text.count("<-->|peering|") == 3  # mesh of three regions
    assert "onprem_seoul_dc ---|VPN, BGP 65010| apne2_tgw" in text
    assert "onprem_seoul_dc ===|Direct Connect| apne2_tgw" in text
    assert "onprem_tokyo_dc ---|VPN, BGP 65020| apne1_tgw" in text
