"""The deploy-readiness pack over its real Analyzer protocol: each rule on a small plan that
breaks the precondition AWS or Kubernetes imposes, and on the same plan fixed."""

from __future__ import annotations

import base64

import pytest

from tests.helpers import PLAN_STACK, plan_resource


STACK = PLAN_STACK


@pytest.fixture
def pack(readiness_pack):
    return readiness_pack


res = plan_resource

def u(r):
    return r["urn"]


def fired(pack, resources) -> dict[str, list[str]]:
    providers = {r["urn"]: r for r in resources if r["type"].startswith("pulumi:providers:")}
    out: dict[str, list[str]] = {}
    for d in pack.analyze_stack(resources, providers):
        out.setdefault(d.policyName, []).append(d.urn)
    return out


# -- a small cluster world ---------------------------------------------------------------------
def cluster_world(*, wait_for_cluster=True, coredns_inside=False, release_waits_nodes=True,
                  ns_created=True, ns_waited=True, crd_waited=True, idle_only=False):
    cluster = res("eks:index:Cluster", "c", {"name": "prod-apne2", "skipDefaultNodeGroup": True,
                                              "corednsAddonOptions": {"enabled": True} if coredns_inside
                                              else {"enabled": False}})
    k8s = res("pulumi:providers:kubernetes", "k", {"kubeconfig": "{}"}, prop={"kubeconfig": u(cluster)})
    ng = res("aws:eks/nodeGroup:NodeGroup", "ng", {
        "clusterName": "prod-apne2", "scalingConfig": {"desiredSize": 0 if idle_only else 3, "minSize": 0},
        "taints": [{"key": "platform/idle", "value": "true", "effect": "NO_SCHEDULE"}] if idle_only else []},
        deps=[u(cluster)])
    entry = res("aws:eks/accessEntry:AccessEntry", "entry", {"clusterName": "prod-apne2", "principalArn": "arn:r"},
                deps=[u(cluster)] if wait_for_cluster else [])
    coredns = res("aws:eks/addon:Addon", "coredns", {"clusterName": "prod-apne2", "addonName": "coredns"},
                  deps=[u(cluster), u(ng)])
    karpenter = res("kubernetes:helm.sh/v3:Release", "karpenter",
                    {"chart": "oci://public.ecr.aws/karpenter/karpenter", "namespace": "kube-system"},
                    deps=[u(ng)] if release_waits_nodes else [], provider=u(k8s))
    ns = res("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "payments"}}, provider=u(k8s))
    sa = res("kubernetes:core/v1:ServiceAccount", "sa", {"metadata": {"name": "fis", "namespace": "payments"}},
             deps=[u(ns)] if ns_waited else [], provider=u(k8s))
    pool = res("kubernetes:karpenter.sh/v1:NodePool", "pool", {"spec": {}},
               deps=[u(karpenter)] if crd_waited else [], provider=u(k8s))
    world = [cluster, k8s, ng, entry, coredns, karpenter, sa, pool]
    return world + ([ns] if ns_created else [])


@pytest.mark.parametrize("rule, broken", [
    ("eks-consumers-wait-for-cluster", {"wait_for_cluster": False}),
    ("workloads-wait-for-nodes", {"coredns_inside": True}),
    ("workloads-wait-for-nodes", {"release_waits_nodes": False}),
    ("workloads-wait-for-nodes", {"idle_only": True}),
    ("namespaced-objects-wait-for-namespace", {"ns_created": False}),
    ("namespaced-objects-wait-for-namespace", {"ns_waited": False}),
    ("custom-objects-wait-for-their-crd", {"crd_waited": False}),
])
def test_cluster_rules_fire_on_the_break_and_not_on_the_fix(pack, rule, broken):
    assert rule in fired(pack, cluster_world(**broken)), broken
    assert fired(pack, cluster_world()) == {}


def test_a_custom_object_nothing_installs_is_named(pack):
    world = cluster_world()
    k8s = next(r for r in world if r["type"] == "pulumi:providers:kubernetes")
    world.append(res("kubernetes:example.com/v1:Widget", "w", {"spec": {}}, provider=u(k8s)))
    (urn,) = fired(pack, world)["custom-objects-wait-for-their-crd"]
    assert urn.endswith("::w")


def test_policy_association_waits_for_its_access_entry(pack):
    world = cluster_world()
    cluster, entry = world[0], next(r for r in world if r["name"] == "entry")
    inputs = {"clusterName": "prod-apne2", "principalArn": "arn:r", "policyArn": "arn:p"}
    early = res("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "assoc", inputs, deps=[u(cluster)])
    assert fired(pack, world + [early]) == {"eks-consumers-wait-for-cluster": [u(early)]}
    late = res("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "assoc", inputs, deps=[u(entry)])
    assert fired(pack, world + [late]) == {}


# -- transit gateways ------------------------------------------------------------------------------
def tgw_world(*, route_waits=True, accepter_waited=True, attached=True):
    vpc = res("aws:ec2/vpc:Vpc", "vpc")
    tgw = res("aws:ec2transitgateway/transitGateway:TransitGateway", "tgw")
    rt = res("aws:ec2/routeTable:RouteTable", "rt", prop={"vpcId": u(vpc)})
    att = res("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "att", prop={"vpcId": u(vpc), "transitGatewayId": u(tgw)})
    route = res("aws:ec2/route:Route", "route", {"destinationCidrBlock": "10.1.0.0/16"},
                deps=[u(att)] if route_waits else [], prop={"routeTableId": u(rt), "transitGatewayId": u(tgw)})
    peer = res("aws:ec2transitgateway/peeringAttachment:PeeringAttachment", "peer", prop={"transitGatewayId": u(tgw)})
    acc = res("aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter", "acc",
              prop={"transitGatewayAttachmentId": u(peer)})
    troute = res("aws:ec2transitgateway/route:Route", "troute", {"destinationCidrBlock": "10.2.0.0/16"},
                 deps=[u(acc)] if accepter_waited else [], prop={"transitGatewayAttachmentId": u(peer)})
    return [vpc, tgw, rt, route, peer, acc, troute] + ([att] if attached else [])


@pytest.mark.parametrize("rule, broken", [
    ("tgw-routes-wait-for-attachments", {"route_waits": False}),
    ("tgw-routes-wait-for-attachments", {"attached": False}),
    ("tgw-peering-routes-wait-for-accepter", {"accepter_waited": False}),
])
def test_tgw_rules(pack, rule, broken):
    assert rule in fired(pack, tgw_world(**broken))
    assert fired(pack, tgw_world()) == {}


# -- air-gapped VPCs -----------------------------------------------------------------------------
def airgap_world(*, endpoints=("ec2", "ecr.api", "ecr.dkr", "s3", "sts", "ssm", "sqs", "eks", "monitoring"),
                 instance_profile=True, node_proxy=True, igw=False, chart="keda", isolated=True):
    vpc = res("aws:ec2/vpc:Vpc", "vpc")
    world = [vpc]
    if igw:
        world.append(res("aws:ec2/internetGateway:InternetGateway", "igw", prop={"vpcId": u(vpc)}))
    for e in endpoints:
        world.append(res("aws:ec2/vpcEndpoint:VpcEndpoint", f"ep-{e}", {"serviceName": f"com.amazonaws.eu-west-1.{e}"},
                         prop={"vpcId": u(vpc)}))
    cluster = res("eks:index:Cluster", "c", {"name": "ag", "skipDefaultNodeGroup": True,
                                              "corednsAddonOptions": {"enabled": False}}, prop={"vpcId": u(vpc)})
    k8s = res("pulumi:providers:kubernetes", "k", prop={"kubeconfig": u(cluster)})
    data = base64.b64encode(b"HTTPS_PROXY=http://proxy:3128" if node_proxy else b"#!/bin/bash").decode()
    lt = res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {"userData": data})
    ng = res("aws:eks/nodeGroup:NodeGroup", "ng", {"clusterName": "ag", "scalingConfig": {"desiredSize": 2}},
             deps=[u(cluster)], prop={"launchTemplate": u(lt)})
    values = {"settings": {"isolatedVPC": isolated}} if chart == "karpenter" else {}
    rel = res("kubernetes:helm.sh/v3:Release", "rel", {"chart": chart, "namespace": "kube-system", "values": values},
              deps=[u(ng)], provider=u(k8s))
    world += [cluster, k8s, lt, ng, rel]
    if chart == "karpenter":
        spec = {"instanceProfile": "p"} if instance_profile else {"role": "r"}
        world.append(res("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "nc", {"spec": spec}, deps=[u(rel)],
                         provider=u(k8s)))
    return world


def test_airgap_apis_need_an_endpoint_or_a_proxy(pack):
    assert fired(pack, airgap_world()) == {}
    assert fired(pack, airgap_world(endpoints=("ec2", "ecr.api", "ecr.dkr", "s3", "sts"))) == {
        "airgap-apis-reachable": [f"{STACK}kubernetes:helm.sh/v3:Release::rel"]}  # keda needs monitoring
    # Nodes without the proxy need every endpoint themselves.
    assert "airgap-apis-reachable" in fired(pack, airgap_world(endpoints=("ecr.api",), node_proxy=False))
    # A VPC with an internet gateway is not air-gapped: nothing to check.
    assert fired(pack, airgap_world(endpoints=(), igw=True)) == {}


def test_airgap_karpenter_with_a_role_needs_iam_which_has_no_endpoint(pack):
    assert fired(pack, airgap_world(chart="karpenter")) == {}
    problems = fired(pack, airgap_world(chart="karpenter", instance_profile=False))
    assert problems == {"airgap-apis-reachable": [f"{STACK}kubernetes:helm.sh/v3:Release::rel"]}


def test_airgap_karpenter_outside_isolated_mode_needs_the_pricing_api(pack):
    problems = fired(pack, airgap_world(chart="karpenter", isolated=False))
    assert problems == {"airgap-apis-reachable": [f"{STACK}kubernetes:helm.sh/v3:Release::rel"]}


def test_airgap_component_without_an_api_list_is_reported(pack):
    assert "airgap-apis-reachable" in fired(pack, airgap_world(chart="some-new-chart"))


# -- FIS ----------------------------------------------------------------------------------------
def fis_world(*, tag="prod-apne2", condition="prod-apne2", arn_linked=True, ns=True, sa=True, entry=True):
    world = cluster_world()
    k8s = next(r for r in world if r["type"] == "pulumi:providers:kubernetes")
    ng = next(r for r in world if r["name"] == "ng")
    role = res("aws:iam/role:Role", "fis-role")
    policy = res("aws:iam/rolePolicy:RolePolicy", "fis-policy", {"policy": (
        '{"Statement": [{"Effect": "Allow", "Action": "ec2:SendSpotInstanceInterruptions", "Resource": "*",'
        ' "Condition": {"StringEquals": {"aws:ResourceTag/eks:cluster-name": "%s"}}}]}' % condition)},
        prop={"role": u(role)})
    spot = {"name": "spot", "resourceType": "aws:ec2:spot-instance", "selectionMode": "ALL",
            "resourceTags": [{"key": "eks:cluster-name", "value": tag}]}
    nodes = {"name": "ng", "resourceType": "aws:eks:nodegroup", "selectionMode": "ALL", "resourceArns": ["arn:ng"]}
    pods = {"name": "pods", "resourceType": "aws:eks:pod", "selectionMode": "ALL", "parameters": {
        "clusterIdentifier": "arn:aws:eks:ap-northeast-2:123456789012:cluster/prod-apne2", "namespace": "payments"}}
    template = res("aws:fis/experimentTemplate:ExperimentTemplate", "t", {
        "targets": [spot, nodes, pods],
        "actions": [{"name": "a", "parameters": [{"key": "kubernetesServiceAccount", "value": "fis"}]}]},
        prop={"roleArn": u(role), **({"targets": u(ng)} if arn_linked else {})})
    world = [r for r in world if (ns or r["type"] != "kubernetes:core/v1:Namespace")
             and (sa or r["type"] != "kubernetes:core/v1:ServiceAccount")]
    if entry:
        world.append(res("aws:eks/accessEntry:AccessEntry", "fis-entry", {"clusterName": "prod-apne2"},
                         deps=[u(world[0])], prop={"principalArn": u(role)}))
    return world + [role, policy, template, k8s] if k8s not in world else world + [role, policy, template]


@pytest.mark.parametrize("broken", [
    {"tag": "someone-else"}, {"condition": "someone-else"}, {"arn_linked": False}, {"ns": False}, {"sa": False},
    {"entry": False},
])
def test_fis_targets_must_resolve(pack, broken):
    assert fired(pack, fis_world()) == {}
    assert "fis-targets-resolve" in fired(pack, fis_world(**broken)), broken


# -- the data tier -------------------------------------------------------------------------------
def data_world(*, logs_first=True, secondary_waits=True, validated=True, cert_region="us-east-1",
               source_region="us-east-1", chained=True, readers=2, multi_az=True):
    hub = res("pulumi:providers:aws", "hub", {"region": "ap-northeast-2"})
    use1 = res("pulumi:providers:aws", "use1", {"region": "us-east-1"})
    certp = use1 if cert_region == "us-east-1" else hub
    srcp = use1 if source_region == "us-east-1" else hub
    lg = res("aws:cloudwatch/logGroup:LogGroup", "lg", {"name": "/aws/rds/cluster/prod-apne2-aurora/audit"})
    glob = res("aws:rds/globalCluster:GlobalCluster", "global")
    primary = res("aws:rds/cluster:Cluster", "primary", {"clusterIdentifier": "prod-apne2-aurora",
                                                        "masterUsername": "admin",
                                                        "enabledCloudwatchLogsExports": ["audit"]},
                  deps=[u(lg)] if logs_first else [], prop={"globalClusterIdentifier": u(glob)})
    instances = [res("aws:rds/clusterInstance:ClusterInstance", f"i{n}", prop={"clusterIdentifier": u(primary)})
                 for n in range(readers)]
    secondary = res("aws:rds/cluster:Cluster", "secondary", {"clusterIdentifier": "prod-usw2-aurora"},
                    deps=[u(instances[0])] if secondary_waits else [], prop={"globalClusterIdentifier": u(glob)})
    bucket = res("aws:s3/bucket:Bucket", "b")
    own = res("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "own", prop={"bucket": u(bucket)})
    ver = res("aws:s3/bucketVersioning:BucketVersioning", "ver", deps=[u(own)] if chained else [],
              prop={"bucket": u(bucket)})
    cert = res("aws:acm/certificate:Certificate", "cert", {"domainName": "static.example.com"}, provider=u(certp))
    val = res("aws:acm/certificateValidation:CertificateValidation", "val", prop={"certificateArn": u(cert)})
    dist = res("aws:cloudfront/distribution:Distribution", "dist",
               {"viewerCertificate": {"acmCertificateArn": "arn:c"}},
               prop={"viewerCertificate": u(val) if validated else u(cert)}, provider=u(use1))
    source = res("aws:cloudwatch/logDeliverySource:LogDeliverySource", "src", prop={"resourceArn": u(dist)},
                 provider=u(srcp))
    rg = res("aws:elasticache/replicationGroup:ReplicationGroup", "rg", {
        "tags": {"Name": "prod-cache"}, "multiAzEnabled": multi_az, "automaticFailoverEnabled": multi_az})
    failover = res("aws:fis/experimentTemplate:ExperimentTemplate", "failover", {
        "targets": [{"name": "t", "resourceType": "aws:rds:cluster", "resourceArns": ["arn:x"]}]},
        prop={"targets": u(primary)})
    power = res("aws:fis/experimentTemplate:ExperimentTemplate", "power", {
        "targets": [{"name": "t", "resourceType": "aws:elasticache:replicationgroup",
                     "resourceTags": [{"key": "Name", "value": "prod-cache"}]}]})
    return [hub, use1, lg, glob, primary, *instances, secondary, bucket, own, ver, cert, val, dist, source, rg,
            failover, power]


@pytest.mark.parametrize("rule, broken", [
    ("rds-log-groups-before-cluster", {"logs_first": False}),
    ("aurora-secondary-after-primary", {"secondary_waits": False}),
    ("cloudfront-certificate-issued-in-us-east-1", {"validated": False}),
    ("cloudfront-certificate-issued-in-us-east-1", {"cert_region": "ap-northeast-2"}),
    ("cloudfront-log-source-in-us-east-1", {"source_region": "ap-northeast-2"}),
    ("s3-bucket-settings-one-at-a-time", {"chained": False}),
    ("fis-data-targets-can-fail-over", {"readers": 1}),
    ("fis-data-targets-can-fail-over", {"multi_az": False}),
])
def test_data_tier_rules_fire_on_the_break_and_not_on_the_fix(pack, rule, broken):
    assert fired(pack, data_world()) == {}
    assert rule in fired(pack, data_world(**broken)), broken
