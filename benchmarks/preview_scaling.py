"""How the cold offline preview scales with regions, against the SDK's own floor.

    python -m benchmarks.preview_scaling [--regions 1,2,4,8,16] [--repeat 3]

The generated stacks are prod's settings (3 AZs, NAT per AZ, database tier, mesh peering,
Direct Connect + VPNs, Resolver, EKS + ArgoCD, SLOs, chaos, Karpenter, KEDA, schedules, WAF)
over 1..16 regions, so peerings grow as n(n-1)/2.

For each size, every figure comes from a fresh process, as CI and users run the tools:
  wall    `python -m tools.preview bench --stack-file ... --quiet --json ...`, the CLI itself
          (best of --repeat), and its peak RSS;
  reg     registration alone (the program under the mock runtime, in a fresh process that has
          already imported every module the program uses; no JSON build or dump), in ms per
          resource, against the floor's own registration;
  floor   a process that imports exactly the modules the preview loads, then registers the same
          resources (same types, names, parents and providers, so the same URNs; same property
          sets: every recorded input value, plain, plus as many unset output properties as the
          typed class declares) through the SDK's own MockMonitor with trivial mocks, under the
          same runtime settings (tools.offline.sdk_fast_path). No program logic (no outputs
          flowing between resources), no recorder, no JSON;
  json    building the preview document, and dumping it indented (what `--json` writes; with
          an indent the json module falls back to its pure-Python encoder) vs compact (C encoder).
Targets: wall <= 1.3x floor at every size; reg ms/resource flat from 1 to 16 regions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


# -- child modes -----------------------------------------------------------------------------
def preload(payload_path: Path) -> None:
    """Import the modules a preview loads (recorded by an earlier profile run), with the
    collector off as the CLI runs, so that what is timed next is registration alone."""
    import gc
    import importlib
    gc.disable()
    sys.path.insert(0, str(ROOT))
    for name in json.loads(payload_path.read_text())["modules"]:
        try:
            parts = name.split(".")
            if len(parts) == 2 and parts[0] == "pulumi_aws":
                continue  # every service is registered lazily at import; only those used get loaded
            if len(parts) > 2 and parts[0] == "pulumi_aws" and not parts[1].startswith("_"):
                # pulumi_aws loads its service packages lazily, on first attribute access; importing
                # their submodules by name leaves a package without its classes. Load it as the
                # program does, through an attribute, and let it import its own submodules.
                package = getattr(importlib.import_module("pulumi_aws"), parts[1], None)
                if package is not None:
                    hasattr(package, "__all__")
                continue
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that only imports as part of a package's init
            pass


def profile(stack_path: Path, payload_path: Path, preloaded: bool) -> dict:
    """One run of the preview's phases, and the floor's payload: the property set the SDK was
    handed for each resource (read at the SDK's register_resource) and the module list."""
    sys.path.insert(0, str(ROOT))
    import pulumi.resource as sdk_resource

    from tools.offline import load_stack_file, run_program, shutdown_event_loop
    from tools.plan_json import build_preview, dump

    handed: dict[tuple[str, str], list] = {}
    real_register = sdk_resource.register_resource

    def spy(res, ty, name, custom, remote, new_dependency, props, opts, *rest, **kw):
        handed.setdefault((ty, name), []).append((custom, remote, len(props or {})))
        return real_register(res, ty, name, custom, remote, new_dependency, props, opts, *rest, **kw)

    if not preloaded:
        sdk_resource.register_resource = spy
    stack_file = load_stack_file(ROOT, "bench", stack_path)
    t = time.perf_counter()
    capture = run_program(ROOT, stack_file)
    t_run = time.perf_counter() - t
    t = time.perf_counter()
    doc = build_preview(capture)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    dump(doc)
    t_indent = time.perf_counter() - t
    t = time.perf_counter()
    json.dumps(doc, sort_keys=True, ensure_ascii=False)
    t_compact = time.perf_counter() - t
    shutdown_event_loop()
    if not preloaded:
        resources = []
        for reg in capture.registrations.values():
            if reg.type == "pulumi:pulumi:Stack":
                continue
            custom, remote, n_props = handed[(reg.type, reg.name)].pop(0)
            props = dict(reg.inputs)
            props.update({f"_unset{i}": None for i in range(max(0, n_props - len(props)))})
            provider = reg.provider.rsplit("::", 1)[0] if reg.provider else ""
            parent = "" if reg.parent.split("::")[2] == "pulumi:pulumi:Stack" else reg.parent
            resources.append([reg.urn, reg.type, reg.name, bool(custom or remote), props, parent, provider])
        modules = [m for m in sys.modules if not m.startswith(("benchmarks", "__main__"))]  # in import order
        payload_path.write_text(json.dumps({"modules": modules, "resources": resources}))
    return {"resources": len(doc["steps"]), "run": t_run, "build": t_build, "indent": t_indent,
            "compact": t_compact}


def floor(payload_path: Path) -> dict:
    t0 = time.perf_counter()
    preload(payload_path)
    payload = json.loads(payload_path.read_text())
    import pulumi
    from pulumi.runtime import settings as rt_settings
    from pulumi.runtime.mocks import Mocks, set_mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from tools.offline import sdk_fast_path, shutdown_event_loop

    class Trivial(Mocks):
        def new_resource(self, args):
            return f"{args.name}-id", args.inputs

        def call(self, args):
            return {}

    rt_settings.ROOT.set(None)
    set_mocks(Trivial(), project="floor", stack="floor", preview=True)

    async def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for urn, typ, name, custom, props, parent, provider in payload["resources"]:
            opts = pulumi.ResourceOptions(parent=made.get(parent), provider=made.get(provider))
            if typ.startswith("pulumi:providers:"):
                made[urn] = pulumi.ProviderResource(typ.split(":")[-1], name, props, opts)
            elif custom:
                made[urn] = pulumi.CustomResource(typ, name, props, opts)
            else:
                made[urn] = pulumi.ComponentResource(typ, name, props, opts)

    t_import = time.perf_counter() - t0
    t = time.perf_counter()
    with sdk_fast_path():
        _sync_await(run_pulumi_func(program))
    t_run = time.perf_counter() - t
    shutdown_event_loop()
    return {"import": t_import, "run": t_run}


def _report(result: dict) -> int:
    """Print a child's figures, then leave as the CLI does (tools.cli.exit_fast), so the floor
    and the preview pay the same exit."""
    from tools.cli import exit_fast
    print(json.dumps(result))
    exit_fast(0)


# -- parent --------------------------------------------------------------------------------
def cold(cmd: list[str], repeat: int) -> tuple[float, float, str]:
    """Best wall time of a fresh process over `repeat` runs, its peak RSS in MB (reaped with
    wait4, which reports that child's own usage), and its stdout."""
    best, peak, out = float("inf"), 0.0, ""
    for _ in range(repeat):
        with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
            t = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=stdout, stderr=stderr)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t
            proc.returncode = os.waitstatus_to_exitcode(status)
            stdout.seek(0)
            stderr.seek(0)
            if proc.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{stderr.read()}")
            best, out = min(best, wall), stdout.read()
            peak = max(peak, usage.ru_maxrss / 1024)
    return best, peak, out


def one_size(n: int, repeat: int, tmp: Path) -> dict:
    stack_path, payload = tmp / f"Pulumi.bench{n}.yaml", tmp / f"payload{n}.json"
    stack_path.write_text(yaml.safe_dump(stack_config(n)))
    me = [sys.executable, "-m", "benchmarks.preview_scaling"]
    cold(me + ["--profile", str(stack_path), "--payload", str(payload)], 1)
    _, _, out = cold(me + ["--profile", str(stack_path), "--payload", str(payload), "--preload"], 1)
    prof = json.loads(out.strip().splitlines()[-1])
    wall, rss, _ = cold([sys.executable, "-m", "tools.preview", "bench", "--stack-file", str(stack_path),
                         "--quiet", "--json", str(tmp / "out.json")], repeat)
    floor_wall, floor_rss, out = cold(me + ["--floor", str(payload)], repeat)
    fl = json.loads(out.strip().splitlines()[-1])
    return {"regions": n, **prof, "wall": wall, "rss": rss, "floor": floor_wall, "floor_rss": floor_rss,
            "floor_run": fl["run"]}


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.preview_scaling")
    p.add_argument("--regions", default="1,2,4,8,16")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--profile", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--payload", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--preload", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.profile:
        if args.preload:
            preload(args.payload)
        return _report(profile(args.profile, args.payload, args.preload))
    if args.floor:
        return _report(floor(args.floor))
    print(f"{'regions':>7} {'resources':>9} {'wall s':>7} {'reg ms/res':>10} {'floor s':>8} "
          f"{'floor ms/res':>12} {'ratio':>6} {'peak MB':>8} {'floor MB':>8} {'build s':>8} "
          f"{'dump s':>7} {'compact s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.regions.split(",")]:
            r = one_size(n, args.repeat, Path(tmp))
            count = r["resources"]
            print(f"{n:>7} {count:>9} {r['wall']:>7.2f} {1000 * r['run'] / count:>10.2f} {r['floor']:>8.2f} "
                  f"{1000 * r['floor_run'] / count:>12.2f} {r['wall'] / r['floor']:>6.2f} {r['rss']:>8.0f} "
                  f"{r['floor_rss']:>8.0f} {r['build']:>8.2f} {r['indent']:>7.2f} {r['compact']:>9.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
