"""One rule, one small object: name, description, remediation, the types it reads, a check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterable

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

Check = Callable[[str, Mapping[str, Any]], Iterable[str]]  # (type, props) -> problems


def resource_rule(name: str, description: str, remediation: str, types: Iterable[str], check: Check,
                  level: EnforcementLevel = EnforcementLevel.ADVISORY) -> ResourceValidationPolicy:
    wanted = frozenset(types)

    def validate(args, report_violation) -> None:
        if wanted and args.resource_type not in wanted:
            return
        for problem in check(args.resource_type, args.props):
            report_violation(f"{problem}. Fix: {remediation}", None)

    return ResourceValidationPolicy(name=name, description=f"{description} Remediation: {remediation}",
                                    enforcement_level=level, validate=validate)


def stack_rule(name: str, description: str, remediation: str,
               check: Callable[[list], Iterable[tuple[str, str]]],
               level: EnforcementLevel = EnforcementLevel.ADVISORY) -> StackValidationPolicy:
    """check(resources) yields (problem, urn) pairs."""

    def validate(args, report_violation) -> None:
        for problem, urn in check(args.resources):
            report_violation(f"{problem}. Fix: {remediation}", urn or None)

    return StackValidationPolicy(name=name, description=f"{description} Remediation: {remediation}",
                                 enforcement_level=level, validate=validate)


def get(props: Mapping[str, Any], *path: str, default: Any = None) -> Any:
    """props['a']['b'] without KeyErrors (inputs are often partial)."""
    cur: Any = props
    for key in path:
        if not isinstance(cur, Mapping) or key not in cur:
            return default
        cur = cur[key]
    return cur


def as_list(value: Any) -> list:
    """A list from a value that may be missing, a scalar, or pulumi_policy's read-only list proxy."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)):
        return [value]
    if isinstance(value, Sequence) or hasattr(value, "__iter__"):
        return list(value)
    return [value]


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)
