"""Property paths and property-level diffs, as the Pulumi engine computes them for a preview.

- Paths use the engine's syntax (pkg/resource/properties_path.go): `a.b[0].c`, `tags["kubernetes.io/x"]`,
  `*` for every element or key at that level.
- `ignore_changes(old, new, paths)` is the engine's processIgnoreChanges: for each path, the new
  inputs take the old value there (PropertyPath.Reset): the value is copied from the old inputs,
  or removed when the old inputs had none. So an ignored change never shows, and `pulumi up`
  keeps the old value.
- `diff(old, new)` lists changed leaves as `{path: (kind, old, new)}` with kind add/delete/update,
  the shape of a step's `detailedDiff`.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Iterator, Union

Key = Union[str, int]
_TOKEN = re.compile(r'\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\[\*\]|\.?([^.\[\]]+)')


class PathError(ValueError):
    pass


def parse(path: str) -> list[Key]:
    """`a.b[0]["x.y"].*` -> ["a", "b", 0, "x.y", "*"]."""
    out: list[Key] = []
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m or m.end() == pos:
            raise PathError(f"not a property path: {path!r}")
        index, quoted, name = m.groups()
        if index is not None:
            out.append(int(index))
        elif quoted is not None:
            out.append(json.loads(f'"{quoted}"'))
        elif name is not None:
            out.append(name)
        else:
            out.append("*")
        pos = m.end()
    return out


def render(path: list[Key]) -> str:
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        elif re.fullmatch(r"[A-Za-z_$][\w$-]*", key):
            out += ("." if out else "") + key
        else:
            out += f"[{json.dumps(key)}]"
    return out


def _expand(value: Any, path: list[Key], prefix: tuple = ()) -> Iterator[tuple]:
    """Concrete paths that match `path` (wildcards expanded) in `value`."""
    if not path:
        yield prefix
        return
    head, rest = path[0], path[1:]
    if head == "*":
        keys = range(len(value)) if isinstance(value, list) else list(value) if isinstance(value, dict) else []
        for k in keys:
            yield from _expand(value[k], rest, prefix + (k,))
        return
    if isinstance(value, dict) and isinstance(head, str) and head in value:
        yield from _expand(value[head], rest, prefix + (head,))
    elif isinstance(value, list) and isinstance(head, int) and 0 <= head < len(value):
        yield from _expand(value[head], rest, prefix + (head,))
    elif not rest:
        yield prefix + (head,)  # a leaf that may be missing on this side


_MISSING = object()


def get(value: Any, path: tuple) -> Any:
    for key in path:
        if isinstance(value, dict) and isinstance(key, str) and key in value:
            value = value[key]
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        else:
            return _MISSING
    return value


def _set(value: Any, path: tuple, new: Any) -> None:
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(value, dict):
            value = value.setdefault(key, [] if isinstance(nxt, int) else {})
        elif isinstance(value, list) and isinstance(key, int):
            while len(value) <= key:
                value.append(None)
            if value[key] is None:
                value[key] = [] if isinstance(nxt, int) else {}
            value = value[key]
    last = path[-1]
    if isinstance(value, dict):
        value[last] = new
    elif isinstance(value, list) and isinstance(last, int):
        while len(value) <= last:
            value.append(None)
        value[last] = new


def _delete(value: Any, path: tuple) -> None:
    parent = get(value, path[:-1]) if len(path) > 1 else value
    last = path[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        parent[last] = None


def ignore_changes(old: dict, new: dict, paths: list[str]) -> dict:
    """New inputs with every ignored path reset to the old value (or removed if the old had none)."""
    if not paths:
        return new
    out = copy.deepcopy(new)
    for text in paths:
        path = parse(text)
        concrete = set(_expand(old, path)) | set(_expand(new, path))
        for p in sorted(concrete, key=lambda t: [str(k) for k in t]):
            before = get(old, p)
            if before is _MISSING:
                _delete(out, p)
            else:
                _set(out, p, copy.deepcopy(before))
    return out


def diff(old: Any, new: Any, prefix: tuple = ()) -> dict[str, tuple[str, Any, Any]]:
    """Changed leaves: {path: (kind, old, new)}. Maps recurse by key; lists of the same length
    recurse by index (a length change is one change of the whole list)."""
    if old == new:
        return {}
    if isinstance(old, dict) and isinstance(new, dict):
        out: dict = {}
        for key in sorted(set(old) | set(new)):
            if key not in old:
                out[render(list(prefix + (key,)))] = ("add", None, new[key])
            elif key not in new:
                out[render(list(prefix + (key,)))] = ("delete", old[key], None)
            else:
                out.update(diff(old[key], new[key], prefix + (key,)))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = {}
        for i, (a, b) in enumerate(zip(old, new)):
            out.update(diff(a, b, prefix + (i,)))
        return out
    return {render(list(prefix)): ("update", old, new)}


def under(path: str, roots: set[str]) -> bool:
    """Whether a changed path is (inside) one of `roots`, or contains one of them. Roots are
    provider schema paths, which carry no list indices: indices in the changed path are skipped."""
    parts = [k for k in parse(path) if not isinstance(k, int)]
    for root in roots:
        r = [k for k in parse(root) if not isinstance(k, int)]
        n = min(len(parts), len(r))
        if all(a == b or "*" in (a, b) for a, b in zip(parts[:n], r[:n])):
            return True
    return False


def short(value: Any, limit: int = 60) -> str:
    """A value for a reviewer: JSON, secrets as [secret], long values shortened."""
    text = "[secret]" if value == "[secret]" else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
