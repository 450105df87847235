"""global-platform security guidelines as a CrossGuard policy pack.

Rules live by concern in rules/; every module there that defines POLICIES or STACK_POLICIES is
part of the pack (rules.discover). Every rule defaults to advisory; each stack's enforcement
comes from config/<stack>.json (advisory in dev, mandatory in prod and airgap), passed with
--policy-pack-config, never by editing rules.
"""

import sys

from pulumi_policy import EnforcementLevel, PolicyPack

from rules import PackError, discover

try:
    policies = discover()
except PackError as err:
    sys.exit(f"global-platform-security: {err}")

PolicyPack(name="global-platform-security", enforcement_level=EnforcementLevel.ADVISORY, policies=policies)
