"""The AWS inputs of a plan against botocore's API models: every ``aws:<module>/<name>:<Name>``
resource is mapped to the API call that creates it (``aws:ec2/vpc:Vpc`` -> ec2 ``CreateVpc``),
its input keys to that call's members, and each value checked against the member's shape:
enum membership, number min/max, string length and pattern, list and map sizes.

The models are the ones the installed botocore ships (read at run time, nothing copied); a
finding names the service, operation, member path, constraint and botocore version.

How a type finds its operation (``operation_for``): the module gives the botocore service
(``_MODULES`` lists the few whose service has another name or that hold several services, and
the prefix their operation names carry), then the first operation that exists among
``Create<Name>``, ``Put<Name>``, ``Create<Name>s`` and, for names ending in Association,
Attachment, Accepter or Propagation, ``Associate…``/``Attach…``/``Accept…``/``Enable…Propagation``
(case-insensitive: ``CreateWebACL``, ``CreateNodegroup``). ``_OPERATIONS`` holds the few that no
rule finds, each with its reason.

How a key finds its member (``_member_for``), case-insensitively: the same name; the name plus
``s``/``Name``/``Document`` (Terraform's singular blocks, ``role`` -> ``RoleName``,
``assumeRolePolicy`` -> ``AssumeRolePolicyDocument``) or minus ``Arn``; the one member ending in
the name (``description`` -> ``DBSubnetGroupDescription``); for a top-level ``name``, the
``<X>Name`` member whose X fits the type (``MetricAlarm`` -> ``AlarmName``, not ``MetricName``);
for a top-level key, the one match inside a nested structure (pulumi-aws flattens
``LaunchTemplateData``, the transit gateway's ``Options``, an event target's ``Targets[]``).
``_RENAMES`` holds what is renamed beyond that, ``_SECOND_CALLS`` the keys the provider sends
with a later call (``retentionInDays`` -> ``PutRetentionPolicy``), ``_PREFIXES`` the VPN's
flattened ``tunnel1…``/``tunnel2…`` options. Values are reshaped the way the provider does:
a one-item list for a structure (a Terraform block), a ``tags``/``dimensions`` map for a
``[{Key, Value}]`` list (``TagSpecifications[].Tags`` on EC2), a list of ``{name, ...}`` or
``{key, value}`` items for a map (FIS actions, targets and parameters), a scalar for a
one-member structure (``[{Value: 19}]``).

A member path in a message reads ``Operation.Member[].Member``; ``<key>`` is a map's key and
``{}`` its value (``fis CreateExperimentTemplate.actions{}.parameters<key>``). A finding's
``path`` is where the value sits in the resource's inputs (``rules[0].statement…limit``).

Not findings, but counted (``coverage``): keys without a member (pulumi-aws adds its own such as
``updateDefaultVersion``, or sends them inside an attribute map as SQS and SNS do), values that are unknown in a
preview or secret, values whose type does not fit the shape, and patterns Python cannot run.

Patterns: AWS validates a value against the whole pattern (Java ``String.matches``: the
familiar "Member must satisfy regular expression pattern: [\\w+=,.@-]+"), so this uses
``re.fullmatch`` with Java's ASCII-only ``\\w``/``\\d``/``\\s``. Java's UTF-16 surrogate pairs
become code points; ``\\p{L}``, ``\\p{N}`` and ``\\p{Z}`` (which ``re`` lacks) become ``\\w``
and ``\\s`` in Unicode mode, a superset: such a pattern can only let more through, never flag a
value AWS accepts. A pattern that still does not compile is skipped and counted.

    python -m tools.upstream.aws_models --preview-json PATH [--coverage] [--keys]
"""

from __future__ import annotations

import functools
import re
import warnings
from collections import Counter, defaultdict
from typing import Any, Iterator, Optional

from tools.upstream import Finding, resources

NAME = "aws-models"
DESCRIPTION = ("AWS resource inputs against botocore's API models: enums, number ranges, "
               "string and list lengths, patterns")

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # what a preview shows for a value not known yet
SECRET = "[secret]"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's signature key of a secret/reference object

# pulumi-aws module -> (botocore services, tried in order; operation-name prefixes, tried first)
_MODULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cloudwatch": (("cloudwatch", "logs", "events"), ()),  # holds CloudWatch Logs and EventBridge types too
    "ec2transitgateway": (("ec2",), ("TransitGateway",)),  # CreateTransitGatewayRouteTable, ...
    "vpc": (("ec2",), ()),                                 # the newer VPC security group rule types
    "route53": (("route53", "route53resolver"), ()),       # Resolver endpoints and rules
    "directconnect": (("directconnect",), ("DirectConnect",)),  # CreateDirectConnectGateway
    "rds": (("rds",), ("DB",)),                            # CreateDBSubnetGroup
    "elasticache": (("elasticache",), ("Cache",)),         # CreateCacheSubnetGroup, CreateCacheParameterGroup
}

# Types no naming rule finds: type -> (service, operation), each with why.
_OPERATIONS: dict[str, tuple[str, str]] = {
    # An EventBridge rule and its targets are put, not created.
    "aws:cloudwatch/eventRule:EventRule": ("events", "PutRule"),
    "aws:cloudwatch/eventTarget:EventTarget": ("events", "PutTargets"),
    # An Elastic IP is allocated.
    "aws:ec2/eip:Eip": ("ec2", "AllocateAddress"),
    # The default group exists already: the provider adopts it and revokes its rules; its
    # description, VPC and tags follow CreateSecurityGroup's shapes.
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("ec2", "CreateSecurityGroup"),
    # A scheduled action of an Auto Scaling group.
    "aws:autoscaling/schedule:Schedule": ("autoscaling", "PutScheduledUpdateGroupAction"),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": ("wafv2", "PutLoggingConfiguration"),
    "aws:sns/topicSubscription:TopicSubscription": ("sns", "Subscribe"),
    # A topic policy is the topic's Policy attribute.
    "aws:sns/topicPolicy:TopicPolicy": ("sns", "SetTopicAttributes"),
    # A queue policy is the queue's Policy attribute.
    "aws:sqs/queuePolicy:QueuePolicy": ("sqs", "SetQueueAttributes"),
    # One rule of a security group is one Authorize call with one IpPermission.
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("ec2", "AuthorizeSecurityGroupIngress"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("ec2", "AuthorizeSecurityGroupEgress"),
    # An Aurora cluster's instance is a DB instance joined to the cluster.
    "aws:rds/clusterInstance:ClusterInstance": ("rds", "CreateDBInstance"),
    # A secret's value is put, after the secret is created.
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretsmanager", "PutSecretValue"),
    # ACM issues public certificates on request; the validation resource only waits, describing
    # the certificate until it is ISSUED.
    "aws:acm/certificate:Certificate": ("acm", "RequestCertificate"),
    "aws:acm/certificateValidation:CertificateValidation": ("acm", "DescribeCertificate"),
    # CloudWatch Logs vended delivery: sources and destinations are put, deliveries created.
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": ("logs", "PutDeliverySource"),
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": ("logs", "PutDeliveryDestination"),
    "aws:cloudwatch/logDelivery:LogDelivery": ("logs", "CreateDelivery"),
    # A record is one UPSERT change of a change batch.
    "aws:route53/record:Record": ("route53", "ChangeResourceRecordSets"),
    # S3's bucket settings are each a Put on the bucket.
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3", "PutPublicAccessBlock"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        ("s3", "PutBucketEncryption"),
    # Application Auto Scaling registers a target and puts policies (the module is not the service's name).
    "aws:appautoscaling/target:Target": ("application-autoscaling", "RegisterScalableTarget"),
    "aws:appautoscaling/policy:Policy": ("application-autoscaling", "PutScalingPolicy"),
    "aws:appautoscaling/scheduledAction:ScheduledAction": ("application-autoscaling", "PutScheduledAction"),
    # AMP names it a rule *groups* namespace; a Grafana role association is a permissions update.
    "aws:amp/ruleGroupNamespace:RuleGroupNamespace": ("amp", "CreateRuleGroupsNamespace"),
    "aws:grafana/roleAssociation:RoleAssociation": ("grafana", "UpdatePermissions"),
    # RAM: a resource or a principal joins a share through AssociateResourceShare (one ARN or
    # account id in its resourceArns/principals lists); an accepter accepts the share's invitation.
    "aws:ram/resourceAssociation:ResourceAssociation": ("ram", "AssociateResourceShare"),
    "aws:ram/principalAssociation:PrincipalAssociation": ("ram", "AssociateResourceShare"),
    "aws:ram/resourceShareAccepter:ResourceShareAccepter": ("ram", "AcceptResourceShareInvitation"),
}

# Keys that pulumi-aws renames beyond the rules above: type -> {pulumi key path -> member path}.
# A key path is dotted from the resource's inputs, "[]" for a list item; the member path is
# dotted from the structure that holds the key, through lists.
_SG_RULE = {
    "securityGroupId": "GroupId",
    "cidrIpv4": "IpPermissions.IpRanges.CidrIp",
    "cidrIpv6": "IpPermissions.Ipv6Ranges.CidrIpv6",
    "prefixListId": "IpPermissions.PrefixListIds.PrefixListId",
    "referencedSecurityGroupId": "IpPermissions.UserIdGroupPairs.GroupId",
    "description": "IpPermissions.IpRanges.Description",  # EC2 gives each range kind the same shape
    # the request's top-level FromPort/ToPort/IpProtocol are EC2-Classic leftovers: the
    # provider sends one IpPermission
    "fromPort": "IpPermissions.FromPort",
    "toPort": "IpPermissions.ToPort",
    "ipProtocol": "IpPermissions.IpProtocol",
}
_RECORD_SET = "ChangeBatch.Changes.ResourceRecordSet"
_PUBLIC_BLOCK = {k: f"PublicAccessBlockConfiguration.{k[0].upper()}{k[1:]}"
                 for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}
_RENAMES: dict[str, dict[str, str]] = {
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _SG_RULE,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _SG_RULE,
    "aws:ec2/flowLog:FlowLog": {
        "iamRoleArn": "DeliverLogsPermissionArn",
        # the one resource a flow log watches is the call's ResourceIds
        "vpcId": "ResourceIds", "subnetId": "ResourceIds", "eniId": "ResourceIds",
        "transitGatewayId": "ResourceIds", "transitGatewayAttachmentId": "ResourceIds",
    },
    "aws:directconnect/gatewayAssociation:GatewayAssociation": {
        "dxGatewayId": "directConnectGatewayId",
        "associatedGatewayId": "gatewayId",
        "allowedPrefixes": "addAllowedPrefixesToDirectConnectGateway",
    },
    # the provider sends the one it needs as resolveConflicts (same enum for both)
    "aws:eks/addon:Addon": {"resolveConflictsOnCreate": "resolveConflicts",
                            "resolveConflictsOnUpdate": "resolveConflicts"},
    "aws:eks/nodeGroup:NodeGroup": {"subnetIds": "subnets"},
    "aws:cloudwatch/eventTarget:EventTarget": {"targetId": "Targets.Id"},
    "aws:sns/topicPolicy:TopicPolicy": {"arn": "TopicArn"},  # the policy travels as AttributeValue
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        "metricQueries": "Metrics",
        "metricQueries[].metric": "MetricStat",
        "metricQueries[].metric.metricName": "Metric.MetricName",
        "metricQueries[].metric.namespace": "Metric.Namespace",
        "metricQueries[].metric.dimensions": "Metric.Dimensions",
    },
    # CloudFront lists travel as {Quantity, Items}.
    "aws:cloudfront/distribution:Distribution": {
        "aliases": "DistributionConfig.Aliases.Items", "origins": "DistributionConfig.Origins.Items",
        "origins[].originId": "Id",
        "defaultCacheBehavior.allowedMethods": "AllowedMethods.Items",
        "defaultCacheBehavior.cachedMethods": "AllowedMethods.CachedMethods.Items",
        "restrictions.geoRestriction.locations": "Items"},
    "aws:route53/record:Record": {"zoneId": "HostedZoneId", "name": f"{_RECORD_SET}.Name",
                                  "type": f"{_RECORD_SET}.Type", "ttl": f"{_RECORD_SET}.TTL",
                                  "aliases": f"{_RECORD_SET}.AliasTarget",
                                  "aliases[].name": "DNSName", "aliases[].zoneId": "HostedZoneId"},
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _PUBLIC_BLOCK,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
        "rules": "ServerSideEncryptionConfiguration.Rules",
        "rules[].applyServerSideEncryptionByDefault.kmsMasterKeyId": "KMSMasterKeyID"},
    # PutBucketLogging nests the logging settings: BucketLoggingStatus.LoggingEnabled.Target*.
    "aws:s3/bucketLogging:BucketLogging": {
        "targetBucket": "BucketLoggingStatus.LoggingEnabled.TargetBucket",
        "targetPrefix": "BucketLoggingStatus.LoggingEnabled.TargetPrefix",
        "targetGrants": "BucketLoggingStatus.LoggingEnabled.TargetGrants",
        "targetObjectKeyFormat": "BucketLoggingStatus.LoggingEnabled.TargetObjectKeyFormat"},
    "aws:cloudwatch/logDelivery:LogDelivery": {"deliverySourceName": "deliverySourceName"},
    # CreateScraper's unions are ampConfiguration/eksConfiguration; the YAML goes in configurationBlob.
    "aws:amp/scraper:Scraper": {"destination.amp": "ampConfiguration", "source.eks": "eksConfiguration",
                                "scrapeConfiguration": "scrapeConfiguration.configurationBlob"},
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": {
        "deliveryDestinationConfigurations": "deliveryDestinationConfiguration"},
}

# Keys the provider sends with a second call after the create: type -> {key -> "Operation.Member"}.
_SECOND_CALLS: dict[str, dict[str, str]] = {
    "aws:kms/key:Key": {"deletionWindowInDays": "ScheduleKeyDeletion.PendingWindowInDays",
                        "rotationPeriodInDays": "EnableKeyRotation.RotationPeriodInDays"},
    "aws:cloudwatch/logGroup:LogGroup": {"retentionInDays": "PutRetentionPolicy.retentionInDays"},
    "aws:iam/instanceProfile:InstanceProfile": {"role": "AddRoleToInstanceProfile.RoleName"},
    "aws:ec2/vpc:Vpc": {"enableDnsHostnames": "ModifyVpcAttribute.EnableDnsHostnames",
                        "enableDnsSupport": "ModifyVpcAttribute.EnableDnsSupport"},
    "aws:ec2/subnet:Subnet": {"mapPublicIpOnLaunch": "ModifySubnetAttribute.MapPublicIpOnLaunch"},
    "aws:ec2/internetGateway:InternetGateway": {"vpcId": "AttachInternetGateway.VpcId"},
}

# Flattened prefixes: type -> {key prefix -> member path the rest of the key lives in}.
_PREFIXES: dict[str, dict[str, str]] = {
    # tunnel1Phase1DhGroupNumbers -> Options.TunnelOptions[0].Phase1DHGroupNumbers
    "aws:ec2/vpnConnection:VpnConnection": {"tunnel1": "Options.TunnelOptions",
                                            "tunnel2": "Options.TunnelOptions"},
}

_ENUM_LISTED = 12  # enums up to this size are spelt out in a message


# ---------------------------------------------------------------------------------------------
# botocore

@functools.lru_cache(maxsize=None)
def _loader():
    from botocore.loaders import Loader
    return Loader()


@functools.lru_cache(maxsize=None)
def botocore_version() -> str:
    import botocore
    return botocore.__version__


@functools.lru_cache(maxsize=None)
def _services() -> frozenset[str]:
    return frozenset(_loader().list_available_services("service-2"))


@functools.lru_cache(maxsize=None)
def _model(service: str) -> dict:
    return _loader().load_service_model(service, "service-2")


@functools.lru_cache(maxsize=None)
def _operations_ci(service: str) -> dict[str, str]:
    return {name.lower(): name for name in _model(service)["operations"]}


def _split_type(token: str) -> Optional[tuple[str, str]]:
    """('ec2', 'Vpc') from 'aws:ec2/vpc:Vpc'; None for anything else."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "aws" or "/" not in parts[1]:
        return None
    return parts[1].split("/", 1)[0], parts[2]


def _candidates(name: str, prefixes: tuple[str, ...]) -> Iterator[str]:
    heads = (*prefixes, "")
    for head in heads:
        yield from (f"Create{head}{name}", f"Put{head}{name}", f"Create{head}{name}s")
    for suffix, verb in (("Association", "Associate"), ("Attachment", "Attach"), ("Accepter", "Accept")):
        if name.endswith(suffix) and len(name) > len(suffix):
            for head in heads:
                yield f"{verb}{head}{name[:-len(suffix)]}"
    if name.endswith("Propagation") and len(name) > len("Propagation"):
        for head in heads:
            yield f"Enable{head}{name}"


@functools.lru_cache(maxsize=None)
def operation_for(token: str) -> Optional[tuple[str, str]]:
    """(botocore service, operation) whose input the type's inputs are, or None."""
    if token in _OPERATIONS:
        return _OPERATIONS[token]
    split = _split_type(token)
    if split is None:
        return None
    module, name = split
    services, prefixes = _MODULES.get(module, ((module,), ()))
    for service in services:
        if service not in _services():
            continue
        ops = _operations_ci(service)
        for candidate in _candidates(name, prefixes):
            if candidate.lower() in ops:
                return service, ops[candidate.lower()]
    return None


# ---------------------------------------------------------------------------------------------
# patterns

_SURROGATES = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)
_UNICODE_CLASS = re.compile(r"\\p\{(L|N|Z|IsLetter|IsDigit|Print)\}")


def _pair(m: re.Match) -> str:
    high, low = int(m.group(1), 16), int(m.group(2), 16)
    return "\\U%08x" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> Optional[re.Pattern]:
    """The pattern as Python runs it, or None when it cannot (see the module docstring)."""
    text = _SURROGATES.sub(_pair, pattern)
    flags = re.ASCII
    if _UNICODE_CLASS.search(text):
        # \p{Print} (Java: a visible character or a space): anything but a control character
        text = _UNICODE_CLASS.sub(lambda m: {"Z": "\\s", "Print": "[^\\x00-\\x1f\\x7f]"}.get(m.group(1), "\\w"), text)
        flags = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(text, flags)
    except (re.error, OverflowError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# walking a resource's inputs along its operation's input shape

def _placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return value == SECRET or UNKNOWN in value
    return isinstance(value, dict) and SECRET_SIG in value


def _norm(ppath: str) -> str:
    return re.sub(r"\[\d+\]", "[]", ppath)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 4] + "...'"


def _kv_members(shape: dict) -> Optional[tuple[str, str]]:
    """(key member, value member) of a {Key, Value} / {Name, Value} / {TagKey, TagValue} pair."""
    members = shape.get("members") or {}
    if shape.get("type") != "structure" or len(members) != 2:
        return None
    key = [m for m in members if m.lower() == "name" or m.lower().endswith("key")]
    val = [m for m in members if m.lower().endswith("value")]
    if len(key) == 1 and len(val) == 1 and key[0] != val[0]:
        return key[0], val[0]
    return None


class _Walk:
    """One resource's walk: findings and the figures ``coverage`` reports."""

    def __init__(self, token: str, urn: str, service: str, operation: str, stats: "_Stats"):
        self.token, self.urn, self.service, self.operation = token, urn, service, operation
        self.model = _model(service)
        self.shapes = self.model["shapes"]
        self.renames = _RENAMES.get(token, {})
        self.prefixes = _PREFIXES.get(token, {})
        self.second_calls = _SECOND_CALLS.get(token, {})
        self.type_name = token.rsplit(":", 1)[1]
        self.stats = stats
        self.findings: list[Finding] = []

    def run(self, inputs: dict) -> None:
        shape_name = self.model["operations"][self.operation]["input"]["shape"]
        self._structure(inputs, shape_name, self.operation, "", top=True)

    # -- findings

    def _finding(self, ppath: str, mpath: str, text: str) -> None:
        self.findings.append(Finding(
            check=NAME, urn=self.urn, path=ppath,
            message=f"{self.service} {mpath}: {text} (botocore {botocore_version()})"))

    # -- members

    def _member_ci(self, shape: dict, key: str) -> Optional[str]:
        low = key.lower()
        for member in shape.get("members", {}):
            if member.lower() == low:
                return member
        return None

    def _direct(self, shape: dict, key: str) -> Optional[str]:
        """Same name, or a Terraform-style variant of it."""
        for variant in (key, key + "s", key + "Document", key + "Name"):
            found = self._member_ci(shape, variant)
            if found:
                return found
        if key.lower().endswith("arn") and len(key) > 3:
            return self._member_ci(shape, key[:-3])
        return None

    def _member_for(self, shape: dict, key: str, top: bool) -> Optional[list[str]]:
        found = self._direct(shape, key)
        if found:
            return [found]
        members = list(shape.get("members", {}))
        low = key.lower()
        if len(low) >= 4:
            ending = [m for m in members if m.lower().endswith(low)]
            if top and low == "name" and len(ending) > 1:
                typ = self.type_name.lower()
                ending = [m for m in ending if m[:-4] and (typ.endswith(m[:-4].lower())
                                                          or m[:-4].lower().endswith(typ))]
            if len(ending) == 1:
                return ending
        if low == "tags" and self._member_ci(shape, "TagSpecifications"):
            return [self._member_ci(shape, "TagSpecifications"), "Tags"]
        if top:  # pulumi-aws flattens one nested structure into the resource's arguments
            hits = []
            for member in members:
                inner = self._element(shape["members"][member]["shape"])
                if self.shapes[inner].get("type") == "structure":
                    found = self._direct(self.shapes[inner], key)
                    if found:
                        hits.append([member, found])
            if len(hits) == 1:
                return hits[0]
        return None

    def _element(self, shape_name: str) -> str:
        """A list's member shape, else the shape itself."""
        shape = self.shapes[shape_name]
        return shape["member"]["shape"] if shape.get("type") == "list" else shape_name

    def _descend(self, shape_name: str, names: list[str], mpath: str) -> Optional[tuple[str, str]]:
        """Follow member names from a structure (through lists): (shape name, member path)."""
        for name in names:
            shape = self.shapes[shape_name]
            if shape.get("type") == "list":
                shape_name, mpath = shape["member"]["shape"], mpath + "[]"
                shape = self.shapes[shape_name]
            member = self._member_ci(shape, name) if shape.get("type") == "structure" else None
            if member is None:
                return None
            shape_name, mpath = shape["members"][member]["shape"], f"{mpath}.{member}"
        return shape_name, mpath

    # -- values

    def _structure(self, value: Any, shape_name: str, mpath: str, ppath: str, top: bool = False) -> None:
        shape = self.shapes[shape_name]
        members = shape.get("members") or {}
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            value, ppath = value[0], f"{ppath}[0]"  # a Terraform block: a list of one object
        if not isinstance(value, dict):
            if len(members) == 1 and not isinstance(value, (list, dict)):
                member = next(iter(members))  # [19] for [{Value: 19}]
                self._value(value, members[member]["shape"], f"{mpath}.{member}", ppath)
                return
            self.stats.mismatch(self.token, ppath)
            return
        for key, item in value.items():
            kpath = f"{ppath}.{key}" if ppath else key
            norm = _norm(kpath)
            target = self._target(shape_name, key, norm, top)
            if target is None:
                self.stats.unmatched[self.token].add(norm)
                continue
            found = self._descend(shape_name, target[0], mpath) if target[1] is None else target[1]
            if found is None:
                self.stats.unmatched[self.token].add(norm)
                continue
            self.stats.matched[self.token][norm] = found[1]
            self._value(item, found[0], found[1], kpath)

    def _target(self, shape_name: str, key: str, norm: str, top: bool):
        """([member names], None) or (None, (shape, member path)) for a key, else None."""
        shape = self.shapes[shape_name]
        if norm in self.renames:
            return self.renames[norm].split("."), None
        if top and key in self.second_calls:
            operation, _, member = self.second_calls[key].partition(".")
            shape_in = self.model["operations"][operation]["input"]["shape"]
            found = self._descend(shape_in, [member], operation)
            return (None, found) if found else None
        if top:
            for prefix, where in self.prefixes.items():
                if key.startswith(prefix) and len(key) > len(prefix):
                    inner = self._descend(shape_name, where.split("."), "")
                    if inner is None:
                        return None
                    element = self._element(inner[0])
                    names = self._member_for(self.shapes[element], key[len(prefix):], top=False)
                    if names is None:
                        return None
                    found = self._descend(inner[0], names, self.operation + inner[1])
                    return (None, found) if found else None
        names = self._member_for(shape, key, top)
        return (names, None) if names else None

    def _value(self, value: Any, shape_name: str, mpath: str, ppath: str) -> None:
        if value is None:
            return
        if _placeholder(value):
            self.stats.placeholders[self.token] += 1
            return
        shape = self.shapes[shape_name]
        kind = shape.get("type")
        if kind == "structure":
            self._structure(value, shape_name, mpath, ppath)
        elif kind == "list":
            self._list(value, shape, mpath, ppath)
        elif kind == "map":
            self._map(value, shape, mpath, ppath)
        elif kind == "string":
            self._string(value, shape, shape_name, mpath, ppath)
        elif kind in ("integer", "long", "float", "double"):
            self._number(value, shape, mpath, ppath)
        # boolean, timestamp, blob, document: nothing a model constrains here

    def _list(self, value: Any, shape: dict, mpath: str, ppath: str) -> None:
        element = shape["member"]["shape"]
        kv = _kv_members(self.shapes[element])
        if isinstance(value, dict) and kv and not (set(value) <= {m.lower() for m in kv} | set(kv)):
            # a {k: v} map for a [{Key: k, Value: v}] list (tags, dimensions)
            self._size(len(value), shape, mpath, ppath, "items")
            for k, v in value.items():
                self._value(k, self.shapes[element]["members"][kv[0]]["shape"], f"{mpath}[].{kv[0]}", f"{ppath}.{k}")
                self._value(v, self.shapes[element]["members"][kv[1]]["shape"], f"{mpath}[].{kv[1]}", f"{ppath}.{k}")
            return
        if not isinstance(value, list):
            self._value(value, element, mpath + "[]", ppath)  # one item given for a list
            return
        self._size(len(value), shape, mpath, ppath, "items")
        for i, item in enumerate(value):
            self._value(item, element, mpath + "[]", f"{ppath}[{i}]")

    def _map(self, value: Any, shape: dict, mpath: str, ppath: str) -> None:
        pairs: list[tuple[Any, str, Any, str]] = []
        if isinstance(value, dict) and set(value) == {"key", "value"}:
            pairs.append((value["key"], f"{ppath}.key", value["value"], f"{ppath}.value"))
        elif isinstance(value, dict):
            pairs = [(k, f"{ppath}.{k}", v, f"{ppath}.{k}") for k, v in value.items()]
        elif isinstance(value, list) and all(isinstance(i, dict) for i in value):
            for i, item in enumerate(value):  # Terraform's list of named blocks for a map
                at = f"{ppath}[{i}]"
                if set(item) == {"key", "value"}:
                    pairs.append((item["key"], f"{at}.key", item["value"], f"{at}.value"))
                elif "name" in item:
                    rest = {k: v for k, v in item.items() if k != "name"}
                    pairs.append((item["name"], f"{at}.name", rest, at))
                elif "key" in item:
                    rest = {k: v for k, v in item.items() if k != "key"}
                    pairs.append((item["key"], f"{at}.key", rest, at))
                else:
                    self.stats.mismatch(self.token, at)
        else:
            self.stats.mismatch(self.token, ppath)
            return
        self._size(len(pairs), shape, mpath, ppath, "entries")
        for k, kpath, v, vpath in pairs:
            self._value(k, shape["key"]["shape"], f"{mpath}<key>", kpath)
            self._value(v, shape["value"]["shape"], f"{mpath}{{}}", vpath)

    def _size(self, n: int, shape: dict, mpath: str, ppath: str, what: str) -> None:
        if "min" in shape or "max" in shape:
            self.stats.checked[self.token] += 1
        if "min" in shape and n < shape["min"]:
            self._finding(ppath, mpath, f"{n} {what}, fewer than the minimum {shape['min']}")
        if "max" in shape and n > shape["max"]:
            self._finding(ppath, mpath, f"{n} {what}, more than the maximum {shape['max']}")

    def _string(self, value: Any, shape: dict, shape_name: str, mpath: str, ppath: str) -> None:
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            self.stats.mismatch(self.token, ppath)
            return
        if not any(k in shape for k in ("enum", "min", "max", "pattern")):
            return
        self.stats.checked[self.token] += 1
        enum = shape.get("enum")
        if enum and value not in enum:
            allowed = (", ".join(enum) if len(enum) <= _ENUM_LISTED
                       else f"the {len(enum)} values of {shape_name}")
            self._finding(ppath, mpath, f"{_short(value)} is not one of {allowed}")
        if "min" in shape and len(value) < shape["min"]:
            self._finding(ppath, mpath, f"{_short(value)} has {len(value)} characters, "
                                        f"fewer than the minimum {shape['min']}")
        if "max" in shape and len(value) > shape["max"]:
            self._finding(ppath, mpath, f"{_short(value)} has {len(value)} characters, "
                                        f"more than the maximum {shape['max']}")
        pattern = shape.get("pattern")
        if pattern:
            compiled = _compiled(pattern)
            if compiled is None:
                self.stats.patterns_skipped.add(pattern)
            elif not compiled.fullmatch(value):
                self._finding(ppath, mpath, f"{_short(value)} does not match the pattern {pattern!r}")

    def _number(self, value: Any, shape: dict, mpath: str, ppath: str) -> None:
        if isinstance(value, str):
            try:
                value = float(value) if shape["type"] in ("float", "double") else int(value)
            except ValueError:
                self.stats.mismatch(self.token, ppath)
                return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.stats.mismatch(self.token, ppath)
            return
        if "min" not in shape and "max" not in shape:
            return
        self.stats.checked[self.token] += 1
        if "min" in shape and value < shape["min"]:
            self._finding(ppath, mpath, f"{value} is below the minimum {shape['min']}")
        if "max" in shape and value > shape["max"]:
            self._finding(ppath, mpath, f"{value} is above the maximum {shape['max']}")


class _Stats:
    def __init__(self) -> None:
        self.resources: Counter = Counter()
        self.matched: dict[str, dict[str, str]] = defaultdict(dict)
        self.unmatched: dict[str, set[str]] = defaultdict(set)
        self.mismatched: dict[str, set[str]] = defaultdict(set)
        self.placeholders: Counter = Counter()
        self.checked: Counter = Counter()
        self.patterns_skipped: set[str] = set()
        self.unmapped: Counter = Counter()

    def mismatch(self, token: str, ppath: str) -> None:
        self.mismatched[token].add(_norm(ppath))


def _run(doc: dict) -> tuple[list[Finding], _Stats]:
    stats = _Stats()
    findings: list[Finding] = []
    for urn, token, inputs in resources(doc):
        if _split_type(token) is None:
            continue  # providers, components, other packages
        op = operation_for(token)
        if op is None:
            stats.unmapped[token] += 1
            continue
        stats.resources[token] += 1
        walk = _Walk(token, urn, op[0], op[1], stats)
        walk.run(inputs)
        findings.extend(walk.findings)
    return findings, stats


def check(doc: dict) -> list[Finding]:
    return _run(doc)[0]


def coverage(doc: dict) -> dict[str, dict]:
    """Per AWS type in the preview: the operation checked against and how its keys fared.

    {type: {"service", "operation" (None when no operation is known), "resources",
            "matched" (distinct key paths with a member), "unmatched" (without one),
            "unmatched_keys", "mismatched_keys" (type does not fit the shape, not checked),
            "placeholders" (unknown or secret values skipped), "checked" (values with a
            constraint that were checked), "members" ({key path: member path})}}
    plus the key "" -> {"botocore", "patterns_skipped"} for the run as a whole."""
    _, stats = _run(doc)
    out: dict[str, dict] = {}
    for token in sorted(set(stats.resources) | set(stats.unmapped)):
        op = operation_for(token)
        out[token] = {
            "service": op[0] if op else None,
            "operation": op[1] if op else None,
            "resources": stats.resources[token] + stats.unmapped[token],
            "matched": len(stats.matched[token]),
            "unmatched": len(stats.unmatched[token]),
            "unmatched_keys": sorted(stats.unmatched[token]),
            "mismatched_keys": sorted(stats.mismatched[token]),
            "placeholders": stats.placeholders[token],
            "checked": stats.checked[token],
            "members": dict(sorted(stats.matched[token].items())),
        }
    out[""] = {"botocore": botocore_version(), "patterns_skipped": sorted(stats.patterns_skipped)}
    return out


def _print_coverage(cov: dict[str, dict], keys: bool) -> None:
    run = cov.pop("")
    rows = [(t, f"{c['service']} {c['operation']}" if c["operation"] else "(no operation)", c)
            for t, c in cov.items()]
    width = max((len(t) for t, _, _ in rows), default=10)
    opw = max((len(o) for _, o, _ in rows), default=10)
    print(f"{'type':<{width}}  {'operation':<{opw}}  res  matched  unmatched  checked  unmatched keys")
    for token, op, c in rows:
        print(f"{token:<{width}}  {op:<{opw}}  {c['resources']:>3}  {c['matched']:>7}  {c['unmatched']:>9}  "
              f"{c['checked']:>7}  {', '.join(c['unmatched_keys'])}")
        if keys:
            for key, member in c["members"].items():
                print(f"{'':<{width}}    {key} -> {member}")
            for key in c["mismatched_keys"]:
                print(f"{'':<{width}}    {key}: value does not fit the shape (not checked)")
    mapped = [c for _, _, c in rows if c["operation"]]
    print(f"\n{len(mapped)}/{len(rows)} types mapped; key paths matched {sum(c['matched'] for c in mapped)}, "
          f"unmatched {sum(c['unmatched'] for c in mapped)}; values checked {sum(c['checked'] for c in mapped)}; "
          f"placeholders skipped {sum(c['placeholders'] for c in mapped)}; botocore {run['botocore']}")
    for pattern in run["patterns_skipped"]:
        print(f"pattern skipped (Python re cannot compile it): {pattern}")


def main(argv: Optional[list[str]] = None) -> int:
    from pathlib import Path

    from tools.cli import Parser
    from tools.offline import OfflineError
    from tools.plan_json import load_preview_json

    p = Parser(prog="python -m tools.upstream.aws_models", description=__doc__.splitlines()[0])
    p.add_argument("--preview-json", type=Path, required=True, metavar="PATH")
    p.add_argument("--coverage", action="store_true", help="print the per-type coverage table")
    p.add_argument("--keys", action="store_true", help="with --coverage: each key's member")
    args = p.parse_args(argv)
    try:
        doc = load_preview_json(args.preview_json)
    except OfflineError as err:
        print(f"error: {err}")
        return 2
    if args.coverage:
        _print_coverage(coverage(doc), args.keys)
        return 0
    found = sorted(set(check(doc)), key=Finding.key)
    for f in found:
        print(f"{f.urn} {f.path}: {f.message}")
    return 1 if found else 0


if __name__ == "__main__":
    from tools.cli import exit_fast, quiet_on_closed_pipe

    quiet_on_closed_pipe()
    exit_fast(main())
