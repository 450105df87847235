"""Regenerate tools/upstream/data/crds/*.json: the openAPIV3Schema of each custom kind the
platform creates, at the upstream version it pins, read with git from a fetched copy of the
upstream repository (a bare snapshot or a checkout: anything `git -C PATH show TAG:FILE` reads).

    python -m tools.upstream.refresh_crds aws/karpenter-provider-aws=PATH kedacore/charts=PATH \\
        argoproj/argo-helm=PATH istio/istio=PATH

Only the schemas are kept (descriptions dropped, everything the API server validates with kept,
CEL rules included so the check can count them), with the repository, tag, commit and file each
came from. Bump a pin below together with the program's pin, rerun, and update SOURCES.md.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

from tools.upstream.gitread import checkouts, git

DATA = Path(__file__).resolve().parent / "data" / "crds"

# file stem -> (repository, tag, [CRD files]); every served version of each kind is kept.
PINS = {
    "karpenter-1.14.1": ("aws/karpenter-provider-aws", "v1.14.1", [
        "pkg/apis/crds/karpenter.sh_nodepools.yaml",
        "pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml",
    ]),
    # The CRDs the keda chart 2.20.2 installs (templates/crds, Helm directives around them only).
    "keda-2.20.2": ("kedacore/charts", "v2.20.2", [
        "keda/templates/crds/crd-clustertriggerauthentications.yaml",
        "keda/templates/crds/crd-triggerauthentications.yaml",
        "keda/templates/crds/crd-scaledobjects.yaml",
    ]),
    # Argo CD as the argo-cd chart 10.1.1 ships it (appVersion v3.4.4).
    "argo-cd-10.1.1": ("argoproj/argo-helm", "argo-cd-10.1.1", [
        "charts/argo-cd/templates/crds/crd-application.yaml",
        "charts/argo-cd/templates/crds/crd-appproject.yaml",
    ]),
    # Istio's CRDs as the base chart installs them (templates/crds.yaml renders files/crd-all.gen.yaml,
    # one file of every Istio CRD). The 1.31.1 tag is newer than the istio/istio snapshot read here
    # (2026-08-22); 1.31.0-rc.0 is the newest 1.31 tag in it, and its charts are those of the
    # release-1.31 branch head (a8d70121, 2026-08-20; `git diff 1.31.0-rc.0 release-1.31 --
    # manifests/charts/base manifests/charts/istio-control` is empty). Rerun at tag 1.31.1 when a
    # newer snapshot has it.
    "istio-base-1.31.1": ("istio/istio", "1.31.0-rc.0", [
        "manifests/charts/base/files/crd-all.gen.yaml",
    ]),
}
# Files holding many CRDs: only these kinds are kept (the ones the platform creates).
KINDS = {
    "istio-base-1.31.1": frozenset({"ServiceEntry", "DestinationRule"}),
}

_DROP = {"description", "example", "externalDocs"}
_VERBATIM = {"default", "enum"}     # values, not schema: kept as they are
_DIRECTIVE_LINE = re.compile(r"^\s*\{\{.*\}\}\s*$")
_INLINE = re.compile(r"\{\{.*?\}\}")




def untemplate(text: str) -> str:
    """A chart's CRD template as plain YAML: lines that are only Helm directives go, inline
    directives (labels, annotations) become a placeholder. The schemas hold none."""
    lines = [ln for ln in text.splitlines() if not _DIRECTIVE_LINE.match(ln)]
    return "\n".join(_INLINE.sub("TEMPLATED", ln) for ln in lines) + "\n"


def strip(node, names: bool = False):
    """Drop documentation from a schema node; `names`: node is a `properties` map, whose keys are
    field names (a field may be called "description") and are all kept."""
    if isinstance(node, dict):
        return {k: v if k in _VERBATIM and not names else strip(v, names=(k == "properties" and not names))
                for k, v in node.items() if names or k not in _DROP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def extract(path: str, repo: str, tag: str, files: list[str], only: frozenset = frozenset()) -> dict:
    commit = git(path, "rev-parse", f"{tag}^{{commit}}").strip()
    kinds = {}
    for f in files:
        crds = [d for d in yaml.safe_load_all(untemplate(git(path, "show", f"{tag}:{f}")))
                if d and d.get("kind") == "CustomResourceDefinition"]
        for crd in crds:
            if only and crd["spec"]["names"]["kind"] not in only:
                continue
            kinds.update(_served(crd, f))
    return {"source": {"repository": repo, "tag": tag, "commit": commit, "files": files}, "kinds": kinds}


def _served(crd: dict, f: str) -> dict:
    """Every served version of one CRD: "group/version/Kind" -> its schema."""
    spec, kinds = crd["spec"], {}
    for v in spec["versions"]:
        if not v.get("served", False):
            continue
        key = f"{spec['group']}/{v['name']}/{spec['names']['kind']}"
        kinds[key] = {"file": f, "scope": spec["scope"], "storage": bool(v.get("storage")),
                      "schema": strip(v["schema"]["openAPIV3Schema"])}
    return kinds


def main(argv: list[str]) -> int:
    given = checkouts(argv)
    if given is None:
        print(__doc__, file=sys.stderr)
        return 2
    DATA.mkdir(parents=True, exist_ok=True)
    for stem, (repo, tag, files) in PINS.items():
        if repo not in given:
            print(f"skip {stem}: no path given for {repo}")
            continue
        doc = extract(given[repo], repo, tag, files, KINDS.get(stem, frozenset()))
        out = DATA / f"{stem}.json"
        out.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
        print(f"wrote {out.relative_to(DATA.parents[3])} ({out.stat().st_size} bytes): {', '.join(doc['kinds'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
