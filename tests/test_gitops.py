"""ArgoCD on the hub, the identity chain to every spoke, reachability, the SSM registry."""

import json

import pytest

from tests.helpers import shipped

STACKS = ["dev", "prod", "airgap"]
# org (multi-account): its own identity chain test is tests/test_accounts.py
ALL_STACKS = STACKS + ["org"]
EKS = "eks:index:Cluster"
RELEASE = "kubernetes:helm.sh/v3:Release"


def clusters_by_region(r):
    return {r.regs[c.providers["aws"].rsplit("::", 1)[0]].inputs["region"]: c for c in r.of_type(EKS)}


def argocd_releases(r):
    return [x for x in r.of_type(RELEASE) if x.inputs["chart"] == "argo-cd"]


def role_by_arn(r):
    return {x.outputs["arn"]: x for x in r.of_type("aws:iam/role:Role")}


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_argocd_runs_only_on_the_hub_from_a_pinned_chart(stack):
    r = shipped(stack)
    (release,) = argocd_releases(r)
    go = r.spec.config.gitops.argocd
    assert (release.inputs["chart"], release.inputs["version"]) == ("argo-cd", go.chart_version), release.urn
    assert release.inputs["repositoryOpts"]["repo"] == go.chart_repository, release.urn
    assert release.inputs["namespace"] == "argocd", release.urn
    k8s_provider = r.regs[release.provider.rsplit("::", 1)[0]]
    hub = clusters_by_region(r)[r.spec.config.hub.name]
    assert json.loads(k8s_provider.revealed["kubeconfig"]) == hub.outputs["kubeconfig"], \
        f"{release.urn} does not target the hub cluster"


def test_prod_argocd_is_ha_with_sso_rbac_and_no_local_admin():
    r = shipped("prod")
    values = argocd_releases(r)[0].revealed["values"]
    assert values["redis-ha"]["enabled"] is True
    for part in ("controller", "server", "repoServer", "applicationSet"):
        assert values[part]["replicas"] >= 2, part
    cm, rbac = values["configs"]["cm"], values["configs"]["rbac"]
    assert cm["admin.enabled"] is False and values["dex"]["enabled"] is False
    assert "issuer: https://example.okta.com/oauth2/default" in cm["oidc.config"]
    assert "clientSecret: $argocd-oidc:clientSecret" in cm["oidc.config"]
    assert "secret" not in values["configs"], "no secret in the chart's values"
    assert set(rbac["policy.csv"].strip().splitlines()) == {"g, platform-admins, role:admin",
                                                            "g, engineering, role:readonly"}
    assert rbac["policy.default"] == "role:readonly"
    # The values are visible to reviewers and the packs; only the client secret is secret, in its own
    # Secret that Argo CD reads through `$argocd-oidc:clientSecret` (labelled part-of argocd).
    step = next(s for s in r.doc["steps"] if s["urn"] == argocd_releases(r)[0].urn)
    assert step["newState"]["inputs"]["values"]["configs"]["cm"]["admin.enabled"] is False
    assert "offline-preview-secret" not in json.dumps(r.doc), "the client secret leaked into the preview JSON"
    (oidc,) = [s for s in r.of_type("kubernetes:core/v1:Secret") if s.revealed["metadata"]["name"] == "argocd-oidc"]
    assert oidc.revealed["stringData"] == {"clientSecret": "offline-preview-secret"}
    assert oidc.inputs["stringData"] == "[secret]" or oidc.inputs["stringData"]["clientSecret"] == "[secret]"
    assert oidc.revealed["metadata"]["labels"] == {"app.kubernetes.io/part-of": "argocd"}
    assert argocd_releases(r)[0].urn in oidc.dependencies, "the secret's namespace comes with the release"


def test_dev_argocd_is_single_replica_without_sso():
    values = argocd_releases(shipped("dev"))[0].revealed["values"]
    assert values["redis-ha"]["enabled"] is False and values["server"]["replicas"] == 1
    assert "oidc.config" not in values["configs"]["cm"]


@pytest.mark.parametrize("stack", STACKS)
def test_a_cluster_secret_per_spoke_with_iam_auth_and_in_cluster_for_the_hub(stack):
    r = shipped(stack)
    hub = r.spec.config.hub.name
    clusters = clusters_by_region(r)
    secrets = {s.revealed["metadata"]["labels"]["platform/region"]: s for s in r.of_type("kubernetes:core/v1:Secret")
               if s.revealed["metadata"]["labels"].get("argocd.argoproj.io/secret-type") == "cluster"}
    assert set(secrets) == set(clusters)
    (identity,) = r.of_type("global-platform:gitops:ArgoCdIdentity")
    spoke_role = next(x for x in r.of_type("aws:iam/role:Role") if x.name.endswith("argocd-spoke-access"))
    assert secrets[hub].revealed["stringData"]["server"] == "https://kubernetes.default.svc"
    for region, secret in secrets.items():
        if region == hub:
            continue
        data = secret.revealed["stringData"]
        config = json.loads(data["config"])
        cluster = clusters[region]
        assert config["awsAuthConfig"] == {"clusterName": cluster.inputs["name"], "roleArn": spoke_role.outputs["arn"]}, \
            secret.urn
        assert data["server"] == cluster.outputs["kubeconfig"]["clusters"][0]["cluster"]["server"], secret.urn
        assert config["tlsClientConfig"]["caData"], secret.urn


@pytest.mark.parametrize("stack", STACKS)
def test_the_role_argocd_assumes_is_the_one_every_spoke_grants(stack):
    """Pod identity -> hub role -> assume spoke-access role -> access entry on each spoke."""
    r = shipped(stack)
    roles = role_by_arn(r)
    hub_cluster = clusters_by_region(r)[r.spec.config.hub.name]
    pod_ids = r.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    argocd = [p for p in pod_ids if p.inputs["namespace"] == "argocd"]
    assert {p.inputs["serviceAccount"] for p in argocd} == {
        "argocd-application-controller", "argocd-server", "argocd-applicationset-controller"}
    (hub_role_arn,) = {p.inputs["roleArn"] for p in argocd}
    assert all(p.inputs["clusterName"] == hub_cluster.inputs["name"] for p in argocd)
    hub_role = roles[hub_role_arn]
    assert "pods.eks.amazonaws.com" in hub_role.inputs["assumeRolePolicy"], hub_role.urn
    spoke_role = next(x for x in roles.values() if x.name.endswith("argocd-spoke-access"))
    trust = json.loads(spoke_role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"AWS": hub_role_arn} and "sts:AssumeRole" in trust["Action"], spoke_role.urn
    (allow,) = [p for p in r.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == hub_role.id]
    statement = json.loads(allow.inputs["policy"])["Statement"][0]
    assert statement["Resource"] == spoke_role.outputs["arn"] and "sts:AssumeRole" in statement["Action"], allow.urn

    spoke_arn = spoke_role.outputs["arn"]
    entries = [e for e in r.of_type("aws:eks/accessEntry:AccessEntry") if e.inputs["principalArn"] == spoke_arn]
    policies = r.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    for region, cluster in clusters_by_region(r).items():
        name = cluster.inputs["name"]
        mine = [e for e in entries if e.inputs["clusterName"] == name]
        if region == r.spec.config.hub.name:
            assert mine == [], "the hub uses its in-cluster service account"
            continue
        assert [e.inputs["principalArn"] for e in mine] == [spoke_role.outputs["arn"]], cluster.urn
        (assoc,) = [p for p in policies if p.inputs["clusterName"] == name]
        assert assoc.inputs["principalArn"] == spoke_role.outputs["arn"], assoc.urn
        assert assoc.inputs["policyArn"].endswith("AmazonEKSClusterAdminPolicy"), assoc.urn
        assert r.region_of(assoc) == region, f"{assoc.urn} is not in {region}"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_each_spoke_api_admits_443_from_the_hub_vpc(stack):
    r = shipped(stack)
    hub = r.spec.config.hub.name
    hub_cidr = str(r.spec.plan[hub].cidr)
    rules = r.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    for region, cluster in clusters_by_region(r).items():
        sg = cluster.outputs["clusterSecurityGroupId"]
        mine = [x for x in rules if x.inputs["securityGroupId"] == sg]
        if region == hub:
            assert mine == [], cluster.urn
        else:
            assert [(x.inputs["cidrIpv4"], x.inputs["fromPort"], x.inputs["toPort"], x.inputs["ipProtocol"])
                    for x in mine] == [(hub_cidr, 443, 443, "tcp")], cluster.urn
            assert cluster.inputs["endpointPublicAccess"] is False, "public names resolve outside the VPC"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_cluster_registry_in_ssm_under_the_environment_path(stack):
    r = shipped(stack)
    env, hub = r.spec.config.environment, r.spec.config.hub.name
    params = {p.inputs["name"]: p for p in r.of_type("aws:ssm/parameter:Parameter") if "/clusters/" in p.inputs["name"]}
    clusters = clusters_by_region(r)
    assert set(params) == {f"/global-platform/{env}/clusters/{region}" for region in clusters}
    for region, cluster in clusters.items():
        p = params[f"/global-platform/{env}/clusters/{region}"]
        assert r.region_of(p) == hub, f"{p.urn}: the registry lives in the hub region"
        value = json.loads(p.revealed["value"])
        assert value["clusterName"] == cluster.inputs["name"] and value["region"] == region, p.urn
        assert value["endpoint"].startswith("https://") and value["oidcIssuer"] == cluster.outputs["oidcIssuer"]
        assert value["roleArns"]["argocd"].endswith("argocd-spoke-access"), p.urn


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_app_projects_and_one_kustomize_app_of_apps(stack):
    r = shipped(stack)
    go = r.spec.config.gitops
    projects = {p.inputs["metadata"]["name"]: p for p in r.of_type("kubernetes:argoproj.io/v1alpha1:AppProject")}
    assert set(projects) == {"platform"} | {p.name for p in go.projects}
    for p in go.projects:
        spec = projects[p.name].inputs["spec"]
        assert spec["sourceRepos"] == p.source_repos and spec["clusterResourceWhitelist"] == [], projects[p.name].urn
    (app,) = r.of_type("kubernetes:argoproj.io/v1alpha1:Application")
    source = app.inputs["spec"]["source"]
    assert (source["repoURL"], source["path"], source["targetRevision"]) == (go.repo_url, go.path, go.target_revision)
    assert "kustomize" in source and app.inputs["spec"]["project"] == "platform", app.urn


def test_airgap_repo_server_goes_through_the_proxy():
    values = argocd_releases(shipped("airgap"))[0].revealed["values"]
    env = {e["name"]: e["value"] for e in values["repoServer"]["env"]}
    assert env["HTTPS_PROXY"] == "http://10.110.0.10:3128"
    assert "172.20.0.0/16" in env["NO_PROXY"].split(",") and ".svc" in env["NO_PROXY"].split(",")
