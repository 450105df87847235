"""Generate tools/replace_metadata/replace_on.json: which input changes replace each resource type.

Usage (from the repository root; every path is a git directory, read at the given ref, so bare
snapshots from the search tool's `fetch` work as they are):

    .venv/bin/python -m tools.replace_metadata.generate \\
        --tf-source /work/.mirror/lonegunmanb+terraform-provider-aws-index/repo --tf-ref v6.58.0 \\
        --tf-attr-names /work/.cache/replace-metadata/hashicorp+terraform-provider-aws/names/attr_constants.csv \\
        --pulumi-kubernetes /work/.mirror/pulumi+pulumi-kubernetes/repo \\
        --kubernetes-ref 94977969d64112b04e19945818a7d5d5f38f631d \\
        --pulumi-eks /work/.mirror/pulumi+pulumi-eks/repo --eks-ref 7bf0c1b179932ce51cb02dfc4f9bd0d7550cb0cd \\
        [--pulumi-aws-sdk .venv/lib/python3.X/site-packages/pulumi_aws] [--out tools/replace_metadata/replace_on.json]
        [--check]   # exit 1 if the output differs from the committed file instead of writing it

`--tf-source` takes either a lonegunmanb/terraform-provider-aws-index checkout (one file per Go
declaration, one tag per terraform-provider-aws release) or a hashicorp/terraform-provider-aws clone;
with a clone, `--tf-attr-names` may be omitted (names/attr_constants.csv is read from the clone).

What it derives, and from where:
* aws:* types: terraform-provider-aws Go source (tfschema.py): SDKv2 `ForceNew: true` and
  plugin-framework `RequiresReplace()`/`RequiresReplaceIfConfigured()` at any depth -> `types`;
  CustomizeDiff `ForceNew(...)`/`customdiff.ForceNewIf*`, other `RequiresReplace*` modifiers,
  `ModifyPlan` replacements and the provider-wide `region` interceptor -> `conditional`.
  Terraform names become Pulumi input paths through the pulumi_aws SDK's own `XArgs` classes
  (sdknames.py); an attribute the SDK has no input for is reported, never guessed.
* kubernetes:* types: pulumi-kubernetes provider/pkg/provider/diff.go (`forceNew` table, the
  Secret/ConfigMap branches), provider.go (DiffConfig), helm_release.go (Release Diff).
* eks:index:Cluster: pulumi-eks nodejs/eks/cluster/cluster.ts (which component inputs flow into
  the aws.eks.Cluster it creates, and its ignoreChanges) joined with aws:eks/cluster:Cluster's
  replacing paths, plus `replaceOnChanges` in provider/cmd/pulumi-resource-eks/schema.json.

Adding a resource type: for an aws type add `"aws:mod/name:Name": "aws_tf_type"` to AWS_TYPES
(the Terraform name is the one pulumi-aws provider/resources.go maps the token to; the generator
checks the pairing by comparing the two input schemas), for a Kubernetes kind add its token to
KUBERNETES_TYPES; then rerun with `--check` dropped. Types found in the shipped previews
(build/preview-*.json) are required to be covered (the generator fails otherwise).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tools.replace_metadata import goparse as gp
from tools.replace_metadata.sdknames import SdkNames, plural_candidates
from tools.replace_metadata.tfschema import Extractor, load_attr_names
from tools.replace_metadata.tfsource import GitTree, open_source

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("replace_on.json")
READ_DATE = "2026-11-26"

# Pulumi token -> terraform-provider-aws resource (pulumi-aws provider/resources.go's mapping).
AWS_TYPES = {
    "aws:autoscaling/schedule:Schedule": "aws_autoscaling_schedule",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:directconnect/gateway:Gateway": "aws_dx_gateway",
    "aws:directconnect/gatewayAssociation:GatewayAssociation": "aws_dx_gateway_association",
    "aws:ec2/customerGateway:CustomerGateway": "aws_customer_gateway",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",  # pulumi-eks child
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ec2/vpnConnection:VpnConnection": "aws_vpn_connection",
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": "aws_ec2_transit_gateway_peering_attachment",
    "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter":
        "aws_ec2_transit_gateway_peering_attachment_accepter",
    "aws:ec2transitgateway/route:Route": "aws_ec2_transit_gateway_route",
    "aws:ec2transitgateway/routeTable:RouteTable": "aws_ec2_transit_gateway_route_table",
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation":
        "aws_ec2_transit_gateway_route_table_association",
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation":
        "aws_ec2_transit_gateway_route_table_propagation",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "aws_ec2_transit_gateway",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": "aws_ec2_transit_gateway_vpc_attachment",
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter":
        "aws_ec2_transit_gateway_vpc_attachment_accepter",
    "aws:ram/principalAssociation:PrincipalAssociation": "aws_ram_principal_association",
    "aws:ram/resourceAssociation:ResourceAssociation": "aws_ram_resource_association",
    "aws:ram/resourceShare:ResourceShare": "aws_ram_resource_share",
    "aws:ram/resourceShareAccepter:ResourceShareAccepter": "aws_ram_resource_share_accepter",
    "aws:eks/accessEntry:AccessEntry": "aws_eks_access_entry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "aws_eks_access_policy_association",
    "aws:eks/addon:Addon": "aws_eks_addon",
    "aws:eks/cluster:Cluster": "aws_eks_cluster",  # pulumi-eks child
    "aws:eks/nodeGroup:NodeGroup": "aws_eks_node_group",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": "aws_eks_pod_identity_association",
    "aws:fis/experimentTemplate:ExperimentTemplate": "aws_fis_experiment_template",
    "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",  # pulumi-eks child
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:route53/resolverEndpoint:ResolverEndpoint": "aws_route53_resolver_endpoint",
    "aws:route53/resolverRule:ResolverRule": "aws_route53_resolver_rule",
    "aws:route53/resolverRuleAssociation:ResolverRuleAssociation": "aws_route53_resolver_rule_association",
    "aws:scheduler/schedule:Schedule": "aws_scheduler_schedule",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
    "aws:ssm/parameter:Parameter": "aws_ssm_parameter",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "aws_wafv2_web_acl_logging_configuration",
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:cloudfront/distribution:Distribution": "aws_cloudfront_distribution",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "aws_cloudfront_origin_access_control",
    "aws:cloudwatch/logDelivery:LogDelivery": "aws_cloudwatch_log_delivery",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": "aws_cloudwatch_log_delivery_destination",
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": "aws_cloudwatch_log_delivery_source",
    "aws:elasticache/parameterGroup:ParameterGroup": "aws_elasticache_parameter_group",
    "aws:elasticache/replicationGroup:ReplicationGroup": "aws_elasticache_replication_group",
    "aws:elasticache/subnetGroup:SubnetGroup": "aws_elasticache_subnet_group",
    "aws:elasticache/user:User": "aws_elasticache_user",
    "aws:elasticache/userGroup:UserGroup": "aws_elasticache_user_group",
    "aws:rds/cluster:Cluster": "aws_rds_cluster",
    "aws:rds/clusterInstance:ClusterInstance": "aws_rds_cluster_instance",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "aws_rds_cluster_parameter_group",
    "aws:rds/globalCluster:GlobalCluster": "aws_rds_global_cluster",
    "aws:route53/record:Record": "aws_route53_record",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        "aws_s3_bucket_server_side_encryption_configuration",
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    "aws:amp/alertManagerDefinition:AlertManagerDefinition": "aws_prometheus_alert_manager_definition",
    "aws:amp/ruleGroupNamespace:RuleGroupNamespace": "aws_prometheus_rule_group_namespace",
    "aws:amp/scraper:Scraper": "aws_prometheus_scraper",
    "aws:amp/workspace:Workspace": "aws_prometheus_workspace",
    "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
    "aws:appautoscaling/scheduledAction:ScheduledAction": "aws_appautoscaling_scheduled_action",
    "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
    "aws:grafana/roleAssociation:RoleAssociation": "aws_grafana_role_association",
    "aws:grafana/workspace:Workspace": "aws_grafana_workspace",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
}

# Kinds the program creates (components/: k8s.core.v1.*, k8s.rbac.v1.*, CustomResources, Helm).
KUBERNETES_TYPES = [
    "kubernetes:argoproj.io/v1alpha1:AppProject",
    "kubernetes:argoproj.io/v1alpha1:Application",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
    "kubernetes:karpenter.sh/v1:NodePool",
    "kubernetes:networking.istio.io/v1:DestinationRule",
    "kubernetes:networking.istio.io/v1:ServiceEntry",
    "kubernetes:keda.sh/v1alpha1:ClusterTriggerAuthentication",
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
]

# pulumi-eks nodejs/eks/cluster/cluster.ts: component input -> the aws.eks.Cluster input it feeds,
# each with the source text that shows the flow (checked: the generator fails if it is gone).
EKS_FLOWS = [
    ("name", "name", r"\bname:\s*args\.name,"),
    ("serviceRole", "roleArn", r"roleArn:\s*args\.serviceRole"),
    ("subnetIds", "vpcConfig.subnetIds", r"clusterSubnetIds\s*=\s*args\.subnetIds;"),
    ("publicSubnetIds", "vpcConfig.subnetIds", r"args\.publicSubnetIds \|\| \[\], args\.privateSubnetIds \|\| \[\]"),
    ("privateSubnetIds", "vpcConfig.subnetIds", r"args\.publicSubnetIds \|\| \[\], args\.privateSubnetIds \|\| \[\]"),
    ("vpcId", "vpcConfig.subnetIds", r"if \(!args\.vpcId\) \{"),
    ("clusterSecurityGroup", "vpcConfig.securityGroupIds", r"eksClusterSecurityGroup = args\.clusterSecurityGroup;"),
    ("skipDefaultSecurityGroups", "vpcConfig.securityGroupIds",
     r"skipDefaultSecurityGroups = args\.skipDefaultSecurityGroups"),
    ("endpointPrivateAccess", "vpcConfig.endpointPrivateAccess", r"endpointPrivateAccess:\s*args\.endpointPrivateAccess"),
    ("endpointPublicAccess", "vpcConfig.endpointPublicAccess", r"endpointPublicAccess:\s*args\.endpointPublicAccess"),
    ("publicAccessCidrs", "vpcConfig.publicAccessCidrs", r"publicAccessCidrs:\s*args\.publicAccessCidrs"),
    ("version", "version", r"version:\s*args\.version,"),
    ("enabledClusterLogTypes", "enabledClusterLogTypes", r"enabledClusterLogTypes:\s*args\.enabledClusterLogTypes"),
    ("tags", "tags", r"pulumi\.all\(\[args\.tags, args\.clusterTags\]\)"),
    ("clusterTags", "tags", r"pulumi\.all\(\[args\.tags, args\.clusterTags\]\)"),
    ("encryptionConfigKeyArn", "encryptionConfig", r"if \(args\.encryptionConfigKeyArn\)"),
    ("kubernetesServiceIpAddressRange", "kubernetesNetworkConfig.serviceIpv4Cidr",
     r"\[args\.kubernetesServiceIpAddressRange, args\.ipFamily\]"),
    ("ipFamily", "kubernetesNetworkConfig.ipFamily", r"\[args\.kubernetesServiceIpAddressRange, args\.ipFamily\]"),
    ("autoMode", "computeConfig", r"computeConfig:\s*autoModeConfig\.computeConfig"),
    ("autoMode", "storageConfig", r"storageConfig:\s*autoModeConfig\.storageConfig"),
    ("autoMode", "kubernetesNetworkConfig.elasticLoadBalancing", r"elasticLoadBalancing:\s*args\.autoMode\?\.enabled"),
    ("bootstrapSelfManagedAddons", "bootstrapSelfManagedAddons", r":\s*args\.bootstrapSelfManagedAddons \?\? true"),
    ("authenticationMode", "accessConfig.authenticationMode", r"authenticationMode:\s*args\.authenticationMode"),
    ("upgradePolicy", "upgradePolicy", r"upgradePolicy:\s*args\.upgradePolicy"),
    ("deletionProtection", "deletionProtection", r"deletionProtection:\s*args\.deletionProtection"),
]

# Field renames pulumi-aws makes in provider/resources.go (`Fields: {"tf_name": {Name: ...}}`) for the
# types above, where the SDK alone cannot pair the names. Each is checked against the SDK.
FIELD_RENAMES = {
    # resources.go: "aws_cloudwatch_metric_alarm": {Fields: {"alarm_name": tfbridge.AutoName("name", 255, "-")}}
    ("aws_cloudwatch_metric_alarm", "alarm_name"): "name",
    # TF docs sns_topic_subscription: `topic_arn` "ARN of the SNS topic to subscribe to"; pulumi_aws
    # 7.51.1 sns/topic_subscription.py: `topic`, the same description, the only input naming the topic.
    ("aws_sns_topic_subscription", "topic_arn"): "topic",
}

COMPONENT_NOTE = ("component resource: the engine never asks a provider to diff it, so it is never replaced "
                  "itself; its children are")


class GenerateError(Exception):
    pass


# ---- aws -----------------------------------------------------------------------------------------

def _pulumi_path(sdk: SdkNames, cls, tf_path: tuple, tf_type: str = "") -> tuple[str | None, str]:
    names = []
    for i, seg in enumerate(tf_path):
        if cls is None:
            return None, f"no nested input type under {'.'.join(names)}"
        props = sdk.props(cls)
        prop = props.get(seg)
        renamed = FIELD_RENAMES.get((tf_type, seg)) if i == 0 else None
        if renamed is not None:
            prop = next((p for p in props.values() if p.pulumi == renamed), None)
        if prop is None:
            for cand in plural_candidates(seg):
                if cand in props:
                    prop = props[cand]
                    break
        if prop is None:
            return None, f"no SDK input for `{seg}`"
        names.append(prop.pulumi)
        cls = prop.nested
    return ".".join(names), ""


def aws_entries(extractor: Extractor, sdk: SdkNames, token: str, tf_type: str, report: dict) -> dict:
    ext = extractor.extract(tf_type)
    if ext is None:
        raise GenerateError(f"{token}: {tf_type} is not registered in the Terraform provider source")
    cls = sdk.resource_args(token)
    if cls is None:
        raise GenerateError(f"{token}: no Args class in the pulumi_aws SDK")
    # the Terraform <-> Pulumi pairing, checked: top-level inputs must match
    # (`tags_all` is output-only in pulumi-aws; `region` is injected by the Terraform provider, not in schemas)
    tf_inputs = [p for p, a in ext.attrs.items() if len(p) == 1 and a.input and p != ("tags_all",)]
    mapped = [p for p in tf_inputs if _pulumi_path(sdk, cls, p, tf_type)[0]]
    sdk_inputs = {prop.pulumi for prop in sdk.props(cls).values()}
    mapped_names = {_pulumi_path(sdk, cls, p, tf_type)[0] for p in mapped}
    tf_only = sorted(p[0] for p in tf_inputs if p not in mapped)
    sdk_only = sorted(sdk_inputs - mapped_names - ({"region"} if ext.regional else set()))
    if not mapped or len(tf_only) > 0.25 * len(tf_inputs) or len(sdk_only) > 0.25 * len(sdk_inputs):
        raise GenerateError(f"{token}: Terraform {tf_type} inputs do not match the SDK's "
                            f"(Terraform only: {tf_only}, SDK only: {sdk_only})")
    paths, conditional, unmapped = set(), {}, []
    for path, attr in sorted(ext.attrs.items()):
        if not attr.force:
            continue
        if not attr.input:
            unmapped.append(f"{'.'.join(path)} (ForceNew but not an input: computed only)")
            continue
        pul, why = _pulumi_path(sdk, cls, path, tf_type)
        if pul is None:
            unmapped.append(f"{'.'.join(path)} ({why})")
        else:
            paths.add(pul)
    for path, reason in sorted(ext.conditional.items()):
        pul, why = _pulumi_path(sdk, cls, path, tf_type)
        if pul is None:
            unmapped.append(f"{'.'.join(path)} (conditional; {why})")
        elif pul not in paths:
            conditional[pul] = reason
    if ext.regional and "region" in sdk_inputs and "region" not in paths:
        conditional.setdefault("region", "provider-wide region interceptor: replaces when `region` changes, except "
                               "between unset and the provider's region (internal/provider/sdkv2 "
                               "forceNewIfRegionChanges; framework resourceForceNewIfRegionChanges)")
    reg = extractor.registry()[tf_type]
    report[token] = {
        "terraform": tf_type,
        "kind": ext.kind,
        "registered": reg.where,
        "schema": ext.schema_decl,
        "inputs_mapped": f"{len(mapped)}/{len(tf_inputs)}",
        **({"inputs_terraform_only": tf_only} if tf_only else {}),
        **({"inputs_sdk_only": sdk_only} if sdk_only else {}),
        **({"not_mapped": unmapped} if unmapped else {}),
        **({"unresolved": ext.unresolved} if ext.unresolved else {}),
    }
    return {"paths": sorted(paths), "conditional": conditional}


# ---- kubernetes ----------------------------------------------------------------------------------

class _GoTable:
    """Evaluates the constant tables of pulumi-kubernetes diff.go (maps, properties{...}, append, +)."""

    def __init__(self, src: str):
        self.src = src
        self.toks = gp.tokenize(src)
        self.vars = {}
        for i, tok in enumerate(self.toks):
            if tok.val == "var" and i + 3 < len(self.toks) and self.toks[i + 2].val == "=":
                self.vars[self.toks[i + 1].val] = gp.parse_expr_at(self.toks, i + 3)

    def lookup(self, node, *keys):
        """Walk nested map literals by key without evaluating the other entries."""
        for key in keys:
            while isinstance(node, gp.Name):
                node = self.vars[node.parts[0]]
            if not isinstance(node, gp.Composite):
                return None
            node = next((v for k, v in node.elems if self.eval(k) == key), None)
            if node is None:
                return None
        return node

    def eval(self, node, env=None):
        env = env or {}
        if isinstance(node, gp.Lit):
            return node.value
        if isinstance(node, gp.Binary) and node.op == "+":
            return self.eval(node.left, env) + self.eval(node.right, env)
        if isinstance(node, gp.Name) and len(node.parts) == 1:
            if node.parts[0] in env:
                return env[node.parts[0]]
            return self.eval(self.vars[node.parts[0]], env)
        if isinstance(node, gp.Composite):
            if node.elems and node.elems[0][0] is not None:
                return {self.eval(k, env): self.eval(v, env) for k, v in node.elems}
            return [self.eval(v, env) for _, v in node.elems]
        if isinstance(node, gp.Call):
            fname = node.func_name
            args = [self.eval(a, env) for a in node.args]
            if fname == "append":
                return list(args[0]) + [x for a in args[1:] for x in (a if isinstance(a, list) else [a])]
            fsrc = gp.func_source(self.src, fname)
            if fsrc is None:
                raise GenerateError(f"diff.go: function {fname} not found")
            params = re.match(r"func\s+\w+\(([^)]*)\)", fsrc).group(1)
            pnames = [p.strip().split()[0] for p in params.split(",") if p.strip()]
            body = gp.body_tokens(fsrc)
            rets = gp.returns_outer(body)
            return self.eval(rets[0], dict(zip(pnames, args)))
        raise GenerateError(f"diff.go: cannot evaluate {node!r}")


def kubernetes_entries(tree: GitTree, types: list[str], notes: dict) -> tuple[dict, dict]:
    diff_path = "provider/pkg/provider/diff.go"
    diff = tree.read(diff_path)
    table = _GoTable(diff)
    fn = gp.func_source(diff, "forceNewProperties", "kubeProvider")
    metadata = table.eval(gp.returns_outer(gp.body_tokens(gp.func_source(diff, "metadataForceNewProperties")))[0],
                          {"prefix": ".metadata"})
    if 'metadataForceNewProperties(".metadata")' not in fn:
        raise GenerateError("diff.go: forceNewProperties no longer starts from metadata")
    secret = re.search(r'clients\.IsSecret\(obj\) && \(!k\.enableSecretMutable \|\| clients\.IsImmutable\(obj\)\)'
                       r'\s*\{\s*props = append\(props, properties\{([^}]*)\}', fn)
    configmap = re.search(r'clients\.IsConfigMap\(obj\) && \(!k\.enableConfigMapMutable \|\| '
                          r'clients\.IsImmutable\(obj\)\)\s*\{\s*props = append\(props, properties\{([^}]*)\}', fn)
    if not (secret and configmap):
        raise GenerateError("diff.go: the Secret/ConfigMap branches of forceNewProperties changed")
    secret_props = re.findall(r'"([^"]+)"', secret.group(1))
    configmap_props = re.findall(r'"([^"]+)"', configmap.group(1))

    def clean(p):
        return p.lstrip(".")

    out, prov = {}, {}
    for token in types:
        _, gv, kind = token.split(":")
        group, version = gv.rsplit("/", 1) if "/" in gv else ("core", gv)
        kind_node = table.lookup(table.vars["forceNew"], group, version, kind)
        kind_props = table.eval(kind_node) if kind_node is not None else []
        paths = {clean(p) for p in metadata + kind_props}
        cond = {}
        if group == "core" and kind == "Secret":
            for p in secret_props:
                if clean(p) not in paths:
                    cond[clean(p)] = ("unless the provider sets enableSecretMutable and the Secret is not immutable "
                                      f"(forceNewProperties, {diff_path})")
        if group == "core" and kind == "ConfigMap":
            for p in configmap_props:
                cond[clean(p)] = ("unless the provider sets enableConfigMapMutable and the ConfigMap is not immutable "
                                  f"(forceNewProperties, {diff_path})")
        out[token] = {"paths": sorted(paths), "conditional": cond}
        prov[token] = f"{diff_path}: metadata{' + forceNew table' if kind_props else ''}"
    # Helm Release: Diff forces replacement on .name/.namespace
    helm_path = "provider/pkg/provider/helm_release.go"
    helm = tree.read(helm_path)
    m = re.search(r'forceNewFields := \[\]string\{([^}]*)\}', helm)
    if not m:
        raise GenerateError("helm_release.go: forceNewFields not found")
    out["kubernetes:helm.sh/v3:Release"] = {"paths": sorted(clean(p) for p in re.findall(r'"([^"]+)"', m.group(1))),
                                            "conditional": {}}
    prov["kubernetes:helm.sh/v3:Release"] = f"{helm_path}: Diff forceNewFields"
    # provider: DiffConfig replaces when the active cluster changes
    prov_path = "provider/pkg/provider/provider.go"
    pgo = tree.read(prov_path)
    dc = gp.func_source(pgo, "DiffConfig", "kubeProvider")
    keys = re.search(r'for _, key := range \[\]string\{([^}]*)\}', dc)
    if not keys or "renderYamlToDirectory" not in dc or "clusterIdentifierKey" not in dc:
        raise GenerateError("provider.go: DiffConfig changed shape")
    cond = {k: f"when the kubeconfig's active cluster changes (DiffConfig, {prov_path})"
            for k in re.findall(r'"([^"]+)"', keys.group(1))}
    cond["renderYamlToDirectory"] = f"when it changes (DiffConfig, {prov_path})"
    cond["clusterIdentifier"] = f"when it changes; an unchanged clusterIdentifier suppresses the others (DiffConfig, {prov_path})"
    out["pulumi:providers:kubernetes"] = {"paths": [], "conditional": cond}
    prov["pulumi:providers:kubernetes"] = f"{prov_path}: DiffConfig"
    notes["pulumi:providers:kubernetes"] = "replaced only on the conditional keys (DiffConfig)"
    return out, prov


# ---- pulumi-eks ----------------------------------------------------------------------------------

def eks_entries(tree: GitTree, cluster: dict) -> tuple[dict, dict]:
    ts_path = "nodejs/eks/cluster/cluster.ts"
    ts = tree.read(ts_path)
    start = ts.find("new aws.eks.Cluster(")
    if start < 0:
        raise GenerateError("cluster.ts: aws.eks.Cluster not created any more")
    block = ts[start:ts.find("\n    );", start)]
    ign = re.search(r"ignoreChanges:\s*\[(.*?)\]", block, re.S)
    ignored = set(re.findall(r'"([^"]+)"', ign.group(1))) if ign else set()
    replace_paths = set(cluster["paths"])
    cond_paths = cluster["conditional"]

    def hits(target, pool):
        return sorted(p for p in pool if p not in ignored and (p == target or p.startswith(target + ".")
                                                               or target.startswith(p + ".")))

    paths, cond, flows = set(), {}, {}
    for comp_input, target, evidence in EKS_FLOWS:
        if not re.search(evidence, ts):
            raise GenerateError(f"cluster.ts: flow {comp_input} -> {target} no longer visible ({evidence})")
        flows.setdefault(comp_input, []).append(target)
        if hits(target, replace_paths):
            paths.add(comp_input)
        for p in hits(target, cond_paths):
            cond.setdefault(comp_input, f"aws:eks/cluster:Cluster `{p}`: {cond_paths[p]}")
    schema = json.loads(tree.read("provider/cmd/pulumi-resource-eks/schema.json"))
    roc = sorted(k for k, v in schema["resources"]["eks:index:Cluster"]["inputProperties"].items()
                 if v.get("replaceOnChanges"))
    paths |= set(roc)
    for k in list(cond):
        if k in paths:
            del cond[k]
    prov = {
        "component": f"{ts_path} (aws.eks.Cluster inputs; ignoreChanges {sorted(ignored)})",
        "schema_replaceOnChanges": roc,
        "flows": {k: sorted(set(v)) for k, v in sorted(flows.items())},
    }
    return {"paths": sorted(paths), "conditional": cond}, prov


# ---- main ----------------------------------------------------------------------------------------

def preview_types(paths) -> dict[str, bool]:
    """type -> custom? for every newState in the given previews."""
    out = {}
    for p in paths:
        for step in json.loads(Path(p).read_text()).get("steps", []):
            ns = step.get("newState") or {}
            if ns.get("type"):
                out[ns["type"]] = bool(ns.get("custom"))
    return out


def generate(args) -> str:
    src = open_source(args.tf_source, args.tf_ref)
    attr_csv = args.tf_attr_names
    if attr_csv is None:
        text = src.tree.read("names/attr_constants.csv")
        if text is None:
            raise GenerateError("--tf-attr-names is needed for this --tf-source")
        attr_csv = Path("/tmp/attr_constants.csv")
        attr_csv.write_text(text)
    extractor = Extractor(src, load_attr_names(attr_csv))
    sdk = SdkNames(args.pulumi_aws_sdk)
    k8s = GitTree(args.pulumi_kubernetes, args.kubernetes_ref)
    eks = GitTree(args.pulumi_eks, args.eks_ref)

    types, conditional, notes, provenance = {}, {}, {}, {}
    aws_report: dict = {}
    for token, tf_type in sorted(AWS_TYPES.items()):
        entry = aws_entries(extractor, sdk, token, tf_type, aws_report)
        types[token] = entry["paths"]
        if entry["conditional"]:
            conditional[token] = entry["conditional"]
    provenance.update(aws_report)

    k8s_entries, k8s_prov = kubernetes_entries(k8s, KUBERNETES_TYPES, notes)
    for token, entry in k8s_entries.items():
        types[token] = entry["paths"]
        if entry["conditional"]:
            conditional[token] = entry["conditional"]
        provenance[token] = {"pulumi-kubernetes": k8s_prov[token]}

    eks_entry, eks_prov = eks_entries(eks, {"paths": types["aws:eks/cluster:Cluster"],
                                            "conditional": conditional.get("aws:eks/cluster:Cluster", {})})
    types["eks:index:Cluster"] = eks_entry["paths"]
    if eks_entry["conditional"]:
        conditional["eks:index:Cluster"] = eks_entry["conditional"]
    provenance["eks:index:Cluster"] = eks_prov

    types["pulumi:providers:aws"] = []
    notes["pulumi:providers:aws"] = (
        "the bridge replaces a provider only for config keys marked ForcesProviderReplace "
        "(pulumi-terraform-bridge pkg/tfbridge/provider.go, configDiffer.DiffConfig); pulumi-aws took that mark "
        "off `region` for v7 (pulumi/pulumi-aws#5656). Not re-read from v7.51.1's resources.go: the pulumi-aws "
        "snapshot is over the fetch limit.")

    seen = preview_types(args.preview)
    missing = []
    for token, custom in sorted(seen.items()):
        if token in types:
            continue
        if not custom:
            types[token] = []
            notes[token] = COMPONENT_NOTE
        else:
            missing.append(token)
    if missing:
        raise GenerateError(f"types in the previews without metadata (add them to AWS_TYPES/KUBERNETES_TYPES): {missing}")
    for token, paths in types.items():
        if not paths and token not in notes:
            notes[token] = ("upstream marks no input as replacing" +
                            (" unconditionally; see `conditional`" if token in conditional else ""))

    k8s_sdk = _installed_version("pulumi_kubernetes")
    eks_sdk = _installed_version("pulumi_eks")
    doc = {
        "source": {
            "generated_by": "tools/replace_metadata/generate.py (see its docstring for the command)",
            "date_read": READ_DATE,
            "pulumi-aws": {
                "pinned": sdk.version(),
                "names_from": "pulumi_aws Python SDK XArgs classes (generated from the provider schema)",
                "bridged_terraform_provider": (
                    "later than v6.58.0: pulumi_aws 7.51.1 ships resources that terraform-provider-aws added after "
                    "v6.58.0 (e.g. aws:agentregistry/registry:Registry; every resource added up to v6.58.0 is there). "
                    "The exact upstream commit is not readable here: the pulumi/pulumi-aws (731 MB) and "
                    "hashicorp/terraform-provider-aws (932 MB) snapshots exceed the 500 MB fetch limit."),
                "licence": "Apache-2.0",
            },
            "terraform-provider-aws": {
                "version": src.version(),
                "layout": src.layout,
                "repository": ("lonegunmanb/terraform-provider-aws-index (verbatim per-declaration copies of "
                               "hashicorp/terraform-provider-aws, one tag per release)" if src.layout == "index"
                               else "hashicorp/terraform-provider-aws"),
                "ref": args.tf_ref,
                "commit": src.tree.commit,
                "commit_date": src.tree.commit_date,
                "attr_constants": ("names/attr_constants.csv, hashicorp/terraform-provider-aws commit "
                                   "26511610ff8e2c21cb3cd3b716b14fcf518a8051" if args.tf_attr_names else
                                   "names/attr_constants.csv of the same commit"),
                "licence": "MPL-2.0 (derived data only: attribute names and their replace flags)",
            },
            "pulumi-kubernetes": {
                "pinned": k8s_sdk, "repository": "pulumi/pulumi-kubernetes", "ref": args.kubernetes_ref,
                "commit": k8s.commit, "commit_date": k8s.commit_date,
                "files": ["provider/pkg/provider/diff.go", "provider/pkg/provider/provider.go",
                          "provider/pkg/provider/helm_release.go"],
                "licence": "Apache-2.0",
            },
            "pulumi-eks": {
                "pinned": eks_sdk, "repository": "pulumi/pulumi-eks", "ref": args.eks_ref,
                "commit": eks.commit, "commit_date": eks.commit_date,
                "files": ["nodejs/eks/cluster/cluster.ts", "provider/cmd/pulumi-resource-eks/schema.json"],
                "licence": "Apache-2.0",
            },
        },
        "types": {k: types[k] for k in sorted(types)},
        "conditional": {k: dict(sorted(conditional[k].items())) for k in sorted(conditional)},
        "notes": {k: notes[k] for k in sorted(notes)},
        "provenance": {k: provenance[k] for k in sorted(provenance)},
    }
    src.tree.close()
    k8s.close()
    eks.close()
    return json.dumps(doc, indent=1, sort_keys=False) + "\n"


def _installed_version(dist: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _default_sdk() -> str:
    import importlib.util
    spec = importlib.util.find_spec("pulumi_aws")
    return str(Path(spec.origin).parent) if spec and spec.origin else ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tf-source", required=True)
    ap.add_argument("--tf-ref", required=True)
    ap.add_argument("--tf-attr-names")
    ap.add_argument("--pulumi-kubernetes", required=True)
    ap.add_argument("--kubernetes-ref", default="HEAD")
    ap.add_argument("--pulumi-eks", required=True)
    ap.add_argument("--eks-ref", default="HEAD")
    ap.add_argument("--pulumi-aws-sdk", default=_default_sdk())
    ap.add_argument("--preview", nargs="*", default=[str(p) for p in sorted((REPO / "build").glob("preview-*.json"))])
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    try:
        text = generate(args)
    except GenerateError as err:
        print(f"generate: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.check:
        same = out.exists() and out.read_text() == text
        print("replace_on.json is up to date" if same else "replace_on.json differs from the generated data")
        return 0 if same else 1
    out.write_text(text)
    print(f"wrote {out} ({len(json.loads(text)['types'])} types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
