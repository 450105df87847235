"""Input properties whose change makes the AWS provider replace the resource.

A real `pulumi preview` asks the provider; offline we only have this table, taken from
the Terraform AWS provider schema (ForceNew attributes) for the types this program
creates. A type missing here diffs as `update`, so the table errs towards under-reporting
replaces: extend it when a new resource type is added.
"""

from __future__ import annotations

_REPLACE_ON = {
    "aws:ec2/vpc:Vpc": {"cidrBlock", "instanceTenancy"},
    "aws:ec2/subnet:Subnet": {"cidrBlock", "availabilityZone", "availabilityZoneId", "vpcId"},
    "aws:ec2/routeTable:RouteTable": {"vpcId"},
    "aws:ec2/routeTableAssociation:RouteTableAssociation": {"subnetId", "gatewayId"},
    "aws:ec2/route:Route": {"routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"},
    "aws:ec2/internetGateway:InternetGateway": set(),
    "aws:ec2/natGateway:NatGateway": {"allocationId", "subnetId", "connectivityType", "privateIp"},
    "aws:ec2/eip:Eip": {"domain", "publicIpv4Pool", "networkBorderGroup"},
    "aws:ec2/securityGroup:SecurityGroup": {"name", "namePrefix", "description", "vpcId"},
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {"vpcId"},
    "aws:ec2/vpcEndpoint:VpcEndpoint": {"vpcId", "serviceName", "vpcEndpointType"},
    "aws:ec2/flowLog:FlowLog": {"vpcId", "subnetId", "eniId", "trafficType", "logDestination", "logDestinationType",
                                "iamRoleArn", "maxAggregationInterval", "logFormat", "destinationOptions"},
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"securityGroupId"},
    "aws:cloudwatch/logGroup:LogGroup": {"name", "namePrefix", "logGroupClass"},
    "aws:iam/role:Role": {"name", "namePrefix", "path"},
    "aws:iam/rolePolicy:RolePolicy": {"name", "namePrefix", "role"},
    "aws:kms/key:Key": {"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"},
    "aws:kms/alias:Alias": {"name", "namePrefix"},
    "aws:rds/subnetGroup:SubnetGroup": {"name", "namePrefix"},
    "aws:eks/nodeGroup:NodeGroup": {"clusterName", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn",
                                    "subnetIds", "instanceTypes", "capacityType", "amiType", "diskSize",
                                    "remoteAccess"},
    "aws:eks/addon:Addon": {"clusterName", "addonName"},
    "aws:eks/accessEntry:AccessEntry": {"clusterName", "principalArn", "type"},
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": {"clusterName", "principalArn", "policyArn"},
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": {"clusterName", "namespace", "serviceAccount"},
    "aws:ec2/launchTemplate:LaunchTemplate": {"name", "namePrefix"},
    "aws:ec2transitgateway/transitGateway:TransitGateway": {"amazonSideAsn", "multicastSupport"},
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": {"vpcId", "transitGatewayId"},
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": {"peerRegion", "peerTransitGatewayId",
                                                                  "transitGatewayId", "peerAccountId"},
    "aws:ec2transitgateway/route:Route": {"destinationCidrBlock", "transitGatewayRouteTableId"},
    "aws:ec2/customerGateway:CustomerGateway": {"bgpAsn", "ipAddress", "type", "deviceName"},
    "aws:ec2/vpnConnection:VpnConnection": {"customerGatewayId", "transitGatewayId", "type", "staticRoutesOnly"},
    "aws:route53/resolverEndpoint:ResolverEndpoint": {"direction", "securityGroupIds"},
    "aws:route53/resolverRule:ResolverRule": {"domainName", "ruleType"},
    "aws:ssm/parameter:Parameter": {"name"},
    "pulumi:providers:aws": {"region"},
}


def replace_keys(resource_type: str) -> set[str]:
    return _REPLACE_ON.get(resource_type, set())
