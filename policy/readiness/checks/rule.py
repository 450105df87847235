"""One readiness rule: a name, what AWS or Kubernetes imposes, how to fix it, and a check over
the stack's graph yielding (problem, urn) pairs."""

from __future__ import annotations

from typing import Callable, Iterable

from pulumi_policy import EnforcementLevel, StackValidationPolicy

from .graph import Graph

Check = Callable[[Graph], Iterable[tuple[str, str]]]


def readiness_rule(name: str, description: str, remediation: str, check: Check) -> StackValidationPolicy:
    def validate(args, report_violation) -> None:
        graph = Graph(args.resources)
        for problem, urn in check(graph):
            report_violation(f"{problem}. Fix: {remediation}", urn or None)

    return StackValidationPolicy(name=name, description=f"{description} Remediation: {remediation}",
                                 enforcement_level=EnforcementLevel.MANDATORY, validate=validate)
