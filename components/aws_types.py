"""Facts about pulumi-aws resource types read from the SDK itself, not from hand lists."""

from __future__ import annotations

import functools
import importlib
import inspect


@functools.lru_cache(maxsize=None)
def resource_class(type_token: str):
    """'aws:ec2/vpc:Vpc' -> pulumi_aws.ec2.Vpc (None for non-aws or unknown tokens)."""
    if not type_token.startswith("aws:"):
        return None
    _, module_path, class_name = type_token.split(":")
    module = module_path.split("/")[0]
    try:
        mod = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
        return getattr(mod, class_name)
    except (ImportError, AttributeError):
        return None


@functools.lru_cache(maxsize=None)
def is_taggable(type_token: str) -> bool:
    cls = resource_class(type_token)
    if cls is None:
        return False
    return "tags" in inspect.signature(cls._internal_init).parameters
