"""The ``pulumi preview --json`` layout, built from an offline capture, and the baseline diff.

Layout (pulumi/pulumi display PreviewDigest): top-level ``config``, ``steps``,
``diagnostics``, ``changeSummary``; each step has ``op``, ``urn``, ``provider``,
``newState`` (an apitype ResourceV3) and, for updates/replaces/deletes, ``oldState``,
``diffReasons``, ``replaceReasons``, ``detailedDiff``. No timestamps or durations, and
steps are ordered by the plan itself (dependencies first, ties by URN) because the mock
runtime registers in an unstable order: the same stack gives a byte-identical file.
"""

from __future__ import annotations

import heapq
import json
from pathlib import Path
from typing import Any, Iterable, Optional

from components.aws_types import unknown_input_keys
from tools.offline import Capture, OfflineError, Registration
from tools.replace_rules import replace_keys

OPS = ("create", "update", "replace", "delete", "same")
# Ops of a real `pulumi preview` after which the resource no longer exists in that form.
GONE_OPS = frozenset({"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace",
                      "read-discard"})


def _new_state(reg: Registration) -> dict[str, Any]:
    return {
        "urn": reg.urn,
        "custom": reg.custom,
        "id": "",  # nothing exists yet: a preview has no ids for creates
        "type": reg.type,
        "inputs": reg.inputs,
        "outputs": {},
        "parent": reg.parent,
        "provider": reg.provider,
        "protect": reg.protect,
        "dependencies": reg.dependencies,
        "propertyDependencies": reg.property_dependencies,
        "retainOnDelete": reg.options.get("retainOnDelete", False),
        "deleteBeforeReplace": reg.options.get("deleteBeforeReplace", False),
        "ignoreChanges": reg.options.get("ignoreChanges", []),
        "replaceOnChanges": reg.options.get("replaceOnChanges", []),
        "additionalSecretOutputs": reg.options.get("additionalSecretOutputs", []),
        "aliases": reg.options.get("aliases", []),
        "customTimeouts": reg.options.get("customTimeouts", {}),
    }


def _prerequisites(state: dict[str, Any]) -> set[str]:
    deps = set(state.get("dependencies") or [])
    for urns in (state.get("propertyDependencies") or {}).values():
        deps.update(urns)
    if state.get("parent"):
        deps.add(state["parent"])
    if state.get("provider"):
        deps.add(state["provider"].rsplit("::", 1)[0])
    return deps


def order_states(states: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Topological order (everything a resource needs comes first), ties broken by URN."""
    by_urn = {s["urn"]: s for s in states}
    needs = {u: {d for d in _prerequisites(s) if d in by_urn and d != u} for u, s in by_urn.items()}
    users: dict[str, set[str]] = {u: set() for u in by_urn}
    for u, ds in needs.items():
        for d in ds:
            users[d].add(u)
    ready = [u for u, ds in needs.items() if not ds]
    heapq.heapify(ready)
    out = []
    while ready:
        u = heapq.heappop(ready)
        out.append(by_urn[u])
        for v in users[u]:
            needs[v].discard(u)
            if not needs[v]:
                heapq.heappush(ready, v)
    if len(out) != len(by_urn):  # a cycle cannot come from a real program; keep URN order
        seen = {s["urn"] for s in out}
        out += [by_urn[u] for u in sorted(by_urn) if u not in seen]
    return out


def build_preview(capture: Capture, baseline: Optional[dict] = None) -> dict[str, Any]:
    states = order_states(_new_state(r) for r in capture.registrations.values())
    for state in states:  # a real preview shows the stack's exports on the Stack resource
        if state["type"] == "pulumi:pulumi:Stack":
            state["outputs"] = capture.stack_outputs
    if baseline is None:
        steps = [_step("create", s) for s in states]
    else:
        steps = diff_steps(states, baseline)
    summary = {op: 0 for op in OPS}
    for step in steps:
        summary[step["op"]] += 1
    diagnostics = [{"urn": d.get("urn", ""), "message": d["message"], "severity": d["severity"]}
                   for d in capture.diagnostics]
    # What a provider's Check would catch and the mocks cannot: input keys unknown to its schema.
    for state in states:
        unknown = unknown_input_keys(state["type"], state["inputs"])
        if unknown:
            diagnostics.append({"urn": state["urn"], "severity": "warning",
                                "message": f"inputs not in the pulumi-aws schema: {', '.join(unknown)}"})
    return {
        "config": dict(sorted(capture.config.items())),
        "steps": steps,
        "diagnostics": [{**d, "prefix": f"{d['severity']}: "} for d in diagnostics],
        "changeSummary": {op: n for op, n in summary.items() if n},
        "maybeCorrupt": False,
    }


def _step(op: str, new: Optional[dict], old: Optional[dict] = None, **extra) -> dict[str, Any]:
    state = new if new is not None else old
    step = {"op": op, "urn": state["urn"], "provider": state.get("provider", "")}
    if old is not None:
        step["oldState"] = old
    if new is not None:
        step["newState"] = new
    step.update(extra)
    return step


def baseline_states(doc: dict) -> dict[str, dict]:
    """URN -> state a baseline preview says will exist after it runs."""
    out = {}
    for step in doc.get("steps", []):
        if step.get("op") in GONE_OPS:
            continue
        state = step.get("newState") or step.get("oldState")
        if isinstance(state, dict) and "urn" in state:
            out[state["urn"]] = state
    return out


def diff_steps(states: list[dict], baseline: dict) -> list[dict]:
    before = baseline_states(baseline)
    steps = []
    for new in states:
        old = before.get(new["urn"])
        if old is None:
            steps.append(_step("create", new))
            continue
        changed = _changed_keys(old.get("inputs") or {}, new.get("inputs") or {})
        provider_moved = _provider_urn(old) != _provider_urn(new)
        if not changed and not provider_moved:
            steps.append(_step("same", new, old))
            continue
        forced = sorted(set(changed) & (replace_keys(new["type"]) | set(new.get("replaceOnChanges") or [])))
        if provider_moved:
            forced.append("provider")
        detailed = {k: {"kind": _kind(old.get("inputs") or {}, new.get("inputs") or {}, k), "inputDiff": True}
                    for k in changed}
        if forced:
            steps.append(_step("replace", new, old, diffReasons=changed, replaceReasons=forced, detailedDiff=detailed))
        else:
            steps.append(_step("update", new, old, diffReasons=changed, detailedDiff=detailed))
    current = {s["urn"] for s in states}
    gone = order_states(s for u, s in before.items() if u not in current)
    # Deletes run dependents first, so reverse the dependency order.
    steps += [_step("delete", None, old) for old in reversed(gone)]
    return steps


def _provider_urn(state: dict) -> str:
    return (state.get("provider") or "").rsplit("::", 1)[0]


def _changed_keys(old: dict, new: dict) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _kind(old: dict, new: dict, key: str) -> str:
    if key not in old:
        return "add"
    if key not in new:
        return "delete"
    return "update"


def dump(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_preview_json(path: Path, what: str = "preview JSON") -> dict:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise OfflineError(f"{path}: {what} not found") from None
    except OSError as err:
        raise OfflineError(f"{path}: cannot read {what} ({err.strerror})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise OfflineError(f"{path}: {what} is not valid JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise OfflineError(f"{path}: {what} has no 'steps' list (expected `pulumi preview --json` output)")
    for i, step in enumerate(doc["steps"]):
        if not isinstance(step, dict) or not isinstance(step.get("urn"), str):
            raise OfflineError(f"{path}: steps[{i}] has no 'urn'")
    return doc
