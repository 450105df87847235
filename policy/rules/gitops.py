"""GitOps: Argo CD signs people in through the company's IdP with no local admin, keeps its
one secret out of its config, and runs highly available where production depends on it."""

from .base import get, resource_rule

RELEASES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")


# "argo-cd" is the upstream chart's name (argoproj/argo-helm), which the program installs
# (components/gitops.py) and the plan carries in each release's `chart`: the rule matches on it there.
def _argocd(t, p):
    chart = str(p.get("chart") or "").rstrip("/").rsplit("/", 1)[-1]
    return chart == "argo-cd"


def _values(p):
    values = p.get("values")
    return values if hasattr(values, "get") else None


def _sso(t, p):
    if not _argocd(t, p):
        return
    values = _values(p)
    if values is None:
        yield "the release's values are secret as a whole: nobody can review SSO, RBAC or the admin account"
        return
    cm = get(values, "configs", "cm", default={}) or {}
    if cm.get("admin.enabled") is not False:
        yield "the local admin account is enabled (configs.cm admin.enabled)"
    oidc = cm.get("oidc.config")
    if not oidc and get(values, "dex", "enabled", default=True) is False:
        yield "no SSO: neither oidc.config nor Dex is configured"
    elif oidc and "clientSecret:" in oidc and "clientSecret: $" not in oidc:
        yield "the OIDC client secret is written into argocd-cm instead of referenced ($<secret>:<key>)"
    rbac = get(values, "configs", "rbac", default={}) or {}
    if rbac.get("policy.default") not in ("", "role:readonly", None):
        yield f"the default role is {rbac.get('policy.default')!r}: unmapped users get more than read-only"


def _ha(t, p):
    if not _argocd(t, p):
        return
    values = _values(p)
    if values is None:
        yield "the release's values are secret as a whole: HA cannot be reviewed"
        return
    for part in ("controller", "server", "repoServer"):
        if int(get(values, part, "replicas", default=1) or 1) < 2:
            yield f"{part} runs a single replica"
    if get(values, "redis-ha", "enabled") is not True:
        yield "redis-ha is off: one Redis pod is a single point of failure"


POLICIES = [
    resource_rule("argocd-sso-no-local-admin",
                  "Argo CD signs people in through the IdP (OIDC or Dex), with no local admin account, the client "
                  "secret referenced from its own Secret, and read-only (or nothing) for unmapped users.",
                  "set gitops.argocd.sso (issuer, clientId, groups) and the argocdSsoClientSecret config secret",
                  RELEASES, _sso),
    resource_rule("argocd-ha",
                  "Argo CD runs at least two replicas of its controller, API server and repo server, with "
                  "redis-ha, where deploys depend on it.",
                  "set gitops.argocd.ha: true", RELEASES, _ha),
]
