"""Hybrid: site-to-site VPN tunnels negotiate IKEv2 only."""

from .base import as_list, resource_rule


def _ikev2(t, p):
    for tunnel in ("tunnel1", "tunnel2"):
        versions = as_list(p.get(f"{tunnel}IkeVersions"))
        if versions != ["ikev2"]:
            yield f"{tunnel} allows IKE versions {versions or ['ikev1', 'ikev2']}"


POLICIES = [
    resource_rule("vpn-ikev2-only", "VPN tunnels use IKEv2 only.",
                  "set tunnel1IkeVersions and tunnel2IkeVersions to [ikev2]",
                  ("aws:ec2/vpnConnection:VpnConnection",), _ikev2),
]
