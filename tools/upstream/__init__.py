"""Checks of the planned values against upstream models: what AWS, IAM, Kubernetes, the CRDs
and the Helm charts accept, and whether every pinned fact (AMI release, add-on, chart and image
versions) is one upstream published. Each module exposes

    NAME: str                      # one word, e.g. "aws-models"
    DESCRIPTION: str               # one line: what it checks, against which upstream data
    def check(doc: dict) -> list[Finding]   # doc: a `pulumi preview --json` document

and is listed in CHECKS below. ``tools.upstream_check`` runs them all, drops findings that
``waivers.yaml`` explains (each with its reason) and reports the rest.

Upstream data kept in the repository lives in ``data/``, small and derived, and
``data/SOURCES.md`` names each file's source (repository, tag, path), licence and date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

CHECKS = (
    # module names under tools.upstream, in the order they run and print
    "aws_models",
    "iam",
    "kubernetes",
    "helm_values",
    "keda_triggers",
    "prometheus",
    "pins",
)


@dataclass(frozen=True)
class Finding:
    check: str      # the check's NAME
    urn: str        # the resource the finding is about ("" for stack-wide facts)
    path: str       # where in its inputs, dotted ("spec.amiSelectorTerms[0].alias"), or ""
    message: str    # what is wrong and what upstream accepts, with the upstream source named

    def key(self) -> tuple:
        return (self.check, self.urn, self.path, self.message)


def resources(doc: dict) -> Iterator[tuple[str, str, dict]]:
    """(urn, type, inputs) of every resource a preview creates or keeps (not deletions)."""
    for step in doc.get("steps", []):
        if step.get("op") in ("delete", "discard", "delete-replaced", "remove-pending-replace"):
            continue
        state = step.get("newState") or {}
        yield step.get("urn", ""), state.get("type", ""), state.get("inputs") or {}
