"""Facts about pulumi-aws resource types read from the SDK itself, not from hand lists."""

from __future__ import annotations

import functools
import importlib
import inspect
import typing
from typing import Any, Optional


@functools.lru_cache(maxsize=None)
def resource_class(type_token: str):
    """'aws:ec2/vpc:Vpc' -> pulumi_aws.ec2.Vpc (None for non-aws or unknown tokens). Read from the
    token -> class map pulumi-aws registers with the Pulumi runtime, so tokens whose Python module
    is renamed (aws:lambda/* lives in pulumi_aws.lambda_) resolve too."""
    if not type_token.startswith("aws:") or type_token.count(":") != 2:
        return None
    from pulumi.runtime.rpc import get_resource_module

    import pulumi_aws  # noqa: F401  (registers the map; its submodules load lazily)

    pkg, module_path, _ = type_token.split(":")
    module = get_resource_module(pkg, module_path, "")
    if module is None:
        return None
    info = getattr(module, "mod_info", None)
    if not isinstance(info, dict) or "fqn" not in info:  # fail where the SDK changed shape, never guess
        raise RuntimeError(f"pulumi-aws no longer exposes its resource map as mod_info ({type_token})")
    class_name = info.get("classes", {}).get(type_token)
    return getattr(importlib.import_module(info["fqn"]), class_name) if class_name else None


@functools.lru_cache(maxsize=None)
def is_taggable(type_token: str) -> bool:
    cls = resource_class(type_token)
    if cls is None:
        return False
    return "tags" in inspect.signature(cls._internal_init).parameters


def _args_class(annotation: Any, module: str) -> Optional[type]:
    """The pulumi-aws ``...Args`` input class an annotation refers to (through Union/Sequence/
    Mapping/Awaitable wrappers), resolved in the resource's module."""
    if isinstance(annotation, typing.ForwardRef):
        name = annotation.__forward_arg__
        if name.endswith("Args") and "." not in name:
            mod = importlib.import_module(module)
            return getattr(mod, name, None)
        return None
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _args_class(arg, module)
        if found is not None:
            return found
    return None


@functools.lru_cache(maxsize=None)
def _fields(cls: type) -> dict[str, Optional[type]]:
    """camelCase property name -> nested Args class (or None for scalars) of an Args class."""
    out = {}
    module = cls.__module__.rsplit("._inputs", 1)[0]
    for snake, annotation in (cls.__init__.__annotations__ or {}).items():
        prop = inspect.getattr_static(cls, snake, None)
        camel = getattr(getattr(prop, "fget", None), "_pulumi_name", None) or snake
        out[camel] = _args_class(annotation, module)
    return out


@functools.lru_cache(maxsize=None)
def _resource_fields(type_token: str) -> Optional[dict[str, Optional[type]]]:
    cls = resource_class(type_token)
    if cls is None:
        return None
    module = importlib.import_module(cls.__module__)
    # Where `<Name>Args` is already an input type of the package (s3's BucketVersioningArgs is the
    # legacy Bucket's versioning block), the SDK names the resource's args `<Name>InitArgs`.
    args_cls = getattr(module, f"{cls.__name__}InitArgs", None) or getattr(module, f"{cls.__name__}Args", None)
    return _fields(args_cls) if args_cls is not None else None


def unknown_input_keys(type_token: str, inputs: dict) -> list[str]:
    """Paths of input keys the pulumi-aws SDK does not define for this type, nested blocks
    included: a misspelt key inside a dict argument is otherwise silently sent to the provider."""
    fields = _resource_fields(type_token)
    if fields is None:
        return []
    problems: list[str] = []

    def walk(value: Any, spec: dict[str, Optional[type]], path: str) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, spec, f"{path}[{i}]")
            return
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            if key not in spec:
                problems.append(f"{path}.{key}" if path else key)
            elif spec[key] is not None:
                walk(item, _fields(spec[key]), f"{path}.{key}" if path else key)

    walk(inputs, {**fields, "region": None}, "")
    return problems
