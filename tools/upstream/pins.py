"""Every pinned fact in a plan that can go stale, against what upstream published (data/pins/):

- Karpenter EC2NodeClass `spec.amiSelectorTerms[].alias` `al2023@vYYYYMMDD`: an EKS AMI release,
  i.e. a tag of awslabs/amazon-eks-ami (eks-ami-releases.json).
- Helm releases (chart + version) of the charts in helm-charts.json; an unknown chart or an
  unpinned version is a finding too.
- Image tags set in Helm values (IMAGE_TAGS): the Cluster Autoscaler image must be a release, of
  the cluster's Kubernetes minor, and the newest recorded one of that minor (its README's advice).
- EKS add-on versions (aws:eks/addon:Addon addonVersion; eks:index:Cluster vpcCniOptions,
  corednsAddonOptions, kubeProxyAddonOptions) for the cluster's Kubernetes minor: confirmed only by
  a recorded AWS source (eks-addon-versions.json: user-guide tables; addon-versions-aws-code.json:
  AWS's EKS Blueprints); otherwise "unconfirmed", with what the upstream project tagged.
- The clusters' Kubernetes version: in EKS standard support on the day the check runs
  (eks-kubernetes-versions.json, the EKS release calendar).

Findings name the resource, the input path, the pinned value and the nearest recorded releases with
the list's source and the day it was read. A version newer than everything recorded is reported as
unconfirmed: refresh the lists (tools/upstream/refresh_pins.py) rather than trust it.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

from tools.upstream import Finding, resources

NAME = "pins"
DESCRIPTION = ("AMI alias, chart, add-on, image and Kubernetes versions against recorded upstream releases "
               "(data/pins: amazon-eks-ami tags, chart tags, EKS docs, EKS calendar)")

DATA = Path(__file__).resolve().parent / "data" / "pins"

HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v4:Chart")
CLUSTER_TYPES = ("eks:index:Cluster", "aws:eks/cluster:Cluster")

# eks:index:Cluster input -> (EKS add-on name, key holding the version)
CLUSTER_ADDON_INPUTS = {
    "vpcCniOptions": ("vpc-cni", "addonVersion"),
    "corednsAddonOptions": ("coredns", "version"),
    "kubeProxyAddonOptions": ("kube-proxy", "version"),
}

# chart -> [(values path, image release list in images.json)]
IMAGE_TAGS = {
    "cluster-autoscaler": [("image.tag", "cluster-autoscaler")],
}

# Karpenter alias families whose versions are amazon-eks-ami releases
EKS_AMI_FAMILIES = ("al2023", "al2")

_AMI_DATE = re.compile(r"^v(\d{4})(\d{2})(\d{2})$")
_ADDON_VERSION = re.compile(r"^v(\d+\.\d+\.\d+)-eksbuild\.\d+$")


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", v))


def _minor(v: str) -> str:
    parts = re.findall(r"\d+", str(v))
    return ".".join(parts[:2]) if len(parts) >= 2 else str(v)


def _nearest(pinned: str, known: Iterable[str], key=_vkey, n: int = 2) -> list[str]:
    """Up to n recorded values just below and just above the pinned one, in order."""
    ordered = sorted(set(known), key=key)
    below = [k for k in ordered if key(k) < key(pinned)][-n:]
    above = [k for k in ordered if key(k) > key(pinned)][:n]
    return below + above


def _get(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def _src(doc: dict) -> str:
    return f"{doc['source']}, read {doc['read']}"


# --- EKS AMI releases -------------------------------------------------------------------------

def _ami_findings(urn: str, inputs: dict) -> Iterable[Finding]:
    spec = inputs.get("spec")
    terms = spec.get("amiSelectorTerms") if isinstance(spec, dict) else None
    if not isinstance(terms, list):
        return
    data = load("eks-ami-releases.json")
    releases = data["releases"]
    for i, term in enumerate(terms):
        alias = term.get("alias") if isinstance(term, dict) else None
        if not isinstance(alias, str):
            continue
        path = f"spec.amiSelectorTerms[{i}].alias"
        family, _, version = alias.partition("@")
        if version == "latest":  # not a pin
            continue
        if family not in EKS_AMI_FAMILIES:
            yield Finding(NAME, urn, path, f"'{alias}': no recorded release list for AMI family '{family}' "
                                           f"(recorded: EKS AMI releases for {', '.join(EKS_AMI_FAMILIES)})")
            continue
        if not _AMI_DATE.match(version):
            yield Finding(NAME, urn, path, f"'{alias}': version '{version}' is not an EKS AMI release name "
                                           f"(vYYYYMMDD, a tag of awslabs/amazon-eks-ami) nor 'latest'")
            continue
        if version in releases:
            continue
        near = ", ".join(_nearest(version, releases, key=lambda t: t))
        if version > releases[-1]:
            yield Finding(NAME, urn, path, f"'{alias}': {version} is newer than every recorded EKS AMI release "
                                           f"(newest {releases[-1]}; {_src(data)}): unconfirmed, refresh the "
                                           f"list with tools/upstream/refresh_pins.py")
        else:
            yield Finding(NAME, urn, path, f"'{alias}': {version} is not an EKS AMI release (awslabs/amazon-eks-ami "
                                           f"has no tag {version}; nearest releases: {near}; {_src(data)})")


# --- Helm charts and the image tags in their values -------------------------------------------

def _chart_name(chart: str) -> str:
    return chart.rstrip("/").rsplit("/", 1)[-1]


def _release_cluster_minor(values: dict, clusters: dict[str, str]) -> Optional[str]:
    for key in ("autoDiscovery.clusterName", "settings.clusterName", "clusterName"):
        name = _get(values, key)
        if isinstance(name, str) and name in clusters:
            return _minor(clusters[name])
    minors = {_minor(v) for v in clusters.values()}
    return minors.pop() if len(minors) == 1 else None


def _helm_findings(urn: str, inputs: dict, clusters: dict[str, str]) -> Iterable[Finding]:
    chart = inputs.get("chart")
    if not isinstance(chart, str) or not chart:
        return
    name = _chart_name(chart)
    data = load("helm-charts.json")
    entry = data["charts"].get(name)
    version = inputs.get("version")
    if entry is None:
        yield Finding(NAME, urn, "chart", f"chart '{chart}': no recorded release list for chart '{name}' "
                                          f"(recorded: {', '.join(sorted(data['charts']))}); add it to "
                                          f"tools/upstream/refresh_pins.py CHARTS")
    elif not version:
        yield Finding(NAME, urn, "version", f"chart '{name}' has no pinned version: Helm installs whatever is "
                                            f"newest at deploy time (newest recorded {entry['versions'][-1]['version']})")
    else:
        known = {v["version"]: v for v in entry["versions"]}
        if version not in known:
            near = ", ".join(f"{v} (app {known[v]['appVersion']}, {known[v]['date']})"
                             for v in _nearest(str(version), known))
            newest = entry["versions"][-1]["version"]
            what = ("newer than every recorded release: unconfirmed, refresh the list with "
                    "tools/upstream/refresh_pins.py" if _vkey(str(version)) > _vkey(newest)
                    else "not a released version")
            yield Finding(NAME, urn, "version", f"chart '{name}' {version}: {what} (nearest recorded: {near}; "
                                                f"{entry['source']}, read {entry['read']})")
    values = inputs.get("values")
    if isinstance(values, dict):
        for values_path, image in IMAGE_TAGS.get(name, []):
            tag = _get(values, values_path)
            if tag is not None:
                yield from _image_findings(urn, f"values.{values_path}", str(tag), image,
                                           _release_cluster_minor(values, clusters))


def _image_findings(urn: str, path: str, tag: str, image: str, cluster_minor: Optional[str]) -> Iterable[Finding]:
    data = load("images.json")
    entry = data["images"][image]
    known = {r["tag"]: r for r in entry["releases"]}
    label = f"{entry['image']}:{tag}"
    if tag not in known:
        near = ", ".join(f"{t} ({known[t]['date']})" for t in _nearest(tag, known))
        yield Finding(NAME, urn, path, f"{label}: not a recorded {image} release (nearest: {near}; {_src(data)})")
        return
    if cluster_minor is None:
        return
    same_minor = sorted((t for t in known if _minor(t) == cluster_minor), key=_vkey)
    if _minor(tag) != cluster_minor:
        best = f"newest recorded {cluster_minor}.x: {same_minor[-1]} ({known[same_minor[-1]]['date']})" \
            if same_minor else f"no {cluster_minor}.x release recorded"
        yield Finding(NAME, urn, path, f"{label}: minor {_minor(tag)} does not match the cluster's Kubernetes "
                                       f"{cluster_minor} ({entry['guidance']}; {best}; {_src(data)})")
    elif same_minor and tag != same_minor[-1]:
        newest = same_minor[-1]
        yield Finding(NAME, urn, path, f"{label}: not the newest {cluster_minor}.x release (newest recorded: "
                                       f"{newest}, {known[newest]['date']}; {entry['guidance']}; {_src(data)})")


# --- EKS add-ons --------------------------------------------------------------------------------

def _addon_sources() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(add-on, Kubernetes minor) -> [(version, where seen)] from every recorded AWS source."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for name in ("eks-addon-versions.json", "addon-versions-aws-code.json"):
        for addon, rows in load(name)["addons"].items():
            for row in rows:
                out.setdefault((addon, row["kubernetes"]), []).append((row["version"], row["url"]))
    return out


def _upstream_tag(addon: str, version: str) -> str:
    m = _ADDON_VERSION.match(version)
    data = load("addon-upstream-tags.json")
    entry = data["addons"].get(addon)
    if not m or entry is None:
        return "no upstream tag list recorded for this add-on"
    tags = {t["tag"]: t["date"] for t in entry["tags"]}
    tag = f"v{m.group(1)}"
    if tag in tags:
        return f"upstream {entry['repository']} tagged {tag} on {tags[tag]}"
    near = ", ".join(_nearest(tag, tags))
    return f"upstream {entry['repository']} has no tag {tag} (nearest: {near})"


def _addon_findings(urn: str, path: str, addon: str, version: Any, minor: Optional[str]) -> Iterable[Finding]:
    if not isinstance(version, str) or not version:
        return
    if not _ADDON_VERSION.match(version):
        yield Finding(NAME, urn, path, f"{addon} {version}: not an EKS add-on version (vX.Y.Z-eksbuild.N)")
        return
    if minor is None:
        yield Finding(NAME, urn, path, f"{addon} {version}: cannot tell the cluster's Kubernetes version, so "
                                       f"the add-on version cannot be checked")
        return
    seen = _addon_sources().get((addon, minor), [])
    if any(v == version for v, _ in seen):
        return
    recorded = ", ".join(sorted({v for v, _ in seen}, key=_vkey)) or "none"
    yield Finding(NAME, urn, path, f"{addon} {version} for Kubernetes {minor}: unconfirmed: no recorded AWS "
                                   f"source lists it (recorded for {minor}: {recorded}; EKS user guide tables "
                                   f"and awslabs/cdk-eks-blueprints, read {load('eks-addon-versions.json')['read']}); "
                                   f"{_upstream_tag(addon, version)}. Confirm with `aws eks describe-addon-versions "
                                   f"--addon-name {addon} --kubernetes-version {minor}` and record the source")


# --- Kubernetes version -------------------------------------------------------------------------

def _k8s_findings(urn: str, version: Any, today: date) -> Iterable[Finding]:
    if version is None:
        return
    minor = _minor(str(version))
    data = load("eks-kubernetes-versions.json")
    rows = {r["kubernetes"]: r for r in data["versions"]}
    row = rows.get(minor)
    day = today.isoformat()
    standard = [r for r in data["versions"] if r["eks_release"] <= day < r["end_of_standard"]]
    in_standard = ", ".join(f"{r['kubernetes']} (until {r['end_of_standard']})" for r in standard) or "none recorded"
    if row is None:
        yield Finding(NAME, urn, "version", f"Kubernetes {version}: not in the recorded EKS release calendar "
                                            f"(in standard support on {day}: {in_standard}; {_src(data)})")
    elif day < row["eks_release"]:
        yield Finding(NAME, urn, "version", f"Kubernetes {version}: not released on EKS until {row['eks_release']}")
    elif day >= row["end_of_extended"]:
        yield Finding(NAME, urn, "version", f"Kubernetes {version}: past end of extended support on EKS "
                                            f"({row['end_of_extended']}): EKS upgrades the control plane itself "
                                            f"(in standard support on {day}: {in_standard}; {row['url']})")
    elif day >= row["end_of_standard"]:
        yield Finding(NAME, urn, "version", f"Kubernetes {version}: past end of EKS standard support "
                                            f"({row['end_of_standard']}), in extended support (extra cost per "
                                            f"cluster hour) until {row['end_of_extended']} (in standard support on "
                                            f"{day}: {in_standard}; {row['url']})")


# --- the check ----------------------------------------------------------------------------------

def check(doc: dict, today: Optional[date] = None) -> list[Finding]:
    today = today or date.today()
    found: list[Finding] = []
    items = list(resources(doc))
    clusters: dict[str, str] = {}  # cluster URN and name -> Kubernetes version
    for urn, typ, inputs in items:
        if typ in CLUSTER_TYPES and inputs.get("version") is not None:
            clusters[urn] = str(inputs["version"])
            if isinstance(inputs.get("name"), str):
                clusters[inputs["name"]] = str(inputs["version"])
    deps = {s.get("urn", ""): (s.get("newState") or {}).get("dependencies") or [] for s in doc.get("steps", [])}
    only_minor = {_minor(v) for v in clusters.values()}

    def cluster_minor(urn: str, inputs: dict) -> Optional[str]:
        for dep in deps.get(urn, []):
            if dep in clusters:
                return _minor(clusters[dep])
        name = inputs.get("clusterName")
        if isinstance(name, str) and name in clusters:
            return _minor(clusters[name])
        return next(iter(only_minor)) if len(only_minor) == 1 else None

    for urn, typ, inputs in items:
        if typ.endswith(":EC2NodeClass") or inputs.get("kind") == "EC2NodeClass":
            found.extend(_ami_findings(urn, inputs))
        elif typ in HELM_TYPES:
            found.extend(_helm_findings(urn, inputs, {k: v for k, v in clusters.items() if not k.startswith("urn:")}))
        elif typ == "aws:eks/addon:Addon":
            found.extend(_addon_findings(urn, "addonVersion", str(inputs.get("addonName")),
                                         inputs.get("addonVersion"), cluster_minor(urn, inputs)))
        if typ in CLUSTER_TYPES:
            found.extend(_k8s_findings(urn, inputs.get("version"), today))
            minor = _minor(str(inputs["version"])) if inputs.get("version") is not None else None
            for key, (addon, field) in CLUSTER_ADDON_INPUTS.items():
                options = inputs.get(key)
                if isinstance(options, dict) and options.get("enabled", True) is not False:
                    found.extend(_addon_findings(urn, f"{key}.{field}", addon, options.get(field), minor))
    return found
