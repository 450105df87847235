"""Reading config as the Pulumi engine passes it: a flat map of "namespace:key" -> string."""

from __future__ import annotations

import json
from typing import Any, Mapping

from .errors import NAMESPACE


def _decode_engine_value(value: Any) -> Any:
    """The engine hands config over as strings; objects and lists arrive as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def raw_from_engine_config(all_config: Mapping[str, Any]) -> dict[str, Any]:
    """Pick this project's keys out of the engine's flat config map ("ns:key" -> value)."""
    prefix = NAMESPACE + ":"
    return {k[len(prefix):]: _decode_engine_value(v) for k, v in all_config.items() if k.startswith(prefix)}


def raw_from_pulumi() -> tuple[dict[str, Any], str]:
    """The running stack's config as the engine passed it, and how to name it in errors.

    Every key the engine passed is read, not only the ones we ask for by name, so unknown
    top-level keys are errors too.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    stack = pulumi.get_stack()
    return raw_from_engine_config(merged), f"config of stack '{stack}' (Pulumi.{stack}.yaml)"
