"""How the offline preview scales with regions, against the SDK floor.

The generated stacks are prod's settings (3 AZs, NAT per AZ, database tier, mesh peering,
Direct Connect + VPNs, Resolver, EKS + ArgoCD, SLOs, chaos, Karpenter, KEDA, schedules, WAF)
over 1..16 regions, so peerings grow as n(n-1)/2.

    python -m benchmarks.preview_scaling [--regions 1,2,4,8,16] [--repeat 3]

For each size a fresh child process generates a config of N regions, runs the real
program under the mock runtime and builds the preview JSON (best of --repeat, after one warm-up run), then
registers the same number of bare resources under the same mocks and recorder (the
floor: what the SDK costs with no program at all). Prints resources, wall time, ms per
resource, peak RSS and the ratio to the floor. Target: ratio <= 1.3, flat ms/resource.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Regions whose mocked zones number at least three (us-west-1 has two).
REGIONS = ["ap-northeast-2", "ap-northeast-1", "us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
           "ap-southeast-1", "ap-southeast-2", "ap-south-1", "sa-east-1", "eu-west-2", "eu-north-1",
           "us-east-2", "ca-central-1", "eu-west-3", "ap-northeast-3"]


def stack_config(n: int) -> dict:
    base = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    regions = [{"name": r, "role": "hub" if i == 0 else "spoke"} for i, r in enumerate(REGIONS[:n])]
    cfg = dict(base)
    cfg["global-platform:environment"] = "stage"  # stage: unpinned blocks allowed, planned by the tool
    cfg["global-platform:regions"] = regions
    net = dict(base["global-platform:network"])
    net.update(supernet="10.0.0.0/8", reservedCidrs=["10.100.0.0/15"])
    cfg["global-platform:network"] = net
    # prod's connectivity (mesh, DX + VPNs, Resolver), with ASNs derived for any region set.
    conn = dict(base["global-platform:connectivity"])
    names = {r["name"] for r in regions}
    conn["transitGateway"] = {"baseAsn": 4200000000}
    conn["onPrem"] = [s for s in conn["onPrem"] if all(
        link["region"] in names for link in (s.get("vpn"), s.get("directConnect")) if link)]
    conn["resolver"] = {**conn["resolver"], "dnsServers": ["10.100.0.2"]}
    cfg["global-platform:connectivity"] = conn
    # prod's SLOs on every region's ALB, and its chaos scenarios (cross-region needs two regions).
    slos = []
    for slo in base["global-platform:slos"]:
        slo = dict(slo)
        if "loadBalancers" in slo:
            slo["loadBalancers"] = {r["name"]: f"app/bench-web/{i:016x}" for i, r in enumerate(regions)}
        slos.append(slo)
    cfg["global-platform:slos"] = slos
    chaos = dict(base["global-platform:chaos"])
    chaos["scenarios"] = [{k: v for k, v in sc.items() if k != "regions"} for sc in chaos["scenarios"]
                          if n > 1 or sc["scenario"] != "cross-region-connectivity"]
    for sc in chaos["scenarios"]:
        sc.get("parameters", {}).pop("peerRegion", None)
    cfg["global-platform:chaos"] = chaos
    return {"config": cfg}


BARE_PROGRAM = """
import pulumi
N = int(pulumi.Config().require("n"))
for i in range(N):
    pulumi.CustomResource("bench:index:Bare", f"r{i}", {"index": i})
"""

# The same payload as the real program (each resource's type, name and plain inputs),
# registered flat with no program logic: separates what the SDK charges for the size of
# the inputs from what our program adds on top.
REPLAY_PROGRAM = """
import json, pulumi
for typ, name, inputs in json.load(open("payload.json")):
    pulumi.CustomResource(typ, name, inputs)
"""


def _best_preview(project_dir: Path, stack: str, stack_path: Optional[Path], repeat: int):
    """Best wall time of run_program + build_preview over `repeat` runs after one warm-up run
    (imports and caches), and the last run's capture and preview."""
    from tools.offline import load_stack_file, run_program
    from tools.plan_json import build_preview

    best = float("inf")
    for attempt in range(repeat + 1):
        t0 = time.perf_counter()
        capture = run_program(project_dir, load_stack_file(project_dir, stack, stack_path))
        doc = build_preview(capture)
        if attempt:
            best = min(best, time.perf_counter() - t0)
    return best, capture, doc


def _time_project(folder: Path, program: str, config: dict, repeat: int, payload=None) -> float:
    """Best wall time of a throwaway project under the same offline runtime and JSON build."""
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text(f"name: {folder.name}\nruntime: python\n")
    (folder / "Pulumi.b.yaml").write_text(yaml.safe_dump({"config": config}))
    (folder / "__main__.py").write_text(program)
    if payload is not None:
        (folder / "payload.json").write_text(json.dumps(payload))
    return _best_preview(folder, "b", None, repeat)[0]


def one(n: int, repeat: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from tools.offline import shutdown_event_loop

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        stack_path = tmp / "Pulumi.bench.yaml"
        stack_path.write_text(yaml.safe_dump(stack_config(n)))
        best, cap, doc = _best_preview(ROOT, "bench", stack_path, repeat)
        count = len(doc["steps"])
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        floor = _time_project(tmp / "floor", BARE_PROGRAM, {"floor:n": count}, repeat)
        payload = [(r.type.replace("pulumi:providers:", "bench:providers:"), r.name, r.inputs)
                   for r in cap.registrations.values() if r.type != "pulumi:pulumi:Stack"]
        replay = _time_project(tmp / "replay", REPLAY_PROGRAM, {}, repeat, payload=payload)
        shutdown_event_loop()
    return {"regions": n, "resources": count, "seconds": best, "floor": floor, "replay": replay, "peak_mb": peak_mb}


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.preview_scaling")
    p.add_argument("--regions", default="1,2,4,8,16")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.repeat)))
        return 0
    print(f"{'regions':>7} {'resources':>9} {'wall s':>7} {'ms/res':>7} {'floor s':>8} {'ratio':>6} "
          f"{'replay s':>9} {'ratio':>6} {'peak MB':>8}")
    for n in [int(x) for x in args.regions.split(",")]:
        out = subprocess.run([sys.executable, "-m", "benchmarks.preview_scaling", "--one", str(n),
                              "--repeat", str(args.repeat)], cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['regions']:>7} {r['resources']:>9} {r['seconds']:>7.2f} {1000 * r['seconds'] / r['resources']:>7.2f} "
              f"{r['floor']:>8.2f} {r['seconds'] / r['floor']:>6.2f} {r['replay']:>9.2f} "
              f"{r['seconds'] / r['replay']:>6.2f} {r['peak_mb']:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
