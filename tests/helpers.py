"""Run stacks through the real offline path and look at what they register."""

from __future__ import annotations

import copy
import subprocess
import sys
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from components.config import NAMESPACE
from tools.offline import Registration
from tools.preview import PROJECT_DIR, preview



@dataclass
class StackRun:
    spec: Any
    regs: dict[str, Registration]
    doc: dict

    def of_type(self, typ: str) -> list[Registration]:
        return sorted((r for r in self.regs.values() if r.type == typ), key=lambda r: r.urn)

    def region_of(self, reg: Registration) -> str:
        """The region a resource lands in, from its provider (never from its name)."""
        provider_urn = reg.provider.rsplit("::", 1)[0]
        return self.regs[provider_urn].inputs["region"]

    def by_id(self, rid: str) -> Optional[Registration]:
        return next((r for r in self.regs.values() if r.id == rid), None)


def stack_yaml(stack: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())


def deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        elif v is None:
            out.pop(k, None)
        else:
            out[k] = copy.deepcopy(v)
    return out


def variant(tmp_path: Path, base: str, **overrides: Any) -> Path:
    """A stack file like Pulumi.<base>.yaml with some top-level keys replaced or merged
    (None deletes a key)."""
    doc = stack_yaml(base)
    doc["config"] = deep_merge(doc["config"], {f"{NAMESPACE}:{k}": v for k, v in overrides.items()})
    path = tmp_path / f"Pulumi.{base}-variant.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_tool(module: str, *args: Any, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run one of the CLIs (e.g. tools.preview) as a user would, from the project root."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=timeout)


def run(stack: str, stack_path: Optional[Path] = None, baseline: Optional[Path] = None) -> StackRun:
    spec, capture, doc = preview(stack, PROJECT_DIR, baseline, stack_path)
    return StackRun(spec, capture.registrations, doc)


@functools.lru_cache(maxsize=None)
def shipped(stack: str) -> StackRun:
    """Each shipped stack runs once per test session."""
    return run(stack)


PLAN_STACK = "urn:pulumi:t::p::"


def plan_resource(typ: str, name: str, inputs: Optional[dict] = None, deps=(), prop: Optional[dict] = None,
                  provider: str = "") -> dict:
    """A resource as the engine sends it to a stack policy; `prop` maps an input key to the URNs
    it came from (one URN or a list), and they count as dependencies too."""
    prop = {k: [v] if isinstance(v, str) else list(v) for k, v in (prop or {}).items()}
    all_deps = sorted(set(deps) | {u for us in prop.values() for u in us})
    return {"type": typ, "name": name, "urn": f"{PLAN_STACK}{typ}::{name}", "inputs": inputs or {}, "parent": "",
            "provider": f"{provider}::id" if provider else "", "dependencies": all_deps,
            "propertyDependencies": prop}
