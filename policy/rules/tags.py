"""Tags: every taggable AWS resource carries environment, owner, managed-by and region.
Which types take tags is read from the pulumi-aws SDK itself."""

import functools
import importlib
import inspect

from .base import resource_rule

REQUIRED = ("environment", "owner", "managed-by", "region")


@functools.lru_cache(maxsize=None)
def taggable(type_token: str) -> bool:
    if not type_token.startswith("aws:"):
        return False
    _, module_path, class_name = type_token.split(":")
    module = module_path.split("/")[0]
    try:
        cls = getattr(importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}"),
                      class_name)
    except (ImportError, AttributeError):
        return False
    return "tags" in inspect.signature(cls._internal_init).parameters


def _tags(t, p):
    if not taggable(t):
        return
    tags = p.get("tags") or {}
    missing = [k for k in REQUIRED if not tags.get(k)]
    if missing:
        yield f"tags missing: {', '.join(missing)}"


POLICIES = [
    resource_rule("required-tags", "Taggable AWS resources carry environment, owner, managed-by and region.",
                  "pass the standard tags (components.naming.RegionContext.tags) in the resource's own tags",
                  (), _tags),
]
