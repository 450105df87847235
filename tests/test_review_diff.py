"""The offline diff with the engine's semantics, on stack variants a reviewer meets: a scaling
change, an ignored change, a replacing change, a protected replacement, a removed region."""

from __future__ import annotations

import copy

import pytest

from tests.helpers import run, run_tool, shipped, stack_yaml, variant
from tools.plan_json import diff_steps, dump, protect_errors
from tools.preview import change_lines


def _baseline(tmp_path, stack):
    path = tmp_path / f"base-{stack}.json"
    path.write_text(dump(shipped(stack).doc))
    return path


def _node_groups(stack, **changes):
    groups = copy.deepcopy(stack_yaml(stack)["config"]["global-platform:cluster"]["nodeGroups"])
    groups[0].update(changes)
    return {"nodeGroups": groups}


def _steps(r, op):
    return [s for s in r.doc["steps"] if s["op"] == op]


def test_a_scaling_change_is_an_update_with_the_old_and_new_value(tmp_path):
    r = run("prod", variant(tmp_path, "prod", cluster=_node_groups("prod", minSize=4)), _baseline(tmp_path, "prod"))
    updates = _steps(r, "update")
    assert updates and all(s["newState"]["type"] == "aws:eks/nodeGroup:NodeGroup" for s in updates)
    assert not _steps(r, "replace") and not _steps(r, "delete") and not _steps(r, "create")
    for s in updates:
        assert s["detailedDiff"] == {"scalingConfig.minSize": {"kind": "update", "inputDiff": True}}, s["urn"]
        assert change_lines(s) == ["      ~ scalingConfig.minSize: 3 => 4"]


def test_an_ignored_change_changes_nothing_and_keeps_the_old_value(tmp_path):
    # desiredSize is in the node groups' ignoreChanges (schedules own it): the engine keeps the
    # old value, so `pulumi up` changes nothing, and so does the offline diff.
    r = run("prod", variant(tmp_path, "prod", cluster=_node_groups("prod", desiredSize=9)), _baseline(tmp_path, "prod"))
    assert set(r.doc["changeSummary"]) == {"same"}
    for s in r.doc["steps"]:
        if s["newState"]["type"] == "aws:eks/nodeGroup:NodeGroup" and s["newState"]["inputs"]["scalingConfig"]["minSize"]:
            assert s["newState"]["inputs"]["scalingConfig"]["desiredSize"] == 6, s["urn"]


def test_a_change_at_a_force_new_path_replaces_and_says_why(tmp_path):
    r = run("dev", variant(tmp_path, "dev", cluster=_node_groups("dev", instanceTypes=["m7i.large"])),
            _baseline(tmp_path, "dev"))
    replaced = _steps(r, "replace")
    groups = [s for s in replaced if s["newState"]["type"] == "aws:eks/nodeGroup:NodeGroup"]
    assert groups and all(s["replaceReasons"] == ["instanceTypes"] for s in groups)
    assert all(s["detailedDiff"]["instanceTypes"]["kind"] == "update-replace" for s in groups)
    # The cascade: a schedule names the replaced group's ASG (ForceNew autoscalingGroupName), whose
    # name is unknown until the new group exists, so it is replaced too, as the engine shows.
    cascaded = [s for s in replaced if s not in groups]
    assert all(s["replaceReasons"] == ["autoscalingGroupName"] for s in cascaded), cascaded
    assert not [d for d in r.doc["diagnostics"] if d["severity"] == "error"], "dev protects nothing"


def test_replacing_a_protected_prod_resource_fails_the_review_naming_it(tmp_path):
    # The service range is ForceNew on the cluster (kubernetesServiceIpAddressRange), and prod
    # protects its clusters.
    path = variant(tmp_path, "prod", cluster={"serviceCidr": "172.21.0.0/16"})
    proc = run_tool("tools.preview", "prod", "--stack-file", path, "--baseline", _baseline(tmp_path, "prod"),
                    "--quiet", "--json", tmp_path / "plan.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for code in ("apne2", "apne1", "usw2"):
        assert (f"{code}-eks: the plan would replace a protected resource (replaced because "
                "kubernetesServiceIpAddressRange changed)") in proc.stderr, proc.stderr
    assert "pulumi state unprotect" in proc.stderr
    assert (tmp_path / "plan.json").exists(), "the plan is still written for the PR comment"


def test_removing_a_region_deletes_it_and_prod_refuses_its_protected_resources(tmp_path):
    cfg = copy.deepcopy(stack_yaml("prod")["config"])
    regions = [r for r in cfg["global-platform:regions"] if r["name"] != "us-west-2"]
    conn = {"transitGateway": {"amazonSideAsn": {"us-west-2": None}}}  # None deletes (deep_merge)
    slos = cfg["global-platform:slos"]
    for slo in slos:
        slo.get("loadBalancers", {}).pop("us-west-2", None)
    chaos = cfg["global-platform:chaos"]
    for sc in chaos["scenarios"]:
        if "regions" in sc:
            sc["regions"] = [x for x in sc["regions"] if x != "us-west-2"]
    path = variant(tmp_path, "prod", regions=regions, connectivity=conn, slos=slos, chaos=chaos)
    r = run("prod", path, _baseline(tmp_path, "prod"))
    deleted = _steps(r, "delete")
    base_usw2 = {s["urn"] for s in shipped("prod").doc["steps"] if s["urn"].rsplit("::", 1)[-1].startswith("usw2-")}
    assert base_usw2 <= {s["urn"] for s in deleted}
    # Elsewhere only what pointed at the region goes: routes to its VPC, its registry entry.
    others = [s["urn"].rsplit("::", 1)[-1] for s in deleted if s["urn"] not in base_usw2]
    assert others and all(any(m in n for m in ("10-2-0-0-16", "us-west-2", "usw2")) for n in others), others
    errors = [d for d in r.doc["diagnostics"] if d["severity"] == "error"]
    protected = {s["urn"] for s in deleted if s["oldState"]["protect"]}
    assert protected and {d["urn"] for d in errors} == protected
    assert any(u.endswith("::usw2-eks") for u in protected)


def _state(urn, inputs, **extra):
    return {"urn": urn, "type": "aws:ec2/subnet:Subnet", "inputs": inputs, "provider": "p::1", **extra}


def test_delete_before_replace_is_carried_and_ignore_changes_paths_use_the_engine_syntax():
    old = _state("urn:a", {"cidrBlock": "10.0.0.0/24", "tags": {"k": "1", "x.y": "a"}}, protect=False)
    new = _state("urn:a", {"cidrBlock": "10.0.1.0/24", "tags": {"k": "2", "x.y": "b"}}, deleteBeforeReplace=True,
                 ignoreChanges=['tags["x.y"]'])
    (step,) = diff_steps([new], {"steps": [{"op": "create", "urn": "urn:a", "newState": old}]})
    assert step["op"] == "replace" and step["deleteBeforeReplace"] is True
    assert set(step["detailedDiff"]) == {"cidrBlock", "tags.k"}
    assert step["newState"]["inputs"]["tags"]["x.y"] == "a"


def test_a_protected_delete_is_an_error_and_an_unprotected_one_is_not():
    steps = [{"op": "delete", "urn": "urn:p", "oldState": {"protect": True}},
             {"op": "delete", "urn": "urn:q", "oldState": {"protect": False}}]
    assert [e["urn"] for e in protect_errors(steps)] == ["urn:p"]


@pytest.mark.parametrize("value, shown", [("[secret]", "[secret]"), ("x" * 200, '"' + "x" * 58 + "…")])
def test_secrets_stay_secret_and_long_values_are_shortened(value, shown):
    step = {"op": "update", "oldState": {"inputs": {"v": "a"}}, "newState": {"inputs": {"v": value}}}
    assert change_lines(step) == [f'      ~ v: "a" => {shown}']
