"""global-platform deploy readiness: what AWS and Kubernetes require to exist before a resource,
checked over the dependency graph the engine will follow. Stack policies only, mandatory in every
stack (a violation is a `pulumi up` that fails or silently does nothing). Rules by concern in
checks/, every module there that defines POLICIES (checks.discover); the upstream facts they
stand on, with sources, in checks/facts.py."""

import sys

from pulumi_policy import EnforcementLevel, PolicyPack

from checks import PackError, discover

try:
    policies = discover()
except PackError as err:
    sys.exit(f"global-platform-readiness: {err}")

PolicyPack(name="global-platform-readiness", enforcement_level=EnforcementLevel.MANDATORY, policies=policies)
