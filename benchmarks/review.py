"""The whole offline review of one stack, as a pull request runs it, step by step in fresh
processes (cold, like CI): the preview with a baseline diff, both policy packs (security and deploy
readiness), and the checks against upstream models.

    python -m benchmarks.review [--stack prod] [--repeat 3]

Prints the best wall time of each step over --repeat runs and the total (preview and diff, both
packs, upstream checks, estimate, the comment): target for prod well under 10 s on these machines
(2 cores). Then the Terraform-plan export and Checkov (its own venv: `make checkov-venv`), apart.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def best(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode not in (0, 1):  # 1: mandatory violations, still a finished review
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return min(times)


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.review")
    p.add_argument("--stack", default="prod")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        base, plan = Path(tmp) / "base.json", Path(tmp) / f"preview-{args.stack}.json"
        subprocess.run([py, "-m", "tools.preview", args.stack, "--quiet", "--json", str(base)], cwd=ROOT,
                       check=True, capture_output=True)
        steps = {
            "preview + diff": [py, "-m", "tools.preview", args.stack, "--quiet", "--json", str(plan),
                               "--baseline", str(base)],
            "policy packs": [py, "-m", "tools.policy_check", "--preview-json", str(plan), "--stack", args.stack],
            "upstream checks": [py, "-m", "tools.upstream_check", "--preview-json", str(plan)],
            "estimate": [py, "-m", "tools.estimate", "--preview-json", str(plan), "--baseline", str(base)],
            "pr comment": [py, "-m", "tools.pr_report", args.stack, tmp],
        }
        scanners = {
            "tfplan export": [py, "-m", "tools.export_tfplan", "--preview-json", str(plan),
                              "--out", str(Path(tmp) / "tfplan.json")],
            "checkov": [py, "-m", "tools.checkov_gate", "--tfplan", str(Path(tmp) / "tfplan.json"),
                        "--stack", args.stack],
        }
        total = 0.0
        for label, cmd in steps.items():
            seconds = best(cmd, args.repeat)
            total += seconds
            print(f"{label:<16} {seconds:6.2f} s")
        print(f"{'review total':<16} {total:6.2f} s  (stack {args.stack}; target well under 10 s)")
        extra = 0.0
        for label, cmd in scanners.items():  # independent scanners: their own cost, reported apart
            seconds = best(cmd, args.repeat)
            extra += seconds
            print(f"{label:<16} {seconds:6.2f} s")
        print(f"{'with Checkov':<16} {total + extra:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
