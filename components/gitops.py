"""GitOps: one ArgoCD on the hub cluster deploying to every cluster over private networking.

Identity chain (each link is a resource the tests follow):
  argocd pods on the hub --(EKS Pod Identity)--> hub role
  hub role --(sts:AssumeRole, allowed by both sides)--> spoke-access role
  spoke-access role --(EKS access entry + cluster-admin association)--> each spoke's API
The spoke-access role is the ``awsAuthConfig.roleArn`` of every spoke's cluster Secret.
Both roles exist before any cluster, so spokes never wait on the hub's cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .addons import AddonArgs, AddonIdentity, AddonSpec, ClusterAddon, addon_name
from .cluster import RegionalCluster
from .iam import document, pod_identity_trust, trust
from .naming import RegionContext
from .proxy import ProxyEnv, proxy_env
from .stack import StackSpec
from .wiring import RegionWiring

if TYPE_CHECKING:
    from .platform.region import RegionalPlatform

NAMESPACE = "argocd"
OIDC_SECRET, OIDC_SECRET_KEY = "argocd-oidc", "clientSecret"  # the only secret of the Argo CD config
ARGOCD_SERVICE_ACCOUNTS = ("argocd-application-controller", "argocd-server", "argocd-applicationset-controller")
IN_CLUSTER = "https://kubernetes.default.svc"


@dataclass(frozen=True, kw_only=True)
class IdentityArgs:
    ctx: RegionContext  # the hub region's: the roles are global, named once per environment


def identity_args(spec: StackSpec, w: RegionWiring) -> Optional[IdentityArgs]:
    """Only the hub of a GitOps stack owns Argo CD's roles; spokes are handed the access role."""
    cfg = spec.config
    return IdentityArgs(ctx=w.ctx) if cfg.gitops is not None and w.ctx.region == cfg.hub.name else None


class ArgoCdIdentity(pulumi.ComponentResource):
    """The two IAM roles of the identity chain above."""

    def __init__(self, name: str, args: IdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:gitops:ArgoCdIdentity", name, None, opts)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        self.hub_role = aws.iam.Role(
            ctx.name("argocd-hub"), name=f"{ctx.environment}-argocd-hub",
            description="Assumed by ArgoCD pods on the hub cluster through EKS Pod Identity",
            assume_role_policy=pod_identity_trust(), tags=ctx.tags("argocd-hub"), opts=child)
        self.spoke_access_role = aws.iam.Role(
            ctx.name("argocd-spoke-access"), name=f"{ctx.environment}-argocd-spoke-access",
            description="ArgoCD's identity on every cluster it deploys to (awsAuthConfig.roleArn)",
            assume_role_policy=self.hub_role.arn.apply(
                lambda arn: trust({"AWS": arn}, ["sts:AssumeRole", "sts:TagSession"])),
            tags=ctx.tags("argocd-spoke-access"), opts=child)
        aws.iam.RolePolicy(
            ctx.name("argocd-hub-assume"), role=self.hub_role.id,
            policy=self.spoke_access_role.arn.apply(lambda arn: document([
                {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": arn}])),
            opts=child)
        self.register_outputs({"hubRoleArn": self.hub_role.arn, "spokeAccessRoleArn": self.spoke_access_role.arn})


@dataclass(frozen=True, kw_only=True)
class SpokeAccessArgs:
    ctx: RegionContext  # the first spoke region of an account other than the hub's (IAM is global)
    hub_role_arn: pulumi.Input[str]  # the hub's Argo CD role, in the hub's account


class SpokeAccessRole(pulumi.ComponentResource):
    """The spoke-access role of a spoke account other than the hub's: in that account, trusting the
    hub's Argo CD role (gitops-bridge#58: cross-account hub-spoke). The hub role may assume it once
    the hub allows it too (GitOpsHub adds that policy): cross-account AssumeRole needs both sides.
    Spokes of this account grant it a STANDARD access entry (same account as their clusters)."""

    def __init__(self, name: str, args: SpokeAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:gitops:SpokeAccessRole", name, None, opts)
        ctx = args.ctx
        self.role = aws.iam.Role(
            ctx.name("argocd-spoke-access"), name=f"{ctx.environment}-argocd-spoke-access",
            description="ArgoCD's identity on this account's clusters (awsAuthConfig.roleArn), assumed by the hub role",
            assume_role_policy=pulumi.Output.from_input(args.hub_role_arn).apply(
                lambda arn: trust({"AWS": arn}, ["sts:AssumeRole", "sts:TagSession"])),
            tags=ctx.tags("argocd-spoke-access"), opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"spokeAccessRoleArn": self.role.arn})


@dataclass(frozen=True, kw_only=True)
class SsoArgs:
    issuer: str
    client_id: str
    client_secret: pulumi.Input[str]
    groups: dict  # IdP group -> "admin" | "readonly"
    default_role: str


@dataclass(frozen=True, kw_only=True)
class ProjectArgs:
    name: str
    description: str
    source_repos: tuple[str, ...]
    namespaces: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class GitOpsArgs:
    hub_ctx: RegionContext
    hub_provider: aws.Provider
    hub: RegionalCluster
    spokes: dict  # region -> RegionalCluster
    identity: ArgoCdIdentity
    chart_version: str
    chart_repository: str
    ha: bool
    domain: str
    repo_url: str
    path: str
    target_revision: str
    projects: tuple[ProjectArgs, ...] = ()
    sso: Optional[SsoArgs] = None
    proxy: Optional[ProxyEnv] = None
    extra_no_proxy: tuple[str, ...] = ()
    registry: dict = field(default_factory=dict)  # region -> RegionalCluster, for SSM
    # Spokes in accounts other than the hub's: region -> their account's spoke-access role ARN, and
    # each such role once (key -> ARN) for the hub role's permission to assume it.
    spoke_role_arns: dict = field(default_factory=dict)
    cross_account_roles: dict = field(default_factory=dict)


def argocd_values(a: GitOpsArgs) -> dict:
    """Helm values for argo-helm's argo-cd chart (keys as in its values.yaml)."""
    cm: dict = {"exec.enabled": False, "url": f"https://{a.domain}", "admin.enabled": a.sso is None}
    rbac: dict = {"scopes": "[groups]", "policy.matchMode": "glob"}
    values: dict = {"global": {"domain": a.domain}, "configs": {"cm": cm, "rbac": rbac, "params": {}}}
    if a.sso:
        cm["oidc.config"] = "\n".join([
            "name: SSO",
            f"issuer: {a.sso.issuer}",
            f"clientID: {a.sso.client_id}",
            f"clientSecret: ${OIDC_SECRET}:{OIDC_SECRET_KEY}",  # from its own Secret, see GitOpsHub._oidc_secret
            "requestedScopes: [openid, profile, email, groups]",
        ]) + "\n"
        lines = [f"g, {group}, role:{role}" for group, role in sorted(a.sso.groups.items())]
        rbac["policy.csv"] = "\n".join(lines) + "\n"
        rbac["policy.default"] = "role:readonly" if a.sso.default_role == "readonly" else ""
        values["dex"] = {"enabled": False}  # OIDC straight to the IdP
    replicas = 2 if a.ha else 1
    values["controller"] = {"replicas": replicas}
    values["server"] = {"replicas": replicas}
    values["repoServer"] = {"replicas": replicas}
    values["applicationSet"] = {"replicas": replicas}
    values["redis-ha"] = {"enabled": a.ha}
    if a.ha:
        pdb = {"enabled": True, "minAvailable": 1}
        for part in ("controller", "server", "repoServer", "applicationSet"):
            values[part]["pdb"] = pdb
    if a.proxy:
        env = a.proxy.as_env(a.extra_no_proxy)
        values["repoServer"]["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    return values


def argocd_addon(a: GitOpsArgs) -> AddonSpec:
    return AddonSpec(
        name="argocd", chart="argo-cd", repository=a.chart_repository, version=a.chart_version,
        # Every value is reviewable (HA, RBAC, SSO): the one secret lives in its own Secret.
        namespace=NAMESPACE, values=argocd_values(a), timeout_seconds=900,
        identity=AddonIdentity(namespace=NAMESPACE, service_accounts=ARGOCD_SERVICE_ACCOUNTS, role_arn=a.identity.hub_role.arn),
    )


def gitops_args(spec: StackSpec, hub: "RegionalPlatform", regions: dict) -> Optional[GitOpsArgs]:
    """Argo CD on the hub cluster, deploying to every region's cluster (regions: name -> platform)."""
    cfg, go = spec.config, spec.config.gitops
    if go is None:
        return None
    sso = None
    if go.argocd.sso:
        sso = SsoArgs(issuer=go.argocd.sso.issuer, client_id=go.argocd.sso.client_id,
                      client_secret=pulumi.Output.secret(cfg.argocd_sso_client_secret),
                      groups=dict(go.argocd.sso.groups), default_role=go.argocd.sso.default_role)
    return GitOpsArgs(
        hub_ctx=hub.ctx, hub_provider=hub.provider, hub=hub.cluster,
        spokes={name: rp.cluster for name, rp in regions.items() if name != cfg.hub.name},
        identity=hub.argocd_identity, chart_version=go.argocd.chart_version,
        chart_repository=go.argocd.chart_repository, ha=go.argocd.ha,
        domain=go.argocd.domain, repo_url=go.repo_url, path=go.path, target_revision=go.target_revision,
        projects=tuple(ProjectArgs(name=p.name, description=p.description, source_repos=tuple(p.source_repos),
                                   namespaces=tuple(p.namespaces)) for p in go.projects),
        sso=sso, proxy=proxy_env(spec, cfg.hub.name), extra_no_proxy=(str(cfg.cluster.service_cidr),),
        registry={name: rp.cluster for name, rp in regions.items()},
        spoke_role_arns={name: rp.argocd_access_role_arn for name, rp in regions.items()
                         if name != cfg.hub.name and rp.argocd_access_role_arn is not None},
        cross_account_roles={rp.ctx.code: rp.argocd_spoke_access.role.arn for name, rp in regions.items()
                             if getattr(rp, "argocd_spoke_access", None) is not None
                             and rp.argocd_spoke_access_owner},
    )


class GitOpsHub(pulumi.ComponentResource):
    def __init__(self, name: str, args: GitOpsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.hub_ctx
        super().__init__("global-platform:gitops:GitOpsHub", name, None, opts)
        a = args
        self._ctx, self._spoke_role_arn = ctx, a.identity.spoke_access_role.arn
        self._spoke_role_arns = a.spoke_role_arns
        aws_opts = pulumi.ResourceOptions(parent=self, provider=a.hub_provider)
        for key, arn in sorted(a.cross_account_roles.items()):
            # The hub's side of a cross-account AssumeRole (the spoke role's trust is the other side).
            aws.iam.RolePolicy(
                ctx.name("argocd-hub-assume", key), role=a.identity.hub_role.id,
                policy=pulumi.Output.from_input(arn).apply(lambda arn: document([
                    {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": arn}])),
                opts=aws_opts)
        addon = argocd_addon(a)
        self.argocd = ClusterAddon(addon_name(ctx, addon), AddonArgs(ctx=ctx, cluster=a.hub, spec=addon,
                                                                    aws_provider=a.hub_provider),
                                   opts=pulumi.ResourceOptions(parent=self))
        self.release = self.argocd.release
        after_argocd = pulumi.ResourceOptions(parent=self, provider=a.hub.k8s_provider, depends_on=[self.release])
        if a.sso is not None:
            self._oidc_secret(a.sso.client_secret, after_argocd)

        self.cluster_secrets = [self._cluster_secret("in-cluster", IN_CLUSTER, None, ctx.region, "hub", after_argocd)]
        for region, spoke in sorted(a.spokes.items()):
            self.cluster_secrets.append(self._cluster_secret(
                spoke.cluster_name, spoke.endpoint, spoke, region, "spoke", after_argocd))

        platform = ProjectArgs(name="platform", description="Cluster add-ons and the app-of-apps",
                               source_repos=(a.repo_url,), namespaces=("*",))
        for project in (platform, *a.projects):
            self._project(project, cluster_wide=project.name == "platform", opts=after_argocd)
        self.app_of_apps = k8s.apiextensions.CustomResource(
            ctx.name("app-of-apps"),
            api_version="argoproj.io/v1alpha1", kind="Application",
            metadata={"name": "app-of-apps", "namespace": NAMESPACE,
                      "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
            spec={
                "project": "platform",
                "source": {"repoURL": a.repo_url, "path": a.path, "targetRevision": a.target_revision,
                           "kustomize": {}},
                "destination": {"server": IN_CLUSTER, "namespace": NAMESPACE},
                "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                               "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"]},
            },
            opts=after_argocd,
        )

        for region, cluster in sorted(a.registry.items()):
            self._registry_entry(region, cluster, aws_opts)
        self.register_outputs({"argocdRelease": self.release.name})

    def _oidc_secret(self, client_secret: pulumi.Input[str], opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
        """The OIDC client secret, alone in a Secret Argo CD reads through `$<secret>:<key>` in
        argocd-cm (Argo CD user guide, "Sensitive Data and SSO Client Secrets": any Secret in its
        namespace labelled app.kubernetes.io/part-of: argocd). The Helm values stay in clear."""
        return k8s.core.v1.Secret(
            self._ctx.name("argocd-oidc"),
            metadata={"name": OIDC_SECRET, "namespace": NAMESPACE,
                      "labels": {"app.kubernetes.io/part-of": "argocd"}},
            type="Opaque", string_data={OIDC_SECRET_KEY: pulumi.Output.secret(client_secret)}, opts=opts)

    def _cluster_secret(self, name: str, server: pulumi.Input[str], spoke: Optional[RegionalCluster],
                        region: str, role: str, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
        ctx = self._ctx
        if spoke is None:
            config = pulumi.Output.from_input(json.dumps({"tlsClientConfig": {"insecure": False}}))
        else:
            config = pulumi.Output.all(spoke.certificate_authority,
                                       self._spoke_role_arns.get(region, self._spoke_role_arn)).apply(
                lambda v: json.dumps({
                    "awsAuthConfig": {"clusterName": spoke.cluster_name, "roleArn": v[1]},
                    "tlsClientConfig": {"insecure": False, "caData": v[0]},
                }))
        return k8s.core.v1.Secret(
            ctx.name("argocd-cluster", name),
            metadata={"name": f"cluster-{name}", "namespace": NAMESPACE,
                      "labels": {"argocd.argoproj.io/secret-type": "cluster", "platform/region": region,
                                 "platform/role": role, "platform/environment": ctx.environment}},
            string_data={"name": name, "server": server, "config": config},
            opts=opts,
        )

    def _project(self, p: ProjectArgs, cluster_wide: bool, opts: pulumi.ResourceOptions) -> None:
        ctx = self._ctx
        spec = {
            "description": p.description,
            "sourceRepos": list(p.source_repos),
            "destinations": [{"server": "*", "namespace": ns} for ns in p.namespaces],
            # Team projects get namespaced resources only; cluster-scoped ones stay with the platform.
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}] if cluster_wide else [],
        }
        k8s.apiextensions.CustomResource(
            ctx.name("appproject", p.name), api_version="argoproj.io/v1alpha1", kind="AppProject",
            metadata={"name": p.name, "namespace": NAMESPACE}, spec=spec, opts=opts)

    def _registry_entry(self, region: str, cluster: RegionalCluster, opts: pulumi.ResourceOptions) -> None:
        """/global-platform/<env>/clusters/<region> in the hub region: tools find clusters without state."""
        ctx = self._ctx
        value = pulumi.Output.all(cluster.endpoint, cluster.certificate_authority, cluster.cluster.oidc_issuer,
                                  cluster.node_role.arn,
                                  self._spoke_role_arns.get(region, self._spoke_role_arn)).apply(lambda v: json.dumps({
                                      "clusterName": cluster.cluster_name, "region": region, "endpoint": v[0],
                                      "certificateAuthority": v[1], "oidcIssuer": v[2],
                                      "roleArns": {"nodes": v[3], "argocd": v[4]}}, sort_keys=True))
        aws.ssm.Parameter(
            ctx.name("registry", region), name=f"/global-platform/{ctx.environment}/clusters/{region}",
            type="String", tier="Standard", value=value, description=f"EKS cluster {cluster.cluster_name}",
            tags=ctx.tags(f"registry-{region}"), opts=opts)
