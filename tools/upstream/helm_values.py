"""Every Helm release's values against the key paths of the pinned chart version (data/helm/,
written by tools.upstream.refresh_helm_values from the chart's values.yaml and templates).

Helm merges user values over values.yaml and never complains about a key no template reads: a
typo (`serviceAccount.nmae`) or a key from another chart version silently does nothing. A value
of the wrong shape (a map where the chart has a scalar or a list) is reported too. Keys under
free-form maps (empty-map defaults, maps the templates render whole, subcharts, the cited
exceptions in refresh_helm_values.EXTRA_OPEN) are not checked. Values a preview cannot show
("[secret]") are skipped: nothing there can be checked.
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path
from typing import Any, Iterator, Optional

from tools.upstream import Finding, resources

NAME = "helm-values"
DESCRIPTION = ("Helm release values vs the pinned chart's values.yaml key paths and template reads "
               "(data/helm: argo-cd 10.1.1, karpenter and karpenter-crd 1.14.1, keda 2.20.2, cluster-autoscaler 9.59.0, istio base and istiod 1.31.1)")

HELM_DIR = Path(__file__).resolve().parent / "data" / "helm"
# Helm releases, and v4 Charts (rendered by the provider with the same values merge).
RELEASE_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
OPAQUE = frozenset({"[secret]", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
_SHAPE = {"map": "a map", "list": "a list", "scalar": "a scalar"}


@functools.lru_cache(maxsize=None)
def charts() -> dict[tuple[str, str], dict]:
    out = {}
    for path in sorted(HELM_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        out[(doc["chart"], doc["version"])] = doc
    return out


def chart_name(chart: str) -> str:
    """'argo-cd', 'argo/argo-cd', 'oci://public.ecr.aws/karpenter/karpenter' -> the chart's name."""
    name = chart.rstrip("/").rsplit("/", 1)[-1]
    if name.endswith(".tgz"):
        name = name[:-4].rsplit("-", 1)[0]
    return name


def key_path(parts: list[str]) -> str:
    out = "values"
    for p in parts:
        out += f'["{p}"]' if ("." in p or not p) else f".{p}"
    return out


def _shape(value: Any) -> str:
    return "map" if isinstance(value, dict) else "list" if isinstance(value, list) else "scalar"


def walk(node: dict, value: Any, parts: list[str]) -> Iterator[tuple[list[str], str]]:
    """(path, problem) for each key the chart does not know and each value of the wrong shape."""
    if value is None or (isinstance(value, str) and value in OPAQUE):
        return      # null removes a default in Helm; an unknown value cannot be judged
    t = node.get("t", "any")
    if t != "any" and _shape(value) != t:
        yield parts, f"is {_SHAPE[_shape(value)]}, the chart's default is {_SHAPE[t]}"
        return
    if t != "map" or node.get("open") or not isinstance(value, dict):
        return
    keys = node.get("keys") or {}
    for k, v in value.items():
        k = str(k)
        if k in keys:
            yield from walk(keys[k], v, [*parts, k])
        else:
            near = difflib.get_close_matches(k, list(keys), n=1, cutoff=0.75)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            where = ".".join(parts) or "the top level"
            yield [*parts, k], f"unknown key '{k}' under {where}{hint}: the chart never reads it, Helm ignores it"


def check_release(urn: str, inputs: dict) -> Iterator[Finding]:
    chart = chart_name(str(inputs.get("chart", "")))
    version = str(inputs.get("version", "") or "")
    values = inputs.get("values")
    if not version:
        yield Finding(NAME, urn, "version", f"chart {chart} has no pinned version: its values cannot be checked")
        return
    data = charts().get((chart, version))
    if data is None:
        known = sorted(v for c, v in charts() if c == chart)
        yield Finding(NAME, urn, "version", (
            f"no values data for chart {chart} {version} in tools/upstream/data/helm "
            f"({'kept: ' + ', '.join(known) if known else 'chart not pinned there'}); pin it in "
            f"tools/upstream/refresh_helm_values.py (which checks the version exists upstream) and rerun"))
        return
    if not isinstance(values, dict):
        return      # "[secret]" (or no values): nothing to check
    src = data["source"]
    cite = f"{chart} {version}: {src['repository']} {src['tag']} {src['path']}/values.yaml"
    for parts, problem in walk(data["values"], values, []):
        yield Finding(NAME, urn, key_path(parts), f"{problem} [{cite}]")


def skipped_releases(doc: dict) -> list[str]:
    """URNs of releases whose values a preview hides (secret): checked for version only."""
    return [urn for urn, typ, inputs in resources(doc)
            if typ in RELEASE_TYPES and not isinstance(inputs.get("values"), dict) and "values" in inputs]


def check(doc: dict) -> list[Finding]:
    out = []
    for urn, typ, inputs in resources(doc):
        if typ in RELEASE_TYPES:
            out.extend(check_release(urn, inputs))
    return out


def main(argv: Optional[list[str]] = None) -> int:
    from tools.cli import Parser, quiet_on_closed_pipe
    from tools.plan_json import load_preview_json

    p = Parser(prog="python -m tools.upstream.helm_values", description="Which releases' values were checked.")
    p.add_argument("--preview-json", type=Path, required=True, metavar="PATH")
    args = p.parse_args(argv)
    quiet_on_closed_pipe()
    doc = load_preview_json(args.preview_json)
    for urn, typ, inputs in resources(doc):
        if typ in RELEASE_TYPES:
            state = "values hidden (secret): version only" if urn in skipped_releases(doc) else "checked"
            print(f"{urn.rsplit('::', 1)[-1]}: {chart_name(str(inputs.get('chart', '')))} {inputs.get('version')}: {state}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
