"""Markdown for a pull request: one stack's plan diff and policy verdict.

    python -m tools.pr_report STACK BUILD_DIR

Reads BUILD_DIR/preview-STACK.json (with --baseline ops) and BUILD_DIR/policy-STACK.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

MAX_ROWS = 60
SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def report(stack: str, build: Path) -> str:
    lines = [f"<!-- global-platform:{stack} -->", f"### `{stack}`: offline plan and policy check"]
    try:
        preview = json.loads((build / f"preview-{stack}.json").read_text())
    except (OSError, json.JSONDecodeError):
        return "\n".join(lines + ["", "No plan: the offline preview failed (see the job log)."]) + "\n"
    summary = preview.get("changeSummary", {})
    lines.append("")
    lines.append(" | ".join(f"**{op}** {n}" for op, n in summary.items()) or "no resources")
    changes = [s for s in preview["steps"] if s["op"] in SYMBOL]
    if changes and set(summary) != {"create"}:
        lines += ["", "<details><summary>Changes</summary>", "", "```diff"]
        for s in changes[:MAX_ROWS]:
            why = s.get("replaceReasons") or s.get("diffReasons") or []
            lines.append(f"{SYMBOL[s['op']]} {s['op']:<8} {s['urn'].split('::', 2)[2]}"
                         + (f"  [{', '.join(why)}]" if why else ""))
        if len(changes) > MAX_ROWS:
            lines.append(f"  ... and {len(changes) - MAX_ROWS} more")
        lines += ["```", "</details>"]
    try:
        violations = json.loads((build / f"policy-{stack}.json").read_text())["violations"]
    except (OSError, json.JSONDecodeError, KeyError):
        return "\n".join(lines + ["", "No policy verdict: the policy check failed (see the job log)."]) + "\n"
    mandatory = [v for v in violations if v["enforcementLevel"] == "mandatory"]
    verdict = "FAIL" if mandatory else "PASS"
    lines += ["", f"**Policy: {verdict}** ({len(mandatory)} mandatory, {len(violations) - len(mandatory)} advisory)"]
    if violations:
        lines += ["", "| policy | level | resource | message |", "|---|---|---|---|"]
        for v in violations[:MAX_ROWS]:
            message = v["message"].splitlines()[-1].replace("|", "\\|")
            lines.append(f"| {v['policyName']} | {v['enforcementLevel']} | `{v['resourceUrn'].rsplit('::', 1)[-1]}` "
                         f"| {message} |")
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
