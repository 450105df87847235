"""IAM: no policy document allows "*" as an action."""

import json

from .base import as_list, is_map, resource_rule

POLICY_TYPES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy",
                "aws:iam/groupPolicy:GroupPolicy", "aws:iam/role:Role")


def _documents(t, p):
    if t == "aws:iam/role:Role":
        return [ip.get("policy") for ip in as_list(p.get("inlinePolicies")) if is_map(ip)]
    return [p.get("policy")]


def _star_actions(t, p):
    for doc in _documents(t, p):
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except json.JSONDecodeError:
                continue
        if not is_map(doc):
            continue
        for st in as_list(doc.get("Statement")):
            if is_map(st) and st.get("Effect") == "Allow" and "*" in as_list(st.get("Action")):
                yield f"a statement ({st.get('Sid') or 'no Sid'}) allows every action (\"*\")"


POLICIES = [
    resource_rule("iam-no-star-action", "No IAM policy allows \"*\" as an action.",
                  "list the actions the principal needs", POLICY_TYPES, _star_actions),
]
