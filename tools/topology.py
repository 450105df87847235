"""The stack's topology as a Mermaid picture, read from a preview (ours or a real one): regions
with their VPC CIDRs and clusters (hub or spoke), transit gateways and their peerings, on-prem
sites and how they connect (VPN with BGP ASN, Direct Connect).

    python -m tools.topology --preview-json PATH [--out FILE]

Relationships come from property dependencies (a VPN's transitGatewayId, a peering's two
TGWs), so a real preview with unknown ids draws the same picture.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Optional

from tools.cli import Parser
from tools.offline import OfflineError
from tools.plan_json import GONE_OPS, load_preview_json

TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"


def _states(doc: dict) -> dict[str, dict]:
    return {s["urn"]: s["newState"] for s in doc["steps"] if s.get("op") not in GONE_OPS and s.get("newState")}


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _id(urn: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", _name(urn))


def _deps(state: dict, key: str) -> list[str]:
    return list((state.get("propertyDependencies") or {}).get(key) or [])


def mermaid(doc: dict) -> str:
    states = _states(doc)
    of = defaultdict(list)
    for urn, st in states.items():
        of[st["type"]].append(urn)
    # Region of a resource: its provider's region; components (pulumi-eks) by their name's code.
    region_of_provider = {u: st["inputs"].get("region") for u, st in states.items()
                          if st["type"] == "pulumi:providers:aws"}
    # Regional providers are named `<code>-aws`; others (a region's us-east-1 provider for
    # CloudFront, `<code>-aws-use1`) do not name their owner's region.
    code_region = {_name(u).removesuffix("-aws"): r for u, r in region_of_provider.items()
                   if r and _name(u).endswith("-aws")}

    def region(urn: str) -> str:
        provider = (states[urn].get("provider") or "").rsplit("::", 1)[0]
        return region_of_provider.get(provider) or code_region.get(_name(urn).split("-", 1)[0], "?")

    # The hub: the cluster whose Kubernetes provider the argo-cd release runs on.
    hub_clusters = set()
    for urn in of["kubernetes:helm.sh/v3:Release"]:
        st = states[urn]
        if str(st["inputs"].get("chart", "")).rstrip("/").rsplit("/", 1)[-1] == "argo-cd":
            provider = states.get((st.get("provider") or "").rsplit("::", 1)[0], {})
            hub_clusters.update(_deps(provider, "kubeconfig"))
    lines = ["flowchart LR"]
    regions = sorted({region(u) for u in of[TGW] + of["aws:ec2/vpc:Vpc"] + of["eks:index:Cluster"]})
    for r in regions:
        clusters = [u for u in of["eks:index:Cluster"] if region(u) == r]
        role = " · hub" if set(clusters) & hub_clusters else (" · spoke" if clusters else "")
        lines.append(f'  subgraph {_id(r)}["{r}{role}"]')
        for u in of["aws:ec2/vpc:Vpc"]:
            if region(u) == r:
                lines.append(f'    {_id(u)}["VPC {states[u]["inputs"].get("cidrBlock", "?")}"]')
        for u in of[TGW]:
            if region(u) == r:
                lines.append(f'    {_id(u)}{{{{"TGW ASN {states[u]["inputs"].get("amazonSideAsn", "?")}"}}}}')
        for u in clusters:
            label = "Argo CD hub" if u in hub_clusters else "Argo CD spoke" if hub_clusters else "EKS"
            lines.append(f'    {_id(u)}(["EKS {states[u]["inputs"].get("name", _name(u))} · {label}"])')
        lines.append("  end")
    for u in of["aws:ec2transitgateway/vpcAttachment:VpcAttachment"]:
        st = states[u]
        for vpc in _deps(st, "vpcId"):
            for tgw in _deps(st, "transitGatewayId"):
                lines.append(f"  {_id(vpc)} --- {_id(tgw)}")
    for u in of["eks:index:Cluster"]:
        for vpc in _deps(states[u], "vpcId"):
            lines.append(f"  {_id(u)} -.- {_id(vpc)}")
    for u in of["aws:ec2transitgateway/peeringAttachment:PeeringAttachment"]:
        st = states[u]
        for a in _deps(st, "transitGatewayId"):
            for b in _deps(st, "peerTransitGatewayId"):
                lines.append(f"  {_id(a)} <-->|peering| {_id(b)}")
    sites: dict[str, str] = {}
    for u in of["aws:ec2/customerGateway:CustomerGateway"]:
        site = _name(u).split("-cgw-", 1)[-1]
        sites[u] = site
    drawn_sites = set()

    def site_node(site: str) -> str:
        node = "onprem_" + re.sub(r"[^A-Za-z0-9_]", "_", site)
        if node not in drawn_sites:
            drawn_sites.add(node)
            lines.append(f'  {node}[/"on-prem {site}"/]')
        return node

    for u in of["aws:ec2/vpnConnection:VpnConnection"]:
        st = states[u]
        for cgw in _deps(st, "customerGatewayId"):
            asn = states.get(cgw, {}).get("inputs", {}).get("bgpAsn", "?")
            for tgw in _deps(st, "transitGatewayId"):
                lines.append(f"  {site_node(sites.get(cgw, _name(cgw)))} ---|VPN, BGP {asn}| {_id(tgw)}")
    for u in of["aws:directconnect/gatewayAssociation:GatewayAssociation"]:
        st = states[u]
        site = _name(u).split("-dxgw-tgw-", 1)[-1]
        for tgw in _deps(st, "associatedGatewayId"):
            lines.append(f"  {site_node(site)} ===|Direct Connect| {_id(tgw)}")
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    p = Parser(prog="python -m tools.topology", description=__doc__.splitlines()[0])
    p.add_argument("--preview-json", type=Path, required=True, metavar="PATH")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the Mermaid text here instead of stdout")
    args = p.parse_args(argv)
    try:
        text = mermaid(load_preview_json(args.preview_json))
    except OfflineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
