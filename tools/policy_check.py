"""Offline policy check: run CrossGuard packs exactly as the Pulumi engine does.

    python -m tools.policy_check --preview-json PATH [--stack STACK] [--json OUT]
                                 [--policy-pack DIR]... [--policy-pack-config PATH]...

Each pack is started as the engine starts it (a subprocess serving the Analyzer gRPC
protocol: ``python __main__.py`` for Python packs, ``node <main>`` for Node packs, by the
``runtime`` in its PulumiPolicy.yaml); it prints its port, gets ``GetAnalyzerInfo``, then
``Configure`` with the pack's initial config merged with the user's (``all`` expanded to every
policy without its own entry, one PolicyConfig per policy with a properties Struct), then one
``Analyze`` per resource and one ``AnalyzeStack`` with them all, each with the resource
options the engine sends. Exit 0: nothing mandatory violated; 1: something is; 2: bad input.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # A command-line process: the cyclic collector stays off from here (the imports included)
    # until tools.cli.exit_fast ends the process; see there. Never when imported.
    gc.disable()

import json
import os
import shutil
import subprocess
import sys
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from tools.cli import Parser, exit_fast, quiet_on_closed_pipe
from tools.offline import OfflineError
from tools.plan_json import GONE_OPS, load_preview_json

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PACK = PROJECT_DIR / "policy"  # the security guidelines
READINESS_PACK = PROJECT_DIR / "policy" / "readiness"  # what AWS and Kubernetes need first
DEFAULT_PACKS = (DEFAULT_PACK, READINESS_PACK)
LEVELS = {"advisory": 0, "mandatory": 1, "disabled": 2, "remediate": 3}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
START_TIMEOUT_S = 60


@dataclass
class Violation:
    policy_pack_name: str
    policy_name: str
    resource_urn: str
    message: str
    enforcement_level: str

    def as_json(self) -> dict:
        return {"policyPackName": self.policy_pack_name, "policyName": self.policy_name,
                "resourceUrn": self.resource_urn, "message": self.message,
                "enforcementLevel": self.enforcement_level}


# -- the pack as a subprocess ----------------------------------------------------------------
def pack_command(pack_dir: Path) -> list[str]:
    meta_path = pack_dir / "PulumiPolicy.yaml"
    try:
        meta = yaml.safe_load(meta_path.read_text()) or {}
    except FileNotFoundError:
        raise OfflineError(f"{pack_dir}: not a policy pack (no PulumiPolicy.yaml)") from None
    except yaml.YAMLError:
        raise OfflineError(f"{meta_path}: not valid YAML") from None
    runtime = meta.get("runtime")
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    if name == "python":
        venv = options.get("virtualenv")
        python = (pack_dir / venv / "bin" / "python") if venv else Path(sys.executable)
        return [str(python), str(pack_dir / "__main__.py")]
    if name == "nodejs":
        node = shutil.which("node")
        if node is None:
            raise OfflineError(f"{pack_dir}: a Node.js pack needs `node` on PATH")
        package = pack_dir / "package.json"
        main = "index.js"
        if package.is_file():
            main = json.loads(package.read_text()).get("main", main)
        if not (pack_dir / "node_modules").is_dir():
            raise OfflineError(f"{pack_dir}: run `npm install` in the pack first (no node_modules)")
        return [node, str(pack_dir / main)]
    raise OfflineError(f"{meta_path}: runtime {name!r} is not python or nodejs")


class AnalyzerPack:
    """One running pack and a gRPC client for it."""

    def __init__(self, pack_dir: Path):
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        self.pack_dir = Path(pack_dir).resolve()
        cmd = pack_command(self.pack_dir)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(cmd, cwd=self.pack_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env)
        port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self.info = None

    def _read_port(self) -> int:
        box: dict[str, Any] = {}

        def read() -> None:
            box["line"] = self.proc.stdout.readline()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        line = (box.get("line") or b"").decode().strip()
        if not line.isdigit():
            self.proc.kill()
            err = self.proc.stderr.read().decode(errors="replace").strip().splitlines()
            tail = err[-1] if err else "no output"
            raise OfflineError(f"{self.pack_dir}: the policy pack did not start ({tail})")
        return int(line)

    def analyzer_info(self):
        from google.protobuf import empty_pb2

        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
        return self.info

    def configure(self, user_config: dict[str, Any]) -> dict[str, str]:
        """Merge the pack's initial config with the user's as the engine does; returns the
        effective enforcement level per policy."""
        from google.protobuf import json_format, struct_pb2
        from pulumi.runtime.proto import analyzer_pb2

        info = self.info or self.analyzer_info()
        policies = [p.name for p in info.policies]
        default_level = {p.name: LEVEL_NAMES.get(p.enforcementLevel, "advisory") for p in info.policies}
        effective: dict[str, tuple[str, dict]] = {}
        initial_all = info.initialConfig["all"] if "all" in info.initialConfig else None
        for name in policies:
            # The pack's own initial config; its "all" applies to every policy without an entry.
            initial = info.initialConfig[name] if name in info.initialConfig else initial_all
            level = LEVEL_NAMES.get(initial.enforcementLevel, default_level[name]) if initial else default_level[name]
            props = json_format.MessageToDict(initial.properties) if initial and initial.HasField("properties") else {}
            effective[name] = (level, props)
        unknown = sorted(k for k in user_config if k != "all" and k not in effective)
        if unknown:
            raise OfflineError(f"policy config names policies this pack does not have: {', '.join(unknown)}")
        for name in policies:
            entry = user_config.get(name, user_config.get("all"))
            if entry is None:
                continue
            level, props = effective[name]
            if isinstance(entry, str):
                level = entry
            elif isinstance(entry, dict):
                level = entry.get("enforcementLevel", level)
                props = {**props, **{k: v for k, v in entry.items() if k != "enforcementLevel"}}
            if level not in LEVELS:
                raise OfflineError(f"policy config: {name}: enforcement level {level!r} is not one of {', '.join(LEVELS)}")
            effective[name] = (level, props)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in effective.items():
            struct = struct_pb2.Struct()
            struct.update(props)  # never unset: the Node server fails on a missing Struct
            request.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[level],
                                                                          properties=struct))
        self.stub.Configure(request, timeout=60)
        return {name: level for name, (level, _) in effective.items()}

    def analyze(self, resource: dict, providers: dict[str, dict]) -> list:
        from pulumi.runtime.proto import analyzer_pb2

        req = analyzer_pb2.AnalyzeRequest(
            type=resource["type"], properties=_struct(resource["inputs"]), urn=resource["urn"],
            name=resource["name"], options=_options(resource), provider=_provider(resource, providers))
        return list(self.stub.Analyze(req, timeout=120).diagnostics)

    def analyze_stack(self, resources: list[dict], providers: dict[str, dict]) -> list:
        from pulumi.runtime.proto import analyzer_pb2

        items = []
        for r in resources:
            deps = {k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                    for k, v in (r.get("propertyDependencies") or {}).items()}
            items.append(analyzer_pb2.AnalyzerResource(
                type=r["type"], properties=_struct(r["inputs"]), urn=r["urn"], name=r["name"],
                options=_options(r), provider=_provider(r, providers), parent=r.get("parent", ""),
                dependencies=r.get("dependencies") or [], propertyDependencies=deps))
        return list(self.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=items), timeout=300).diagnostics)

    def close(self) -> None:
        try:
            self.channel.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()

    def __enter__(self) -> "AnalyzerPack":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _struct(value: dict):
    from google.protobuf import struct_pb2

    s = struct_pb2.Struct()
    s.update(value or {})
    return s


def _options(r: dict):
    from pulumi.runtime.proto import analyzer_pb2

    timeouts = r.get("customTimeouts") or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(r.get("protect")), ignoreChanges=r.get("ignoreChanges") or [],
        deleteBeforeReplace=bool(r.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in r,
        additionalSecretOutputs=r.get("additionalSecretOutputs") or [],
        aliases=[a for a in r.get("aliases") or [] if isinstance(a, str)],
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            **{k: float(v) for k, v in timeouts.items() if k in ("create", "update", "delete", "read")
               and isinstance(v, (int, float))}),
        parent=r.get("parent", ""))


def _provider(r: dict, providers: dict[str, dict]):
    from pulumi.runtime.proto import analyzer_pb2

    urn = (r.get("provider") or "").rsplit("::", 1)[0]
    p = providers.get(urn)
    if p is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(type=p["type"], properties=_struct(p["inputs"]), urn=urn,
                                                 name=p["name"])


# -- reading a preview -----------------------------------------------------------------------
def resources_from_preview(doc: dict) -> list[dict]:
    """What the engine would analyze: the planned state of every resource that is not deleted."""
    out = []
    for step in doc["steps"]:
        # Steps that remove something (a real preview also has delete-replaced, discard, ...)
        # have no planned state; the engine does not analyze them either.
        if step.get("op") in GONE_OPS or not step.get("newState"):
            continue
        state = step["newState"]
        urn = step["urn"]
        out.append({
            "urn": urn, "type": state.get("type") or urn.split("::")[2].split("$")[-1],
            "name": urn.rsplit("::", 1)[-1], "inputs": state.get("inputs") or {},
            "parent": state.get("parent") or "", "provider": state.get("provider") or "",
            "protect": state.get("protect", False), "dependencies": state.get("dependencies") or [],
            "propertyDependencies": state.get("propertyDependencies") or {},
            "ignoreChanges": state.get("ignoreChanges") or [], "aliases": state.get("aliases") or [],
            "additionalSecretOutputs": state.get("additionalSecretOutputs") or [],
            "customTimeouts": state.get("customTimeouts") or {},
            "deleteBeforeReplace": state.get("deleteBeforeReplace", False),
        })
    return out


def run_pack(pack_dir: Path, resources: list[dict], user_config: dict) -> tuple[str, list[Violation], dict]:
    import grpc

    try:
        return _run_pack(pack_dir, resources, user_config)
    except grpc.RpcError as err:  # the pack crashed or refused a request: say which and why
        detail = err.details() if hasattr(err, "details") else str(err)
        raise OfflineError(f"{pack_dir}: the policy pack failed: {detail}") from None


def _run_pack(pack_dir: Path, resources: list[dict], user_config: dict) -> tuple[str, list[Violation], dict]:
    providers = {r["urn"]: r for r in resources if r["type"].startswith("pulumi:providers:")}
    with AnalyzerPack(pack_dir) as pack:
        info = pack.analyzer_info()
        levels = pack.configure(user_config)
        diags = []
        for r in resources:
            if r["type"] == "pulumi:pulumi:Stack":
                continue
            diags += [(d, r["urn"]) for d in pack.analyze(r, providers)]
        diags += [(d, d.urn) for d in pack.analyze_stack(resources, providers)]
    violations = [Violation(d.policyPackName or info.name, d.policyName, d.urn or urn, d.message,
                            LEVEL_NAMES.get(d.enforcementLevel, "advisory")) for d, urn in diags]
    return info.name, violations, levels


def load_policy_config(path: Optional[Path]) -> dict:
    if path is None:
        return {}
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise OfflineError(f"{path}: policy config not found") from None
    except json.JSONDecodeError as err:
        raise OfflineError(f"{path}: policy config is not valid JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(doc, dict):
        raise OfflineError(f"{path}: policy config must be a JSON object of policy name -> level or settings")
    return doc


def known_stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in PROJECT_DIR.glob("Pulumi.*.yaml"))


# -- CLI -------------------------------------------------------------------------------------
def parse_args(argv):
    p = Parser(prog="python -m tools.policy_check", description=__doc__.splitlines()[0])
    p.add_argument("--preview-json", type=Path, required=True, metavar="PATH",
                   help="our offline preview JSON or a real `pulumi preview --json`")
    p.add_argument("--stack", help="selects <pack>/config/<stack>.json for each pack that has one")
    p.add_argument("--policy-pack", type=Path, action="append", metavar="DIR",
                   help="a CrossGuard pack (Python or Node); repeatable; default: policy/ and policy/readiness/")
    p.add_argument("--policy-pack-config", type=Path, action="append", metavar="PATH",
                   help="config for the pack at the same position (like `pulumi preview`)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the violations as JSON")
    return p.parse_args(argv)


def render(pack_name: str, violations: list[Violation], levels: dict[str, str], resources: int) -> list[str]:
    by_rule: dict[str, list[Violation]] = defaultdict(list)
    for v in violations:
        by_rule[v.policy_name].append(v)
    mandatory = sum(1 for v in violations if v.enforcement_level == "mandatory")
    lines = [f"Policy pack {pack_name}: {len(levels)} policies, {resources} resources, "
             f"{len(violations)} violations ({mandatory} mandatory)"]
    for rule in sorted(by_rule):
        vs = by_rule[rule]
        lines.append(f"  {rule} [{vs[0].enforcement_level}] - {len(vs)}")
        for v in vs[:20]:
            lines.append(f"    {v.resource_urn}")
            # pulumi_policy sends "<description>\n<message>"; the message is what differs.
            lines.append(f"      {v.message.splitlines()[-1]}")
        if len(vs) > 20:
            lines.append(f"    ... and {len(vs) - 20} more")
    return lines


def main(argv: Optional[list[str]] = None) -> int:
    if argv is None:
        quiet_on_closed_pipe()
    args = parse_args(argv)
    try:
        doc = load_preview_json(args.preview_json)
        packs = args.policy_pack or list(DEFAULT_PACKS)
        configs = list(args.policy_pack_config or [])
        if len(configs) > len(packs):
            raise OfflineError("more --policy-pack-config than --policy-pack")
        if args.stack is not None and args.stack not in known_stacks():
            raise OfflineError(f"unknown stack '{args.stack}' (stacks: {', '.join(known_stacks())})")
        resources = resources_from_preview(doc)
        jobs = []
        for i, pack in enumerate(packs):
            cfg_path = configs[i] if i < len(configs) else None
            if cfg_path is None and args.stack and (pack / "config" / f"{args.stack}.json").is_file():
                cfg_path = pack / "config" / f"{args.stack}.json"
            if not pack.is_dir():
                raise OfflineError(f"{pack}: policy pack directory not found")
            jobs.append((pack, load_policy_config(cfg_path)))
        # Each pack is its own process (as under the engine): start and query them side by side.
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(pool.map(lambda job: run_pack(job[0], resources, job[1]), jobs))
        all_violations: list[Violation] = []
        report: list[str] = []
        for name, violations, levels in results:
            report += render(name, violations, levels, len(resources))
            all_violations += violations
    except OfflineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    mandatory = [v for v in all_violations if v.enforcement_level == "mandatory"]
    if args.json:  # before printing: a closed pipe must not lose it
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"packs": [name for name, _, _ in results],
                                             "violations": [v.as_json() for v in all_violations]}, indent=2) + "\n")
        except OSError as err:
            print(f"error: cannot write {args.json}: {err.strerror}", file=sys.stderr)
            return 2
    print("\n".join(report))
    print(f"{'FAIL' if mandatory else 'PASS'}: {len(mandatory)} mandatory, "
          f"{len(all_violations) - len(mandatory)} advisory violations")
    return 1 if mandatory else 0


if __name__ == "__main__":
    exit_fast(main())
