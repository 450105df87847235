"""Adoption of existing infrastructure: the `imports` section applied in one place.

``adopt_existing(spec)`` runs before anything else registers and does two things:

- registers one stack transform (``pulumi.runtime.register_resource_transform``) that sets
  Pulumi's ``import`` resource option on each custom resource whose logical name and type match
  an entry. Nothing else changes: the transform leaves ``protect`` and every other option as
  the program set them (prod keeps its protected resources protected). A real ``pulumi up`` runs
  the transform in the engine for every resource, those of remote components (pulumi-eks's
  ``<name>-eksCluster``) included; the offline preview's monitor (tools/offline.py) runs the same
  function the same way, because the SDK's mock monitor does not.
- registers a stack-level component ``global-platform:imports:Adoption`` (name ``imports``) whose
  inputs are the entries, ``existing`` attributes included: that is how the readiness rule
  ``import-inputs-match`` and the offline preview see them, in a real preview as offline (a
  component's inputs reach the policy packs like any resource's), without reading stack files.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import pulumi

from .config.imports import ImportSpec, entries

ADOPTION_TYPE = "global-platform:imports:Adoption"


class ImportTransform:
    """The stack transform: name + type -> import id. A class (not a closure) so the offline
    monitor and the tests can call it directly with the SDK's ResourceTransformArgs."""

    def __init__(self, specs: Mapping[str, ImportSpec]):
        self.by_name = {name: (spec.id, frozenset(spec.types())) for name, spec in specs.items()}

    def import_id(self, type_: str, name: str, custom: bool) -> Optional[str]:
        hit = self.by_name.get(name)
        if not custom or hit is None or type_ not in hit[1]:
            return None
        return hit[0]

    def __call__(self, args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
        rid = self.import_id(args.type_, args.name, args.custom)
        if rid is None:
            return None  # unchanged
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(import_=rid))
        return pulumi.ResourceTransformResult(props=args.props, opts=opts)


class Adoption(pulumi.ComponentResource):
    """What the stack adopts, as inputs the policy packs and the preview read."""

    def __init__(self, name: str, entries_: Mapping[str, ImportSpec], opts: Optional[pulumi.ResourceOptions] = None):
        props: dict[str, Any] = {"entries": {
            n: {"id": s.id, "types": s.types(), "existing": dict(s.existing)} for n, s in entries_.items()}}
        super().__init__(ADOPTION_TYPE, name, props, opts)
        self.register_outputs({})


def adopt_existing(spec: Any) -> Optional[ImportTransform]:
    """Register the transform and the Adoption record when the stack has `imports`."""
    specs = entries(spec.config)
    if not specs:
        return None
    transform = ImportTransform(specs)
    pulumi.runtime.register_resource_transform(transform)
    Adoption("imports", specs)
    return transform
