"""Regenerate tools/upstream/data/crds/*.json: the openAPIV3Schema of each custom kind the
platform creates, at the upstream version it pins, read with git from a fetched copy of the
upstream repository (a bare snapshot or a checkout: anything `git -C PATH show TAG:FILE` reads).

    python -m tools.upstream.refresh_crds aws/karpenter-provider-aws=PATH kedacore/charts=PATH \\
        argoproj/argo-helm=PATH

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


def extract(path: str, repo: str, tag: str, files: list[str]) -> dict:
    commit = git(path, "rev-parse", f"{tag}^{{commit}}").strip()
    kinds = {}
    for f in files:
        crd = yaml.safe_load(untemplate(git(path, "show", f"{tag}:{f}")))
        spec = crd["spec"]
        for v in spec["versions"]:
            if not v.get("served", False):
                continue
            key = f"{spec['group']}/{v['name']}/{spec['names']['kind']}"
            kinds[key] = {"file": f, "scope": spec["scope"], "storage": bool(v.get("storage")),
                          "schema": strip(v["schema"]["openAPIV3Schema"])}
    return {"source": {"repository": repo, "tag": tag, "commit": commit, "files": files}, "kinds": kinds}


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
        doc = extract(given[repo], repo, tag, files)
        out = DATA / f"{stem}.json"
        out.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
        print(f"wrote {out.relative_to(DATA.parents[3])} ({out.stat().st_size} bytes): {', '.join(doc['kinds'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
