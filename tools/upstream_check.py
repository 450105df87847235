"""Check a plan's values against upstream models (AWS API models, IAM data, Kubernetes and CRD
schemas, chart values, pinned-fact lists): `make test` and `make preview` run it.

    python -m tools.upstream_check --preview-json PATH [--check NAME]... [--waivers PATH] [--json OUT]

Prints one line per check (findings, waived, how long it took), then every finding that no
waiver explains. Exit 0: no unexplained finding; 1: some; 2: bad input (arguments, JSON, waivers).
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    gc.disable()  # a command-line process, ended by exit_fast (see tools/cli.py)

import fnmatch
import importlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import yaml

from tools.cli import Parser, exit_fast, quiet_on_closed_pipe
from tools.offline import OfflineError
from tools.plan_json import load_preview_json
from tools.upstream import CHECKS, Finding

DEFAULT_WAIVERS = Path(__file__).resolve().parent / "upstream" / "waivers.yaml"


@dataclass(frozen=True)
class Waiver:
    """Known noise, explained: a finding matches when each given field matches (fnmatch)."""
    check: str
    reason: str
    urn: str = "*"
    path: str = "*"
    message: str = "*"

    def matches(self, f: Finding) -> bool:
        return (fnmatch.fnmatchcase(f.check, self.check) and fnmatch.fnmatchcase(f.urn, self.urn)
                and fnmatch.fnmatchcase(f.path, self.path) and fnmatch.fnmatchcase(f.message, self.message))


def load_waivers(path: Path) -> list[Waiver]:
    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise OfflineError(f"{path}: waivers file not found") from None
    except yaml.YAMLError as err:
        raise OfflineError(f"{path}: not valid YAML ({err.__class__.__name__})") from None
    entries = doc.get("waivers", []) if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise OfflineError(f"{path}: needs a top-level 'waivers' list")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("check"), str):
            raise OfflineError(f"{path}: waivers[{i}] needs a 'check'")
        if not isinstance(entry.get("reason"), str) or len(entry["reason"].strip()) < 10:
            raise OfflineError(f"{path}: waivers[{i}] needs a 'reason' that explains it")
        unknown = set(entry) - {"check", "reason", "urn", "path", "message"}
        if unknown:
            raise OfflineError(f"{path}: waivers[{i}] has unknown key '{sorted(unknown)[0]}'")
        out.append(Waiver(**entry))
    return out


def run_checks(doc: dict, names: Optional[list[str]] = None, waivers: tuple[Waiver, ...] = ()) -> list[dict]:
    """Each check's figures and findings: [{name, description, seconds, findings, waived}]."""
    results = []
    for module_name in CHECKS:
        module = importlib.import_module(f"tools.upstream.{module_name}")
        if names and module.NAME not in names:
            continue
        t = time.perf_counter()
        found = sorted(set(module.check(doc)), key=Finding.key)
        seconds = time.perf_counter() - t
        open_, waived = [], []
        for f in found:
            (waived if any(w.matches(f) for w in waivers) else open_).append(f)
        results.append({"name": module.NAME, "description": module.DESCRIPTION, "seconds": seconds,
                        "findings": open_, "waived": waived})
    return results


def parse_args(argv):
    p = Parser(prog="python -m tools.upstream_check", description=__doc__.splitlines()[0])
    p.add_argument("--preview-json", type=Path, required=True, metavar="PATH")
    p.add_argument("--check", action="append", metavar="NAME", help="run only this check (repeatable)")
    p.add_argument("--waivers", type=Path, default=DEFAULT_WAIVERS, metavar="PATH")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the findings as JSON here")
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    if argv is None:
        quiet_on_closed_pipe()
    args = parse_args(argv)
    try:
        doc = load_preview_json(args.preview_json)
        waivers = tuple(load_waivers(args.waivers))
    except OfflineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    known = []
    for module_name in CHECKS:
        known.append(importlib.import_module(f"tools.upstream.{module_name}").NAME)
    for name in args.check or []:
        if name not in known:
            print(f"error: --check {name}: no such check (checks: {', '.join(known)})", file=sys.stderr)
            return 2
    results = run_checks(doc, args.check, waivers)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([{**r, "findings": [asdict(f) for f in r["findings"]],
                                          "waived": [asdict(f) for f in r["waived"]]} for r in results],
                                        indent=2, sort_keys=True) + "\n")
    for r in results:
        status = "PASS" if not r["findings"] else "FAIL"
        print(f"{status} upstream {r['name']:<14} {len(r['findings'])} findings, {len(r['waived'])} waived "
              f"({r['seconds']:.2f} s): {r['description']}")
    for r in results:
        for f in r["findings"]:
            where = f"{f.urn} {f.path}".strip()
            print(f"  [{f.check}] {where}: {f.message}")
    return 1 if any(r["findings"] for r in results) else 0


if __name__ == "__main__":
    exit_fast(main())
