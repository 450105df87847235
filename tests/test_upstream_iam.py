"""tools/upstream/iam.py: each kind of finding on a small violating document and a compliant one,
the documents it finds, and the shipped stacks' documents (all seen, waivers not stale)."""

import json

import pytest

from tests.helpers import shipped
from tools.upstream import CHECKS, iam
from tools.upstream_check import DEFAULT_WAIVERS, load_waivers, run_checks

ACCT = "123456789012"
R = "us-west-2"
STACKS = ("dev", "prod", "airgap")


def step(typ, inputs, name="r"):
    return {"op": "create", "urn": f"urn:pulumi:test::global-platform::{typ}::{name}",
            "newState": {"type": typ, "inputs": inputs}}


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def role_policy(*statements, name="p", role="role-a"):
    return step("aws:iam/rolePolicy:RolePolicy", {"role": role, "policy": policy(*statements)}, name)


def key(*statements):
    return step("aws:kms/key:Key", {"policy": policy(*statements)}, "k")


def trust(*statements):
    return step("aws:iam/role:Role", {"name": "role-a", "assumeRolePolicy": policy(*statements)}, "role")


def findings(*steps):
    return iam.check({"steps": list(steps)})


def messages(*steps):
    return [f.message for f in findings(*steps)]


def test_registered():
    assert "iam" in CHECKS and iam.NAME == "iam"


# --- unknown actions --------------------------------------------------------------------------------

@pytest.mark.parametrize("action, expected", [
    ("ec2:DescribeInstancez", "ec2 has no action DescribeInstancez"),
    ("ec2:Frobnicate*", "matches no ec2 action"),
    ("notaservice:GetThing", "service prefix 'notaservice' is not in the IAM definition"),
    ("DescribeInstances", "not of the form service:action"),
])
def test_unknown_actions(action, expected):
    (msg,) = messages(role_policy(allow(["ec2:DescribeInstances", action])))
    assert "unknown action" in msg and expected in msg
    assert "parliament UNKNOWN" not in " ".join(messages(role_policy(allow(action))))  # no duplicate


@pytest.mark.parametrize("action", ["ec2:DescribeInstances", "EC2:describeinstances", "ec2:DescribeInstanceType*",
                                    "ec2:Describe?nstances", "autoscaling:Describe*"])
def test_known_actions(action):
    assert messages(role_policy(allow(action))) == []


def mine(*steps):
    """This check's own findings (not parliament's)."""
    return [m for m in messages(*steps) if not m.startswith("parliament ")]


# --- resources --------------------------------------------------------------------------------------

def test_resource_of_another_type():
    msgs = messages(role_policy(allow(["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"],
                                      [f"arn:aws:ec2:{R}:*:instance/*"])))
    assert any(f"resource arn:aws:ec2:{R}:*:instance/* matches no ARN format" in m
               and "ec2:CreateNetworkAclEntry takes network-acl*" in m for m in msgs)
    assert any("ec2:DeleteNetworkAcl is granted on none of its resource types (network-acl*" in m for m in msgs)


@pytest.mark.parametrize("resource", [
    f"arn:aws:ec2:{R}:*:network-acl/*",
    f"arn:aws:ec2:{R}:{ACCT}:network-acl/acl-0123",
    "arn:*:ec2:*:*:network-acl/*",
    f"arn:aws:ec2:{R}:*:*",
    "arn:aws:ec2:*",
    f"arn:aws:ec2:{R}:{ACCT}:network-acl/${{aws:PrincipalTag/acl}}",
])
def test_resource_matches(resource):
    assert mine(role_policy(allow(["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"], resource))) == []


@pytest.mark.parametrize("action, bad, good", [
    # regions, accounts and partitions are compared segment by segment
    ("ec2:RunInstances", f"arn:aws:ec2:{R}:{ACCT}:image/*", f"arn:aws:ec2:{R}::image/*"),
    ("iam:PassRole", f"arn:aws:iam:{R}:{ACCT}:role/x", f"arn:aws:iam::{ACCT}:role/x"),
    ("sqs:SendMessage", f"arn:aws:sns:{R}:{ACCT}:q", f"arn:aws:sqs:{R}:{ACCT}:q"),
    ("s3:ListBucket", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"),
    ("s3:GetObject", "arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"),
    # AWS-owned public parameters have no account
    ("ssm:GetParameter", f"arn:aws:ssm:{R}:{ACCT}:document/x", f"arn:aws:ssm:{R}::parameter/aws/service/*"),
])
def test_resource_segments(action, bad, good):
    assert any(f"resource {bad} matches no ARN format" in m for m in messages(role_policy(allow(action, bad))))
    assert not any("matches no ARN format" in m for m in messages(role_policy(allow(action, good))))


def test_action_without_resource_level_permissions():
    arn = f"arn:aws:logs:{R}:{ACCT}:log-group:g"
    (msg,) = messages(role_policy(allow(["logs:DescribeLogGroups", "logs:CreateLogStream"], [f"{arn}:*"])))
    assert msg.startswith("[statement 0] logs:DescribeLogGroups supports no resource-level permissions")
    assert messages(role_policy(allow(["logs:CreateLogStream"], [f"{arn}:*"]),
                                allow(["logs:DescribeLogGroups"]))) == []


def test_required_resource_type_across_the_document():
    acl, vpc = f"arn:aws:ec2:{R}:*:network-acl/*", f"arn:aws:ec2:{R}:{ACCT}:vpc/vpc-1"
    (msg,) = messages(role_policy(allow("ec2:CreateNetworkAcl", acl)))
    assert "ec2:CreateNetworkAcl needs its required resource type(s) vpc" in msg
    assert messages(role_policy(allow("ec2:CreateNetworkAcl", [acl, vpc]))) == []
    assert messages(role_policy(allow("ec2:CreateNetworkAcl", acl), allow("ec2:CreateNetworkAcl", vpc))) == []
    # two inline policies of one role share their grants
    assert messages(role_policy(allow("ec2:CreateNetworkAcl", acl), name="a"),
                    role_policy(allow("ec2:CreateNetworkAcl", vpc), name="b")) == []
    assert len(messages(role_policy(allow("ec2:CreateNetworkAcl", acl), name="a", role="one"),
                        role_policy(allow("ec2:CreateNetworkAcl", vpc), name="b", role="two"))) == 2


# --- condition keys -----------------------------------------------------------------------------------

@pytest.mark.parametrize("action, resource, condition, supported", [
    ("iam:PassRole", f"arn:aws:iam::{ACCT}:role/n", {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
     True),
    ("ec2:RunInstances", f"arn:aws:ec2:{R}:*:instance/*",
     {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}, False),
    ("ec2:CreateTags", f"arn:aws:ec2:{R}:*:instance/*", {"StringEquals": {"ec2:CreateAction": "RunInstances"}}, True),
    ("ec2:TerminateInstances", f"arn:aws:ec2:{R}:*:instance/*",
     {"StringEquals": {"ec2:CreateAction": "RunInstances"}}, False),
    ("ec2:TerminateInstances", f"arn:aws:ec2:{R}:*:instance/*",
     {"StringEquals": {"aws:ResourceTag/eks:cluster-name": "c"}}, True),
    ("ec2:DescribeInstances", "*", {"StringEquals": {"aws:RequestTag/team": "a"}}, False),
    ("ec2:DescribeInstances", "*", {"StringEquals": {"aws:RequestedRegion": R}}, True),
    ("ec2:DescribeInstances", "*", {"Bool": {"aws:SecureTransport": "true"}}, True),
    ("ec2:DescribeInstances", "*", {"StringEquals": {"aws:PrincipalTag/team": "a"}}, True),
])
def test_condition_keys(action, resource, condition, supported):
    msgs = messages(role_policy(allow(action, resource, Condition=condition)))
    key = next(iter(next(iter(condition.values()))))
    hit = [m for m in msgs if f"condition key {key} is not supported by {action}" in m]
    assert (hit == []) == supported, msgs


def test_unknown_global_key():
    (msg,) = messages(role_policy(allow("ec2:DescribeInstances",
                                        Condition={"StringEquals": {"aws:SourceAcount": ACCT}})))
    assert "aws:SourceAcount is not an AWS global condition key" in msg


def test_condition_keys_of_wildcard_actions():
    ctx = {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{R}:{ACCT}:log-group:*"}}
    svc = {"Service": f"logs.{R}.amazonaws.com"}
    ok = {"Effect": "Allow", "Principal": svc, "Action": ["kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*",
          "Condition": ctx}
    assert [m for m in messages(key({**ok})) if "condition key" in m] == []
    (msg,) = [m for m in messages(key({**ok, "Action": ["kms:Describe*"]})) if "condition key" in m]
    assert ("condition key kms:EncryptionContext:aws:logs:arn is supported by no action kms:Describe* covers "
            "(kms:DescribeCustomKeyStores, kms:DescribeKey)") in msg
    # named actions are reported one by one
    (msg,) = [m for m in messages(key({**ok, "Action": ["kms:Decrypt", "kms:DescribeKey"]})) if "condition key" in m]
    assert "condition key kms:EncryptionContext:aws:logs:arn is not supported by kms:DescribeKey" in msg


def test_trust_policies():
    base = {"Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assert messages(trust({**base, "Condition": {"StringEquals": {"aws:SourceAccount": ACCT,
                                                                  "sts:ExternalId": "x"}}})) == []
    oidc = "oidc.eks.us-west-2.amazonaws.com/id/ABC"
    web = {"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCT}:oidc-provider/{oidc}"},
           "Action": "sts:AssumeRoleWithWebIdentity",
           "Condition": {"StringEquals": {f"{oidc}:sub": "system:serviceaccount:ns:sa", f"{oidc}:aud": "sts.amazonaws.com"}}}
    assert messages(trust(web)) == []
    (msg,) = messages(trust({**base, "Condition": {"StringEquals": {"ec2:CreateAction": "x"}}}))
    assert "ec2:CreateAction is not supported by sts:AssumeRole" in msg
    (msg,) = messages(trust({**base, "Action": "sts:AssumeRolez"}))
    assert "unknown action" in msg


# --- resource "*" --------------------------------------------------------------------------------------

def test_resource_star_for_restrictable_actions():
    (msg,) = messages(role_policy(allow(["eks:DescribeNodegroup", "ec2:DescribeInstances"])))
    assert msg.startswith("[statement 0] eks:DescribeNodegroup supports resource-level permissions (nodegroup*")
    assert "CKV_AWS_355" in msg
    assert messages(role_policy(allow("eks:DescribeNodegroup", f"arn:aws:eks:{R}:{ACCT}:nodegroup/c/*/*"))) == []
    (msg,) = messages(role_policy(allow("ec2:Describe*")))  # a wildcard: one finding naming what it covers
    assert msg.startswith("[statement 0] ec2:Describe* covers ") and "ec2:DescribeInstances" not in msg
    assert messages(role_policy(allow("*"))) == ['[statement 0] every action is granted on "*"']


@pytest.mark.parametrize("condition, scoped", [
    ({"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/c": "owned"}}, True),
    ({"StringEquals": {"autoscaling:ResourceTag/team": "a"}}, True),
    ({"StringEquals": {"aws:ResourceAccount": ACCT}}, True),
    ({"StringEquals": {"aws:RequestedRegion": R}}, False),  # honoured, but scopes no resource
    (None, False),
])
def test_resource_star_scoped_by_condition(condition, scoped):
    stmt = allow(["autoscaling:SetDesiredCapacity"], Sid="Scale", **({"Condition": condition} if condition else {}))
    msgs = messages(role_policy(stmt))
    assert (msgs == []) == scoped, msgs


def test_resource_star_not_for_resource_policies_or_deny():
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "kms:*", "Resource": "*"}
    assert messages(key(root)) == []
    assert messages(role_policy({"Effect": "Deny", "Action": "eks:DescribeNodegroup", "Resource": "*"})) == []


# --- parliament -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("doc, code", [
    ({"Statement": [allow("ec2:DescribeInstances")]}, "NO_VERSION"),
    ({"Version": "2012-10-17", "Statement": [allow("ec2:DescribeInstances", Sid="not-ok")]}, "INVALID_SID"),
    ({"Version": "2012-10-17", "Statement": [allow("ec2:DescribeInstances",
                                                   Condition={"StringEqualz": {"aws:RequestedRegion": R}})]},
     "UNKNOWN_OPERATOR"),
    ({"Version": "2012-10-17", "Statement": [allow("ec2:DescribeInstances", Sid="A"),
                                             allow("ec2:DescribeVpcs", Sid="A")]}, "DUPLICATE_SID"),
    ({"Version": "2012-10-17", "Statement": [allow("s3:GetObject", "bucket/*")]}, "INVALID_ARN"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "someone"},
                                              "Action": "sqs:SendMessage", "Resource": "*"}]}, "UNKNOWN_PRINCIPAL"),
])
def test_parliament_findings(doc, code):
    msgs = messages(step("aws:iam/policy:Policy", {"policy": json.dumps(doc)}))
    assert any(m.startswith(f"parliament {code}:") for m in msgs), msgs


def test_invalid_json():
    (f,) = findings(step("aws:iam/policy:Policy", {"policy": '{"Statement": [}'}))
    assert f.path == "policy" and "not a valid JSON policy document" in f.message


# --- documents ------------------------------------------------------------------------------------------

def test_documents_found_everywhere():
    doc = {"Version": "2012-10-17", "Statement": [allow("ec2:DescribeInstances")]}
    res = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                   "Resource": "arn:aws:s3:::b/*"}]}
    steps = [
        step("aws:iam/role:Role", {"name": "x", "assumeRolePolicy": policy(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
            "inlinePolicies": [{"name": "i", "policy": json.dumps(doc)}]}, "role"),
        step("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": json.dumps(res)}, "bp"),
        step("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", {"policyDocument": json.dumps(res)}, "lp"),
        step("aws:iam/policy:Policy", {"policy": doc}, "dict-valued"),
        step("aws:wafv2/webAcl:WebAcl", {"rules": [{"statement": {"managedRuleGroupStatement": {}}}]}, "waf"),
        step("aws:iam/rolePolicy:RolePolicy", {"policy": iam.UNKNOWN}, "unknown"),
        {**step("aws:iam/policy:Policy", {"policy": json.dumps(doc)}, "gone"), "op": "delete"},
    ]
    found = {(d.urn.rsplit("::", 1)[1], d.path, d.kind) for d in iam.documents({"steps": steps})}
    assert found == {("role", "assumeRolePolicy", "trust"), ("role", "inlinePolicies[0].policy", "identity"),
                     ("bp", "policy", "resource"), ("lp", "policyDocument", "resource"),
                     ("dict-valued", "policy", "identity")}


def test_unknown_values_are_skipped():
    arn = f"arn:aws:ec2:{R}:{ACCT}:network-acl/{iam.UNKNOWN}"
    assert messages(role_policy(allow("ec2:DeleteNetworkAcl", arn))) == []


def test_finding_names_the_document():
    (f,) = findings(role_policy(allow("ec2:DescribeInstances"), allow("ec2:Nope", Sid="Two"), name="named"))
    assert f.urn.endswith("aws:iam/rolePolicy:RolePolicy::named")
    assert f.path == "policy.Statement[1].Action" and f.message.startswith("[Sid Two] unknown action")


# --- the shipped stacks -----------------------------------------------------------------------------------

def policy_inputs(doc):
    """Every (urn, input path) holding a JSON document with a Statement, found without the check."""
    out = set()

    def walk(v, path, urn):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}.{k}" if path else k, urn)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]", urn)
        elif isinstance(v, str) and '"Statement"' in v:
            out.add((urn, path))
    for s in doc["steps"]:
        walk(s["newState"].get("inputs") or {}, "", s["urn"])
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_documents_all_seen(stack):
    doc = shipped(stack).doc
    docs = iam.documents(doc)
    assert {(d.urn, d.path) for d in docs} == policy_inputs(doc)
    kinds = {(d.type, d.path): d.kind for d in docs}
    assert kinds[("aws:iam/role:Role", "assumeRolePolicy")] == "trust"
    assert kinds[("aws:iam/rolePolicy:RolePolicy", "policy")] == "identity"
    assert kinds[("aws:kms/key:Key", "policy")] == "resource"
    assert all(isinstance(d.doc, dict) and d.doc["Statement"] for d in docs)
    messages = [f.message for f in iam.check(doc)]
    assert not [m for m in messages if "unknown action" in m or "parliament EXCEPTION" in m
                or "parliament MALFORMED" in m or "not a valid JSON" in m]


def test_shipped_waivers_are_not_stale():
    waivers = [w for w in load_waivers(DEFAULT_WAIVERS) if w.check == "iam"]
    used = set()
    for stack in STACKS:
        (result,) = run_checks(shipped(stack).doc, ["iam"], tuple(waivers))
        used |= {i for i, w in enumerate(waivers) for f in result["waived"] if w.matches(f)}
    assert used == set(range(len(waivers)))
