"""Tags: every taggable AWS resource carries environment, owner, managed-by and region.
Which types take tags is read from the pulumi-aws SDK itself (a class with a `tags` input)."""

import functools
import importlib
import inspect

from .base import resource_rule

# The guideline itself, kept here on purpose. The program has the same keys
# (components.naming.REQUIRED_TAG_KEYS), but the pack must run without the program's code (it never
# imports `components`), and the plan cannot say which keys are required: a requirement read from
# the tags the program writes is met by whatever it writes. A team changes this list with the
# program's, in the same review.
REQUIRED = ("environment", "owner", "managed-by", "region")


@functools.lru_cache(maxsize=None)
def _sdk_class(type_token: str):
    """The pulumi-aws class of a type token, from the token -> class map the SDK registers with
    the Pulumi runtime when imported (the one the engine's resource references use), so tokens
    whose Python module is renamed (aws:lambda/* -> pulumi_aws.lambda_) resolve too."""
    from pulumi.runtime.rpc import get_resource_module

    import pulumi_aws  # noqa: F401  (registers the map; its submodules load lazily)

    pkg, module_path, _ = type_token.split(":")
    module = get_resource_module(pkg, module_path, "")
    if module is None:
        return None  # a type this pulumi-aws does not have
    info = getattr(module, "mod_info", None)
    if not isinstance(info, dict) or "fqn" not in info:
        # Never silently treat every type as untaggable: fail where the SDK changed shape.
        raise RuntimeError(f"pulumi-aws no longer exposes its resource map as mod_info ({type_token})")
    class_name = info.get("classes", {}).get(type_token)
    return getattr(importlib.import_module(info["fqn"]), class_name) if class_name else None


# A twin of components.aws_types.is_taggable (the same SDK question; the pack cannot import the
# program). It reads the SDK's own token map rather than guessing the module from the token.
@functools.lru_cache(maxsize=None)
def taggable(type_token: str) -> bool:
    if not type_token.startswith("aws:") or type_token.count(":") != 2:
        return False
    cls = _sdk_class(type_token)
    return cls is not None and "tags" in inspect.signature(cls._internal_init).parameters


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
