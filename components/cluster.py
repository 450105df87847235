"""EKS per region (pulumi_eks), managed node groups in blue/green pairs, core add-ons.

The cluster is private by default, authenticates through access entries (API mode, no
aws-auth ConfigMap), encrypts secrets with a rotating KMS key, ships all five control-plane
log types to a log group with retention, and has an OIDC provider for IRSA; add-ons that
need AWS access use EKS Pod Identity.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from .naming import RegionContext, partition_of
from .iam import document, key_admin_statement, pod_identity_trust, service_trust
from .proxy import ProxyEnv, proxy_env
from .stack import StackSpec
from .wiring import RegionWiring

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
CLUSTER_ADMIN_POLICY = "arn:{p}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly",
                 "AmazonSSMManagedInstanceCore")
COLOURS = ("blue", "green")
# The idle pool is tainted, so nothing lands there and no autoscaler grows it; flipping the
# active colour taints the old pool, which drains onto the new one.
IDLE_TAINT = {"key": "platform/idle", "value": "true", "effect": "NO_SCHEDULE"}


@dataclass(frozen=True, kw_only=True)
class NodeGroupArgs:
    name: str
    instance_types: tuple[str, ...]
    capacity_type: str
    min_size: int
    max_size: int
    desired_size: int
    disk_size_gib: int
    labels: dict = field(default_factory=dict)
    taints: tuple = ()


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    ctx: RegionContext
    provider: aws.Provider
    account: pulumi.Input[str]  # the account of the region's provider (the secrets key's policy)
    cluster_name: str
    version: str
    vpc_id: pulumi.Input[str]
    worker_subnet_ids: Sequence[pulumi.Input[str]]
    private_endpoint_only: bool
    public_access_cidrs: tuple[str, ...]
    service_cidr: str
    node_groups: tuple[NodeGroupArgs, ...]
    active_colour: str
    addons: dict  # vpcCni, coredns, kubeProxy, ebsCsi, podIdentityAgent -> version
    admin_role_arns: tuple[str, ...] = ()
    extra_admin_role_arns: Sequence[pulumi.Input[str]] = ()  # e.g. ArgoCD's spoke-access role
    api_ingress_cidrs: tuple[str, ...] = ()  # other VPCs allowed to reach the API (443)
    proxy: Optional[ProxyEnv] = None
    ignore_scaling_changes: bool = False
    log_retention_days: int = 90
    logs_kms_key_arn: Optional[pulumi.Input[str]] = None
    protect_stateful: bool = False


def cluster_args(spec: StackSpec, w: RegionWiring) -> Optional[ClusterArgs]:
    """The region's EKS cluster, in the region's network; spokes grant the hub's Argo CD access
    role (w.argocd_access_role_arn) and admit the hub VPC to their API."""
    cfg = spec.config
    cl = cfg.cluster
    if cl is None:
        return None
    is_hub = w.ctx.region == cfg.hub.name
    addons = {k: getattr(cl.addons, snake) for k, snake in (
        ("vpcCni", "vpc_cni"), ("coredns", "coredns"), ("kubeProxy", "kube_proxy"), ("ebsCsi", "ebs_csi"),
        ("podIdentityAgent", "pod_identity_agent"))}
    hub_cidr = str(spec.plan[cfg.hub.name].cidr)
    return ClusterArgs(
        ctx=w.ctx, provider=w.provider, account=w.account, cluster_name=f"{cfg.environment}-{w.ctx.code}", version=cl.version,
        vpc_id=w.network.vpc.id, worker_subnet_ids=[s.id for s in w.network.subnets["workers"]],
        private_endpoint_only=cl.endpoint_access == "private",
        public_access_cidrs=tuple(str(c) for c in cl.public_access_cidrs),
        service_cidr=str(cl.service_cidr),
        node_groups=tuple(NodeGroupArgs(
            name=ng.name, instance_types=tuple(ng.instance_types), capacity_type=ng.capacity_type,
            min_size=ng.min_size, max_size=ng.max_size, desired_size=ng.desired_size,
            disk_size_gib=ng.disk_size_gib, labels=dict(ng.labels), taints=tuple(ng.taints)) for ng in cl.node_groups),
        active_colour=cl.blue_green.active,
        addons=addons,
        admin_role_arns=tuple(cl.admin_role_arns),
        extra_admin_role_arns=(w.argocd_access_role_arn,) if w.argocd_access_role_arn is not None and not is_hub else (),
        api_ingress_cidrs=(hub_cidr,) if cfg.gitops and not is_hub else (),
        proxy=proxy_env(spec, w.ctx.region),
        log_retention_days=cl.log_retention_days,
        logs_kms_key_arn=w.logs_key.arn,
        protect_stateful=cfg.environment == "prod",
        # Desired size belongs to schedules and Cluster Autoscaler once they exist.
        ignore_scaling_changes=bool(cfg.scaling and (cfg.scaling.schedules
                                                     or cfg.scaling.node_autoscaler == "clusterAutoscaler")),
    )


def node_user_data(proxy: Optional[ProxyEnv], cluster_domain_suffix: str, service_cidr: str) -> Optional[str]:
    """MIME multipart user data (what EKS merges into managed node groups' launch templates)
    that gives containerd, kubelet and the sandbox image pull the proxy settings."""
    if proxy is None:
        return None
    env = proxy.as_env((service_cidr, cluster_domain_suffix))
    lines = "\n".join(f"{k}={v}" for k, v in env.items())
    script = "\n".join([
        "#!/bin/bash",
        "set -euo pipefail",
        "cat >>/etc/environment <<'EOF'",
        lines,
        "EOF",
        "for unit in containerd kubelet sandbox-image; do",
        "  mkdir -p /etc/systemd/system/$unit.service.d",
        "  printf '[Service]\\nEnvironmentFile=/etc/environment\\n' > /etc/systemd/system/$unit.service.d/http-proxy.conf",
        "done",
        "systemctl daemon-reload",
    ])
    mime = "\n".join([
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="==BOUNDARY=="',
        "",
        "--==BOUNDARY==",
        'Content-Type: text/x-shellscript; charset="us-ascii"',
        "",
        script,
        "",
        "--==BOUNDARY==--",
        "",
    ])
    return base64.b64encode(mime.encode()).decode()


class RegionalCluster(pulumi.ComponentResource):
    def __init__(self, name: str, args: ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:cluster:RegionalCluster", name, None, opts)
        ctx, a = args.ctx, args
        self.cluster_name = a.cluster_name
        partition = partition_of(ctx.region)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=a.protect_stateful)

        # An explicit key policy (the default one, written out: the account administers the key
        # and grants its use through IAM, as EKS envelope encryption expects), so what the key
        # allows is reviewable in the plan rather than implied.
        self.secrets_key = aws.kms.Key(
            ctx.name("eks-secrets"), description=f"EKS secrets encryption for {a.cluster_name}",
            enable_key_rotation=True, deletion_window_in_days=30, tags=ctx.tags("eks-secrets"),
            policy=pulumi.Output.from_input(a.account).apply(
                lambda acct: document([key_admin_statement(acct, partition)])), opts=stateful)
        aws.kms.Alias(ctx.name("eks-secrets"), name=f"alias/global-platform/{a.cluster_name}/secrets",
                      target_key_id=self.secrets_key.key_id, opts=child)
        # Pre-created so EKS writes into it: the group EKS creates by itself never expires.
        self.control_plane_logs = aws.cloudwatch.LogGroup(
            ctx.name("eks-logs"), name=f"/aws/eks/{a.cluster_name}/cluster",
            retention_in_days=a.log_retention_days, kms_key_id=a.logs_kms_key_arn,
            tags=ctx.tags("eks-logs"), opts=child)

        self.node_role = aws.iam.Role(
            ctx.name("eks-nodes"),
            assume_role_policy=service_trust("ec2.amazonaws.com"),
            tags=ctx.tags("eks-nodes"), opts=child)
        node_policies = [aws.iam.RolePolicyAttachment(
            ctx.name("eks-nodes", p.lower().replace("_", "-")), role=self.node_role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/{p}", opts=child) for p in NODE_POLICIES]

        admin = {"type": "cluster"}
        access_entries = {
            f"admin-{i}": eks.AccessEntryArgs(
                principal_arn=arn,
                access_policies={"cluster-admin": eks.AccessPolicyAssociationArgs(
                    policy_arn=CLUSTER_ADMIN_POLICY.format(p=partition), access_scope=admin)})
            for i, arn in enumerate(a.admin_role_arns)
        }
        self.cluster = eks.Cluster(
            ctx.name("eks"),
            name=a.cluster_name,
            version=a.version,
            vpc_id=a.vpc_id,
            private_subnet_ids=list(a.worker_subnet_ids),
            node_associate_public_ip_address=False,
            endpoint_private_access=True,
            endpoint_public_access=not a.private_endpoint_only,
            public_access_cidrs=list(a.public_access_cidrs) or None,
            kubernetes_service_ip_address_range=a.service_cidr,
            authentication_mode="API",  # access entries only; no aws-auth ConfigMap
            access_entries=access_entries,
            create_oidc_provider=True,
            encryption_config_key_arn=self.secrets_key.arn,
            enabled_cluster_log_types=LOG_TYPES,
            skip_default_node_group=True,
            # No pulumi-eks security groups: then `cluster_security_group_id` is the group EKS itself
            # creates, the one on the control plane's ENIs and on every node (managed node groups
            # whose launch template names no group get it; Karpenter selects it by its
            # aws:eks:cluster-name tag). Otherwise it is pulumi-eks's control-plane-only group
            # (pulumi-eks nodejs/eks/cluster/cluster.ts @7bf0c1b: clusterSecurityGroup?.id ??
            # vpcConfig.clusterSecurityGroupId), and the data tier's "from the nodes" rules would
            # admit nothing.
            skip_default_security_groups=True,
            deletion_protection=a.protect_stateful,
            vpc_cni_options=eks.VpcCniOptionsArgs(addon_version=a.addons["vpcCni"]),
            # CoreDNS runs a Deployment: created here, before any node exists (skip_default_node_group),
            # the add-on stays DEGRADED and times out (pulumi-eks#1819, #1525). It is created below as
            # an aws.eks.Addon once the node groups exist; vpc-cni and kube-proxy are DaemonSets and
            # must come first, so nodes can turn Ready.
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(version=a.addons["kubeProxy"]),
            proxy=a.proxy.https_proxy if a.proxy else None,
            tags=ctx.tags("eks"),
            opts=pulumi.ResourceOptions(parent=self, protect=a.protect_stateful, providers={"aws": a.provider},
                                        depends_on=[self.control_plane_logs]),
        )
        after_cluster = pulumi.ResourceOptions(parent=self, depends_on=[self.cluster])

        for i, arn in enumerate(a.extra_admin_role_arns):
            entry = aws.eks.AccessEntry(ctx.name("eks-access", str(i)), cluster_name=a.cluster_name,
                                        principal_arn=arn, type="STANDARD", tags=ctx.tags("eks-access"),
                                        opts=after_cluster)
            aws.eks.AccessPolicyAssociation(
                ctx.name("eks-access", str(i)), cluster_name=a.cluster_name, principal_arn=arn,
                policy_arn=CLUSTER_ADMIN_POLICY.format(p=partition), access_scope=admin,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]))

        for cidr in a.api_ingress_cidrs:
            # Private endpoint names resolve to private IPs everywhere, so the hub reaches
            # this API over the TGW once the control plane's SG lets it in.
            aws.vpc.SecurityGroupIngressRule(
                ctx.name("eks-api-from", cidr.replace(".", "-").replace("/", "-")),
                security_group_id=self.cluster.cluster_security_group_id, cidr_ipv4=cidr,
                ip_protocol="tcp", from_port=443, to_port=443, description="Kubernetes API from the hub VPC",
                tags=ctx.tags("eks-api-from-hub"), opts=after_cluster)

        self.node_groups = self._node_groups(a, node_policies)
        self.addons = self._addons(a)
        self.kubeconfig = self.cluster.kubeconfig_json
        # Every add-on and Kubernetes object of this cluster goes through this provider.
        self.k8s_provider = k8s.Provider(ctx.name("k8s"), kubeconfig=self.kubeconfig, enable_server_side_apply=True,
                                         opts=pulumi.ResourceOptions(parent=self))
        self.endpoint = self.kubeconfig.apply(lambda k: json.loads(k)["clusters"][0]["cluster"]["server"])
        self.certificate_authority = self.kubeconfig.apply(
            lambda k: json.loads(k)["clusters"][0]["cluster"]["certificate-authority-data"])
        self.register_outputs({"clusterName": a.cluster_name, "endpoint": self.endpoint})

    def _node_groups(self, a: ClusterArgs, node_policies) -> dict[str, aws.eks.NodeGroup]:
        """Both pools of every node group exist; the active colour carries the configured
        sizes, the other scales to zero, so one key flips traffic to upgraded nodes and back."""
        ctx = a.ctx
        out = {}
        user_data = node_user_data(a.proxy, f".{ctx.region}.eks.amazonaws.com", a.service_cidr)
        for ng in a.node_groups:
            for colour in COLOURS:
                key = f"{ng.name}-{colour}"
                lt = aws.ec2.LaunchTemplate(
                    ctx.name("lt", key),
                    description=f"{a.cluster_name} {key} nodes",
                    update_default_version=True,
                    metadata_options={"http_endpoint": "enabled", "http_tokens": "required",
                                      "http_put_response_hop_limit": 1, "instance_metadata_tags": "disabled"},
                    block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {
                        "volume_size": ng.disk_size_gib, "volume_type": "gp3", "encrypted": "true",
                        "delete_on_termination": "true"}}],
                    user_data=user_data,
                    tag_specifications=[{"resource_type": t, "tags": ctx.tags(key)} for t in ("instance", "volume")],
                    tags=ctx.tags(f"lt-{key}"),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                active = colour == a.active_colour
                scaling = ({"min_size": ng.min_size, "max_size": ng.max_size, "desired_size": ng.desired_size}
                           if active else {"min_size": 0, "max_size": ng.max_size, "desired_size": 0})
                out[key] = aws.eks.NodeGroup(
                    ctx.name("ng", key),
                    cluster_name=a.cluster_name,
                    node_group_name=key,
                    # Nodes follow the control plane: after a cluster upgrade the next `pulumi up`
                    # rolls them to the same minor (EKS updates a node group's version in place).
                    version=a.version,
                    node_role_arn=self.node_role.arn,
                    subnet_ids=list(a.worker_subnet_ids),  # private subnets only
                    instance_types=list(ng.instance_types),
                    capacity_type=ng.capacity_type,
                    scaling_config=scaling,
                    update_config={"max_unavailable_percentage": 33},
                    launch_template={"id": lt.id, "version": lt.latest_version.apply(str)},
                    labels={**ng.labels, "platform/pool": ng.name, "platform/colour": colour},
                    taints=[{"key": t["key"], "value": t.get("value"), "effect": t["effect"]} for t in ng.taints]
                    + ([] if active else [IDLE_TAINT]),
                    tags=ctx.tags(f"ng-{key}", {"platform/colour": colour, "platform/active": str(active).lower()}),
                    # No remote_access block: no SSH into nodes; use SSM Session Manager.
                    opts=pulumi.ResourceOptions(
                        parent=self, depends_on=[self.cluster, *node_policies],
                        ignore_changes=["scalingConfig.desiredSize"] if a.ignore_scaling_changes else None),
                )
        return out

    def _addons(self, a: ClusterArgs) -> dict[str, aws.eks.Addon]:
        ctx = a.ctx
        partition = partition_of(ctx.region)
        after_nodes = pulumi.ResourceOptions(parent=self, depends_on=[self.cluster, *self.node_groups.values()])
        pod_identity = aws.eks.Addon(
            ctx.name("addon", "pod-identity"), cluster_name=a.cluster_name, addon_name="eks-pod-identity-agent",
            addon_version=a.addons["podIdentityAgent"], resolve_conflicts_on_update="OVERWRITE",
            tags=ctx.tags("addon-pod-identity"), opts=after_nodes)
        ebs_role = aws.iam.Role(ctx.name("ebs-csi"), assume_role_policy=pod_identity_trust(),
                                tags=ctx.tags("ebs-csi"), opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicyAttachment(
            ctx.name("ebs-csi"), role=ebs_role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
            opts=pulumi.ResourceOptions(parent=self))
        ebs = aws.eks.Addon(
            ctx.name("addon", "ebs-csi"), cluster_name=a.cluster_name, addon_name="aws-ebs-csi-driver",
            addon_version=a.addons["ebsCsi"], resolve_conflicts_on_update="OVERWRITE",
            pod_identity_associations=[{"role_arn": ebs_role.arn, "service_account": "ebs-csi-controller-sa"}],
            tags=ctx.tags("addon-ebs-csi"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[pod_identity, *self.node_groups.values()]))
        coredns = aws.eks.Addon(
            ctx.name("addon", "coredns"), cluster_name=a.cluster_name, addon_name="coredns",
            addon_version=a.addons["coredns"], resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE", tags=ctx.tags("addon-coredns"), opts=after_nodes)
        return {"eks-pod-identity-agent": pod_identity, "aws-ebs-csi-driver": ebs, "coredns": coredns}
