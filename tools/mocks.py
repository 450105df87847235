"""Mocks that answer like AWS: ids, ARNs, names and AZs of the real region.

Outputs are derived from a hash of the resource's URN, so two runs give the same
answers and different resources never share an id. Nothing here echoes inputs alone:
each type gets the computed attributes the program (or a reader) relies on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import ipaddress
import uuid
from typing import Any, Optional

from pulumi.runtime import Mocks, MockCallArgs, MockResourceArgs

from components.naming import dns_suffix_of, partition_of, region_short_code

ACCOUNT_ID = "123456789012"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # what a real preview shows for ids not yet known

# Zones as AWS lists them where they are not simply a, b, c (ap-northeast-1 has no 1b for
# new accounts; us-west-1 offers two zones). A stack asking for more zones than exist fails.
AZ_LETTERS = {
    "ap-northeast-1": "acd", "ap-northeast-2": "abcd", "us-east-1": "abcdef",
    "us-west-1": "ac", "us-west-2": "abcd", "ca-central-1": "abd",
}

ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/route:Route": "r-rtb-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "tgw-",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": "tgw-attach-",
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": "tgw-attach-",
    "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter": "tgw-attach-",
    "aws:ec2transitgateway/routeTable:RouteTable": "tgw-rtb-",
    "aws:ec2/customerGateway:CustomerGateway": "cgw-",
    "aws:ec2/vpnConnection:VpnConnection": "vpn-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:route53/resolverEndpoint:ResolverEndpoint": "rslvr-in-",
    "aws:route53/resolverRule:ResolverRule": "rslvr-rr-",
    "aws:route53/resolverRuleAssociation:ResolverRuleAssociation": "rslvr-rrassoc-",
    "aws:wafv2/webAcl:WebAcl": "",
    "aws:fis/experimentTemplate:ExperimentTemplate": "EXT",
    "aws:amp/workspace:Workspace": "ws-",
    "aws:amp/scraper:Scraper": "s-",
    "aws:grafana/workspace:Workspace": "g-",
}

# Resource types whose id is their (auto)name.
NAME_IS_ID = {
    "aws:iam/role:Role", "aws:iam/policy:Policy", "aws:cloudwatch/logGroup:LogGroup",
    "aws:rds/subnetGroup:SubnetGroup", "aws:kms/alias:Alias", "aws:sqs/queue:Queue",
    "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:sns/topic:Topic", "aws:ssm/parameter:Parameter",
    "aws:cloudwatch/eventRule:EventRule", "aws:scheduler/schedule:Schedule",
    "aws:elasticache/subnetGroup:SubnetGroup", "aws:elasticache/parameterGroup:ParameterGroup",
}
# SQS queue ids are URLs; the queue's name is in the ARN and the URL.
QUEUE_URL = "https://sqs.{r}.amazonaws.com/{a}/{name}"

# ARN layout per type; {p} partition, {r} region, {a} account, {id}, {name}.
ARN = {
    "aws:ec2/vpc:Vpc": "arn:{p}:ec2:{r}:{a}:vpc/{id}",
    "aws:ec2/subnet:Subnet": "arn:{p}:ec2:{r}:{a}:subnet/{id}",
    "aws:ec2/routeTable:RouteTable": "arn:{p}:ec2:{r}:{a}:route-table/{id}",
    "aws:ec2/internetGateway:InternetGateway": "arn:{p}:ec2:{r}:{a}:internet-gateway/{id}",
    "aws:ec2/securityGroup:SecurityGroup": "arn:{p}:ec2:{r}:{a}:security-group/{id}",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "arn:{p}:ec2:{r}:{a}:security-group/{id}",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "arn:{p}:ec2:{r}:{a}:vpc-endpoint/{id}",
    "aws:ec2/flowLog:FlowLog": "arn:{p}:ec2:{r}:{a}:vpc-flow-log/{id}",
    "aws:ec2/eip:Eip": "arn:{p}:ec2:{r}:{a}:elastic-ip/{id}",
    "aws:ec2/launchTemplate:LaunchTemplate": "arn:{p}:ec2:{r}:{a}:launch-template/{id}",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "arn:{p}:ec2:{r}:{a}:transit-gateway/{id}",
    # RAM: arn:aws:ram:<region>:<owner>:resource-share/<uuid> (RAM API reference, ResourceShare); the
    # resource's id is its ARN (TF aws_ram_resource_share sets d.SetId(arn)).
    "aws:ram/resourceShare:ResourceShare": "arn:{p}:ram:{r}:{a}:resource-share/{id}",
    "aws:ec2/customerGateway:CustomerGateway": "arn:{p}:ec2:{r}:{a}:customer-gateway/{id}",
    "aws:ec2/vpnConnection:VpnConnection": "arn:{p}:ec2:{r}:{a}:vpn-connection/{id}",
    "aws:kms/key:Key": "arn:{p}:kms:{r}:{a}:key/{id}",
    "aws:kms/alias:Alias": "arn:{p}:kms:{r}:{a}:{name}",
    "aws:iam/role:Role": "arn:{p}:iam::{a}:role/{name}",
    "aws:iam/policy:Policy": "arn:{p}:iam::{a}:policy/{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{name}",
    "aws:rds/subnetGroup:SubnetGroup": "arn:{p}:rds:{r}:{a}:subgrp:{name}",
    "aws:sns/topic:Topic": "arn:{p}:sns:{r}:{a}:{name}",
    "aws:sqs/queue:Queue": "arn:{p}:sqs:{r}:{a}:{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:{p}:cloudwatch:{r}:{a}:alarm:{name}",
    "aws:fis/experimentTemplate:ExperimentTemplate": "arn:{p}:fis:{r}:{a}:experiment-template/{id}",
    "aws:ssm/parameter:Parameter": "arn:{p}:ssm:{r}:{a}:parameter{name}",
    # {scope}: "global" for a CLOUDFRONT web ACL, "regional" otherwise (botocore cloudfront
    # DistributionConfig.WebACLId: arn:aws:wafv2:us-east-1:123456789012:global/webacl/ExampleWebACL/...).
    "aws:wafv2/webAcl:WebAcl": "arn:{p}:wafv2:{r}:{a}:{scope}/webacl/{name}/{id}",
    "aws:scheduler/schedule:Schedule": "arn:{p}:scheduler:{r}:{a}:schedule/default/{name}",
    "aws:cloudwatch/eventRule:EventRule": "arn:{p}:events:{r}:{a}:rule/{name}",
    "aws:eks/nodeGroup:NodeGroup": "arn:{p}:eks:{r}:{a}:nodegroup/{name}",
    "aws:rds/cluster:Cluster": "arn:{p}:rds:{r}:{a}:cluster:{id}",
    "aws:rds/clusterInstance:ClusterInstance": "arn:{p}:rds:{r}:{a}:db:{id}",
    "aws:rds/globalCluster:GlobalCluster": "arn:{p}:rds::{a}:global-cluster:{id}",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "arn:{p}:rds:{r}:{a}:cluster-pg:{name}",
    "aws:secretsmanager/secret:Secret": "arn:{p}:secretsmanager:{r}:{a}:secret:{name}-{id}",
    "aws:s3/bucket:Bucket": "arn:{p}:s3:::{id}",
    "aws:cloudfront/distribution:Distribution": "arn:{p}:cloudfront::{a}:distribution/{id}",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "arn:{p}:cloudfront::{a}:origin-access-control/{id}",
    "aws:acm/certificate:Certificate": "arn:{p}:acm:{r}:{a}:certificate/{id}",
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": "arn:{p}:logs:{r}:{a}:delivery-source:{name}",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": "arn:{p}:logs:{r}:{a}:delivery-destination:{name}",
    "aws:cloudwatch/logDelivery:LogDelivery": "arn:{p}:logs:{r}:{a}:delivery:{id}",
    # ElastiCache ARNs: "arn:aws:elasticache:<region>:<account>:<type>:<id>" (ElastiCache user guide,
    # "Using condition keys"; create-user-group output in the AWS CLI reference).
    "aws:elasticache/replicationGroup:ReplicationGroup": "arn:{p}:elasticache:{r}:{a}:replicationgroup:{id}",
    "aws:elasticache/user:User": "arn:{p}:elasticache:{r}:{a}:user:{id}",
    "aws:elasticache/userGroup:UserGroup": "arn:{p}:elasticache:{r}:{a}:usergroup:{id}",
    "aws:elasticache/subnetGroup:SubnetGroup": "arn:{p}:elasticache:{r}:{a}:subnetgroup:{name}",
    "aws:elasticache/parameterGroup:ParameterGroup": "arn:{p}:elasticache:{r}:{a}:parametergroup:{name}",
}

# Lambda functions in the offline accounts, per stack: `lambda:` names existing functions app teams own
# (the platform never creates them). function -> (its aliases, the reserved concurrency its owner set;
# None: none). GetFunction answers an unlisted function as one with no reservation, and fails on an alias
# a listed function does not have, as Lambda does.
LAMBDA_FUNCTIONS: dict[str, dict[str, tuple[tuple[str, ...], Optional[int]]]] = {
    "dev": {"checkout-api": (("live",), 100)},
    "prod": {"checkout-api": (("live",), 400)},
    "org": {"checkout-api": (("live",), 400)},  # prod's design over three accounts
}

# RDS ids are the identifiers the program chooses (DBClusterIdentifier, DBInstanceIdentifier,
# GlobalClusterIdentifier): the input holding each.
ID_INPUT = {
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "identifier",
    "aws:rds/globalCluster:GlobalCluster": "globalClusterIdentifier",
    # ElastiCache: the ids the program chooses (stored lowercase, as the program writes them).
    "aws:elasticache/replicationGroup:ReplicationGroup": "replicationGroupId",
    "aws:elasticache/user:User": "userId",
    "aws:elasticache/userGroup:UserGroup": "userGroupId",
}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def az_names(region: str) -> list[str]:
    return [region + letter for letter in AZ_LETTERS.get(region, "abc")]


class AwsLikeMocks(Mocks):
    """Answers registrations and invokes. ``region_of_provider`` maps a provider's URN to its
    region; the recorder fills it as providers register."""

    def __init__(self, project: str, stack: str):
        self.project, self.stack = project, stack
        self.region_of_provider: dict[str, str] = {}
        # A provider's URN -> the account of the role it assumes (`assumeRoles[0].roleArn`); the
        # recorder fills it. Providers without one answer ACCOUNT_ID, as before.
        self.account_of_provider: dict[str, str] = {}
        self.inputs_by_id: dict[str, dict] = {}  # lets answers depend on what they reference
        # Remote components (pulumi_eks) carry a providers map instead of a provider; the
        # recorder sets it per registration (same thread) so the mock knows their region.
        self.current = threading.local()
        self.default_region = "us-east-1"

    # -- helpers -----------------------------------------------------------------------
    def _region(self, provider_ref: Optional[str], inputs: dict) -> str:
        if isinstance(inputs.get("region"), str):
            return inputs["region"]
        if not provider_ref:
            provider_ref = (getattr(self.current, "providers", None) or {}).get("aws")
        if provider_ref:  # "<provider urn>::<id>"
            return self.region_of_provider.get(provider_ref.rsplit("::", 1)[0], self.default_region)
        return self.default_region

    def _account(self, provider_ref: Optional[str]) -> str:
        if not provider_ref:
            provider_ref = (getattr(self.current, "providers", None) or {}).get("aws")
        if provider_ref:
            return self.account_of_provider.get(provider_ref.rsplit("::", 1)[0], ACCOUNT_ID)
        return ACCOUNT_ID

    def new_resource(self, args: MockResourceArgs) -> tuple[Optional[str], dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        seed = _digest(self.stack, typ, name)
        if typ.startswith("pulumi:providers:"):
            return UNKNOWN, inputs
        region = self._region(args.provider, inputs)
        outputs = dict(inputs)
        phys_name = inputs.get("name") or f"{name}-{seed[:7]}"
        if typ in NAME_IS_ID:
            rid = phys_name
            outputs["name"] = phys_name
        elif typ in ID_INPUT and inputs.get(ID_INPUT[typ]):
            rid = inputs[ID_INPUT[typ]]
        elif typ == "aws:secretsmanager/secret:Secret":
            rid = seed[:6]  # the ARN's random suffix for now; a secret's id is its ARN (below)
        elif typ in ("aws:kms/key:Key", "aws:directconnect/gateway:Gateway", "aws:wafv2/webAcl:WebAcl",
                     "aws:acm/certificate:Certificate", "aws:ram/resourceShare:ResourceShare"):
            rid = str(uuid.UUID(seed[:32]))
        elif typ == "aws:s3/bucket:Bucket" and inputs.get("bucket"):
            rid = inputs["bucket"]  # a bucket's id is its name
        elif typ == "aws:cloudfront/distribution:Distribution":
            rid = "E" + seed[:13].upper()
        elif typ in ("aws:amp/workspace:Workspace", "aws:amp/scraper:Scraper"):
            rid = ID_PREFIX[typ] + str(uuid.UUID(seed[:32]))  # ws-<uuid>, s-<uuid> (botocore amp examples)
        elif typ == "aws:grafana/workspace:Workspace":
            rid = "g-" + seed[:10]  # botocore grafana WorkspaceId pattern g-[0-9a-f]{10}
        elif typ == "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter":
            rid = inputs["transitGatewayAttachmentId"]  # the accepter *is* the peering attachment
        elif typ == "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter":
            rid = inputs["transitGatewayAttachmentId"]  # likewise: the accepter is the VPC attachment
        elif typ.startswith("aws:"):
            prefix = ID_PREFIX.get(typ, "")
            rid = prefix + seed[:17]
        elif typ.startswith("kubernetes:"):
            meta = inputs.get("metadata") or {}
            rid = f"{meta.get('namespace') or inputs.get('namespace') or 'default'}/{meta.get('name') or inputs.get('name') or name}"
        else:
            rid = f"{name}-{seed[:8]}"
        if args.resource_id and args.custom:
            rid = args.resource_id  # `import`: the engine reads the existing resource by this id
        fill = dict(p=partition_of(region), r=region, a=self._account(args.provider), id=rid, name=phys_name,
                    scope="global" if inputs.get("scope") == "CLOUDFRONT" else "regional")
        if typ in ARN:
            outputs["arn"] = ARN[typ].format(**fill)
        if typ in ("aws:secretsmanager/secret:Secret", "aws:ram/resourceShare:ResourceShare"):
            rid = outputs["arn"]
        computed = self._computed(typ, region, rid, seed, inputs)
        account = self._account(args.provider)
        if account != ACCOUNT_ID:  # an assumed role's account owns what it creates (owner ids, ARNs)
            computed = json.loads(json.dumps(computed).replace(ACCOUNT_ID, account))
        outputs.update(computed)
        if typ.startswith("aws:") and "tags" in inputs:
            outputs["tagsAll"] = dict(inputs["tags"] or {})
        self.inputs_by_id[rid] = inputs
        return rid, outputs

    def _computed(self, typ: str, region: str, rid: str, seed: str, inputs: dict) -> dict[str, Any]:
        ip = f"3.{int(seed[0:2], 16)}.{int(seed[2:4], 16)}.{int(seed[4:6], 16) or 1}"
        if typ == "aws:ec2/vpc:Vpc":
            return {"ownerId": ACCOUNT_ID, "mainRouteTableId": "rtb-" + seed[17:34],
                    "defaultSecurityGroupId": "sg-" + seed[17:34], "defaultNetworkAclId": "acl-" + seed[17:34]}
        if typ == "aws:ec2/subnet:Subnet":
            az = inputs.get("availabilityZone") or az_names(region)[0]
            letter_index = "abcdef".index(az[-1]) + 1 if az[-1] in "abcdef" else 1
            return {"availabilityZoneId": f"{region_short_code(region)}-az{letter_index}", "ownerId": ACCOUNT_ID}
        if typ == "aws:ec2/eip:Eip":
            return {"publicIp": ip, "allocationId": rid, "domain": "vpc"}
        if typ == "aws:sns/topicPolicy:TopicPolicy":
            return {"owner": ACCOUNT_ID}  # the provider reads the topic's Owner attribute back
        if typ == "aws:ec2/natGateway:NatGateway":
            return {"publicIp": ip, "networkInterfaceId": "eni-" + seed[17:34]}
        if typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            svc = str(inputs.get("serviceName", ""))
            return {"state": "available", "prefixListId": "pl-" + seed[17:25],
                    "dnsEntries": [{"dnsName": f"{rid}.{svc.split('.', 3)[-1]}.{region}.vpce.{dns_suffix_of(region)}",
                                    "hostedZoneId": "Z" + seed[20:33].upper()}]}
        if typ == "aws:ec2transitgateway/transitGateway:TransitGateway":
            return {"associationDefaultRouteTableId": "tgw-rtb-" + seed[17:34],
                    "propagationDefaultRouteTableId": "tgw-rtb-" + seed[17:34], "ownerId": ACCOUNT_ID}
        if typ == "aws:ec2/vpnConnection:VpnConnection":
            return {"transitGatewayAttachmentId": "tgw-attach-" + seed[17:34],
                    "tunnel1Address": ip, "tunnel2Address": f"3.{int(seed[6:8], 16)}.{int(seed[8:10], 16)}.9",
                    "tunnel1PresharedKey": "[secret]", "tunnel2PresharedKey": "[secret]"}
        if typ == "aws:directconnect/gatewayAssociation:GatewayAssociation":
            return {"transitGatewayAttachmentId": "tgw-attach-" + seed[17:34],
                    "dxGatewayAssociationId": str(uuid.UUID(seed[32:64]))}
        if typ == "aws:route53/resolverEndpoint:ResolverEndpoint":
            addrs = []
            for i, entry in enumerate(inputs.get("ipAddresses") or []):
                subnet = self.inputs_by_id.get(entry.get("subnetId", ""), {})
                cidr = ipaddress.IPv4Network(subnet.get("cidrBlock", "10.255.0.0/24"))
                # AWS picks a free address in the subnet; the first ones after its 4 reserved do.
                addrs.append({**entry, "ip": entry.get("ip") or str(cidr.network_address + 10 + i),
                              "ipId": "rni-" + seed[i:i + 17]})
            return {"ipAddresses": addrs, "hostVpcId": "vpc-" + seed[17:34]}
        if typ == "eks:index:Cluster":
            return self._eks_cluster(region, seed, inputs)
        if typ == "aws:eks/nodeGroup:NodeGroup":
            return {"arn": f"arn:{partition_of(region)}:eks:{region}:{ACCOUNT_ID}:nodegroup/"
                           f"{inputs.get('clusterName')}/{inputs.get('nodeGroupName')}/{uuid.UUID(seed[:32])}",
                    "status": "ACTIVE",
                    "resources": [{"autoscalingGroups": [{"name": f"eks-{inputs.get('nodeGroupName')}-{uuid.UUID(seed[:32])}"}],
                                   "remoteAccessSecurityGroupId": ""}]}
        if typ == "aws:sqs/queue:Queue":
            return {"url": QUEUE_URL.format(r=region, a=ACCOUNT_ID, name=rid)}
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1, "defaultVersion": 1}
        if typ == "aws:iam/role:Role":
            return {"uniqueId": "AROA" + seed[:17].upper()}
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            # IAM names a provider by its URL without the scheme: arn:aws:iam::<account>:oidc-provider/<host>
            # (IAM user guide, "Create an OpenID Connect (OIDC) identity provider in IAM").
            host = str(inputs.get("url", "")).removeprefix("https://")
            return {"arn": f"arn:{partition_of(region)}:iam::{ACCOUNT_ID}:oidc-provider/{host}"}
        if typ == "aws:kms/key:Key":
            return {"keyId": rid}
        if typ == "aws:rds/cluster:Cluster":
            host = f"{rid}.cluster-{seed[:12]}.{region}.rds.{dns_suffix_of(region)}"
            return {"endpoint": host, "readerEndpoint": host.replace(".cluster-", ".cluster-ro-", 1),
                    "clusterResourceId": "cluster-" + seed[:26].upper(), "port": inputs.get("port") or 3306}
        if typ == "aws:rds/clusterInstance:ClusterInstance":
            return {"endpoint": f"{rid}.{seed[:12]}.{region}.rds.{dns_suffix_of(region)}",
                    "dbiResourceId": "db-" + seed[:26].upper()}
        if typ == "aws:secretsmanager/secretVersion:SecretVersion":
            return {"versionId": str(uuid.UUID(seed[:32])), "arn": inputs.get("secretId")}
        if typ == "aws:directconnect/gateway:Gateway":
            return {"ownerAccountId": ACCOUNT_ID}
        if typ == "aws:s3/bucket:Bucket":
            return {"bucketRegionalDomainName": f"{rid}.s3.{region}.{dns_suffix_of(region)}",
                    "bucketDomainName": f"{rid}.s3.{dns_suffix_of(region)}"}
        if typ == "aws:cloudfront/distribution:Distribution":
            # Z2FDTNDATAQYW2: every CloudFront alias target's zone (Route 53 AliasTarget.HostedZoneId).
            return {"domainName": f"d{seed[13:26]}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2",
                    "status": "Deployed"}
        if typ == "aws:acm/certificate:Certificate":
            names = [inputs.get("domainName"), *(inputs.get("subjectAlternativeNames") or [])]
            return {"status": "PENDING_VALIDATION", "domainValidationOptions": [
                {"domainName": n, "resourceRecordName": f"_{_digest(seed, n)[:32]}.{n}.",
                 "resourceRecordType": "CNAME", "resourceRecordValue": f"_{_digest(n, seed)[:32]}.acm-validations.aws."}
                for n in names if n]}
        if typ == "aws:elasticache/replicationGroup:ReplicationGroup":
            return self._replication_group(region, rid, seed, inputs)
        if typ == "aws:route53/record:Record":
            return {"fqdn": str(inputs.get("name", "")).rstrip(".")}
        if typ == "aws:amp/workspace:Workspace":
            # CreateWorkspace's output (botocore amp): workspaceId ws-<uuid>, arn ...:workspace/<id>; the
            # query/remote-write base is https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/.
            wid = rid
            return {"arn": f"arn:{partition_of(region)}:aps:{region}:{ACCOUNT_ID}:workspace/{wid}",
                    "prometheusEndpoint": f"https://aps-workspaces.{region}.{dns_suffix_of(region)}/workspaces/{wid}/"}
        if typ == "aws:amp/scraper:Scraper":
            # CreateScraper's output; the role is the service-linked role AMP creates (AMP user guide,
            # ListScrapers example: ...:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleFor...).
            return {"arn": f"arn:{partition_of(region)}:aps:{region}:{ACCOUNT_ID}:scraper/{rid}",
                    "roleArn": f"arn:{partition_of(region)}:iam::{ACCOUNT_ID}:role/aws-service-role/"
                               f"scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_{seed[:15]}"}
        if typ == "aws:amp/ruleGroupNamespace:RuleGroupNamespace":
            ws = inputs.get("workspaceId")
            return {"arn": f"arn:{partition_of(region)}:aps:{region}:{ACCOUNT_ID}:rulegroupsnamespace/{ws}/"
                           f"{inputs.get('name')}"}
        if typ == "aws:grafana/workspace:Workspace":
            # Workspace ids are g-<10 hex>; the endpoint <id>.grafana-workspace.<region>.amazonaws.com.
            return {"arn": f"arn:{partition_of(region)}:grafana:{region}:{ACCOUNT_ID}:/workspaces/{rid}",
                    "endpoint": f"{rid}.grafana-workspace.{region}.{dns_suffix_of(region)}"}
        if typ == "aws:appautoscaling/target:Target":
            # ScalableTargetARN as botocore's application-autoscaling docs show it (RegisterScalableTarget).
            return {"arn": f"arn:{partition_of(region)}:application-autoscaling:{region}:{ACCOUNT_ID}:"
                           f"scalable-target/{seed[:36]}"}
        if typ == "aws:appautoscaling/policy:Policy":
            # PolicyARN and the two alarms target tracking creates (botocore application-autoscaling
            # examples-1.json: ...:scalingPolicy:<uuid>:resource/ecs/service/default/web-app:policyName/<name>,
            # alarm TargetTracking-service/default/web-app-AlarmHigh-<uuid>).
            target = f"{inputs.get('serviceNamespace')}/{inputs.get('resourceId')}"
            alarm = f"arn:{partition_of(region)}:cloudwatch:{region}:{ACCOUNT_ID}:alarm:TargetTracking-" \
                    f"{inputs.get('resourceId')}"
            return {"arn": f"arn:{partition_of(region)}:autoscaling:{region}:{ACCOUNT_ID}:scalingPolicy:"
                           f"{uuid.UUID(seed[:32])}:resource/{target}:policyName/{inputs.get('name')}",
                    "alarmArns": [f"{alarm}-AlarmHigh-{uuid.UUID(seed[32:64])}",
                                  f"{alarm}-AlarmLow-{uuid.UUID(_digest(seed)[:32])}"]}
        return {}

    @staticmethod
    def _replication_group(region: str, rid: str, seed: str, inputs: dict) -> dict[str, Any]:
        """Node clusters named as ElastiCache names them (botocore elasticache examples-1.json:
        my-redis-rg-001..003; clustered-redis-0001-001) and the endpoints of each mode."""
        host = f"{rid}.{seed[:6]}.{region_short_code(region)}.cache.{dns_suffix_of(region)}"
        if inputs.get("numNodeGroups"):
            shards, nodes = int(inputs["numNodeGroups"]), int(inputs.get("replicasPerNodeGroup") or 0) + 1
            members = [f"{rid}-{s:04d}-{n:03d}" for s in range(1, shards + 1) for n in range(1, nodes + 1)]
            return {"memberClusters": members, "clusterEnabled": True, "configurationEndpointAddress": f"clustercfg.{host}"}
        members = [f"{rid}-{n:03d}" for n in range(1, int(inputs.get("numCacheClusters") or 1) + 1)]
        return {"memberClusters": members, "clusterEnabled": False, "primaryEndpointAddress": f"master.{host}",
                "readerEndpointAddress": f"replica.{host}"}

    def _lambda_function(self, region: str, args: dict, account: str = ACCOUNT_ID) -> dict[str, Any]:
        """GetFunction through a qualifier, as the function data source reports it (terraform-provider-aws
        v6.58.0 dataSourceFunctionRead): unqualified `arn`, `qualifiedArn` ending in the alias, and a
        reservation read with GetFunctionConcurrency, 0 when there is none."""
        name, qualifier = args.get("functionName"), args.get("qualifier")
        aliases, reserved = LAMBDA_FUNCTIONS.get(self.stack, {}).get(name, (None, None))
        arn = f"arn:{partition_of(region)}:lambda:{region}:{account}:function:{name}"
        if qualifier and aliases is not None and qualifier not in aliases and not str(qualifier).isdigit():
            raise Exception(f"reading Lambda Function ({name}): operation error Lambda: GetFunction, "
                            f"ResourceNotFoundException: Function not found: {arn}:{qualifier}")
        qualified = f"{arn}:{qualifier}" if qualifier else f"{arn}:$LATEST"
        seed = _digest(self.stack, region, str(name))
        invoke = f"arn:{partition_of(region)}:apigateway:{region}:lambda:path/2015-03-31/functions"
        return {"id": name, "functionName": name, "qualifier": qualifier, "arn": arn, "qualifiedArn": qualified,
                "invokeArn": f"{invoke}/{arn}/invocations", "qualifiedInvokeArn": f"{invoke}/{qualified}/invocations",
                "version": str(1 + int(seed[:2], 16) % 40), "region": region,
                "reservedConcurrentExecutions": (reserved if reserved is not None else 0) if qualifier
                else (reserved if reserved is not None else -1),
                "runtime": "python3.13", "handler": "app.handler", "memorySize": 1024, "timeout": 30,
                "architectures": ["arm64"], "role": f"arn:{partition_of(region)}:iam::{account}:role/{name}",
                "codeSha256": base64.b64encode(bytes.fromhex(seed)).decode(), "tags": {}}

    def _eks_cluster(self, region: str, seed: str, inputs: dict) -> dict[str, Any]:
        """What pulumi_eks's Cluster component returns: kubeconfig, OIDC, security groups."""
        name = inputs.get("name") or f"cluster-{seed[:7]}"
        oidc_id = seed[:32].upper()
        endpoint = f"https://{seed[32:64].upper()}.gr7.{region}.eks.{dns_suffix_of(region)}"
        ca = base64.b64encode(f"offline-preview CA for {name}".encode()).decode()
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "current-context": "aws",
            "clusters": [{"name": "kubernetes", "cluster": {"server": endpoint, "certificate-authority-data": ca}}],
            "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
            "users": [{"name": "aws", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", name, "--region", region]}}}],
        }
        issuer = f"oidc.eks.{region}.{dns_suffix_of(region)}/id/{oidc_id}"
        return {
            "kubeconfig": kubeconfig, "kubeconfigJson": json.dumps(kubeconfig),
            "clusterSecurityGroupId": "sg-" + seed[34:51], "nodeSecurityGroupId": "sg-" + seed[40:57],
            "oidcProviderArn": f"arn:{partition_of(region)}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
            "oidcProviderUrl": issuer, "oidcIssuer": f"https://{issuer}",
        }

    def call(self, args: MockCallArgs) -> dict:
        region = self._region(args.provider, args.args)
        tok = args.token
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = az_names(region)
            return {
                "id": region, "names": names, "state": "available",
                "zoneIds": [f"{region_short_code(region)}-az{'abcdef'.index(n[-1]) + 1}" for n in names],
                "groupNames": [region] * len(names),
            }
        if tok == "aws:index/getCallerIdentity:getCallerIdentity":
            # The account behind the provider: an assumed role's own account (AWS answers
            # GetCallerIdentity with the assumed-role session's account).
            account = self._account(args.provider)
            arn = f"arn:{partition_of(region)}:iam::{account}:user/offline-preview"
            if account != ACCOUNT_ID:  # an assumed-role session (STS GetCallerIdentity's Arn for one)
                arn = f"arn:{partition_of(region)}:sts::{account}:assumed-role/offline-preview/offline-preview"
            return {"accountId": account, "id": account, "userId": "AIDAOFFLINEPREVIEW", "arn": arn}
        if tok == "aws:index/getPartition:getPartition":
            return {"id": partition_of(region), "partition": partition_of(region),
                    "dnsSuffix": dns_suffix_of(region), "reverseDnsPrefix": "com.amazonaws"}
        if tok == "aws:index/getRegion:getRegion":
            return {"id": region, "name": region, "region": region,
                    "endpoint": f"ec2.{region}.{dns_suffix_of(region)}", "description": region}
        if tok == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            # A stand-in value: offline there is no secret to read (the program reads one back
            # only for an Aurora global primary's master credentials).
            sid = args.args.get("secretId")
            return {"id": sid, "arn": sid, "secretId": sid, "versionId": args.args.get("versionId"),
                    "secretString": json.dumps({"username": "admin", "password": "offline-preview-secret"}),
                    "secretBinary": "", "versionStages": ["AWSCURRENT"]}
        if tok == "aws:lambda/getFunction:getFunction":
            return self._lambda_function(region, args.args, self._account(args.provider))
        # An invoke nobody taught the mocks is a bug in this file, not something to paper over.
        raise NotImplementedError(f"the offline mocks have no answer for invoke {tok}; add one in tools/mocks.py")
