"""python -m tools.adopt: the `imports` section from `terraform show -json` output and from AWS CLI
describe-* output (fixtures in tests/fixtures/adopt/, shaped as those commands print them: an
existing dev network in ap-northeast-2 that follows the shipped dev stack's address plan, plus a
subnet the plan does not have and a TGW peering attachment the tool does not adopt)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml

from tests.helpers import PROJECT_DIR, run, run_tool, stack_yaml
from tools import adopt

FIXTURES = Path(__file__).parent / "fixtures" / "adopt"
TF = FIXTURES / "terraform-show.json"
DESCRIBE = sorted(FIXTURES.glob("describe-*.json"))

EXPECTED = {
    "apne2-vpc": "vpc-0a1b2c3d4e5f60718",
    "apne2-workers-a": "subnet-0b1c2d3e4f5a60718",
    "apne2-workers-b": "subnet-0c1d2e3f4a5b60718",
    "apne2-public-a": "subnet-0d1e2f3a4b5c60718",
    "apne2-rt-public": "rtb-0aa11bb22cc33dd44",  # by its association with the public-a subnet
    "apne2-igw": "igw-0123abcd4567ef890",
    "apne2-tgw": "tgw-0f1e2d3c4b5a69788",
    "apne2-tgw-vpc": "tgw-attach-04c3b2a1908f7e6d5",
}
UNPLANNED_SUBNET = "subnet-0e1f2a3b4c5d60718"  # 10.16.60.0/24: not in the dev address plan


def call(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = adopt.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def from_terraform():
    return call("dev", "--terraform-show", TF)


@pytest.fixture(scope="module")
def from_describe():
    return call("dev", "--describe", *DESCRIBE)


def section(stdout: str) -> dict:
    return yaml.safe_load(stdout)["global-platform:imports"]


def test_fixtures_have_the_shapes_the_tools_print():
    tf = json.loads(TF.read_text())
    assert {"format_version", "values"} <= set(tf) and tf["values"]["root_module"]["child_modules"]
    for path in DESCRIBE:  # one botocore Describe*Result list each
        doc = json.loads(path.read_text())
        assert len(doc) == 1 and next(iter(doc)) in adopt.DESCRIBE_LISTS, path.name


@pytest.mark.parametrize("which", ["from_terraform", "from_describe"])
def test_matches_by_region_cidr_and_what_each_belongs_to(which, request):
    code, out, err = request.getfixturevalue(which)
    assert code == 0, err
    got = section(out)
    assert {k: v["id"] for k, v in got.items()} == EXPECTED
    assert got["apne2-workers-a"]["existing"]["cidrBlock"] == "10.16.0.0/20"
    assert got["apne2-workers-a"]["existing"]["availabilityZone"] == "ap-northeast-2a"
    assert got["apne2-tgw"]["existing"]["amazonSideAsn"] == 64758
    assert got["apne2-vpc"]["existing"]["tags"] == {"Name": "legacy-dev-vpc", "team": "network"}


@pytest.mark.parametrize("which, extra", [
    ("from_terraform", "rtbassoc-0f0e0d0c0b0a09080"),
    ("from_describe", "tgw-attach-0999888777666555a"),
])
def test_lists_every_existing_resource_it_could_not_match(which, extra, request):
    _, out, _ = request.getfixturevalue(which)
    unmatched = [line for line in out.splitlines() if line.startswith("# unmatched existing: ")]
    assert len(unmatched) == 2
    assert any(line.startswith(f"# unmatched existing: {UNPLANNED_SUBNET} ") and "CIDR 10.16.60.0/24" in line
               for line in unmatched)
    assert any(line.startswith(f"# unmatched existing: {extra} ") for line in unmatched)
    assert "# planned without an existing resource (will be created): apne2-public-b [aws:ec2/subnet:Subnet]" in out


def test_out_writes_the_section_and_the_preview_adopts_it(tmp_path):
    out = tmp_path / "imports.yaml"
    code, stdout, _ = call("dev", "--terraform-show", TF, "--out", out)
    assert code == 0 and stdout.startswith(f"wrote {out}")
    written = yaml.safe_load(out.read_text())
    doc = stack_yaml("dev")
    doc["config"].update(written)  # what a user does: paste it under `config:`
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    r = run("dev", stack_file)
    imported = {s["urn"].rsplit("::", 1)[-1]: s["newState"]["id"] for s in r.doc["steps"] if s["op"] == "import"}
    assert imported == EXPECTED
    assert not [d for d in r.doc["diagnostics"] if d["severity"] == "error"]
    # the recorded tags are not the platform's: the readiness rule says so, the CIDRs agree
    preview_json = tmp_path / "p.json"
    from tools.plan_json import dump
    preview_json.write_text(dump(r.doc))
    proc = run_tool("tools.policy_check", "--preview-json", preview_json, "--stack", "dev")
    assert "import-inputs-match" in proc.stdout
    assert "tags.Name is 'legacy-dev-vpc' on the existing resource, the program sets 'dev-vpc'" in proc.stdout
    assert "cidrBlock is" not in proc.stdout


def test_bad_input_is_one_message_and_exit_2(tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"Reservations": []}))
    cases = [
        (["dev", "--terraform-show", tmp_path / "missing.json"], "terraform show -json output not found"),
        (["dev", "--terraform-show", bad_json], "is not valid JSON (line 1"),
        (["dev", "--terraform-show", DESCRIBE[0]], "not `terraform show -json` output"),
        (["dev", "--describe", other], "not AWS CLI describe-* output this tool reads"),
        (["nostack", "--terraform-show", TF], "stack nostack does not preview: unknown stack 'nostack'"),
    ]
    for argv, words in cases:
        code, out, err = call(*argv)
        assert code == 2 and out == "", argv
        assert err.startswith("error: ") and words in err and err.count("\n") == 1, err


def test_cli_without_a_source_is_a_usage_error():
    proc = run_tool("tools.adopt", "dev")
    assert proc.returncode == 2 and "one of the arguments --terraform-show --describe is required" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_end_to_end_prints_pasteable_yaml():
    proc = run_tool("tools.adopt", "dev", "--describe", *[p.relative_to(PROJECT_DIR) for p in DESCRIBE])
    assert proc.returncode == 0, proc.stderr
    assert {k: v["id"] for k, v in section(proc.stdout).items()} == EXPECTED
