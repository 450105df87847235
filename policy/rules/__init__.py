"""The security rules, one module per concern, found rather than listed.

`discover()` takes every module of this package that defines POLICIES (resource rules) and/or
STACK_POLICIES (stack rules), in module-name order (POLICIES before STACK_POLICIES within a
module); a module that defines neither (base.py) is a helper and is skipped. A new concern is a
new module here: nothing else to edit. Two policies with one name stop the pack at start.

The readiness pack has the same function in policy/readiness/checks/__init__.py: each pack is
started (and published) from its own directory alone, so neither may import the other.
"""

from __future__ import annotations

import importlib
import pkgutil

from pulumi_policy import Policy

KINDS = ("POLICIES", "STACK_POLICIES")


class PackError(Exception):
    """The modules do not make a pack: a name defined twice, or a list that is not policies."""


def discover(package: str = __name__) -> list[Policy]:
    pkg = importlib.import_module(package)
    policies: list[Policy] = []
    defined_in: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package}.{info.name}")
        for kind in KINDS:
            if not hasattr(module, kind):
                continue
            found = getattr(module, kind)
            if not isinstance(found, (list, tuple)):
                raise PackError(f"{module.__name__}.{kind} is a {type(found).__name__}, not a list of policies")
            for policy in found:
                if not isinstance(policy, Policy):
                    raise PackError(f"{module.__name__}.{kind} holds {policy!r}, which is not a pulumi_policy Policy")
                if policy.name in defined_in:
                    raise PackError(f"policy name '{policy.name}' is defined twice: in {defined_in[policy.name]} "
                                    f"and in {module.__name__}")
                defined_in[policy.name] = module.__name__
                policies.append(policy)
    return policies
