"""Regenerate the release lists in tools/upstream/data/pins/ that come from git repositories, read
with git from fetched copies (a bare snapshot or a checkout: anything `git -C PATH` reads).

    python -m tools.upstream.refresh_pins --read YYYY-MM-DD \\
        awslabs/amazon-eks-ami=PATH argoproj/argo-helm=PATH aws/karpenter-provider-aws=PATH \\
        kedacore/charts=PATH kubernetes/autoscaler=PATH aws/amazon-vpc-cni-k8s=PATH \\
        coredns/coredns=PATH kubernetes-sigs/aws-ebs-csi-driver=PATH awslabs/cdk-eks-blueprints=PATH \\
        istio/istio=PATH

Only the files whose repositories are given are rewritten; `--read` is the date the copies were
read (written into each file). What is kept is small and derived: release tag names, their dates
and the app version a chart ships, never the repositories' files.

Written here:
- eks-ami-releases.json   awslabs/amazon-eks-ami tags vYYYYMMDD from 2025 on (an EKS AMI release
                          is such a tag; Karpenter's `al2023@vYYYYMMDD` alias must name one).
- helm-charts.json        released chart versions from WINDOW on, each with the app version it
                          ships and the tag's date (argo-cd, karpenter, keda, cluster-autoscaler).
- images.json             Cluster Autoscaler releases (tags cluster-autoscaler-X.Y.Z = image tag
                          vX.Y.Z of registry.k8s.io/autoscaling/cluster-autoscaler).
- addon-upstream-tags.json  the upstream projects' tags behind EKS add-ons (vpc-cni, coredns,
                          aws-ebs-csi-driver): evidence that the upstream part of an
                          `vX.Y.Z-eksbuild.N` version exists, not that EKS publishes it.

Kept by hand, never written here (facts that only documentation pages hold, each with its URL):
eks-addon-versions.json and eks-kubernetes-versions.json.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

from tools.upstream.gitread import git

DATA = Path(__file__).resolve().parent / "data" / "pins"

# Oldest version kept per list: the lines in use and their neighbours, so a finding can name the
# nearest releases. Raise a floor when the pins move on.
WINDOW = {
    "eks-ami": "v20250101",
    "argo-cd": "9.0.0",
    "karpenter": "1.5.0",
    "keda": "2.16.0",
    "cluster-autoscaler-chart": "9.46.0",
    "cluster-autoscaler": "1.31.0",
    "vpc-cni": "1.19.0",
    "coredns": "1.11.0",
    "aws-ebs-csi-driver": "1.45.0",
    "istio": "1.29.0",
}

LICENCES = {
    "awslabs/amazon-eks-ami": "MIT-0",
    "argoproj/argo-helm": "Apache-2.0",
    "aws/karpenter-provider-aws": "Apache-2.0",
    "kedacore/charts": "Apache-2.0",
    "kubernetes/autoscaler": "Apache-2.0",
    "aws/amazon-vpc-cni-k8s": "Apache-2.0",
    "coredns/coredns": "Apache-2.0",
    "kubernetes-sigs/aws-ebs-csi-driver": "Apache-2.0",
    "awslabs/cdk-eks-blueprints": "Apache-2.0",
    "istio/istio": "Apache-2.0",
}

# chart -> (repository, tag pattern with one group for the version, Chart.yaml paths to try,
#           where users get the chart, note)
CHARTS = {
    "argo-cd": ("argoproj/argo-helm", r"argo-cd-(\d+\.\d+\.\d+)", ["charts/argo-cd/Chart.yaml"],
                "https://argoproj.github.io/argo-helm", ""),
    "karpenter": ("aws/karpenter-provider-aws", r"v(\d+\.\d+\.\d+)", ["charts/karpenter/Chart.yaml"],
                  "oci://public.ecr.aws/karpenter/karpenter",
                  "chart version and appVersion are the release tag without 'v': hack/release/common.sh "
                  "publishHelmChart() stamps both into Chart.yaml at publish time (the Chart.yaml in git "
                  "holds a placeholder)"),
    # Published by the same release job as karpenter, with the same version (publishHelmChart).
    "karpenter-crd": ("aws/karpenter-provider-aws", r"v(\d+\.\d+\.\d+)", ["charts/karpenter-crd/Chart.yaml"],
                      "oci://public.ecr.aws/karpenter/karpenter-crd",
                      "published with every release beside karpenter, version = the release tag without 'v': "
                      "hack/release/common.sh release() calls publishHelmChart for both charts"),
    "keda": ("kedacore/charts", r"v(\d+\.\d+\.\d+)", ["keda/Chart.yaml"], "https://kedacore.github.io/charts", ""),
    "cluster-autoscaler": ("kubernetes/autoscaler", r"cluster-autoscaler-chart-(\d+\.\d+\.\d+)",
                           ["cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml",
                            "charts/cluster-autoscaler/Chart.yaml"],
                           "https://kubernetes.github.io/autoscaler", ""),
    # Istio's release tags X.Y.Z (pre-releases X.Y.Z-alpha/beta/rc.N excluded); published to
    # blob.istio.io for every version (istio.io blog "An update on our move to AWS", 2026-08-21).
    **{chart: ("istio/istio", r"(\d+\.\d+\.\d+)", [path], "https://blob.istio.io/istio-release/charts",
               "chart version and appVersion are the release: istio/release-builder pkg/build/helm.go "
               "stampChartForRelease() stamps both (the Chart.yaml in git reads 1.0.0)")
       for chart, path in (("base", "manifests/charts/base/Chart.yaml"),
                           ("istiod", "manifests/charts/istio-control/istio-discovery/Chart.yaml"))},
}
CHART_WINDOW = {"cluster-autoscaler": "cluster-autoscaler-chart", "karpenter-crd": "karpenter", "base": "istio",
                "istiod": "istio"}
# Charts whose release job writes version and appVersion at publish time (see each CHARTS note).
STAMPED_CHARTS = ("karpenter", "karpenter-crd", "base", "istiod")
# Releases newer than the repository snapshot read here, each seen in the project's own release
# notes (publish date and URL): kept beside the tags until a newer snapshot has them. istio/istio's
# snapshot ends 2026-08-22; istio/istio.io content/en/news/releases/1.30.x/announcing-1.30.{4,5}/index.md,
# 1.31.x/announcing-1.31/_index.md and 1.31.x/announcing-1.31.1/index.md (their publishdate), read 2026-11-26.
RELEASE_NOTES = {
    "istio/istio": [
        ("1.30.4", "2026-08-26", "https://istio.io/latest/news/releases/1.30.x/announcing-1.30.4/"),
        ("1.30.5", "2026-09-21", "https://istio.io/latest/news/releases/1.30.x/announcing-1.30.5/"),
        ("1.31.0", "2026-08-20", "https://istio.io/latest/news/releases/1.31.x/announcing-1.31/"),
        ("1.31.1", "2026-09-21", "https://istio.io/latest/news/releases/1.31.x/announcing-1.31.1/"),
    ],
}

# add-on name (as EKS calls it) -> (repository, tag pattern)
ADDON_UPSTREAM = {
    "vpc-cni": ("aws/amazon-vpc-cni-k8s", r"v(\d+\.\d+\.\d+)"),
    "coredns": ("coredns/coredns", r"v(\d+\.\d+\.\d+)"),
    "aws-ebs-csi-driver": ("kubernetes-sigs/aws-ebs-csi-driver", r"v(\d+\.\d+\.\d+)"),
}


# EKS add-on name -> file in awslabs/cdk-eks-blueprints holding its per-Kubernetes-minor version map
CDK_ADDONS = {
    "vpc-cni": "lib/addons/vpc-cni/index.ts",
    "coredns": "lib/addons/coredns/index.ts",
    "kube-proxy": "lib/addons/kube-proxy/index.ts",
    "aws-ebs-csi-driver": "lib/addons/ebs-csi-driver/index.ts",
    "eks-pod-identity-agent": "lib/addons/eks-pod-identity-agent/index.ts",
}
CDK_MINOR_FLOOR = (1, 31)
_CDK_ROW = re.compile(r"KubernetesVersion\.V1_(\d+)\s*,\s*\"(v\d+\.\d+\.\d+-eksbuild\.\d+)\"")




def vkey(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", v))


def tags(path: str) -> dict[str, str]:
    """tag -> date (YYYY-MM-DD) of the tag (annotated) or of its commit (lightweight)."""
    out = {}
    for line in git(path, "for-each-ref", "refs/tags", "--format=%(refname:short) %(creatordate:short)").splitlines():
        name, _, day = line.partition(" ")
        out[name] = day
    return out


def snapshot(path: str, repo: str) -> str:
    head = git(path, "log", "-1", "--format=%H %cs").split()
    return f"github.com/{repo} (snapshot at {head[0][:12]}, {head[1]})"


def released(path: str, pattern: str, floor: str) -> list[tuple[str, str, str]]:
    """(version, tag, date) for tags matching pattern (whole name) at or above floor, oldest first."""
    rx = re.compile(pattern + r"$")
    found = []
    for tag, day in tags(path).items():
        m = rx.match(tag)
        if m and vkey(m.group(1)) >= vkey(floor):
            found.append((m.group(1), tag, day))
    return sorted(found, key=lambda t: vkey(t[0]))


def header(source: str, read: str, licence: str, **extra) -> dict:
    return {"source": source, "read": read, "licence": licence, **extra}


def eks_ami(path: str, read: str) -> dict:
    repo = "awslabs/amazon-eks-ami"
    rx = re.compile(r"v(\d{8})$")
    rel = sorted(t for t in tags(path) if rx.match(t) and t >= WINDOW["eks-ami"])
    return header(snapshot(path, repo) + ": tags vYYYYMMDD", read, LICENCES[repo],
                  note="An EKS AMI release is a tag vYYYYMMDD of this repository; the date in the name is the "
                       "release's, not the tag's commit date. Karpenter's amiSelectorTerms alias "
                       "'<family>@vYYYYMMDD' must name one of them.",
                  releases=rel)


def charts(paths: dict[str, str], read: str) -> dict:
    out = {}
    for chart, (repo, pattern, files, where, note) in CHARTS.items():
        if repo not in paths:
            continue
        path = paths[repo]
        versions = []
        for version, tag, day in released(path, pattern, WINDOW[CHART_WINDOW.get(chart, chart)]):
            if chart in STAMPED_CHARTS:
                app = version
            else:
                meta = None
                for f in files:
                    try:
                        meta = yaml.safe_load(git(path, "show", f"{tag}:{f}"))
                        break
                    except SystemExit:
                        continue
                if meta is None:
                    raise SystemExit(f"{repo} {tag}: no Chart.yaml at {files}")
                if str(meta.get("version")) != version:
                    raise SystemExit(f"{repo} {tag}: Chart.yaml version {meta.get('version')} is not {version}")
                app = str(meta.get("appVersion"))
            versions.append({"version": version, "appVersion": app, "tag": tag, "date": day})
        tagged = {v["version"] for v in versions}
        for version, day, url in RELEASE_NOTES.get(repo, []):
            if version not in tagged:
                versions.append({"version": version, "appVersion": version, "tag": None, "date": day, "url": url})
        versions.sort(key=lambda v: vkey(v["version"]))
        entry = {"repository": where, "source": snapshot(path, repo) + f": tags {pattern}, {files[0]}",
                 "read": read, "licence": LICENCES[repo], "versions": versions}
        if note:
            entry["note"] = note
        out[chart] = entry
    return header("release tags and Chart.yaml of each chart's repository (per chart below)", read,
                  "per chart below", charts=out)


def images(path: str, read: str) -> dict:
    repo = "kubernetes/autoscaler"
    rel = [{"tag": f"v{v}", "git_tag": t, "date": d}
           for v, t, d in released(path, r"cluster-autoscaler-(\d+\.\d+\.\d+)", WINDOW["cluster-autoscaler"])]
    return header(snapshot(path, repo) + ": tags cluster-autoscaler-X.Y.Z", read, LICENCES[repo],
                  images={"cluster-autoscaler": {
                      "image": "registry.k8s.io/autoscaling/cluster-autoscaler",
                      "guidance": "cluster-autoscaler/README.md 'Schedule': use the latest Cluster Autoscaler "
                                  "release that corresponds to the minor version of Kubernetes the cluster runs",
                      "releases": rel}})


def addon_tags(paths: dict[str, str], read: str) -> dict:
    out = {}
    for addon, (repo, pattern) in ADDON_UPSTREAM.items():
        if repo not in paths:
            continue
        rel = released(paths[repo], pattern, WINDOW[addon])
        out[addon] = {"repository": repo, "source": snapshot(paths[repo], repo), "read": read,
                      "licence": LICENCES[repo],
                      "tags": [{"tag": t, "date": d} for _, t, d in rel]}
    return header("upstream project tags (per add-on below)", read, "per add-on below",
                  note="Evidence that the upstream part vX.Y.Z of an EKS add-on version vX.Y.Z-eksbuild.N was "
                       "released upstream; EKS publishes its builds only through describe-addon-versions and the "
                       "EKS user guide (eks-addon-versions.json).",
                  addons=out)


def dump(value, indent: int = 0) -> str:
    """JSON with one line per flat item (a tag, a version row), so a refresh diffs line by line."""
    pad = " " * (indent + 1)
    if isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values()):
        items = [f"{pad}{json.dumps(k)}: {dump(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(pad + dump(v, indent + 1) for v in value) + "\n" + " " * indent + "]"
    return json.dumps(value)


def addon_code(path: str, read: str) -> dict:
    repo = "awslabs/cdk-eks-blueprints"
    out = {}
    for addon, file in CDK_ADDONS.items():
        first: dict[tuple[str, str], tuple[str, str]] = {}
        # oldest commit first, so each (minor, version) keeps the commit that first named it
        for line in reversed(git(path, "log", "--format=%H %cs", "--", file).splitlines()):
            commit, day = line.split()
            try:
                text = git(path, "show", f"{commit}:{file}")
            except SystemExit:  # the file was deleted or moved in this commit
                continue
            for minor, version in _CDK_ROW.findall(text):
                if (1, int(minor)) >= CDK_MINOR_FLOOR:
                    first.setdefault((f"1.{minor}", version), (commit, day))
        rows = sorted(first.items(), key=lambda kv: (vkey(kv[0][0]), vkey(kv[0][1])))
        out[addon] = [{"kubernetes": k, "version": v, "date": day,
                       "url": f"https://github.com/{repo}/blob/{commit}/{file}"} for (k, v), (commit, day) in rows]
    return header(snapshot(path, repo) + ": version maps in lib/addons/*/index.ts, all commits", read,
                  LICENCES[repo],
                  note="AWS's own EKS Blueprints for CDK pins an EKS add-on version per Kubernetes minor and "
                       "creates the add-on with it (CfnAddon addonVersion); a version it pinned is one EKS served "
                       "for that minor. Absence says nothing: it pins one version per minor at a time.",
                  addons=out)


def write(name: str, doc: dict) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / name).write_text(dump(doc) + "\n")
    print(f"wrote {DATA / name}")


def main(argv: list[str]) -> int:
    read, paths = None, {}
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--read" and args:
            read = args.pop(0)
        elif "=" in a and a.split("=", 1)[0] in LICENCES:
            repo, path = a.split("=", 1)
            paths[repo] = path
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if not read or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", read) or not paths:
        print(__doc__, file=sys.stderr)
        return 2
    if "awslabs/amazon-eks-ami" in paths:
        write("eks-ami-releases.json", eks_ami(paths["awslabs/amazon-eks-ami"], read))
    if any(repo in paths for repo, *_ in CHARTS.values()):
        new = charts(paths, read)
        old_path = DATA / "helm-charts.json"
        if old_path.exists():  # keep charts whose repositories were not given this time
            old = json.loads(old_path.read_text()).get("charts", {})
            new["charts"] = {**{k: v for k, v in old.items() if k not in new["charts"]}, **new["charts"]}
            new["charts"] = dict(sorted(new["charts"].items()))
        write("helm-charts.json", new)
    if "kubernetes/autoscaler" in paths:
        write("images.json", images(paths["kubernetes/autoscaler"], read))
    if any(repo in paths for repo, _ in ADDON_UPSTREAM.values()):
        new = addon_tags(paths, read)
        old_path = DATA / "addon-upstream-tags.json"
        if old_path.exists():
            old = json.loads(old_path.read_text()).get("addons", {})
            new["addons"] = dict(sorted({**{k: v for k, v in old.items() if k not in new["addons"]},
                                         **new["addons"]}.items()))
        write("addon-upstream-tags.json", new)
    if "awslabs/cdk-eks-blueprints" in paths:
        write("addon-versions-aws-code.json", addon_code(paths["awslabs/cdk-eks-blueprints"], read))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
