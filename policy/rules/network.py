"""Network: no world-open ingress except web ports, locked default SGs, flow logs on every
VPC, no overlapping VPCs."""

import ipaddress

from .base import as_list, get, resource_rule, stack_rule

WORLD = {"0.0.0.0/0", "::/0"}
WEB_PORTS = {80, 443}  # the guideline (web only faces the internet), not a copy of any port the program opens


def _bad_world_rule(protocol, from_port, to_port, cidrs) -> str | None:
    if not WORLD & set(as_list(cidrs)):
        return None
    proto = str(protocol if protocol is not None else "-1").lower()
    if proto in ("-1", "all"):
        return "allows all protocols and ports from the internet"
    lo, hi = int(from_port or 0), int(to_port if to_port is not None else 65535)
    if proto in ("tcp", "6") and lo == hi and lo in WEB_PORTS:
        return None
    return f"allows {proto} {lo}-{hi} from the internet (only 80/443 may be)"


def _sg_ingress(t, p):
    if t == "aws:ec2/securityGroup:SecurityGroup":
        for rule in as_list(p.get("ingress")):
            why = _bad_world_rule(rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"),
                                  as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks")))
            if why:
                yield f"an ingress block {why}"
    elif t == "aws:ec2/securityGroupRule:SecurityGroupRule":
        if p.get("type") == "ingress":
            why = _bad_world_rule(p.get("protocol"), p.get("fromPort"), p.get("toPort"),
                                  as_list(p.get("cidrBlocks")) + as_list(p.get("ipv6CidrBlocks")))
            if why:
                yield f"the rule {why}"
    elif t == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        why = _bad_world_rule(p.get("ipProtocol"), p.get("fromPort"), p.get("toPort"),
                              [c for c in (p.get("cidrIpv4"), p.get("cidrIpv6")) if c])
        if why:
            yield f"the rule {why}"


def _default_sg(t, p):
    if as_list(p.get("ingress")) or as_list(p.get("egress")):
        yield "the VPC's default security group has rules"


def _flow_logs(resources):
    vpcs = [r for r in resources if r.resource_type == "aws:ec2/vpc:Vpc"]
    logs = [r for r in resources if r.resource_type == "aws:ec2/flowLog:FlowLog"]
    for vpc in vpcs:
        covered = any(
            vpc in (log.property_dependencies.get("vpcId") or []) or
            (log.props.get("vpcId") and log.props.get("vpcId") == get(vpc.props, "id"))
            for log in logs)
        if not covered:
            yield f"VPC {vpc.name} has no flow log", vpc.urn


def _no_overlap(resources):
    vpcs = []
    for r in resources:
        if r.resource_type == "aws:ec2/vpc:Vpc" and isinstance(r.props.get("cidrBlock"), str):
            vpcs.append((ipaddress.ip_network(r.props["cidrBlock"], strict=False), r))
    for i, (a, ra) in enumerate(vpcs):
        for b, rb in vpcs[i + 1:]:
            if a.overlaps(b):
                yield f"VPC {ra.name} ({a}) overlaps VPC {rb.name} ({b})", ra.urn


SG_TYPES = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")

POLICIES = [
    resource_rule("no-world-ingress-except-web", "No ingress from 0.0.0.0/0 or ::/0 except TCP 80/443.",
                  "restrict the source to known CIDRs or security groups", SG_TYPES, _sg_ingress),
    resource_rule("default-security-group-locked", "Default security groups hold no rules.",
                  "manage aws.ec2.DefaultSecurityGroup with empty ingress and egress",
                  ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",), _default_sg),
]
STACK_POLICIES = [
    stack_rule("vpc-flow-logs", "Every VPC has a flow log.",
               "add an aws.ec2.FlowLog (trafficType ALL) for the VPC", _flow_logs),
    stack_rule("vpc-no-overlap", "No two VPCs in a stack overlap.",
               "give the VPCs disjoint blocks (the address plan does this; pin cidr with care)", _no_overlap),
]
