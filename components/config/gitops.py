"""`gitops`: ArgoCD on the hub cluster, deploying to every cluster; team projects; SSO."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field

from .base import EXACT_SEMVER, SLUG, _Model, doc
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig


class SsoSpec(_Model):
    issuer: str = Field(pattern=r"^https://[^\s/]+(/[^\s]*)?$", description="OIDC issuer URL, e.g. Okta",
                        json_schema_extra=doc(type="`https://` URL"))
    client_id: str = Field(min_length=1, description="the OIDC client id; its secret is `argocdSsoClientSecret`")
    groups: dict[str, Literal["admin", "readonly"]] = Field(
        min_length=1, description="`policy.csv` mapping IdP groups to `role:admin` / `role:readonly`",
        json_schema_extra=doc(type="map IdP group -> `admin` | `readonly`"))
    default_role: Literal["readonly", "none"] = Field(
        "readonly", description="role of every other signed-in user: `role:readonly`, or none")


class ArgoCdSpec(_Model):
    chart_version: str = Field(
        pattern=EXACT_SEMVER,
        description="argo-helm `argo-cd` chart version (ranges and `latest` are refused). Shipped: `10.1.1` "
                    "(Argo CD v3.4.4)")
    chart_repository: str = Field(
        "https://argoproj.github.io/argo-helm", pattern=r"^(https://|oci://)\S+$",
        description="where the chart comes from: an internal mirror for air-gapped stacks",
        json_schema_extra=doc(type="`https://` or `oci://` URL"))
    ha: bool = Field(False, description="redis-ha, two replicas of controller, server, repo-server and ApplicationSet "
                                        "controller, PDBs")
    sso: Optional[SsoSpec] = Field(
        None, description="OIDC straight to the IdP (Dex off), local admin disabled",
        json_schema_extra=doc(default="none (required in prod)"))
    domain: str = Field("argocd.internal", pattern=r"^[a-z0-9.-]+$", description="Argo CD's URL",
                        json_schema_extra=doc(type="host name"))


class AppProjectSpec(_Model):
    name: str = Field(pattern=SLUG, description="the team's `AppProject`")
    description: str = Field("", description="its description")
    source_repos: list[str] = Field(min_length=1, description="the repositories the team deploys from")
    namespaces: list[str] = Field(default_factory=lambda: ["*"],
                                  description="namespaces the team deploys to (namespaced resources only)")


class GitOpsSpec(_Model):
    """How ArgoCD reaches the spokes, link by link (each one is asserted in `tests/test_gitops.py`):
    the ArgoCD service accounts on the hub get the **hub role** through EKS Pod Identity; the hub
    role may `sts:AssumeRole` into the **spoke-access role**, whose trust names the hub role; each
    spoke has an access entry for the spoke-access role with the cluster-admin policy; and each
    spoke's cluster Secret (`argocd.argoproj.io/secret-type: cluster`) carries `awsAuthConfig`
    with the cluster name and that same role ARN. The hub registers itself as `in-cluster`. Each
    spoke's control-plane security group admits 443 from the hub VPC, which reaches it over the
    TGW. Both roles exist before any cluster, so no region waits on another region's cluster.
    Every cluster is also written to SSM Parameter Store in the hub region at
    `/global-platform/<env>/clusters/<region>` (endpoint, CA, name, OIDC issuer, role ARNs).

    `pulumi up` talks to private API endpoints (the Kubernetes provider installs ArgoCD and its
    objects), so it must run from inside the network: a CI runner in the hub VPC or on-prem over
    the VPN."""

    argocd: ArgoCdSpec = Field(description="Argo CD itself")
    repo_url: str = Field(pattern=r"^(https://|ssh://|git@)\S+$",
                          description="the app-of-apps `Application` (Kustomize) in the `platform` project: its "
                                      "repository",
                          json_schema_extra=doc(type="`https://`, `ssh://` or `git@` URL"))
    path: str = Field(min_length=1, description="the app-of-apps directory in that repository")
    target_revision: str = Field("main", min_length=1, description="the branch, tag or commit it follows")
    projects: list[AppProjectSpec] = Field(
        default_factory=list, description="one `AppProject` per team: namespaced resources only, their own repos")


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """GitOps needs clusters; SSO needs its secret; prod needs SSO."""
    issues: list[ConfigIssue] = []
    cl, gitops = cfg.cluster, cfg.gitops
    if gitops is not None and cl is None:
        issues.append(ConfigIssue("cluster", "gitops needs clusters: add a cluster section"))
    if cl is None:
        return issues
    if gitops and gitops.argocd.sso:
        if not cfg.argocd_sso_client_secret:
            issues.append(ConfigIssue("argocdSsoClientSecret",
                                      "SSO needs the OIDC client secret: pulumi config set --secret "
                                      "global-platform:argocdSsoClientSecret <value>"))
    elif gitops and cfg.environment == "prod":
        issues.append(ConfigIssue("gitops.argocd.sso", "prod ArgoCD needs SSO (the local admin is disabled)"))
    return issues
