"""Policy check cost per resource against the bare Analyzer round trip, in the same run.

    python -m benchmarks.policy_check [--stack prod] [--repeat 3]

Starts our pack once, configures it as the engine would, then times (best of --repeat):
  check: one Analyze per resource of the stack's offline preview plus the AnalyzeStack call,
         with the properties, options and provider the engine sends;
  bare:  the same number of Analyze calls for an empty resource of a type no policy reads,
         i.e. the gRPC + pulumi_policy floor.
Target: check per resource at most 2x the bare round trip.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tools.offline import shutdown_event_loop
    from tools.policy_check import DEFAULT_PACK, AnalyzerPack, load_policy_config, resources_from_preview
    from tools.preview import preview

    p = argparse.ArgumentParser(prog="python -m benchmarks.policy_check")
    p.add_argument("--stack", default="prod")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()

    _, capture, doc = preview(args.stack)
    shutdown_event_loop()
    resources = [r for r in resources_from_preview(doc) if r["type"] != "pulumi:pulumi:Stack"]
    providers = {r["urn"]: r for r in resources if r["type"].startswith("pulumi:providers:")}
    bare = {"type": "bench:index:Noop", "inputs": {}, "urn": "urn:pulumi:b::b::bench:index:Noop::n", "name": "n"}
    t0 = time.perf_counter()
    with AnalyzerPack(DEFAULT_PACK) as pack:
        started = time.perf_counter() - t0
        pack.analyzer_info()
        pack.configure(load_policy_config(DEFAULT_PACK / "config" / f"{args.stack}.json"))
        check_best, bare_best, stack_best = float("inf"), float("inf"), float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            for r in resources:
                pack.analyze(r, providers)
            t_stack = time.perf_counter()
            pack.analyze_stack(resources, providers)
            done = time.perf_counter()
            check_best, stack_best = min(check_best, done - t), min(stack_best, done - t_stack)
            t = time.perf_counter()
            for _ in resources:
                pack.analyze(bare, {})
            bare_best = min(bare_best, time.perf_counter() - t)
    n = len(resources)
    print(f"stack {args.stack}: {n} resources; pack start {started:.2f} s")
    print(f"{'':24}{'total s':>9}{'ms/resource':>13}")
    print(f"{'check (Analyze+Stack)':24}{check_best:>9.3f}{1000 * check_best / n:>13.3f}")
    print(f"{'  of which AnalyzeStack':24}{stack_best:>9.3f}{1000 * stack_best / n:>13.3f}")
    print(f"{'bare Analyze round trip':24}{bare_best:>9.3f}{1000 * bare_best / n:>13.3f}")
    print(f"ratio check/bare: {check_best / bare_best:.2f} (target <= 2.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
