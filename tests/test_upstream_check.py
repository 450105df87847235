"""The upstream-model runner: waivers (each with a reason), exit codes, one line per check, and
the shipped stacks with zero unexplained findings."""

from __future__ import annotations

import json
import sys
import types

import pytest

from tests.helpers import run_tool, shipped
from tools import upstream
from tools.plan_json import dump
from tools.upstream import Finding
from tools.upstream_check import Waiver, load_waivers, run_checks


@pytest.fixture
def fake_check(monkeypatch):
    module = types.ModuleType("tools.upstream.fake")
    module.NAME, module.DESCRIPTION = "fake", "finds one thing per resource named bad"
    module.check = lambda doc: [Finding("fake", s["urn"], "spec.x", "x is not allowed (upstream 1.0)")
                                for s in doc["steps"] if s["urn"].endswith("::bad")]
    monkeypatch.setitem(sys.modules, "tools.upstream.fake", module)
    monkeypatch.setattr(upstream, "CHECKS", ("fake",))
    monkeypatch.setattr(sys.modules["tools.upstream_check"], "CHECKS", ("fake",))
    return module


def _doc(*names):
    return {"steps": [{"op": "create", "urn": f"urn:pulumi:s::p::t::{n}", "newState": {"type": "t", "inputs": {}}}
                      for n in names]}


def test_findings_are_reported_unless_a_waiver_explains_them(fake_check):
    (r,) = run_checks(_doc("good", "bad"))
    assert [f.urn for f in r["findings"]] == ["urn:pulumi:s::p::t::bad"] and r["waived"] == []
    waiver = Waiver(check="fake", urn="*::bad", reason="accepted because upstream documents it")
    (r,) = run_checks(_doc("good", "bad"), waivers=(waiver,))
    assert r["findings"] == [] and len(r["waived"]) == 1
    # A waiver for another path does not hide it.
    (r,) = run_checks(_doc("bad"), waivers=(Waiver(check="fake", path="spec.y", reason="a different field"),))
    assert len(r["findings"]) == 1


@pytest.mark.parametrize("text, needle", [
    ("waivers: {}", "needs a top-level 'waivers' list"),
    ("waivers: [{check: iam}]", "waivers[0] needs a 'reason'"),
    ("waivers: [{check: iam, reason: 'too short'}]", "waivers[0] needs a 'reason'"),
    ("waivers: [{reason: 'a reason that explains it'}]", "waivers[0] needs a 'check'"),
    ("waivers: [{check: iam, reason: 'a reason that explains it', urm: x}]", "unknown key 'urm'"),
    ("waivers: [", "not valid YAML"),
])
def test_bad_waivers_are_one_clear_error(tmp_path, text, needle):
    from tools.offline import OfflineError
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(OfflineError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        load_waivers(path)


def test_cli_exit_codes(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_doc("x")))
    proc = run_tool("tools.upstream_check", "--preview-json", plan, "--check", "nosuch")
    assert proc.returncode == 2 and "no such check" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_tool("tools.upstream_check", "--preview-json", tmp_path / "missing.json")
    assert proc.returncode == 2 and "not found" in proc.stderr
    bad = tmp_path / "w.yaml"
    bad.write_text("waivers: [{check: iam}]")
    proc = run_tool("tools.upstream_check", "--preview-json", plan, "--waivers", bad)
    assert proc.returncode == 2 and "reason" in proc.stderr


@pytest.mark.parametrize("stack", ["dev", "prod", "airgap"])
def test_shipped_stacks_have_no_unexplained_upstream_finding(tmp_path, stack):
    plan = tmp_path / "plan.json"
    plan.write_text(dump(shipped(stack).doc))
    out = tmp_path / "findings.json"
    proc = run_tool("tools.upstream_check", "--preview-json", plan, "--json", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())
    assert [r["name"] for r in results] == [
        __import__(f"tools.upstream.{m}", fromlist=["NAME"]).NAME for m in upstream.CHECKS]
    assert len(proc.stdout.strip().splitlines()) == len(results), "one line per check"
