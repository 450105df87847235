"""tools.policy_check runs a Node.js pack the same way as the Python one, side by side,
each pack's findings under its own name (as `pulumi preview --policy-pack A --policy-pack B`)."""

import hashlib
import json
import shutil
import subprocess

import pytest

from tests.helpers import PROJECT_DIR, run_tool, shipped
from tools.plan_json import dump

FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "node_pack"
BUILT = PROJECT_DIR / "build" / "node_pack"


@pytest.fixture(scope="module")
def node_pack():
    """The fixture pack with its npm dependencies (installed once, from the committed lock)."""
    assert shutil.which("node") and shutil.which("npm"), "Node.js and npm are needed for Node packs"
    lock = (FIXTURE / "package-lock.json").read_bytes()
    stamp = BUILT / f".installed-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not stamp.exists():
        shutil.rmtree(BUILT, ignore_errors=True)
        shutil.copytree(FIXTURE, BUILT)
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=BUILT, check=True,
                       capture_output=True, timeout=600)
        stamp.touch()
    return BUILT


def test_python_and_node_packs_report_under_their_own_names(node_pack, tmp_path):
    doc = json.loads(dump(shipped("dev").doc))
    step = next(s for s in doc["steps"] if s["newState"]["type"] == "aws:cloudwatch/logGroup:LogGroup")
    del step["newState"]["inputs"]["retentionInDays"]
    plan, out = tmp_path / "plan.json", tmp_path / "v.json"
    plan.write_text(json.dumps(doc))
    proc = run_tool("tools.policy_check", "--preview-json", plan, "--stack", "dev",
                    "--policy-pack", "policy", "--policy-pack", node_pack, "--json", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the Node pack's rule is mandatory
    found = {(v["policyPackName"], v["policyName"], v["enforcementLevel"], v["resourceUrn"])
             for v in json.loads(out.read_text())["violations"]}
    assert found == {("global-platform-security", "log-group-retention", "advisory", step["urn"]),
                     ("node-fixture", "log-group-retention-node", "mandatory", step["urn"])}
    assert "Policy pack node-fixture: 1 policies" in proc.stdout
