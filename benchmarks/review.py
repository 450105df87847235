"""The whole offline review of one stack, as a pull request runs it, step by step in fresh
processes (cold, like CI): the preview with a baseline diff, both policy packs (security and deploy
readiness), and the checks against upstream models.

    python -m benchmarks.review [--stack prod] [--repeat 3]

Prints the best wall time of each step over --repeat runs and the total. Target for prod:
well under 10 s on these machines (2 cores).
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
        base, plan = Path(tmp) / "base.json", Path(tmp) / "plan.json"
        subprocess.run([py, "-m", "tools.preview", args.stack, "--quiet", "--json", str(base)], cwd=ROOT,
                       check=True, capture_output=True)
        steps = {
            "preview + diff": [py, "-m", "tools.preview", args.stack, "--quiet", "--json", str(plan),
                               "--baseline", str(base)],
            "policy packs": [py, "-m", "tools.policy_check", "--preview-json", str(plan), "--stack", args.stack],
            "upstream checks": [py, "-m", "tools.upstream_check", "--preview-json", str(plan)],
        }
        total = 0.0
        for label, cmd in steps.items():
            seconds = best(cmd, args.repeat)
            total += seconds
            print(f"{label:<16} {seconds:6.2f} s")
    print(f"{'review total':<16} {total:6.2f} s  (stack {args.stack}; target well under 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
