"""Principals named in a policy exist before the policy is written.

IAM rejects a trust policy whose Federated principal is an OIDC provider that does not exist, and
KMS (CreateKey/PutKeyPolicy) and S3 (PutBucketPolicy) reject a policy whose AWS principal is a
role that does not exist ("MalformedPolicyDocument: Invalid principal in policy"; KMS developer
guide, "Key policies": "the principals ... must exist"; IAM user guide, "AWS JSON policy elements:
Principal"). So a key, bucket policy, role or other resource whose policy document names a role
(by its name) or an OIDC provider (by its URL) created in this stack must wait for it.

Only names the program spells out are matched (role `name`, provider `url`); auto-named roles are
referenced through Outputs, which make the dependency by construction.
"""

from __future__ import annotations

from typing import Iterator

from .graph import Graph, as_json, as_list, get, known
from .rule import readiness_rule

ROLE = "aws:iam/role:Role"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
POLICY_KEYS = ("policy", "assumeRolePolicy")


def _principals(doc) -> Iterator[str]:
    for st in as_list(get(doc, "Statement")):
        principal = get(st, "Principal")
        if not hasattr(principal, "get"):
            continue
        for kind in ("AWS", "Federated"):
            for arn in as_list(get(principal, kind)):
                if known(arn):
                    yield arn


def _producers(g: Graph) -> dict[str, object]:
    """'role/<name>' and 'oidc-provider/<host>' -> the stack resource that creates it."""
    out: dict[str, object] = {}
    for r in g.of_type(ROLE):
        name = get(r.props, "name")
        if known(name):
            out[f"role/{name}"] = r
    for r in g.of_type(OIDC_PROVIDER):
        url = get(r.props, "url")
        if known(url):
            out[f"oidc-provider/{url.removeprefix('https://')}"] = r
    return out


def _principals_first(g: Graph):
    producers = _producers(g)
    if not producers:
        return
    for r in g.resources:
        for key in POLICY_KEYS:
            doc = as_json(get(r.props, key))
            if not hasattr(doc, "get"):
                continue
            for arn in _principals(doc):
                resource = arn.split(":", 5)[-1] if arn.count(":") >= 5 else ""
                kind, _, rest = resource.partition("/")
                # A role ARN may carry a path (role/path/name): IAM names the role by its last segment.
                ref = f"role/{rest.rsplit('/', 1)[-1]}" if kind == "role" else resource
                p = producers.get(ref)
                if p is not None and p.urn != r.urn and p.urn not in g.waits_for(r):
                    yield (f"{r.resource_type.split(':')[-1]} {r.name} names {arn} in its {key} but does not "
                           f"wait for {p.urn}: AWS rejects a policy whose principal does not exist yet", r.urn)


POLICIES = [
    readiness_rule(
        "policy-principals-exist-first",
        "A policy document (key policy, bucket policy, trust policy) naming a role or OIDC provider of this "
        "stack waits for it: IAM, KMS and S3 reject principals that do not exist.",
        "pass the principal's ARN as an Output (role.arn, provider.arn) or add it to dependsOn",
        _principals_first),
]
