"""Regenerate tools/upstream/data/helm/<chart>-<version>.json: the values key paths a pinned chart
knows, read with git from a fetched copy of the chart's repository (a bare snapshot or a
checkout: anything `git -C PATH show TAG:FILE` reads).

    python -m tools.upstream.refresh_helm_values argoproj/argo-helm=PATH aws/karpenter-provider-aws=PATH \\
        kedacore/charts=PATH kubernetes/autoscaler=PATH istio/istio=PATH

What is kept, per chart version (never the chart itself):
- a tree of the keys in values.yaml, each node typed map / list / scalar / any (a null default);
- keys only the templates read (`.Values.a.b`, `index .Values.a "b.c"`), typed any: Helm passes
  them although values.yaml does not list them (often documented there as a comment);
- "open" maps, whose own keys are free-form: an empty-map default (`{}`), a map the templates
  render whole (`toYaml .Values.x`, `range $k, $v := .Values.x`, `omit .Values.x ...`,
  `with .Values.x` then `toYaml .`), a subchart's values (Chart.yaml dependencies), and the
  hand-listed ones in EXTRA_OPEN, each with where the chart says so. Each open map records why.
The chart's Chart.yaml version at the tag is checked against the pin (see STAMPED for charts
whose release job writes the version at publish time).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

from tools.upstream.gitread import checkouts, git

DATA = Path(__file__).resolve().parent / "data" / "helm"

# chart name -> (version, repository, tag, chart directory at that tag)
PINS = {
    "argo-cd": ("10.1.1", "argoproj/argo-helm", "argo-cd-10.1.1", "charts/argo-cd"),
    "karpenter": ("1.14.1", "aws/karpenter-provider-aws", "v1.14.1", "charts/karpenter"),
    "karpenter-crd": ("1.14.1", "aws/karpenter-provider-aws", "v1.14.1", "charts/karpenter-crd"),
    "keda": ("2.20.2", "kedacore/charts", "v2.20.2", "keda"),
    # At this tag the chart lives under cluster-autoscaler/, not at the repository's charts/.
    "cluster-autoscaler": ("9.59.0", "kubernetes/autoscaler", "cluster-autoscaler-chart-9.59.0",
                           "cluster-autoscaler/charts/cluster-autoscaler"),
    # Istio 1.31.1's charts, read at 1.31.0-rc.0: the 1.31.1 tag is newer than the snapshot read here
    # (2026-08-22), and the charts at rc.0 are those of the release-1.31 branch head (a8d70121,
    # 2026-08-20; see refresh_crds.py). Rerun at tag 1.31.1 when a newer snapshot has it.
    "base": ("1.31.1", "istio/istio", "1.31.0-rc.0", "manifests/charts/base"),
    "istiod": ("1.31.1", "istio/istio", "1.31.0-rc.0", "manifests/charts/istio-control/istio-discovery"),
}

# Charts whose Chart.yaml in git lags the release: the release job sets `version` when it
# publishes. aws/karpenter-provider-aws hack/release/common.sh, publishHelmChart():
#   yq e -i ".version = \"${version}\"" "charts/${helm_chart}/Chart.yaml"; helm package --version
# with version = the release tag without "v" (release() passes it); the v1.14.1 tree's
# Chart.yaml still reads 1.13.0.
STAMPED = {chart: "hack/release/common.sh publishHelmChart() sets Chart.yaml version from the release tag"
           for chart in ("karpenter", "karpenter-crd")}
# Istio's Chart.yaml reads 1.0.0 in git ("This version is never actually shipped"): istio/release-builder
# pkg/build/helm.go stampChartForRelease() sets version and appVersion to the release, and the values'
# hub and tag (registry.istio.io/testing, latest) to the release's registry and version.
STAMPED.update({chart: "istio/release-builder pkg/build/helm.go stampChartForRelease() sets Chart.yaml version "
                       "and appVersion to the release" for chart in ("base", "istiod")})

# Charts whose values.yaml nests every default under one key that users never set: the chart's
# templates/zzz_profile.yaml takes `$defaults := $.Values._internal_defaults_do_not_set` and merges the
# user's top-level values over it (values.yaml: "instead of `--set _internal_defaults_do_not_set.foo=bar`,
# just set `--set foo=bar`"). The key tree is read from inside that key.
UNWRAP = {"base": "_internal_defaults_do_not_set", "istiod": "_internal_defaults_do_not_set"}

# Free-form maps that neither an empty default nor a whole-map render in the templates shows.
# (chart, values path as a tuple) -> where the chart says so. Keep each one cited.
EXTRA_OPEN: dict[tuple[str, tuple[str, ...]], str] = {
    # templates/_helpers.tpl "argo-cd.config.cm": `$config := omit .Values.configs.cm "create"
    # "annotations"` then every key goes into argocd-cm (values.yaml: "Any values you put under
    # `.configs.cm` are passed to argocd-cm ConfigMap"). Found by the omit rule too; listed so a
    # template refactor cannot silently close it.
    ("argo-cd", ("configs", "cm")): "values.yaml: any values under configs.cm go to argocd-cm "
                                    "(templates/_helpers.tpl omit .Values.configs.cm)",
    ("argo-cd", ("configs", "params")): "values.yaml: 'You can customize parameters by adding parameters here' "
                                        "(templates/_helpers.tpl omit .Values.configs.params)",
    ("argo-cd", ("configs", "rbac")): "templates/argocd-configs/argocd-rbac-cm.yaml renders "
                                      "omit .Values.configs.rbac \"create\" \"annotations\" as data",
    # templates/configmap.yaml: `$mesh := mergeOverwrite $originalMesh .Values.meshConfig`, then
    # `$mesh | toYaml` into the `istio` ConfigMap: its keys are MeshConfig's (istio/api
    # mesh/v1alpha1/config.proto), not the chart's.
    ("istiod", ("meshConfig",)): "templates/configmap.yaml merges .Values.meshConfig over the generated mesh "
                                 "config and renders it whole (MeshConfig, istio/api mesh/v1alpha1/config.proto)",
}

_VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")
_INDEX_REF = re.compile(r"index\s+\(?\s*\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)\s*\)?((?:\s+\"[^\"]+\")+)")
_WHOLE = [
    re.compile(r"toYaml\s+\(?\s*\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\s*\)?\s*(?:\||\}\})"),
    re.compile(r"range\s+\$[A-Za-z0-9_]*\s*,\s*\$[A-Za-z0-9_]*\s*:=\s*\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)"),
    re.compile(r"omit\s+\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)"),
]
_WITH = re.compile(r"with\s+\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\s*-?\}\}")
_DOT_WHOLE = re.compile(r"toYaml\s+\.\s*[|}]|range\s+\$[A-Za-z0-9_]*\s*,\s*\$[A-Za-z0-9_]*\s*:=\s*\.\s*-?\}\}")




def tree(value) -> dict:
    """values.yaml as a typed key tree."""
    if isinstance(value, dict):
        node = {"t": "map", "keys": {str(k): tree(v) for k, v in value.items()}}
        if not value:
            node["open"] = "empty map default in values.yaml"
        return node
    if isinstance(value, list):
        return {"t": "list"}
    if value is None:
        return {"t": "any"}
    return {"t": "scalar"}


def node_at(root: dict, path: tuple[str, ...], create: bool) -> dict | None:
    node = root
    for part in path:
        if node["t"] == "any" and create:
            node["t"] = "map"
        if node["t"] != "map":
            return None
        keys = node.setdefault("keys", {})
        if part not in keys:
            if not create:
                return None
            keys[part] = {"t": "any", "from": "templates"}
        node = keys[part]
    return node


def scan_templates(root: dict, files: dict[str, str]) -> list[str]:
    """Add what the templates read; mark what they render whole as open. Returns notes."""
    notes = []
    for name, text in sorted(files.items()):
        lines = text.splitlines()
        for i, line in enumerate(lines, 1):
            for m in _VALUES_REF.finditer(line):
                node_at(root, tuple(m.group(1).strip(".").split(".")), create=True)
            for m in _INDEX_REF.finditer(line):
                base = tuple(p for p in m.group(1).strip(".").split(".") if p)
                node_at(root, base + tuple(re.findall(r'"([^"]+)"', m.group(2))), create=True)
            whole = [m.group(1) for rx in _WHOLE for m in rx.finditer(line)]
            for m in _WITH.finditer(line):
                block = "\n".join(lines[i:i + 3])
                if _DOT_WHOLE.search(block):
                    whole.append(m.group(1))
            for dotted in whole:
                path = tuple(dotted.strip(".").split("."))
                node = node_at(root, path, create=False)
                if node is not None and node["t"] in ("map", "any") and "open" not in node:
                    node["t"] = "map"
                    node["open"] = f"rendered whole: {name}:{i}"
                    notes.append(f"open {'.'.join(path)} ({name}:{i})")
    return notes


def extract(path: str, chart: str, version: str, repo: str, tag: str, chart_dir: str) -> dict:
    commit = git(path, "rev-parse", f"{tag}^{{commit}}").strip()
    meta = yaml.safe_load(git(path, "show", f"{tag}:{chart_dir}/Chart.yaml"))
    if meta.get("name") != chart:
        raise SystemExit(f"{repo}@{tag}:{chart_dir}/Chart.yaml names chart {meta.get('name')!r}, not {chart!r}")
    if str(meta.get("version")) != version and chart not in STAMPED:
        raise SystemExit(f"{repo}@{tag}:{chart_dir}/Chart.yaml has version {meta.get('version')}, not {version}: "
                         f"no such chart version at this tag")
    values = yaml.safe_load(git(path, "show", f"{tag}:{chart_dir}/values.yaml")) or {}
    if chart in UNWRAP:
        values = values[UNWRAP[chart]]
    root = tree(values)
    root.pop("open", None)
    listed = git(path, "ls-tree", "-r", "--name-only", tag, f"{chart_dir}/templates").split()
    files = {f[len(chart_dir) + 1:]: git(path, "show", f"{tag}:{f}") for f in listed
             if f.endswith((".yaml", ".yml", ".tpl", ".txt"))}
    notes = scan_templates(root, files)
    if chart in UNWRAP:
        # zzz_profile.yaml reads these only to unwrap the defaults, to refuse them (`fail` on
        # .Values.defaults) or to stash a copy (`set $.Values "_original"`): no user sets them.
        for key in (UNWRAP[chart], "defaults", "_original"):
            root["keys"].pop(key, None)
    for dep in meta.get("dependencies") or []:
        key = dep.get("alias") or dep["name"]
        node = node_at(root, (key,), create=True)
        node["t"] = "map"
        node["open"] = f"subchart {dep['name']} {dep.get('version')} (Chart.yaml dependencies): its own values"
    for (c, p), why in EXTRA_OPEN.items():
        if c == chart:
            node = node_at(root, p, create=False)
            if node is None or node["t"] != "map":
                raise SystemExit(f"EXTRA_OPEN {chart} {'.'.join(p)}: not a map in values.yaml any more")
            node["open"] = why
    return {"chart": chart, "version": version,
            "source": {"repository": repo, "tag": tag, "commit": commit, "path": chart_dir,
                       "chart_yaml_version": str(meta.get("version")), "app_version": str(meta.get("appVersion")),
                       **({"version_note": STAMPED[chart]} if chart in STAMPED else {})},
            "values": root, "template_notes": notes}


def main(argv: list[str]) -> int:
    given = checkouts(argv)
    if given is None:
        print(__doc__, file=sys.stderr)
        return 2
    DATA.mkdir(parents=True, exist_ok=True)
    for chart, (version, repo, tag, chart_dir) in PINS.items():
        if repo not in given:
            print(f"skip {chart}: no path given for {repo}")
            continue
        doc = extract(given[repo], chart, version, repo, tag, chart_dir)
        out = DATA / f"{chart}-{version}.json"
        out.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
        print(f"wrote {out.relative_to(DATA.parents[3])} ({out.stat().st_size} bytes, "
              f"{len(doc['template_notes'])} maps open by template)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
