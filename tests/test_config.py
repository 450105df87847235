"""Bad config: one clear message naming the key path and the reason, all problems at once,
exit non-zero, no traceback, nothing registered or written."""

import json

import pytest

from components.config import ConfigError
from components.stack import build_stack_spec
from tests.helpers import deep_merge, run_tool, stack_yaml, variant


def raw(stack="dev", **overrides):
    cfg = {k.split(":", 1)[1]: ("decrypted" if isinstance(v, dict) and set(v) == {"secure"} else v)
           for k, v in stack_yaml(stack)["config"].items()}
    return deep_merge(cfg, overrides)


def issues_of(**overrides):
    stack = overrides.pop("_stack", "dev")
    with pytest.raises(ConfigError) as info:
        build_stack_spec(raw(stack, **overrides))
    issues = {}
    for i in info.value.issues:
        issues[i.path] = f"{issues[i.path]}; {i.reason}" if i.path in issues else i.reason
    return issues


HUB = {"name": "ap-northeast-2", "role": "hub", "cidr": "10.16.0.0/18"}
SPOKE = {"name": "ap-southeast-1", "role": "spoke", "cidr": "10.16.64.0/18"}


@pytest.mark.parametrize("overrides, path, reason", [
    ({"network": {"supernett": "10.0.0.0/8"}}, "network.supernett", "unknown key"),
    ({"netwrok": {}}, "netwrok", "unknown key"),
    ({"network": {"azCount": "three"}}, "network.azCount", "2 or 3"),
    ({"network": {"azCount": 4}}, "network.azCount", "2 or 3"),
    ({"regions": [{**HUB, "name": "ap-northeast-9"}, SPOKE]}, "regions[0].name", "not an AWS region"),
    ({"regions": [HUB, {**SPOKE, "role": "hub"}]}, "regions", "exactly one region must have role 'hub'"),
    ({"regions": [{**SPOKE, "role": "spoke"}]}, "regions", "exactly one region must have role 'hub'"),
    ({"regions": []}, "regions", "at least 1"),
    ({"regions": [HUB, HUB]}, "regions", "more than once"),
    ({"network": {"supernet": "10.16.0.0/33"}}, "network.supernet", "IPv4"),
    ({"network": {"supernet": "10.16.0.1/12"}}, "network.supernet", "IPv4"),
    ({"network": {"vpcPrefixLength": 12}}, "network.vpcPrefixLength", "greater than or equal to 16"),
    ({"network": {"vpcPrefixLength": 26}}, "network.vpcPrefixLength", "less than or equal to 24"),
    ({"environment": "qa"}, "environment", "'dev', 'stage' or 'prod'"),
    ({"owner": None}, "owner", "required key is missing"),
    ({"network": {"supernet": "10.16.0.0/20"}}, "network.supernet", "smaller than one /18 VPC"),
    ({"regions": [{**HUB, "cidr": "10.20.0.0/18"}, SPOKE]}, "regions[0].cidr", "overlaps reserved range 10.20.0.0/16"),
    ({"regions": [{**HUB, "cidr": None}, {**SPOKE, "cidr": None}],
      "network": {"reservedCidrs": ["10.16.0.0/13", "10.24.0.0/14", "10.28.0.0/15", "10.30.0.0/16", "10.31.0.0/17", "10.31.128.0/18"]}},
     "network.supernet", "no room"),
    ({"network": {"egress": "proxy", "natGateways": "single"}}, "network.natGateways", "contradicts egress 'proxy'"),
    ({"network": {"flowLogRetentionDays": 45}}, "network.flowLogRetentionDays", "not a CloudWatch retention period"),
    ({"network": {"endpoints": ["ecr api"]}}, "network.endpoints", "not AWS service names"),
    ({"network": {"workerIpsPerAz": 9000}}, "network.workerIpsPerAz", "lower workerIpsPerAz"),
    ({"connectivity": {"peering": "fullMesh"}}, "connectivity.peering", "'mesh', 'hubSpoke' or 'none'"),
    ({"connectivity": {"onPrem": [{"name": "x", "cidrs": ["172.16.0.0/16"]}]}},
     "connectivity.onPrem[0].cidrs[0]", "not inside network.reservedCidrs"),
    ({"connectivity": {"onPrem": [{"name": "x", "cidrs": ["10.100.0.0/16"],
                                   "vpn": {"ip": "203.0.113.1", "bgpAsn": 65000, "region": "eu-west-1"}}]}},
     "connectivity.onPrem[0].vpn.region", "not one of this stack's regions"),
    ({"connectivity": {"onPrem": [{"name": "x", "cidrs": ["10.100.0.0/16"],
                                   "vpn": {"ip": "203.0.113.300", "bgpAsn": 65000, "region": "ap-northeast-2"}}]}},
     "connectivity.onPrem[0].vpn.ip", "IPv4"),
    ({"connectivity": {"transitGateway": {"baseAsn": 7018}}}, "connectivity.transitGateway.baseAsn", "not a private ASN"),
    ({"connectivity": {"transitGateway": {"amazonSideAsn": {"ap-northeast-2": 64600, "ap-southeast-1": 64600}}}},
     "connectivity.transitGateway.amazonSideAsn", "shared by ap-northeast-2, ap-southeast-1"),
    ({"connectivity": {"transitGateway": {"amazonSideAsn": {"us-east-1": 64600}}}},
     "connectivity.transitGateway.amazonSideAsn.us-east-1", "not one of this stack's regions"),
    ({"network": {"egress": "proxy", "natGateways": None}}, "proxy.url", "needs the proxy's url"),
    ({"proxy": {"url": "proxy.corp:3128"}}, "proxy.url", "not http(s)://host:port"),
    ({"connectivity": {"resolver": {"dnsServers": ["192.168.1.1"], "forwardDomains": ["corp.example.com"]}}},
     "connectivity.resolver.dnsServers[0]", "in no on-prem site's cidrs"),
    ({"_stack": "prod", "cluster": {"endpointAccess": "privateAndPublic", "publicAccessCidrs": ["198.51.100.0/24"]}},
     "cluster.endpointAccess", "prod cluster endpoints must be private"),
    ({"cluster": {"endpointAccess": "privateAndPublic", "publicAccessCidrs": ["0.0.0.0/0"]}},
     "cluster.publicAccessCidrs[0]", "0.0.0.0/0 opens the API"),
    ({"cluster": {"endpointAccess": "privateAndPublic", "publicAccessCidrs": ["198.51.100.0/24"]}},
     "cluster.endpointAccess", "gitops-bridge#79"),
    ({"gitops": {"argocd": {"chartVersion": "^10.1"}}}, "gitops.argocd.chartVersion", "should match pattern"),
    ({"gitops": {"argocd": {"chartVersion": "latest"}}}, "gitops.argocd.chartVersion", "should match pattern"),
    ({"cluster": {"blueGreen": {"active": "purple"}}}, "cluster.blueGreen.active", "'blue' or 'green'"),
    ({"cluster": {"nodeGroups": [{"name": "x", "instanceTypes": ["m6i.large"], "minSize": 3, "maxSize": 2,
                                  "desiredSize": 2}]}}, "cluster.nodeGroups[0]", "minSize <= desiredSize <= maxSize"),
    ({"cluster": {"addons": {"coredns": "latest"}}}, "cluster.addons.coredns", "should match pattern"),
    ({"cluster": {"adminRoleArns": ["PlatformAdmin"]}}, "cluster.adminRoleArns", "not IAM role ARNs"),
    ({"cluster": {"serviceCidr": "10.100.0.0/16"}}, "cluster.serviceCidr", "overlaps 10.100.0.0/16"),
    ({"cluster": {"logRetentionDays": 45}}, "cluster.logRetentionDays", "not a CloudWatch retention period"),
    ({"chaos": {"logRetentionDays": 45}}, "chaos.logRetentionDays", "not a CloudWatch retention period"),
    ({"slos": [{"name": "lat", "kind": "custom", "namespace": "N", "metricName": "M", "objective": 1}] * 2,
      "chaos": None}, "slos[1].name", "defined twice"),
    ({"_stack": "prod", "argocdSsoClientSecret": None}, "argocdSsoClientSecret", "pulumi config set --secret"),
    ({"_stack": "prod", "gitops": {"argocd": {"sso": None}}}, "gitops.argocd.sso", "prod ArgoCD needs SSO"),
    ({"cluster": None}, "cluster", "gitops needs clusters"),
    ({"chaos": {"scenarios": [{"scenario": "meteor-strike"}]}}, "chaos.scenarios[0].scenario", "unknown scenario 'meteor-strike'"),
    ({"chaos": {"scenarios": [{"scenario": "nodegroup-termination", "parameters": {"instanceTerminationPercentage": 150}}]}},
     "chaos.scenarios[0].parameters.instanceTerminationPercentage", "between 1 and 100"),
    ({"chaos": {"scenarios": [{"scenario": "pod-delete", "parameters": {"labelSelector": "app=x"}}]}},
     "chaos.scenarios[0].parameters.namespace", "needs namespace"),
    ({"chaos": {"scenarios": [{"scenario": "pod-delete", "parameters": {"namespace": "a", "labelSelector": "b",
                                                                         "colour": "red"}}]}},
     "chaos.scenarios[0].parameters.colour", "takes no parameter 'colour'"),
    ({"chaos": {"scenarios": [{"scenario": "nodegroup-termination", "selection": {"mode": "PERCENT", "value": 150}}]}},
     "chaos.scenarios[0].selection.value", "PERCENT needs a value from 1 to 100"),
    ({"chaos": {"scenarios": [{"scenario": "nodegroup-termination", "selection": {"mode": "COUNT"}}]}},
     "chaos.scenarios[0].selection.value", "COUNT needs how many"),
    ({"chaos": {"scenarios": [{"scenario": "az-network-disruption", "selection": {"mode": "COUNT", "value": 1}}]}},
     "chaos.scenarios[0].selection.mode", "targets with ALL only"),
    ({"chaos": {"scenarios": [{"scenario": "nodegroup-termination", "stopOn": ["checkout-latency"]}]}},
     "chaos.scenarios[0].stopOn", "no SLO named 'checkout-latency'"),
    ({"chaos": {"gameDay": {"cron": "0 14 * * WED", "scenarios": ["pod-delete"]}}}, "chaos.gameDay.cron", "is not cron("),
    ({"chaos": {"gameDay": {"cron": "cron(0 14 ? * WED *)", "timeZone": "Mars/Olympus", "scenarios": ["pod-delete"]}}},
     "chaos.gameDay.timeZone", "not an IANA time zone"),
    ({"scaling": {"schedules": [{"name": "x", "cron": "30 25 * * *", "nodeGroup": "general", "minSize": 1,
                                 "maxSize": 2, "desired": 1}]}}, "scaling.schedules[0].cron", "outside 0-23"),
    ({"scaling": {"schedules": [{"name": "x", "cron": "30 11 * * *", "timeZone": "Asia/Sel", "nodeGroup": "general",
                                 "minSize": 1, "maxSize": 2, "desired": 1}]}},
     "scaling.schedules[0].timeZone", "not an IANA time zone"),
    ({"scaling": {"schedules": [{"name": "x", "cron": "30 11 * * *", "nodeGroup": "gpu", "minSize": 1,
                                 "maxSize": 2, "desired": 1}]}}, "scaling.schedules[0].nodeGroup", "no node group 'gpu'"),
    ({"scaling": {"nodeAutoscaler": "keda"}}, "scaling.nodeAutoscaler", "'karpenter', 'clusterAutoscaler' or 'none'"),
    ({"scaling": {"kedaChartVersion": "2.x"}}, "scaling.kedaChartVersion", "should match pattern"),
    ({"_stack": "prod", "scaling": {"karpenterAmiAlias": "al2023@latest"}}, "scaling.karpenterAmiAlias",
     "prod pins the AMI release"),
    ({"slos": [{"name": "lat", "kind": "latency", "objective": 1,
                "loadBalancers": {"ap-northeast-2": "app/web/0123456789abcdef"}}], "chaos": None},
     "slos[0].loadBalancers", "no ALB given for ap-southeast-1"),
    ({"slos": [{"name": "lat", "kind": "latency", "objective": 1, "loadBalancers": {"ap-northeast-2": "my-alb"}}]},
     "slos[0].loadBalancers", "not ALB ARN suffixes"),
    ({"connectivity": {"onPrem": [{"name": "x", "cidrs": ["10.16.0.0/20"]}], "resolver": None}},
     "connectivity.onPrem[0].cidrs[0]", "overlaps the VPC of ap-northeast-2 (10.16.0.0/18)"),
])
def test_each_bad_config_names_its_key(overrides, path, reason):
    issues = issues_of(**dict(overrides))
    assert path in issues, f"expected an issue at {path}, got {issues}"
    assert reason in issues[path], f"{path}: {issues[path]!r} does not say {reason!r}"


def test_every_field_error_is_reported_at_once():
    issues = issues_of(environment="qa", network={"azCount": 5, "vpcPrefixLength": 40, "typo": 1})
    assert {"environment", "network.azCount", "network.vpcPrefixLength", "network.typo"} <= set(issues)


def test_prod_needs_three_azs_with_a_database_tier_and_pinned_blocks():
    issues = issues_of(_stack="prod", network={"azCount": 2})
    assert "Aurora" in issues["network.azCount"]
    prod_regions = raw("prod")["regions"]
    issues = issues_of(_stack="prod", regions=[{**prod_regions[0]}, {**prod_regions[1], "cidr": None}, prod_regions[2]])
    assert "must be pinned" in issues["regions[1].cidr"]


def test_engine_config_map_is_read_like_pulumi_passes_it():
    """The engine hands objects over as JSON text and scalars as strings; other namespaces are not ours."""
    from components.config import raw_from_engine_config, parse_stack_config
    engine = {f"global-platform:{k}": (json.dumps(v) if isinstance(v, (dict, list)) else str(v))
              for k, v in raw().items()}
    engine["global-platform:owner"] = "1234"
    engine["aws:region"] = "us-east-1"
    cfg = parse_stack_config(raw_from_engine_config(engine))
    assert cfg.owner == "1234" and cfg.network.az_count == 2 and cfg.regions[0].name == "ap-northeast-2"


def _cli(*args):
    return run_tool("tools.preview", *args, timeout=120)


def test_cli_bad_config_exits_2_with_one_message_and_writes_nothing(tmp_path):
    bad = variant(tmp_path, "dev", network={"azCount": 7, "vpcPrefixLength": 30})
    out = tmp_path / "plan.json"
    proc = _cli("dev", "--stack-file", bad, "--json", out)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "global-platform:network.azCount" in proc.stderr
    assert "global-platform:network.vpcPrefixLength" in proc.stderr
    assert proc.stdout == "", "nothing may be printed as a plan"
    assert not out.exists()


@pytest.mark.parametrize("args, needle", [
    (["nosuchstack"], "unknown stack 'nosuchstack'"),
    (["dev", "--baseline", "{tmp}/missing.json"], "baseline not found"),
    (["dev", "--baseline", "{tmp}/broken.json"], "not valid JSON"),
    (["dev", "--frobnicate"], "unrecognized arguments"),
])
def test_cli_bad_arguments_and_json(tmp_path, args, needle):
    (tmp_path / "broken.json").write_text("{not json")
    proc = _cli(*[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_yaml_syntax_error_names_the_file(tmp_path):
    bad = tmp_path / "Pulumi.broken.yaml"
    bad.write_text("config:\n  global-platform:environment: [dev\n")
    proc = _cli("broken", "--stack-file", bad)
    assert proc.returncode == 2
    assert "Pulumi.broken.yaml: not valid YAML" in proc.stderr
