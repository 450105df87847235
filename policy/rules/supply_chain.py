"""Supply chain: Helm releases and charts pin an exact chart version."""

import re

from .base import resource_rule

EXACT = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


def _pinned(t, p):
    version = p.get("version")
    if not version:
        yield "the chart version is not pinned (latest at install time)"
    elif not isinstance(version, str) or not EXACT.match(version):
        yield f"the chart version {version!r} is a range, not an exact version"


POLICIES = [
    resource_rule("helm-chart-pinned", "Helm releases pin an exact chart version.",
                  "set version to an exact chart version, e.g. 10.1.1",
                  ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v4:Chart"),
                  _pinned),
]
