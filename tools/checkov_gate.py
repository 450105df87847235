"""Checkov on an exported Terraform plan, with the project's waivers: one verdict line.

    python -m tools.checkov_gate --tfplan FILE [--waivers checkov-waivers.yaml] [--stack NAME]
                                 [--checkov BIN | --checkov-json FILE] [--json OUT]

Runs ``checkov -f FILE --framework terraform_plan -o json --skip-download`` as a subprocess
(or reads a result it wrote before, ``--checkov-json``), applies the waivers and prints
``checkov <version> <file>: passed P, failed F, waived W`` and then each failure no waiver
covers. Exit 0 when every failure is waived, 1 when one is not, 2 on an error: checkov did
not run or parse the plan (parsing errors, no resources), or the waiver file is wrong.

Waivers (checkov-waivers.yaml at the repository root)::

    waivers:
      - check: CKV2_AWS_34                       # one Checkov id
        resources: ["aws_ssm_parameter.*-waf-arn"]  # fnmatch patterns on the resource address
        stacks: [dev, prod]                      # optional: only these stacks (--stack)
        reason: why the check does not apply here, citing upstream documentation
        references: ["https://..."]              # optional

A waiver without a check, a resource pattern or a reason is an error, and so is one that
applies to this run (its stacks include --stack, or it names none) but matches no failure:
a waiver outlives its finding only by mistake.

Checkov's own install: it pins boto3, packaging, cloudsplaining and schema below the
versions requirements.lock needs, so it lives in its own virtualenv (default
``build/checkov-venv/bin/checkov``, else ``checkov`` on PATH, or ``--checkov`` / $CHECKOV).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from tools.cli import Parser, quiet_on_closed_pipe

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_WAIVERS = PROJECT_DIR / "checkov-waivers.yaml"
DEFAULT_CHECKOV = PROJECT_DIR / "build" / "checkov-venv" / "bin" / "checkov"
WAIVER_KEYS = {"check", "resources", "stacks", "reason", "references"}
TIMEOUT = 900


class GateError(Exception):
    """The gate cannot give a verdict: exit 2 with this message."""


@dataclass
class Waiver:
    check: str
    resources: list[str]
    reason: str
    stacks: Optional[list[str]] = None
    references: list[str] = field(default_factory=list)
    index: int = 0
    used: int = 0

    def applies_to(self, stack: Optional[str]) -> bool:
        return self.stacks is None or (stack is not None and stack in self.stacks)

    def covers(self, check_id: str, resource: str) -> bool:
        return check_id == self.check and any(fnmatch.fnmatchcase(resource, p) for p in self.resources)

    def label(self) -> str:
        return f"waiver #{self.index + 1} ({self.check} {', '.join(self.resources)})"


@dataclass
class Finding:
    check_id: str
    check_name: str
    resource: str
    waiver: Optional[Waiver] = None


@dataclass
class Verdict:
    version: str
    passed: int
    failed: list[Finding]
    unused_waivers: list[Waiver]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.failed if f.waiver]

    @property
    def unwaived(self) -> list[Finding]:
        return [f for f in self.failed if not f.waiver]


# -- waivers -------------------------------------------------------------------------------
def load_waivers(path: Path) -> list[Waiver]:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise GateError(f"{path}: waiver file not found") from None
    except yaml.YAMLError as err:
        raise GateError(f"{path}: not valid YAML ({err})") from None
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("waivers", []), list) or set(doc) - {"waivers"}:
        raise GateError(f"{path}: expected a mapping with one key, 'waivers', holding a list")
    out = []
    for i, raw in enumerate(doc.get("waivers") or []):
        where = f"{path}: waiver #{i + 1}"
        if not isinstance(raw, dict):
            raise GateError(f"{where}: expected a mapping")
        unknown = set(raw) - WAIVER_KEYS
        if unknown:
            raise GateError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        check = raw.get("check")
        if not isinstance(check, str) or not check.strip():
            raise GateError(f"{where}: needs 'check' (a Checkov id such as CKV_AWS_297)")
        reason = raw.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise GateError(f"{where} ({check}): needs a 'reason' saying why the check does not apply")
        resources = raw.get("resources")
        if isinstance(resources, str):
            resources = [resources]
        if (not isinstance(resources, list) or not resources
                or not all(isinstance(r, str) and r.strip() for r in resources)):
            raise GateError(f"{where} ({check}): needs 'resources', a list of address patterns")
        stacks = raw.get("stacks")
        if stacks is not None and (not isinstance(stacks, list) or not stacks
                                   or not all(isinstance(s, str) and s for s in stacks)):
            raise GateError(f"{where} ({check}): 'stacks' must be a non-empty list of stack names")
        refs = raw.get("references") or []
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise GateError(f"{where} ({check}): 'references' must be a list of strings")
        out.append(Waiver(check.strip(), [r.strip() for r in resources], reason.strip(), stacks, refs, i))
    return out


# -- checkov -------------------------------------------------------------------------------
def find_checkov(explicit: Optional[str]) -> str:
    for cand in (explicit, os.environ.get("CHECKOV")):
        if cand:
            return cand
    if DEFAULT_CHECKOV.exists():
        return str(DEFAULT_CHECKOV)
    found = shutil.which("checkov")
    if found:
        return found
    raise GateError(f"checkov not found: create {DEFAULT_CHECKOV.parent.parent} (see the module docstring), "
                    "put checkov on PATH, or pass --checkov")


def run_checkov(checkov: str, tfplan: Path) -> dict:
    cmd = [checkov, "-f", str(tfplan), "--framework", "terraform_plan", "-o", "json", "--skip-download"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise GateError(f"cannot run {checkov}") from None
    except subprocess.TimeoutExpired:
        raise GateError(f"checkov did not finish within {TIMEOUT} s") from None
    # checkov exits 1 when checks fail: the JSON on stdout is the result either way.
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise GateError(f"checkov exited {proc.returncode} without a JSON result:\n{tail}") from None


def _report(result: Any) -> dict:
    """The terraform_plan report of checkov's JSON (a dict, or a list with one per framework)."""
    reports = result if isinstance(result, list) else [result]
    for r in reports:
        if isinstance(r, dict) and r.get("check_type", "terraform_plan") == "terraform_plan":
            return r
    raise GateError("checkov's JSON has no terraform_plan report")


def evaluate(result: Any, waivers: list[Waiver], stack: Optional[str] = None) -> Verdict:
    report = _report(result)
    summary = report.get("summary") or {}
    if summary.get("parsing_errors"):
        raise GateError(f"checkov could not parse the plan ({summary['parsing_errors']} parsing errors)")
    if not summary.get("resource_count") and "results" not in report:
        raise GateError("checkov found no resources in the plan: nothing was checked")
    results = report.get("results") or {}
    failed = [Finding(f.get("check_id", "?"), f.get("check_name", ""), f.get("resource", "?"))
              for f in results.get("failed_checks") or []]
    passed = len(results.get("passed_checks") or [])
    active = [w for w in waivers if w.applies_to(stack)]
    for w in active:
        w.used = 0
    for f in failed:
        for w in active:
            if w.covers(f.check_id, f.resource):
                f.waiver = w
                w.used += 1
                break
    unused = [w for w in active if not w.used]
    failed.sort(key=lambda f: (f.check_id, f.resource))
    return Verdict(str(summary.get("checkov_version", "?")), passed, failed, unused)


def lines(verdict: Verdict, tfplan: str) -> list[str]:
    out = [f"checkov {verdict.version} {tfplan}: passed {verdict.passed}, "
           f"failed {len(verdict.unwaived)}, waived {len(verdict.waived)}"]
    for f in verdict.unwaived:
        out.append(f"  FAIL {f.check_id} {f.resource}: {f.check_name}")
    return out


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = Parser(prog="python -m tools.checkov_gate", description=__doc__.splitlines()[0])
    p.add_argument("--tfplan", type=Path, required=True, metavar="FILE", help="tools.export_tfplan output")
    p.add_argument("--waivers", type=Path, metavar="FILE",
                   help=f"waiver file (default {DEFAULT_WAIVERS.name} at the repository root, if present)")
    p.add_argument("--stack", help="stack name, for waivers limited to some stacks")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--checkov", metavar="BIN", help="checkov executable")
    src.add_argument("--checkov-json", type=Path, metavar="FILE", help="use this checkov JSON result, do not run checkov")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the verdict as JSON")
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    quiet_on_closed_pipe()
    args = parse_args(argv)
    try:
        waiver_path = args.waivers or (DEFAULT_WAIVERS if DEFAULT_WAIVERS.exists() else None)
        waivers = load_waivers(waiver_path) if waiver_path else []
        if args.checkov_json:
            try:
                result = json.loads(args.checkov_json.read_text())
            except (OSError, json.JSONDecodeError) as err:
                raise GateError(f"{args.checkov_json}: cannot read checkov JSON ({err})") from None
        else:
            if not args.tfplan.exists():
                raise GateError(f"{args.tfplan}: not found")
            result = run_checkov(find_checkov(args.checkov), args.tfplan)
        verdict = evaluate(result, waivers, args.stack)
    except GateError as err:
        print(f"checkov_gate: {err}", file=sys.stderr)
        return 2
    for line in lines(verdict, str(args.tfplan)):
        print(line)
    if args.json:
        args.json.write_text(json.dumps({
            "checkov_version": verdict.version, "passed": verdict.passed,
            "failed": [vars(f) | {"waiver": None} for f in verdict.unwaived],
            "waived": [{"check_id": f.check_id, "resource": f.resource, "reason": f.waiver.reason}
                       for f in verdict.waived],
        }, indent=1, sort_keys=True) + "\n")
    if verdict.unused_waivers:
        for w in verdict.unused_waivers:
            print(f"checkov_gate: {w.label()} matches no failure in this run: remove it or fix its "
                  "patterns", file=sys.stderr)
        return 2
    return 1 if verdict.unwaived else 0


if __name__ == "__main__":
    sys.exit(main())
