"""The aws-models upstream check: pulumi-aws inputs against botocore's API models (enums, number
ranges, lengths, patterns), the type -> operation and key -> member mapping, and its coverage of
every AWS type the shipped stacks create."""

from __future__ import annotations

import pytest

from tests.helpers import shipped
from tools.upstream import aws_models
from tools.upstream.aws_models import (_OPERATIONS, _SECOND_CALLS, UNKNOWN, _compiled, _model,
                                       botocore_version, check, coverage, operation_for)

URN = "urn:pulumi:prod::global-platform::{typ}::r{i}"


def _doc(*resources: tuple[str, dict]) -> dict:
    return {"steps": [{"op": "create", "urn": URN.format(typ=typ, i=i),
                       "newState": {"type": typ, "inputs": inputs}}
                      for i, (typ, inputs) in enumerate(resources)]}


def _one(typ: str, inputs: dict) -> list[tuple[str, str]]:
    return sorted((f.path, f.message) for f in check(_doc((typ, inputs))))


FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
WAF = "aws:wafv2/webAcl:WebAcl"
FIS = "aws:fis/experimentTemplate:ExperimentTemplate"
ROLE = "aws:iam/role:Role"


def test_a_bad_enum_names_service_operation_member_and_the_allowed_values():
    (path, message), = _one(FLOW_LOG, {"trafficType": "all", "vpcId": "vpc-1", "logDestinationType": "s3"})
    assert path == "trafficType"
    assert message == (f"ec2 CreateFlowLogs.TrafficType: 'all' is not one of ACCEPT, REJECT, ALL "
                       f"(botocore {botocore_version()})")


def test_numbers_out_of_range_top_level_and_deep_in_nested_blocks():
    found = _one(ALARM, {"evaluationPeriods": 0, "period": 60, "threshold": -5.0})
    assert found == [("evaluationPeriods", f"cloudwatch PutMetricAlarm.EvaluationPeriods: 0 is below the minimum 1 "
                                           f"(botocore {botocore_version()})")]
    rule = {"name": "rate", "priority": 0, "action": {"block": {}},
            "statement": {"rateBasedStatement": {"limit": 5, "aggregateKeyType": "IP"}},
            "visibilityConfig": {"metricName": "rate", "sampledRequestsEnabled": True,
                                 "cloudwatchMetricsEnabled": True}}
    (path, message), = _one(WAF, {"name": "acl", "scope": "REGIONAL", "rules": [rule]})
    assert path == "rules[0].statement.rateBasedStatement.limit"
    assert message.startswith("wafv2 CreateWebACL.Rules[].Statement.RateBasedStatement.Limit: 5 is below the minimum 10")


def test_a_value_that_breaks_a_pattern_is_matched_against_the_whole_value():
    found = _one(ROLE, {"name": "my role", "assumeRolePolicy": "{}"})
    assert found == [("name", "iam CreateRole.RoleName: 'my role' does not match the pattern '[\\\\w+=,.@-]+' "
                              f"(botocore {botocore_version()})")]
    # Java's \w is ASCII: a non-ASCII description breaks IAM's byte-range pattern, an ASCII one passes.
    assert [p for p, _ in _one(ROLE, {"description": "caf\u00e9 \u2014 ok"})] == ["description"]
    assert _one(ROLE, {"name": "apne1-fis-api-throttle-76d7e76", "description": "FIS: only what it needs"}) == []


def test_string_length_and_list_length():
    found = _one("aws:scheduler/schedule:Schedule", {"name": "x" * 65, "scheduleExpression": "rate(1 hour)"})
    assert found == [("name", "scheduler CreateSchedule.Name: '" + "x" * 65 + "' has 65 characters, more than the "
                              f"maximum 64 (botocore {botocore_version()})")]
    found = _one("aws:route53/resolverEndpoint:ResolverEndpoint",
                 {"direction": "OUTBOUND", "ipAddresses": [{"subnetId": "subnet-1"}]})
    assert found == [("ipAddresses", "route53resolver CreateResolverEndpoint.IpAddresses: 1 items, fewer than the "
                                     f"minimum 2 (botocore {botocore_version()})")]


def test_terraform_shaped_inputs_are_reshaped_like_the_provider_does():
    """FIS actions/targets are lists of named blocks for maps, parameters lists of {key, value},
    a singular `target` block for the `targets` map."""
    inputs = {
        "roleArn": "arn:aws:iam::123456789012:role/fis",
        "actions": [{"name": "two words", "actionId": "aws:fis:wait",
                     "parameters": [{"key": "duration", "value": "PT5M"}, {"key": "x", "value": "a b"}],
                     "target": {"key": "Roles", "value": "targets"}}],
        "targets": [{"name": "targets", "resourceType": "aws:iam:role", "selectionMode": "ALL",
                     "resourceArns": [f"arn:aws:iam::123456789012:role/r{i}" for i in range(6)],
                     "resourceTags": [{"key": "k", "value": "v"}]}],
        "stopConditions": [{"source": "none"}],
    }
    found = _one(FIS, inputs)
    assert [(p, m.split(":")[0]) for p, m in found] == [
        ("actions[0].name", "fis CreateExperimentTemplate.actions<key>"),
        ("actions[0].parameters[1].value", "fis CreateExperimentTemplate.actions{}.parameters{}"),
        ("targets[0].resourceArns", "fis CreateExperimentTemplate.targets{}.resourceArns"),
    ]
    assert "6 items, more than the maximum 5" in found[2][1]


def test_tags_maps_are_checked_as_the_call_sends_them():
    # CloudWatch Logs: a map whose key pattern uses \p{L}: letters of any script pass, a comma does not.
    found = _one("aws:cloudwatch/logGroup:LogGroup",
                 {"name": "/a/b", "tags": {"Grüße": "ok", "bad,key": "v", "k" * 129: "v"}})
    assert [p for p, _ in found] == ["tags.bad,key", "tags." + "k" * 129]
    assert "has 129 characters, more than the maximum 128" in found[1][1]
    # A {Key, Value} list (CloudWatch): the map's key fills Key, its value Value.
    found = _one(ALARM, {"tags": {"owner": "x" * 257}, "dimensions": {"Service": ""}})
    assert [(p, m.split(":")[0]) for p, m in found] == [
        ("dimensions.Service", "cloudwatch PutMetricAlarm.Dimensions[].Value"),
        ("tags.owner", "cloudwatch PutMetricAlarm.Tags[].Value"),
    ]
    # EC2 tags go to TagSpecifications[].Tags (which EC2 does not constrain): matched, no finding.
    cov = coverage(_doc(("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16", "tags": {"Name": "x" * 300}})))
    assert cov["aws:ec2/vpc:Vpc"]["members"]["tags"] == "CreateVpc.TagSpecifications[].Tags"
    assert check(_doc(("aws:ec2/vpc:Vpc", {"tags": {"Name": "x" * 300}}))) == []


def test_unknown_and_secret_values_are_skipped_and_counted():
    doc = _doc(("aws:kms/alias:Alias", {"name": "[secret]", "targetKeyId": UNKNOWN}),
               (ROLE, {"name": f"role-{UNKNOWN}"}),
               ("aws:ssm/parameter:Parameter", {"name": "/p", "type": "String", "value": "[secret]"}))
    assert check(doc) == []
    cov = coverage(doc)
    assert cov["aws:kms/alias:Alias"]["placeholders"] == 2 and cov[ROLE]["placeholders"] == 1


def test_a_good_resource_has_no_finding_and_unmatched_keys_are_counted_not_reported():
    doc = _doc((FLOW_LOG, {"trafficType": "ALL", "vpcId": "vpc-1", "logDestinationType": "cloud-watch-logs",
                           "maxAggregationInterval": 60, "pulumiOnlyKnob": True}),
               ("aws:eks/nodeGroup:NodeGroup", {"capacityType": "ON_DEMAND", "nodeGroupName": "general",
                                                "scalingConfig": {"minSize": 0, "maxSize": 3, "desiredSize": 1},
                                                "updateConfig": {"maxUnavailablePercentage": 33},
                                                "subnetIds": ["subnet-1"], "labels": {"pool": "general"}}))
    assert check(doc) == []
    cov = coverage(doc)
    assert cov[FLOW_LOG]["unmatched_keys"] == ["pulumiOnlyKnob"]
    assert cov[FLOW_LOG]["members"]["vpcId"] == "CreateFlowLogs.ResourceIds"
    ng = cov["aws:eks/nodeGroup:NodeGroup"]
    assert ng["unmatched"] == 0 and ng["members"]["subnetIds"] == "CreateNodegroup.subnets"
    assert ng["checked"] > 0


def test_keys_find_members_through_renames_flattening_and_prefixes():
    members = coverage(_doc(
        ("aws:iam/rolePolicy:RolePolicy", {"policy": "{}", "role": "r", "name": "p"}),
        ("aws:ec2/launchTemplate:LaunchTemplate", {"description": "d", "metadataOptions": {"httpTokens": "required"}}),
        ("aws:ec2/vpnConnection:VpnConnection", {"tunnel2Phase1DhGroupNumbers": [19], "staticRoutesOnly": False}),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"fromPort": 443, "cidrIpv4": "10.0.0.0/8"}),
        (ALARM, {"name": "a"}),
    ))
    assert members["aws:iam/rolePolicy:RolePolicy"]["members"] == {
        "name": "PutRolePolicy.PolicyName", "policy": "PutRolePolicy.PolicyDocument", "role": "PutRolePolicy.RoleName"}
    lt = members["aws:ec2/launchTemplate:LaunchTemplate"]["members"]
    assert lt["description"] == "CreateLaunchTemplate.VersionDescription"
    assert lt["metadataOptions.httpTokens"] == "CreateLaunchTemplate.LaunchTemplateData.MetadataOptions.HttpTokens"
    vpn = members["aws:ec2/vpnConnection:VpnConnection"]["members"]
    assert vpn["tunnel2Phase1DhGroupNumbers"] == "CreateVpnConnection.Options.TunnelOptions[].Phase1DHGroupNumbers"
    assert vpn["staticRoutesOnly"] == "CreateVpnConnection.Options.StaticRoutesOnly"
    sg = members["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"]["members"]
    assert sg == {"fromPort": "AuthorizeSecurityGroupIngress.IpPermissions[].FromPort",
                  "cidrIpv4": "AuthorizeSecurityGroupIngress.IpPermissions[].IpRanges[].CidrIp"}
    assert members[ALARM]["members"] == {"name": "PutMetricAlarm.AlarmName"}


@pytest.mark.parametrize("token, expected", [
    ("aws:ec2/vpc:Vpc", ("ec2", "CreateVpc")),
    ("aws:eks/nodeGroup:NodeGroup", ("eks", "CreateNodegroup")),
    ("aws:fis/experimentTemplate:ExperimentTemplate", ("fis", "CreateExperimentTemplate")),
    ("aws:wafv2/webAcl:WebAcl", ("wafv2", "CreateWebACL")),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", ("cloudwatch", "PutMetricAlarm")),
    ("aws:cloudwatch/logGroup:LogGroup", ("logs", "CreateLogGroup")),
    ("aws:scheduler/schedule:Schedule", ("scheduler", "CreateSchedule")),
    ("aws:ec2/flowLog:FlowLog", ("ec2", "CreateFlowLogs")),
    ("aws:ec2transitgateway/routeTable:RouteTable", ("ec2", "CreateTransitGatewayRouteTable")),
    ("aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
     ("ec2", "EnableTransitGatewayRouteTablePropagation")),
    ("aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter",
     ("ec2", "AcceptTransitGatewayPeeringAttachment")),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", ("iam", "AttachRolePolicy")),
    ("aws:route53/resolverRuleAssociation:ResolverRuleAssociation", ("route53resolver", "AssociateResolverRule")),
    ("aws:rds/subnetGroup:SubnetGroup", ("rds", "CreateDBSubnetGroup")),
    ("aws:directconnect/gateway:Gateway", ("directconnect", "CreateDirectConnectGateway")),
    ("aws:cloudwatch/eventRule:EventRule", ("events", "PutRule")),
    ("aws:noSuchModule/thing:Thing", None),
    ("pulumi:providers:aws", None),
])
def test_types_map_to_the_operation_that_creates_them(token, expected):
    assert operation_for(token) == expected


def test_every_explicit_operation_and_second_call_exists_in_botocore():
    for service, operation in _OPERATIONS.values():
        assert operation in _model(service)["operations"], (service, operation)
    for token, calls in _SECOND_CALLS.items():
        service, _ = operation_for(token)
        for target in calls.values():
            operation, _, member = target.partition(".")
            shape = _model(service)["operations"][operation]["input"]["shape"]
            assert member in _model(service)["shapes"][shape]["members"], (token, target)


def test_java_patterns_become_python_ones_or_are_skipped():
    # UTF-16 surrogate pairs (autoscaling's XmlStringMaxLen255) become code points.
    xml = _compiled("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*")
    assert xml.fullmatch("0 21 * * * \U0001F600") and not xml.fullmatch("\x01")
    # \p{L}/\p{N}/\p{Z}: a superset in Unicode mode, never stricter than AWS.
    tag = _compiled("^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$")
    assert tag.fullmatch("Grüße 2") and not tag.fullmatch("a,b")
    assert _compiled("[a-") is None
    # \p{Print} (application-autoscaling PolicyName): printable means not a control character
    printable = _compiled("\\p{Print}+")
    assert printable.fullmatch("cpu target 70%") and not printable.fullmatch("tab\tname")


@pytest.fixture(scope="module")
def shipped_coverage():
    return {stack: coverage(shipped(stack).doc) for stack in ("dev", "prod", "airgap")}


def test_every_aws_type_in_the_shipped_stacks_maps_to_an_operation(shipped_coverage):
    for stack, cov in shipped_coverage.items():
        run = cov.pop("")
        types = {t for t in cov if t.startswith("aws:")}
        assert len(types) >= 40, stack
        unmapped = sorted(t for t in types if cov[t]["operation"] is None)
        assert unmapped == [], (stack, unmapped)
        # Every type checks at least one key against its operation, and the patterns compile.
        assert [t for t in types if cov[t]["matched"] == 0] == [], stack
        assert run["patterns_skipped"] == [], stack
        assert run["botocore"] == botocore_version()


def test_shipped_stacks_keys_mostly_match_and_values_are_checked(shipped_coverage):
    prod = dict(shipped_coverage["prod"])
    prod.pop("", None)
    matched = sum(c["matched"] for c in prod.values())
    unmatched = sum(c["unmatched"] for c in prod.values())
    assert matched > 10 * unmatched
    assert sum(c["checked"] for c in prod.values()) > 1000
    assert all(not c["mismatched_keys"] for c in prod.values())


def test_cli_prints_the_coverage_table(tmp_path, capsys):
    import json
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_doc((FLOW_LOG, {"trafficType": "all"}))))
    assert aws_models.main(["--preview-json", str(path), "--coverage"]) == 0
    out = capsys.readouterr().out
    assert "aws:ec2/flowLog:FlowLog" in out and "ec2 CreateFlowLogs" in out and "1/1 types mapped" in out
    assert aws_models.main(["--preview-json", str(path)]) == 1
    assert "'all' is not one of ACCEPT, REJECT, ALL" in capsys.readouterr().out
