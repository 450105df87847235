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
from tools.property_diff import diff as property_diff
from tools.property_diff import ignore_changes, parse, under
from tools.replace_rules import conditional_paths, replace_paths

OPS = ("create", "import", "update", "replace", "import-replacement", "delete", "same")
# Ops of a real `pulumi preview` after which the resource no longer exists in that form.
GONE_OPS = frozenset({"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace",
                      "read-discard"})


def _new_state(reg: Registration) -> dict[str, Any]:
    return {
        "urn": reg.urn,
        "custom": reg.custom,
        "id": reg.import_id,  # a create has no id yet; an import shows the id it adopts
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
        steps = [_step("import" if s.get("id") and s.get("custom") else "create", s) for s in states]
    else:
        steps = diff_steps(states, baseline)
    summary = {op: 0 for op in OPS}
    for step in steps:
        summary[step["op"]] += 1
    diagnostics = [{"urn": d.get("urn", ""), "message": d["message"], "severity": d["severity"]}
                   for d in capture.diagnostics]
    diagnostics += protect_errors(steps) + maybe_replaced(steps) + unmatched_imports(states) + import_mismatches(steps)
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
    """Each new state against the baseline's, with the engine's semantics: ignored paths keep
    their old value before diffing (so the new state shows what `pulumi up` will keep), a change
    at a path the provider replaces on (or in replaceOnChanges, or a new provider) replaces,
    deleteBeforeReplace is carried, and replacing or deleting a protected resource is flagged
    (the engine refuses it; see protect_errors)."""
    before = baseline_states(baseline)
    steps = []
    replaced: set[str] = set()  # states come dependencies first, so one pass sees every cascade
    for new in states:
        old = before.get(new["urn"])
        importing = bool(new.get("custom") and new.get("id"))
        if old is None:
            steps.append(_step("import" if importing else "create", new))
            continue
        if importing and old.get("id") != new["id"]:
            # The engine (step_generator.go): a resource in state whose `import` id differs from
            # its id is replaced by the resource it imports, and the old one deleted after.
            replaced.add(new["urn"])
            steps.append(_step("import-replacement", new, old, replaceReasons=["id"]))
            continue
        old_inputs = old.get("inputs") or {}
        new = {**new, "inputs": ignore_changes(old_inputs, new.get("inputs") or {}, new.get("ignoreChanges") or [])}
        changes = property_diff(old_inputs, new["inputs"])
        # An input taken from a resource being replaced is unknown until the replacement exists
        # (a real preview shows `output<string>`): it changes, and replaces if the path does.
        for key, urns in (new.get("propertyDependencies") or {}).items():
            if replaced & set(urns) and key not in changes and key in old_inputs:
                changes[key] = ("update", old_inputs[key], "[unknown]")
        provider_moved = _provider_urn(old) != _provider_urn(new)
        if not changes and not provider_moved:
            steps.append(_step("same", new, old))
            continue
        roots = set(replace_paths(new["type"])) | set(new.get("replaceOnChanges") or [])
        replacing = {path for path in changes if under(path, roots)}
        # Paths the provider replaces on for some values only (its CustomizeDiff decides): an
        # update here, with a warning saying when it would replace (see maybe_replaced).
        maybe = {path: when for root, when in conditional_paths(new["type"]).items()
                 for path in changes if path not in replacing and under(path, {root})}
        detailed = {path: {"kind": kind + ("-replace" if path in replacing else ""), "inputDiff": True}
                    for path, (kind, _, _) in changes.items()}
        top = sorted({parse(path)[0] for path in changes})
        forced = sorted({parse(path)[0] for path in replacing}) + (["provider"] if provider_moved else [])
        if forced:
            replaced.add(new["urn"])
            extra = {"deleteBeforeReplace": True} if new.get("deleteBeforeReplace") else {}
            steps.append(_step("replace", new, old, diffReasons=top, replaceReasons=forced, detailedDiff=detailed,
                               **extra))
        else:
            extra = {"mayReplace": dict(sorted(maybe.items()))} if maybe else {}
            steps.append(_step("update", new, old, diffReasons=top, detailedDiff=detailed, **extra))
    current = {s["urn"] for s in states}
    gone = order_states(s for u, s in before.items() if u not in current)
    # Deletes run dependents first, so reverse the dependency order.
    steps += [_step("delete", None, old) for old in reversed(gone)]
    return steps


def maybe_replaced(steps: list[dict]) -> list[dict]:
    """Warnings for updates the provider may turn into replacements, depending on the values
    (`mayReplace`), and louder for a protected resource, which `pulumi up` would then refuse."""
    out = []
    for step in steps:
        for path, when in (step.get("mayReplace") or {}).items():
            protected = " It is protected: `pulumi up` would refuse that." if (step.get("oldState") or {}).get(
                "protect") else ""
            out.append({"urn": step["urn"], "severity": "warning",
                        "message": f"{path} changes, which replaces the resource when {when}.{protected}"})
    return out


def unmatched_imports(states: list[dict]) -> list[dict]:
    """An `imports` entry (the inputs of the stack's global-platform:imports:Adoption record)
    whose name and type the program never registered: nothing would be adopted, and the
    resource it meant would be created beside the existing one. One error per entry, naming
    the key; known only once the program has run, so the preview reports it, not the config
    check. pulumi-eks creates `<cluster>-eksCluster` (aws:eks/cluster:Cluster) inside its remote
    component, which exists only in a real run: such an entry is matched by its component."""
    record = next((s for s in states if s["type"] == "global-platform:imports:Adoption"), None)
    if record is None:
        return []
    imported = {(s["urn"].rsplit("::", 1)[-1], s["type"]) for s in states if s.get("custom") and s.get("id")}
    remote = {(s["urn"].rsplit("::", 1)[-1] + "-eksCluster", "aws:eks/cluster:Cluster")
              for s in states if s["type"] == "eks:index:Cluster"}
    out = []
    for name, entry in sorted(((record.get("inputs") or {}).get("entries") or {}).items()):
        types = entry.get("types") or []
        if any((name, t) in imported or (name, t) in remote for t in types):
            continue
        out.append({"urn": record["urn"], "severity": "error", "message": (
            f"global-platform:imports.{name}: the program registers no {' or '.join(types) or 'resource'} named "
            f"'{name}', so '{entry.get('id')}' would not be adopted (`python -m tools.preview` lists the names; "
            "`python -m tools.adopt` writes matching entries)")})
    return out


def _import_diff(existing: Any, planned: Any, path: str) -> list[str]:
    if isinstance(existing, dict) and isinstance(planned, dict):
        keys = set(existing) | (set(planned) if path == "tags" else set())
        return [p for k in sorted(keys) for p in _import_diff(existing.get(k), planned.get(k), f"{path}.{k}")]
    return [] if existing == planned else [path]


def import_mismatches(steps: list[dict]) -> list[dict]:
    """What `pulumi preview` warns when an imported resource's inputs differ from what it reads
    (engine: "inputs to import do not match the existing resource; importing this resource will
    fail"), where the stack records what exists (`imports.<name>.existing`). The readiness rule
    import-inputs-match makes it a failing check, and says which differences replace."""
    record = next((s["newState"] for s in steps if (s.get("newState") or {}).get("type")
                   == "global-platform:imports:Adoption"), None)
    if record is None:
        return []
    entries = (record.get("inputs") or {}).get("entries") or {}
    out = []
    for step in steps:
        if step["op"] not in ("import", "import-replacement"):
            continue
        entry = entries.get(step["urn"].rsplit("::", 1)[-1]) or {}
        inputs = step["newState"].get("inputs") or {}
        paths = [p for k, v in sorted((entry.get("existing") or {}).items()) for p in _import_diff(v, inputs.get(k), k)]
        if paths:
            out.append({"urn": step["urn"], "severity": "warning", "message": (
                "inputs to import do not match the existing resource; importing this resource will fail "
                f"(differs at {', '.join(paths)})")})
    return out


def protect_errors(steps: list[dict]) -> list[dict]:
    """What `pulumi up` refuses: deleting or replacing a resource whose current state is
    protected (engine: "cannot be deleted because it is protected"). One error diagnostic each."""
    out = []
    for step in steps:
        old = step.get("oldState") or {}
        if step["op"] in ("delete", "replace", "import-replacement") and old.get("protect"):
            what = "delete" if step["op"] == "delete" else "replace"
            why = f" (replaced because {', '.join(step.get('replaceReasons') or [])} changed)" \
                if what == "replace" else ""
            out.append({"urn": step["urn"], "severity": "error", "message": (
                f"the plan would {what} a protected resource{why}; `pulumi up` refuses this. Keep the "
                f"resource as it is, or, to really {what} it, first remove `protect` and run `pulumi up`, "
                f"or `pulumi state unprotect '{step['urn']}'`")})
    return out


def _provider_urn(state: dict) -> str:
    return (state.get("provider") or "").rsplit("::", 1)[0]


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
