"""Input properties whose change makes a provider replace the resource, for the offline diff.

A real `pulumi preview` asks the provider. Offline, this module answers from
tools/replace_metadata/replace_on.json, which tools/replace_metadata/generate.py derives from the
upstream sources (terraform-provider-aws `ForceNew`/`RequiresReplace`, pulumi-kubernetes' diff rules,
pulumi-eks' component code) for every type the program creates; its `source` records versions,
commits and licences. Regenerate it, never edit it by hand.

* `replace_paths(t)`: full dotted input paths (`vpcConfig.subnetIds`) whose change always replaces.
* `replace_paths(t, conditional=True)`: plus paths that replace only for some old/new values
  (Terraform CustomizeDiff ForceNew, `RequiresReplaceIf`, a resource's `region`, Kubernetes
  ConfigMap/Secret data under the provider's default settings); the JSON's `conditional` says when.
* `replace_keys(t)`: the top-level input names of `replace_paths(t)` (what the diff compares).
* `known_types()`: the types the JSON covers; a type outside it diffs as `update`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("replace_metadata") / "replace_on.json"


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(DATA.read_text())


def known_types() -> set[str]:
    return set(_data()["types"])


def replace_paths(resource_type: str, conditional: bool = False) -> set[str]:
    data = _data()
    paths = set(data["types"].get(resource_type, ()))
    if conditional:
        paths |= set(data["conditional"].get(resource_type, {}))
    return paths


def conditional_paths(resource_type: str) -> dict[str, str]:
    """Path -> when it replaces, for value-dependent replacements."""
    return dict(_data()["conditional"].get(resource_type, {}))


def replace_keys(resource_type: str, conditional: bool = False) -> set[str]:
    return {p.split(".", 1)[0] for p in replace_paths(resource_type, conditional)}
