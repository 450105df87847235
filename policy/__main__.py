"""global-platform security guidelines as a CrossGuard policy pack.

Rules live by concern in rules/; this module only composes them. Every rule defaults to
advisory; each stack's enforcement comes from config/<stack>.json (advisory in dev,
mandatory in prod and airgap), passed with --policy-pack-config, never by editing rules.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from rules import chaos, compute, data, eks, gitops, hybrid, iam, network, supply_chain, tags

PolicyPack(
    name="global-platform-security",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        *eks.POLICIES, *network.POLICIES, *network.STACK_POLICIES, *compute.POLICIES, *data.POLICIES,
        *iam.POLICIES, *gitops.POLICIES, *chaos.POLICIES, *chaos.STACK_POLICIES, *hybrid.POLICIES, *supply_chain.POLICIES,
        *tags.POLICIES,
    ],
)
