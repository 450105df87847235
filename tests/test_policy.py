"""The CrossGuard pack over its real Analyzer protocol: each rule on a violating and a
compliant resource, stack rules on small plans, and the checker's exit codes."""

import json
import re

import pytest

from tests.helpers import run_tool, shipped
from tools.plan_json import dump
from tools.policy_check import DEFAULT_PACK, READINESS_PACK, AnalyzerPack

TAGS = {"environment": "prod", "owner": "team", "managed-by": "pulumi", "region": "us-east-1"}


@pytest.fixture
def pack(security_pack):
    return security_pack


def resource(typ, props, name="r"):
    return {"type": typ, "inputs": props, "urn": f"urn:pulumi:prod::global-platform::{typ}::{name}", "name": name,
            "parent": "", "provider": "", "dependencies": [], "propertyDependencies": {}}


def fired(pack, typ, props):
    return sorted({d.policyName for d in pack.analyze(resource(typ, props), {})})


EKS_OK = {"endpointPrivateAccess": True, "endpointPublicAccess": False, "encryptionConfigKeyArn": "arn:k",
          "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}
AWS_EKS_OK = {"vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True, "subnetIds": ["s"]},
              "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:k"}},
              "enabledClusterLogTypes": EKS_OK["enabledClusterLogTypes"], "roleArn": "r", "tags": TAGS}
POLICY_OK = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                                "Resource": "*"}]})
POLICY_STAR = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
FIS_OK = {"stopConditions": [{"source": "aws:cloudwatch:alarm", "value": "arn:aws:cloudwatch:r:1:alarm:a"}],
          "logConfiguration": {"logSchemaVersion": 2, "cloudwatchLogsConfiguration": {"logGroupArn": "arn:l:*"}},
          "roleArn": "r", "description": "d", "actions": [], "targets": [], "tags": TAGS}

def ARGOCD(replicas=2, redis_ha=True, **cm):
    """An argo-cd release as the platform makes it in prod, with `cm` overriding configs.cm."""
    parts = {p: {"replicas": replicas} for p in ("controller", "server", "repoServer")}
    return {"chart": "argo-cd", "version": "10.1.1", "values": {
        **parts, "redis-ha": {"enabled": redis_ha}, "dex": {"enabled": False},
        "configs": {"cm": {"admin.enabled": False, "oidc.config": "issuer: https://idp\nclientSecret: $argocd-oidc:clientSecret\n",
                           **cm}, "rbac": {"policy.default": "role:readonly"}}}}


CASES = [
    # (policy, type, violating props, compliant props)
    ("eks-private-endpoint", "eks:index:Cluster", {**EKS_OK, "endpointPublicAccess": True,
                                                    "publicAccessCidrs": ["198.51.100.0/24"]}, EKS_OK),
    ("eks-private-endpoint", "aws:eks/cluster:Cluster",
     {**AWS_EKS_OK, "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["198.51.100.0/24"]}}, AWS_EKS_OK),
    ("eks-public-endpoint-not-world-open", "eks:index:Cluster", {**EKS_OK, "endpointPublicAccess": True}, EKS_OK),
    ("eks-public-endpoint-not-world-open", "aws:eks/cluster:Cluster",
     {**AWS_EKS_OK, "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}, AWS_EKS_OK),
    ("eks-secrets-encrypted", "eks:index:Cluster", {k: v for k, v in EKS_OK.items() if k != "encryptionConfigKeyArn"},
     EKS_OK),
    ("eks-secrets-encrypted", "aws:eks/cluster:Cluster", {**AWS_EKS_OK, "encryptionConfig": None}, AWS_EKS_OK),
    ("eks-control-plane-logs", "eks:index:Cluster", {**EKS_OK, "enabledClusterLogTypes": ["api", "audit"]}, EKS_OK),
    ("eks-control-plane-logs", "aws:eks/cluster:Cluster", {**AWS_EKS_OK, "enabledClusterLogTypes": []}, AWS_EKS_OK),
    ("no-world-ingress-except-web", "aws:ec2/securityGroup:SecurityGroup",
     {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}], "tags": TAGS},
     {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}], "tags": TAGS}),
    ("no-world-ingress-except-web", "aws:ec2/securityGroup:SecurityGroup",
     {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}], "tags": TAGS},
     {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["10.0.0.0/8"]}], "tags": TAGS}),
    ("no-world-ingress-except-web", "aws:ec2/securityGroupRule:SecurityGroupRule",
     {"type": "ingress", "protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"],
      "securityGroupId": "sg"},
     {"type": "egress", "protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"],
      "securityGroupId": "sg"}),
    ("no-world-ingress-except-web", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     {"ipProtocol": "tcp", "fromPort": 3306, "toPort": 3306, "cidrIpv4": "0.0.0.0/0", "securityGroupId": "sg",
      "tags": TAGS},
     {"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "cidrIpv4": "0.0.0.0/0", "securityGroupId": "sg", "tags": TAGS}),
    ("default-security-group-locked", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
     {"vpcId": "v", "ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}], "tags": TAGS},
     {"vpcId": "v", "ingress": [], "egress": [], "tags": TAGS}),
    ("launch-template-imdsv2", "aws:ec2/launchTemplate:LaunchTemplate", {"tags": TAGS},
     {"metadataOptions": {"httpTokens": "required"}, "tags": TAGS}),
    ("launch-template-imdsv2", "aws:ec2/launchTemplate:LaunchTemplate",
     {"metadataOptions": {"httpTokens": "optional"}, "tags": TAGS},
     {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}, "tags": TAGS}),
    ("nodegroup-no-ssh", "aws:eks/nodeGroup:NodeGroup",
     {"clusterName": "c", "remoteAccess": {"ec2SshKey": "k"}, "tags": TAGS}, {"clusterName": "c", "tags": TAGS}),
    ("kms-key-rotation", "aws:kms/key:Key", {"enableKeyRotation": False, "tags": TAGS},
     {"enableKeyRotation": True, "tags": TAGS}),
    ("log-group-retention", "aws:cloudwatch/logGroup:LogGroup", {"name": "g", "tags": TAGS},
     {"name": "g", "retentionInDays": 90, "tags": TAGS}),
    ("s3-public-access-block", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
     {"bucket": "b", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": False,
      "restrictPublicBuckets": True},
     {"bucket": "b", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
      "restrictPublicBuckets": True}),
    ("iam-no-star-action", "aws:iam/rolePolicy:RolePolicy", {"role": "r", "policy": POLICY_STAR},
     {"role": "r", "policy": POLICY_OK}),
    ("iam-no-star-action", "aws:iam/policy:Policy", {"policy": POLICY_STAR, "tags": TAGS},
     {"policy": POLICY_OK, "tags": TAGS}),
    ("iam-no-star-action", "aws:iam/role:Role",
     {"assumeRolePolicy": POLICY_OK, "inlinePolicies": [{"name": "x", "policy": POLICY_STAR}], "tags": TAGS},
     {"assumeRolePolicy": POLICY_OK, "inlinePolicies": [{"name": "x", "policy": POLICY_OK}], "tags": TAGS}),
    ("fis-stop-on-alarm-and-log", "aws:fis/experimentTemplate:ExperimentTemplate",
     {**FIS_OK, "stopConditions": [{"source": "none"}]}, FIS_OK),
    ("fis-stop-on-alarm-and-log", "aws:fis/experimentTemplate:ExperimentTemplate",
     {k: v for k, v in FIS_OK.items() if k != "logConfiguration"}, FIS_OK),
    ("vpn-ikev2-only", "aws:ec2/vpnConnection:VpnConnection",
     {"type": "ipsec.1", "customerGatewayId": "c", "tunnel1IkeVersions": ["ikev2"], "tags": TAGS},
     {"type": "ipsec.1", "customerGatewayId": "c", "tunnel1IkeVersions": ["ikev2"], "tunnel2IkeVersions": ["ikev2"],
      "tags": TAGS}),
    ("helm-chart-pinned", "kubernetes:helm.sh/v3:Release", {"chart": "argo-cd"}, {"chart": "argo-cd", "version": "10.1.1"}),
    ("helm-chart-pinned", "kubernetes:helm.sh/v3:Release", {"chart": "argo-cd", "version": "^10.1"},
     {"chart": "oci://x/karpenter", "version": "1.8.6"}),
    ("argocd-sso-no-local-admin", "kubernetes:helm.sh/v3:Release", ARGOCD(**{"admin.enabled": True}), ARGOCD()),
    ("argocd-sso-no-local-admin", "kubernetes:helm.sh/v3:Release",
     ARGOCD(**{"oidc.config": "issuer: https://idp\nclientSecret: s3cret\n"}), ARGOCD()),
    ("argocd-sso-no-local-admin", "kubernetes:helm.sh/v3:Release", {**ARGOCD(), "values": "[secret]"}, ARGOCD()),
    ("argocd-ha", "kubernetes:helm.sh/v3:Release", ARGOCD(replicas=1), ARGOCD()),
    ("argocd-ha", "kubernetes:helm.sh/v3:Release", ARGOCD(redis_ha=False), ARGOCD()),
    ("sns-encrypted", "aws:sns/topic:Topic", {"name": "t", "tags": TAGS}, {"name": "t", "kmsMasterKeyId": "arn:k",
                                                                          "tags": TAGS}),
    ("sqs-encrypted", "aws:sqs/queue:Queue", {"name": "q", "tags": TAGS}, {"name": "q", "sqsManagedSseEnabled": True,
                                                                         "tags": TAGS}),
    ("required-tags", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16", "tags": {"owner": "team"}},
     {"cidrBlock": "10.0.0.0/16", "tags": TAGS}),
]


@pytest.mark.parametrize("policy, typ, bad, good", CASES, ids=[f"{c[0]}-{c[1].split(':')[-1]}-{i}"
                                                               for i, c in enumerate(CASES)])
def test_rule_fires_on_the_violation_and_not_on_the_fix(pack, policy, typ, bad, good):
    assert policy in fired(pack, typ, bad), f"{policy} missed a violating {typ}"
    assert policy not in fired(pack, typ, good), f"{policy} fired on a compliant {typ}"


def test_non_taggable_types_are_not_asked_for_tags(pack):
    assert "required-tags" not in fired(pack, "aws:ec2/route:Route", {"routeTableId": "r"})


def test_violations_carry_a_remediation_and_the_configured_level(pack):
    (d,) = [d for d in pack.analyze(resource("aws:kms/key:Key", {"tags": TAGS}), {})]
    assert d.policyName == "kms-key-rotation" and "Fix: set enableKeyRotation: true" in d.message
    assert d.enforcementLevel == 1  # mandatory, from Configure


def stack(pack, resources):
    return sorted((d.policyName, d.message.splitlines()[-1]) for d in pack.analyze_stack(resources, {}))


def vpc(name, cidr):
    return resource("aws:ec2/vpc:Vpc", {"cidrBlock": cidr, "tags": TAGS}, name)


def flow_log(name, vpc_res):
    r = resource("aws:ec2/flowLog:FlowLog", {"vpcId": "vpc-1", "trafficType": "ALL", "tags": TAGS}, name)
    r["propertyDependencies"] = {"vpcId": [vpc_res["urn"]]}
    return r


def test_stack_rule_overlapping_vpcs(pack):
    a, b, c = vpc("a", "10.0.0.0/16"), vpc("b", "10.0.128.0/17"), vpc("c", "10.1.0.0/16")
    found = stack(pack, [a, b, c, flow_log("fa", a), flow_log("fb", b), flow_log("fc", c)])
    assert [p for p, _ in found] == ["vpc-no-overlap"] and "a (10.0.0.0/16) overlaps VPC b" in found[0][1]
    assert stack(pack, [a, c, flow_log("fa", a), flow_log("fc", c)]) == []


def test_stack_rule_every_vpc_has_a_flow_log(pack):
    a, c = vpc("a", "10.0.0.0/16"), vpc("c", "10.1.0.0/16")
    found = stack(pack, [a, c, flow_log("fa", a)])
    assert found == [("vpc-flow-logs", "VPC c has no flow log. Fix: add an aws.ec2.FlowLog (trafficType ALL) "
                                       "for the VPC")]


def test_stack_rule_fis_alarms_exist(pack):
    alarm = resource("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "slo-a", "tags": TAGS}, "alarm")
    template = resource("aws:fis/experimentTemplate:ExperimentTemplate", {
        **FIS_OK, "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": "arn:aws:cloudwatch:r:1:alarm:slo-a"}]})
    assert stack(pack, [alarm, template]) == []
    elsewhere = resource("aws:fis/experimentTemplate:ExperimentTemplate", {
        **FIS_OK, "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": "arn:aws:cloudwatch:r:1:alarm:other"}]})
    assert [p for p, _ in stack(pack, [alarm, elsewhere])] == ["fis-alarms-in-stack"]


def test_stack_rule_queues_fed_by_a_topic_have_a_dlq(pack):
    queue = resource("aws:sqs/queue:Queue", {"name": "q", "kmsMasterKeyId": "arn:k", "tags": TAGS}, "queue")
    sub = {**resource("aws:sns/topicSubscription:TopicSubscription", {"protocol": "sqs", "endpoint": "arn:q"}, "sub"),
           "dependencies": [queue["urn"]], "propertyDependencies": {"endpoint": [queue["urn"]]}}
    assert [p for p, _ in stack(pack, [queue, sub])] == ["sqs-fed-queues-have-dlq"]
    with_dlq = {**queue, "inputs": {**queue["inputs"], "redrivePolicy": '{"deadLetterTargetArn": "arn:d"}'}}
    assert stack(pack, [with_dlq, sub]) == []
    assert stack(pack, [queue]) == [], "a queue no topic feeds (Karpenter's interruption queue) needs none"


def _check(*args):
    return run_tool("tools.policy_check", *args)


def documented_rules(readme: str) -> list[str]:
    """The rule names of a pack's README table (first column, in backticks)."""
    from tools.preview import PROJECT_DIR
    return re.findall(r"^\| `([a-z0-9-]+)`", (PROJECT_DIR / readme).read_text(), re.M)


def test_every_documented_rule_is_in_its_pack():
    import sys
    sys.path.insert(0, "policy")
    try:
        from rules import discover as security_rules
    finally:
        sys.path.remove("policy")
    assert sorted(p.name for p in security_rules()) == sorted(documented_rules("policy/README.md"))


@pytest.mark.parametrize("stack_name", ["dev", "prod", "airgap"])
def test_shipped_stacks_pass_with_no_mandatory_violation(tmp_path, stack_name):
    path = tmp_path / "plan.json"
    path.write_text(dump(shipped(stack_name).doc))
    out = tmp_path / "violations.json"
    proc = _check("--preview-json", path, "--stack", stack_name, "--json", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # every rule the packs load is documented in its README's table, and nothing more
    security, readiness = documented_rules("policy/README.md"), documented_rules("policy/readiness/README.md")
    assert f"global-platform-security: {len(security)} policies" in proc.stdout, proc.stdout
    assert f"global-platform-readiness: {len(readiness)} policies" in proc.stdout and "PASS" in proc.stdout
    assert json.loads(out.read_text())["violations"] == []


def test_a_mandatory_violation_exits_1_and_is_reported_in_json(tmp_path):
    doc = json.loads(dump(shipped("prod").doc))
    step = next(s for s in doc["steps"] if s["newState"]["type"] == "aws:kms/key:Key")
    step["newState"]["inputs"]["enableKeyRotation"] = False
    path, out = tmp_path / "plan.json", tmp_path / "v.json"
    path.write_text(json.dumps(doc))
    proc = _check("--preview-json", path, "--stack", "prod", "--json", out)
    assert proc.returncode == 1 and "kms-key-rotation [mandatory]" in proc.stdout
    (v,) = json.loads(out.read_text())["violations"]
    assert v == {"policyPackName": "global-platform-security", "policyName": "kms-key-rotation",
                 "resourceUrn": step["urn"], "message": v["message"], "enforcementLevel": "mandatory"}
    # The same plan in dev is advisory: reported, not failing.
    proc = _check("--preview-json", path, "--stack", "dev")
    assert proc.returncode == 0 and "kms-key-rotation [advisory]" in proc.stdout


@pytest.mark.parametrize("args, needle", [
    (["--preview-json", "{tmp}/missing.json"], "preview JSON not found"),
    (["--preview-json", "{tmp}/broken.json"], "not valid JSON"),
    (["--preview-json", "{tmp}/nosteps.json"], "no 'steps' list"),
    (["--preview-json", "{tmp}/ok.json", "--stack", "qa"], "unknown stack 'qa'"),
    (["--preview-json", "{tmp}/ok.json", "--policy-pack", "{tmp}"], "not a policy pack"),
    (["--preview-json", "{tmp}/ok.json", "--policy-pack-config", "{tmp}/broken.json"], "policy config is not valid JSON"),
    (["--stack", "dev"], "--preview-json"),
])
def test_bad_input_exits_2_with_one_message(tmp_path, args, needle):
    (tmp_path / "broken.json").write_text("{nope")
    (tmp_path / "nosteps.json").write_text("{}")
    (tmp_path / "ok.json").write_text(json.dumps({"steps": []}))
    proc = _check(*[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_steps_that_remove_resources_are_not_analyzed():
    from tools.policy_check import resources_from_preview
    doc = {"steps": [
        {"op": "delete-replaced", "urn": "urn:pulumi:s::p::aws:ec2/vpc:Vpc::old", "oldState": {"inputs": {}}},
        {"op": "delete", "urn": "urn:pulumi:s::p::aws:ec2/vpc:Vpc::gone", "oldState": {"inputs": {}}},
        {"op": "create-replacement", "urn": "urn:pulumi:s::p::aws:ec2/vpc:Vpc::new",
         "newState": {"type": "aws:ec2/vpc:Vpc", "inputs": {"cidrBlock": "10.0.0.0/16"}}},
    ]}
    assert [r["name"] for r in resources_from_preview(doc)] == ["new"]


def test_a_crashing_pack_is_reported_not_a_traceback(tmp_path):
    pack = tmp_path / "broken-pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text("raise SystemExit('boom: missing dependency')\n")
    (tmp_path / "ok.json").write_text(json.dumps({"steps": []}))
    proc = _check("--preview-json", tmp_path / "ok.json", "--policy-pack", pack)
    assert proc.returncode == 2 and "did not start (boom: missing dependency)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_lambda_functions_are_asked_for_tags(pack):
    # aws:lambda/* lives in pulumi_aws.lambda_: taggable() reads the SDK's token map, not a guessed module.
    assert "required-tags" in fired(pack, "aws:lambda/function:Function", {"role": "r"})
    assert "required-tags" not in fired(pack, "aws:lambda/function:Function", {"role": "r", "tags": TAGS})


# -- the packs find their rule modules -------------------------------------------------------
# (pack, package, a new rule module, how to run it, a policy the pack has and its module)
NEW_SECURITY_RULE = '''
from .base import resource_rule


def _check(t, p):
    if not p.get("dropped-in"):
        yield "not dropped in"


POLICIES = [resource_rule("dropped-in-rule", "A module dropped into rules/.", "set dropped-in", (), _check)]
'''
NEW_READINESS_RULE = '''
from .rule import readiness_rule


def _check(g):
    for r in g.of_type("aws:s3/bucket:Bucket"):
        yield "not dropped in", r.urn


POLICIES = [readiness_rule("dropped-in-rule", "A module dropped into checks/.", "set dropped-in", _check)]
'''
DROP_IN = [
    pytest.param(DEFAULT_PACK, "rules", NEW_SECURITY_RULE, "kms-key-rotation", "rules.data", id="security"),
    pytest.param(READINESS_PACK, "checks", NEW_READINESS_RULE, "fis-targets-resolve", "checks.fis", id="readiness"),
]


def _copy_pack(src, tmp_path):
    import shutil
    dest = tmp_path / src.name
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "readiness"))
    return dest


@pytest.mark.parametrize("src, package, code, _existing, _module", DROP_IN)
def test_a_module_dropped_into_the_pack_is_picked_up(tmp_path, src, package, code, _existing, _module):
    with AnalyzerPack(src) as shipped_pack:
        before = [p.name for p in shipped_pack.analyzer_info().policies]
    copy = _copy_pack(src, tmp_path)
    (copy / package / "aa_dropped_in.py").write_text(code)  # sorts first: its policy comes first
    (copy / package / "zz_helper.py").write_text("LIMIT = 3  # defines no POLICIES: a helper, ignored\n")
    bucket = resource("aws:s3/bucket:Bucket", {"tags": TAGS}, "b")
    with AnalyzerPack(copy) as p:
        assert [x.name for x in p.analyzer_info().policies] == ["dropped-in-rule", *before]
        p.configure({})
        found = p.analyze_stack([bucket], {}) if package == "checks" else p.analyze(bucket, {})
        assert [d.policyName for d in found] == ["dropped-in-rule"]


@pytest.mark.parametrize("src, package, _code, existing, module", DROP_IN)
def test_a_duplicate_policy_name_stops_the_pack_at_start(tmp_path, src, package, _code, existing, module):
    from tools.offline import OfflineError
    copy = _copy_pack(src, tmp_path)
    (copy / package / "zz_duplicate.py").write_text(
        "from pulumi_policy import ResourceValidationPolicy\n\n"
        f"POLICIES = [ResourceValidationPolicy({existing!r}, 'a second rule of that name', lambda args, report: None)]\n")
    with pytest.raises(OfflineError) as err:
        AnalyzerPack(copy)
    assert f"policy name '{existing}' is defined twice: in {module} and in {package}.zz_duplicate" in str(err.value)
