"""One small mechanism for cluster add-ons (ArgoCD, Karpenter, Cluster Autoscaler, KEDA).

An add-on is a typed ``AddonSpec``: a Helm chart pinned to an exact version, its values,
and optionally an AWS identity given to its service accounts through EKS Pod Identity
(a role trusting ``pods.eks.amazonaws.com`` with exactly the policy the add-on needs).
``ClusterAddon`` turns a spec into resources on one cluster, the same way for every add-on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .cluster import RegionalCluster
from .iam import pod_identity_trust
from .naming import RegionContext


@dataclass(frozen=True, kw_only=True)
class AddonIdentity:
    namespace: str
    service_accounts: tuple[str, ...]
    policy: Optional[pulumi.Input[str]] = None  # inline policy document (JSON)
    role_arn: Optional[pulumi.Input[str]] = None  # an existing role instead of a new one


@dataclass(frozen=True, kw_only=True)
class AddonSpec:
    name: str  # short name, unique per cluster: "argocd", "karpenter", ...
    chart: str
    repository: str
    version: str
    namespace: str
    values: pulumi.Input[dict] = field(default_factory=dict)
    identity: Optional[AddonIdentity] = None
    secret_values: bool = False  # values hold a secret: keep them out of previews and logs
    timeout_seconds: int = 600
    # Helm installs a chart's crds/ only on first install, never on upgrade: charts whose CRDs
    # change between versions ship them as a separate chart, and skip them here.
    skip_crds: bool = False


@dataclass(frozen=True, kw_only=True)
class AddonArgs:
    ctx: RegionContext
    cluster: RegionalCluster
    spec: AddonSpec
    aws_provider: aws.Provider
    after: Sequence[pulumi.Resource] = ()  # e.g. the release that installs this chart's CRDs


def addon_name(ctx: RegionContext, spec: AddonSpec) -> str:
    return ctx.name("addon", spec.name)


class ClusterAddon(pulumi.ComponentResource):
    def __init__(self, name: str, args: AddonArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:addons:ClusterAddon", name, None, opts)
        ctx, cluster, spec, aws_provider, after = args.ctx, args.cluster, args.spec, args.aws_provider, args.after
        # Pods must start after the Pod Identity agent, or their first credential calls fail.
        waits = [cluster.cluster, *cluster.node_groups.values(), *cluster.addons.values(), *after]
        self.role_arn = None
        associations = []
        if spec.identity is not None:
            identity = spec.identity
            self.role_arn = identity.role_arn
            if self.role_arn is None:
                role = aws.iam.Role(ctx.name(spec.name), assume_role_policy=pod_identity_trust(),
                                    description=f"{spec.name} on {cluster.cluster_name} (EKS Pod Identity)",
                                    tags=ctx.tags(spec.name),
                                    opts=pulumi.ResourceOptions(parent=self, provider=aws_provider))
                if identity.policy is not None:
                    aws.iam.RolePolicy(ctx.name(spec.name), role=role.id, policy=identity.policy,
                                       opts=pulumi.ResourceOptions(parent=self, provider=aws_provider))
                self.role_arn = role.arn
            associations = [
                aws.eks.PodIdentityAssociation(
                    ctx.name(spec.name, "pod-identity", sa), cluster_name=cluster.cluster_name,
                    namespace=identity.namespace, service_account=sa, role_arn=self.role_arn,
                    tags=ctx.tags(f"{spec.name}-{sa}"),
                    opts=pulumi.ResourceOptions(parent=self, provider=aws_provider, depends_on=[cluster.cluster]))
                for sa in identity.service_accounts
            ]
        oci = spec.repository.startswith("oci://")
        self.release = k8s.helm.v3.Release(
            ctx.name(spec.name),
            name=spec.name,
            # OCI charts are addressed by URL; classic repositories by name plus repository.
            chart=f"{spec.repository.rstrip('/')}/{spec.chart}" if oci else spec.chart,
            repository_opts=None if oci else {"repo": spec.repository},
            version=spec.version,
            namespace=spec.namespace,
            create_namespace=True,
            skip_crds=spec.skip_crds,
            atomic=True,
            cleanup_on_fail=True,
            timeout=spec.timeout_seconds,
            values=pulumi.Output.secret(spec.values) if spec.secret_values else spec.values,
            opts=pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider,
                                        depends_on=[*waits, *associations]),
        )
        self.register_outputs({"release": self.release.name})
