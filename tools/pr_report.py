"""One pull-request comment per stack: what changes (to the property), what both policy packs,
the upstream-model checks and Checkov say, what the deploy takes and costs (with the change), and
a picture of the stack's topology.

    python -m tools.pr_report STACK BUILD_DIR

Reads from BUILD_DIR whatever the pull-request workflow produced for STACK: preview-STACK.json
(with --baseline ops), policy-STACK.json, upstream-STACK.json, checkov-STACK.json,
estimate-STACK.json. A missing file is reported as "not run", never as a pass.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

from tools.preview import OP_SYMBOL, change_lines
from tools.topology import mermaid

MAX_RESOURCES = 80
MAX_FINDINGS = 40


def _load(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _where(urn: str) -> tuple[str, str]:
    """(region code, component type) of a URN: the name's prefix and the parent component."""
    typ = urn.split("::")[2]
    component = typ.split("$")[-2].split(":")[-1] if "$" in typ else "stack"
    return urn.rsplit("::", 1)[-1].split("-", 1)[0], component


def _changes(preview: dict) -> list[str]:
    steps = [s for s in preview["steps"] if s["op"] not in ("same", "create")] \
        if any(s["op"] != "create" for s in preview["steps"]) else []
    if not steps:
        return []
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for s in steps:
        groups[_where(s["urn"])].append(s)
    out = ["", "<details open><summary>What changes</summary>", "", "```diff"]
    shown = 0
    for (region, component), group in sorted(groups.items()):
        out.append(f"# {region} / {component}")
        for s in group:
            if shown == MAX_RESOURCES:
                break
            shown += 1
            why = f"  (replaced: {', '.join(s['replaceReasons'])})" if s.get("replaceReasons") else ""
            out.append(f"{OP_SYMBOL[s['op']]} {s['op']} {s['urn'].rsplit('::', 1)[-1]} "
                       f"[{s['urn'].split('::')[2].split('$')[-1]}]{why}")
            if s["op"] in ("update", "replace"):
                out += change_lines(s, indent="    ")
    if len(steps) > shown:
        out.append(f"... and {len(steps) - shown} more (see the plan artifact)")
    return out + ["```", "</details>"]


def _refused(preview: dict) -> list[str]:
    errors = [d for d in preview.get("diagnostics", []) if d.get("severity") == "error"]
    if not errors:
        return []
    out = ["", f"**:no_entry: `pulumi up` would refuse this plan** ({len(errors)}):"]
    out += [f"- `{d['urn'].rsplit('::', 1)[-1]}`: {d['message']}" for d in errors[:MAX_FINDINGS]]
    return out


def _packs(policy: Optional[dict]) -> list[str]:
    if policy is None:
        return ["", "**Policy packs: not run** (see the job log)"]
    by_pack: dict[str, list[dict]] = defaultdict(list)
    for v in policy.get("violations", []):
        by_pack[v["policyPackName"]].append(v)
    packs = policy.get("packs") or sorted(by_pack)
    out = [""]
    for pack in packs or ["global-platform-security", "global-platform-readiness"]:
        vs = by_pack.get(pack, [])
        mandatory = [v for v in vs if v["enforcementLevel"] == "mandatory"]
        out.append(f"**{pack}: {'FAIL' if mandatory else 'PASS'}** ({len(mandatory)} mandatory, "
                   f"{len(vs) - len(mandatory)} advisory)")
    rows = policy.get("violations", [])
    if rows:
        out += ["", "| pack | policy | level | resource | message |", "|---|---|---|---|---|"]
        for v in rows[:MAX_FINDINGS]:
            message = v["message"].splitlines()[-1].replace("|", "\\|")
            out.append(f"| {v['policyPackName'].split('-')[-1]} | {v['policyName']} | {v['enforcementLevel']} | "
                       f"`{v['resourceUrn'].rsplit('::', 1)[-1]}` | {message} |")
    return out


def _upstream(results: Optional[list]) -> list[str]:
    if results is None:
        return ["", "**Upstream-model checks: not run**"]
    failing = [r for r in results if r["findings"]]
    out = ["", f"**Upstream-model checks: {'FAIL' if failing else 'PASS'}** "
               + ", ".join(f"{r['name']} {len(r['findings'])}" + (f" (+{len(r['waived'])} waived)" if r["waived"] else "")
                           for r in results)]
    for r in failing:
        for f in r["findings"][:MAX_FINDINGS]:
            out.append(f"- `{r['name']}` `{f['urn'].rsplit('::', 1)[-1]}` {f['path']}: {f['message']}")
    return out


def _checkov(result: Optional[dict]) -> list[str]:
    """tools.checkov_gate --json: {checkov_version, passed, failed: [...], waived: [...]}."""
    if result is None:
        return ["", "**Checkov: not run**"]
    failures = result.get("failed", [])
    out = ["", f"**Checkov {result.get('checkov_version', '')}: {'FAIL' if failures else 'PASS'}** "
               f"({result.get('passed', 0)} passed, {len(failures)} failed, {len(result.get('waived', []))} waived)"]
    for f in failures[:MAX_FINDINGS]:
        out.append(f"- `{f.get('check_id')}` `{f.get('resource')}`: {f.get('check_name', '')}")
    return out


def _money(value: Optional[float]) -> str:
    return "unknown" if value is None else f"${value:,.0f}"


def _signed(value: float, unit: str) -> str:
    return f"{'+' if value >= 0 else '-'}{abs(value):,.0f}{unit}"


def _estimate(est: Optional[dict]) -> list[str]:
    """tools.estimate --json: this plan's critical path (its steps that do work) and the stack's
    monthly list price, with the change against the baseline's price."""
    if est is None:
        return ["", "**Deploy time and cost: not run**"]
    path, cost = est["criticalPath"], est["monthlyCost"]
    line = (f"**Deploy critical path of this plan** {_minutes(path['seconds'])} · **monthly list price** "
            f"{_money(cost.get('totalUsd'))}")
    delta = est.get("delta")
    if delta:
        line += f" ({_signed(delta.get('monthlyUsd', 0.0), ' USD/month')} against the base branch)"
    out = ["", line]
    if cost.get("byRegion"):
        out.append("by region: " + ", ".join(f"{r} {_money(v)}" for r, v in sorted(cost["byRegion"].items())))
    if cost.get("unknown"):
        out.append(f"incomplete: {len(cost['unknown'])} charges have no sourced list price (see the estimate artifact)")
    return out


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:,.0f} min" if seconds >= 60 else f"{seconds:,.0f} s"


def report(stack: str, build: Path) -> str:
    lines = [f"<!-- global-platform:{stack} -->", f"### `{stack}`: offline review"]
    preview = _load(build / f"preview-{stack}.json")
    if preview is None:
        return "\n".join(lines + ["", "No plan: the offline preview failed (see the job log)."]) + "\n"
    summary = preview.get("changeSummary", {})
    lines += ["", " | ".join(f"**{op}** {n}" for op, n in summary.items()) or "no resources"]
    lines += _refused(preview)
    lines += _changes(preview)
    lines += _packs(_load(build / f"policy-{stack}.json"))
    lines += _upstream(_load(build / f"upstream-{stack}.json"))
    lines += _checkov(_load(build / f"checkov-{stack}.json"))
    lines += _estimate(_load(build / f"estimate-{stack}.json"))
    lines += ["", "<details><summary>Topology</summary>", "", "```mermaid", mermaid(preview).rstrip(), "```",
              "</details>"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m tools.pr_report STACK BUILD_DIR", file=sys.stderr)
        return 2
    sys.stdout.write(report(args[0], Path(args[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
