"""Adoption (`imports`): a resource imported with Pulumi's `import` option must be declared with
the inputs the existing resource has, or `pulumi up` refuses it.

Where the recorded attributes come from: the program registers one stack-level component,
`global-platform:imports:Adoption` (components/imports.py), whose inputs are the stack's
`imports` entries with the `existing` attributes each records. The engine hands a component's
inputs to a stack policy like any resource's, in a real preview as offline, so the rule needs no
stack file and no per-stack policy config.

Sources (read 2026-11-26):
- Pulumi docs, "Importing resources" / `import` resource option: "If the resource's arguments
  differ from the imported state, the import will fail": the preview warns "inputs to import do
  not match the existing resource; importing this resource will fail" and `pulumi up` stops with
  "error: inputs to import do not match the existing resource";
- which inputs force a replacement: tools/replace_metadata/replace_on.json (terraform-provider-aws
  v6.58.0 ForceNew, read for pulumi-aws 7.51.1), copied below for the types `imports` accepts
  because a policy pack is started from its own directory (tests/test_imports.py checks the copy
  against the JSON). A replacing input that is made to pass the import (ignoreChanges, or the
  existing value copied in and changed later) destroys the adopted resource on the next update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterator

from pulumi_policy.proxy import UnknownValueError

from .graph import Graph, get, known
from .rule import readiness_rule

ADOPTION = "global-platform:imports:Adoption"

# Type -> top-level inputs that replace the resource (replace_on.json "types", first path segment).
REPLACE_ON: dict[str, frozenset[str]] = {
    "aws:ec2/customerGateway:CustomerGateway": frozenset(
        {"bgpAsn", "bgpAsnExtended", "certificateArn", "deviceName", "ipAddress", "type"}),
    "aws:ec2/eip:Eip": frozenset({"address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"}),
    "aws:ec2/flowLog:FlowLog": frozenset(
        {"deliverCrossAccountRole", "destinationOptions", "eniId", "iamRoleArn", "logDestination",
         "logDestinationType", "logFormat", "maxAggregationInterval", "regionalNatGatewayId", "subnetId",
         "tagFieldSpecifications", "trafficType", "transitGatewayAttachmentId", "transitGatewayId", "vpcId"}),
    "aws:ec2/internetGateway:InternetGateway": frozenset(),
    "aws:ec2/natGateway:NatGateway": frozenset(
        {"allocationId", "availabilityMode", "connectivityType", "privateIp", "subnetId", "vpcId"}),
    "aws:ec2/routeTable:RouteTable": frozenset({"vpcId"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"description", "name", "namePrefix", "vpcId"}),
    "aws:ec2/subnet:Subnet": frozenset(
        {"availabilityZone", "availabilityZoneId", "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength",
         "ipv6IpamPoolId", "ipv6Native", "ipv6NetmaskLength", "vpcId"}),
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"}),
    "aws:ec2/vpcEndpoint:VpcEndpoint": frozenset(
        {"dnsOptions", "resourceConfigurationArn", "serviceName", "serviceNetworkArn", "serviceRegion",
         "vpcEndpointType", "vpcId"}),
    "aws:ec2/vpnConnection:VpnConnection": frozenset(
        {"enableAcceleration", "staticRoutesOnly", "tunnelBandwidth", "tunnelInsideIpVersion", "type",
         "vpnConcentratorId"}),
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": frozenset(
        {"options", "peerAccountId", "peerRegion", "peerTransitGatewayId", "transitGatewayId"}),
    "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter": frozenset(
        {"transitGatewayAttachmentId"}),
    "aws:ec2transitgateway/routeTable:RouteTable": frozenset({"transitGatewayId"}),
    "aws:ec2transitgateway/transitGateway:TransitGateway": frozenset({"multicastSupport"}),
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": frozenset({"transitGatewayId", "vpcId"}),
    "aws:eks/cluster:Cluster": frozenset(
        {"accessConfig", "bootstrapSelfManagedAddons", "kubernetesNetworkConfig", "name", "outpostConfig",
         "roleArn"}),
    "aws:rds/subnetGroup:SubnetGroup": frozenset({"name", "namePrefix"}),
}


def _value(props: Any, key: str) -> Any:
    """The program's input, or an unknown marker when the preview cannot know it yet."""
    try:
        return props.get(key) if isinstance(props, Mapping) else None
    except UnknownValueError:
        return _UNKNOWN


_UNKNOWN = object()


def _differences(existing: Any, planned: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """(path, existing, planned) for each recorded value the program sets differently. A value
    the program leaves unknown until apply (an id of a resource created in the same update) is
    not judged; a key the program does not set at all is a difference (the import sees it
    removed). Tags are a flat map recorded whole: a tag only the program sets differs too."""
    if isinstance(existing, Mapping) and isinstance(planned, Mapping):
        keys = set(existing) | (set(planned) if path == "tags" else set())
        for key in sorted(keys):
            yield from _differences(existing.get(key), _value(planned, key), f"{path}.{key}")
        return
    if planned is _UNKNOWN or (isinstance(planned, str) and not known(planned)):
        return
    if isinstance(existing, (int, float)) and isinstance(planned, (int, float)):
        if float(existing) != float(planned):
            yield path, existing, planned
        return
    if existing != planned:
        yield path, existing, planned


def _mismatches(g: Graph):
    for record in g.of_type(ADOPTION):
        entries = get(record.props, "entries", default={}) or {}
        for name in sorted(entries):
            entry = entries[name]
            existing = get(entry, "existing", default={}) or {}
            if not existing:
                continue
            types = set(get(entry, "types", default=[]) or [])
            targets = [r for r in g.resources if r.name == name and r.resource_type in types]
            for r in targets:
                replaces = REPLACE_ON.get(r.resource_type, frozenset())
                diffs = [d for key in sorted(existing) for d in _differences(existing[key], _value(r.props, key), key)]
                if not diffs:
                    continue
                said = "; ".join(f"{path} is {had!r} on the existing resource, the program sets {wants!r}"
                                 for path, had, wants in diffs)
                forced = sorted({path.split(".", 1)[0] for path, _, _ in diffs} & replaces)
                tail = (f"; {', '.join(forced)} forces replacement: once imported, this difference replaces "
                        f"(deletes and recreates) the adopted {name}") if forced else ""
                yield (f"imports.{name} ({get(entry, 'id')}): {said}: `pulumi up` refuses the import (inputs to "
                       f"import do not match the existing resource){tail}"), r.urn

POLICIES = [
    readiness_rule(
        "import-inputs-match",
        "A resource adopted with `imports` is declared with the inputs the existing resource has (as recorded "
        "in its `existing` attributes): Pulumi imports only when they match, and an input that forces "
        "replacement would destroy the adopted resource once a later update applies it.",
        "make the stack config give the existing value (pin the VPC's `cidr`, the AZs, the names and tags), or, "
        "when the recorded value is stale, run `python -m tools.adopt` again; never silence a replacing input "
        "with ignoreChanges",
        _mismatches),
]
