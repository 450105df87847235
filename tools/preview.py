"""Offline preview: the real program under Pulumi's mock runtime, no AWS, no Pulumi CLI.

    python -m tools.preview STACK [--json PATH] [--baseline PATH] [--project-dir DIR]

Prints the address plan and the resources by region and component; ``--json`` writes the
``pulumi preview --json`` layout; ``--baseline`` marks each step create / update /
replace / delete / same against an earlier JSON. Exit 0 on success, 2 on bad input
(config, arguments, JSON) with one clear message and nothing written.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # A command-line process: the cyclic collector stays off from here (the imports included)
    # until tools.cli.exit_fast ends the process; see there. Never when imported.
    gc.disable()

import argparse
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Optional

from components.config import ConfigError, raw_from_engine_config
from components.ipam import TIERS
from components.stack import StackSpec, build_stack_spec
from tools.cli import Parser, exit_fast, quiet_on_closed_pipe
from tools.offline import (Capture, OfflineError, ProgramError, load_stack_file, run_program,
                           shutdown_event_loop)
from tools.plan_json import build_preview, dump, load_preview_json
from tools.property_diff import diff as property_diff
from tools.property_diff import short

PROJECT_DIR = Path(__file__).resolve().parent.parent
PLATFORM_PROJECT = "global-platform"  # Pulumi.yaml name; bootstrap/ is global-platform-bootstrap
# As `pulumi preview` prints them (pulumi/pulumi pkg/resource/deploy/step.go, Prefix).
OP_SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " ", "import": "=",
             "import-replacement": "=>"}


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = Parser(prog="python -m tools.preview", description=__doc__.splitlines()[0])
    p.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the `pulumi preview --json` layout here")
    p.add_argument("--baseline", type=Path, metavar="PATH", help="earlier preview JSON to diff against")
    p.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="project root (holds Pulumi.yaml)")
    p.add_argument("--stack-file", type=Path, metavar="PATH", help="read this file instead of Pulumi.<stack>.yaml")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    return p.parse_args(argv)


def preview(stack: str, project_dir: Path = PROJECT_DIR, baseline_path: Optional[Path] = None,
            stack_path: Optional[Path] = None) -> tuple[Optional[StackSpec], Capture, dict]:
    """Validate, run and lay out one stack. Raises OfflineError / ConfigError / ProgramError."""
    stack_file = load_stack_file(project_dir, stack, stack_path)
    spec = None
    if stack_file.project == PLATFORM_PROJECT:
        # Validate before the runtime starts: the same check the program makes, so a bad config
        # never registers a resource and the message is identical online and offline. Other
        # projects (bootstrap/) validate in their program and fail with a RunError (ProgramError).
        spec = build_stack_spec(raw_from_engine_config(stack_file.engine_config),
                                f"config of stack '{stack}' ({stack_file.path.name})")
    baseline = load_preview_json(baseline_path, "baseline") if baseline_path else None
    capture = run_program(project_dir, stack_file)
    return spec, capture, build_preview(capture, baseline)


# -- text rendering ------------------------------------------------------------------------
def render_address_plan(spec: StackSpec) -> list[str]:
    cfg, plan = spec.config, spec.plan
    az = cfg.network.az_count
    lines = ["Address plan", f"  supernet {cfg.network.supernet}   reserved: "
             + (", ".join(map(str, cfg.network.reserved_cidrs)) or "none")]
    for region in sorted(cfg.regions, key=lambda r: r.name):
        vpc = plan[region.name]
        pin = "pinned" if vpc.pinned else f"unpinned: add `cidr: {vpc.cidr}` to freeze it"
        lines.append(f"  {region.name} ({region.role})  VPC {vpc.cidr}  [{pin}]")
        for tier in TIERS:
            if tier == "database" and not cfg.network.database_tier:
                label = "database (slots kept free)"
            else:
                label = tier
            cells = []
            for s in vpc.tier(tier):
                mark = "" if s.az_index < az else "*"
                cells.append(f"{s.az_letter}{mark} {s.cidr} ({s.usable})")
            lines.append(f"    {label:<27} " + "   ".join(cells))
    lines.append("    (* = AZ slot kept free for growth; usable addresses in brackets)")
    return lines


def _region_of(urn: str, regs: dict, cache: dict) -> str:
    if urn in cache:
        return cache[urn]
    reg = regs.get(urn)
    if reg is None or reg.type == "pulumi:pulumi:Stack":
        result = "(stack)"
    elif reg.type == "global-platform:platform:Region":
        result = next((r.inputs.get("region") for r in regs.values()
                       if r.parent == urn and r.type == "pulumi:providers:aws"), None) or reg.name
    elif reg.parent:
        result = _region_of(reg.parent, regs, cache)
    else:
        result = "(stack)"
    cache[urn] = result
    return result


def render_resources(capture: Capture) -> list[str]:
    regs = capture.registrations
    cache: dict[str, str] = {}
    by_region: dict[str, Counter] = defaultdict(Counter)
    components: dict[str, list[str]] = defaultdict(list)
    for urn, reg in regs.items():
        region = _region_of(urn, regs, cache)
        by_region[region][reg.type] += 1
        if not reg.custom and reg.type not in ("pulumi:pulumi:Stack", "global-platform:platform:Region"):
            components[region].append(f"{reg.type} {reg.name}")
    lines = ["Resources by region and component"]
    for region in sorted(by_region):
        counts = by_region[region]
        lines.append(f"  {region}: {sum(counts.values())} resources")
        for comp in sorted(components[region]):
            lines.append(f"    component {comp}")
        for typ, n in sorted(counts.items()):
            lines.append(f"    {n:>4}  {typ}")
    return lines


def change_lines(step: dict, indent: str = "      ", limit: int = 60) -> list[str]:
    """One line per changed input path: `path: old => new`, as `pulumi preview --diff` shows it."""
    old = (step.get("oldState") or {}).get("inputs") or {}
    new = (step.get("newState") or {}).get("inputs") or {}
    lines = []
    for path, (kind, before, after) in property_diff(old, new).items():
        mark = {"add": "+", "delete": "-"}.get(kind, "~")
        forced = "  (replaces)" if (step.get("detailedDiff") or {}).get(path, {}).get("kind", "").endswith(
            "-replace") else ""
        if kind == "add":
            lines.append(f"{indent}{mark} {path}: {short(after, limit)}{forced}")
        elif kind == "delete":
            lines.append(f"{indent}{mark} {path}: {short(before, limit)}{forced}")
        else:
            lines.append(f"{indent}{mark} {path}: {short(before, limit)} => {short(after, limit)}{forced}")
    return lines


def render_changes(doc: dict, capture: Optional[Capture] = None) -> list[str]:
    """Changes against the baseline, grouped by region and component, with each changed input."""
    steps = [s for s in doc["steps"] if s["op"] != "same"]
    if not any(s["op"] not in ("create", "import") for s in doc["steps"]):
        return []
    regs = capture.registrations if capture else {}
    cache: dict[str, str] = {}
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for step in steps:
        region = _region_of(step["urn"], regs, cache) if step["urn"] in regs else _region_from_urn(step["urn"])
        component = step["urn"].split("::")[2].split("$")[-2] if "$" in step["urn"].split("::")[2] else "(stack)"
        groups[(region, component)].append(step)
    lines = ["Changes against the baseline"]
    for (region, component), group in sorted(groups.items()):
        lines.append(f"  {region} / {component}")
        for step in group:
            why = step.get("replaceReasons") or []
            dbr = " (delete before replace)" if step.get("deleteBeforeReplace") else ""
            lines.append(f"    {OP_SYMBOL[step['op']]:>2} {step['op']:<8} {step['urn'].rsplit('::', 1)[-1]}"
                         f"  [{step['urn'].split('::')[2].split('$')[-1]}]" + (f"  replaced by {', '.join(why)}" if why else "")
                         + dbr)
            if step["op"] in ("update", "replace"):
                lines += change_lines(step)
    return lines


def render_imports(doc: dict) -> list[str]:
    """Resources the plan adopts (`imports`), as `pulumi preview` lists them: `= name [type] id`."""
    steps = [s for s in doc["steps"] if s["op"] in ("import", "import-replacement")]
    if not steps:
        return []
    lines = ["Existing resources adopted (imports)"]
    for step in steps:
        state = step["newState"]
        lines.append(f"  {OP_SYMBOL[step['op']]:>2} {step['op']:<8} {step['urn'].rsplit('::', 1)[-1]}  "
                     f"[{state['type']}]  id {state['id']}")
    return lines


def _region_from_urn(urn: str) -> str:
    """For resources only the baseline has: their name's region prefix (apne2-...)."""
    return urn.rsplit("::", 1)[-1].split("-", 1)[0]


def summary_line(stack: str, doc: dict) -> str:
    summary = doc["changeSummary"]
    parts = [f"{n} to {op}" if op != "same" else f"{n} unchanged" for op, n in summary.items()]
    return f"stack {stack}: {len(doc['steps'])} resources; " + (", ".join(parts) or "nothing")


def main(argv: Optional[list[str]] = None) -> int:
    if argv is None:
        quiet_on_closed_pipe()
    args = parse_args(argv)
    try:
        spec, capture, doc = preview(args.stack, args.project_dir.resolve(), args.baseline, args.stack_file)
    except (OfflineError, ConfigError, ProgramError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # a bug in the program, not bad input: say so, keep it short
        print(f"error: the program failed under the mock runtime: {type(err).__name__}: {err}\n"
              "(set GP_DEBUG=1 for the traceback)", file=sys.stderr)
        if os.environ.get("GP_DEBUG"):
            raise
        return 1
    finally:
        shutdown_event_loop()
    if args.json:  # written before anything is printed, so a closed pipe cannot lose it
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(dump(doc))
        except OSError as err:
            print(f"error: cannot write {args.json}: {err.strerror}", file=sys.stderr)
            return 2
    if not args.quiet:
        if spec is not None:
            cfg = spec.config
            print(f"global-platform: stack {args.stack} (environment {cfg.environment}, owner {cfg.owner}, "
                  f"hub {cfg.hub.name}, NAT {cfg.nat_mode}, egress {cfg.network.egress})\n")
        else:
            print(f"{capture.project}: stack {args.stack}\n")
        for block in (render_address_plan(spec) if spec is not None else [], render_resources(capture),
                      render_imports(doc), render_changes(doc, capture)):
            if block:
                print("\n".join(block) + "\n")
        for d in (d for d in doc["diagnostics"] if d["severity"] != "error"):  # errors: stderr, below
            print(f"{d['severity']}: {d['urn']}: {d['message']}" if d.get("urn") else f"{d['severity']}: {d['message']}")
    print(summary_line(args.stack, doc))
    if args.json:
        print(f"wrote {args.json}")
    refused = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    if refused:  # what the engine would refuse: the review fails, naming each resource
        for d in refused:
            print(f"error: {d['urn']}: {d['message']}", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    exit_fast(main())
