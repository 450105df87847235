"""global-platform deploy readiness: what AWS and Kubernetes require to exist before a resource,
checked over the dependency graph the engine will follow. Stack policies only, mandatory in every
stack (a violation is a `pulumi up` that fails or silently does nothing). Rules by concern in
checks/; the upstream facts they stand on, with sources, in checks/facts.py."""

from pulumi_policy import EnforcementLevel, PolicyPack

from checks import airgap, eks, fis, kubernetes, network

PolicyPack(
    name="global-platform-readiness",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[*eks.POLICIES, *kubernetes.POLICIES, *network.POLICIES, *airgap.POLICIES, *fis.POLICIES],
)
