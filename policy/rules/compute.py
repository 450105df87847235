"""Compute: IMDSv2 only, no SSH into node groups."""

from .base import get, resource_rule


def _imdsv2(t, p):
    if get(p, "metadataOptions", "httpTokens") != "required":
        yield "instances may use IMDSv1 (metadataOptions.httpTokens is not 'required')"


def _no_ssh(t, p):
    if p.get("remoteAccess"):
        yield "the node group opens SSH (remoteAccess)"


POLICIES = [
    resource_rule("launch-template-imdsv2", "Launch templates require IMDSv2; missing metadata options count as IMDSv1.",
                  "set metadataOptions.httpTokens: required (hop limit 1)",
                  ("aws:ec2/launchTemplate:LaunchTemplate",), _imdsv2),
    resource_rule("nodegroup-no-ssh", "Node groups have no SSH remote access.",
                  "drop remoteAccess; use SSM Session Manager",
                  ("aws:eks/nodeGroup:NodeGroup", "eks:index:ManagedNodeGroup"), _no_ssh),
]
