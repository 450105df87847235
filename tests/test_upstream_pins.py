"""tools.upstream.pins on small hand-made preview documents, against the recorded lists in
tools/upstream/data/pins/ (a released pin gives no finding; a made-up one gives one)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tools.upstream import Finding, pins
from tools.upstream.pins import DATA

TODAY = date(2026, 11, 26)
P = "urn:pulumi:t::global-platform::"


def step(urn_tail: str, typ: str, inputs: dict, **state) -> dict:
    urn = f"{P}{typ}::{urn_tail}"
    return {"op": "create", "urn": urn, "newState": {"urn": urn, "type": typ, "inputs": inputs, **state}}


def cluster(version="1.34", name="t-apne2", **inputs) -> dict:
    return step("eks", "eks:index:Cluster", {"name": name, "version": version, **inputs})


def nodeclass(alias: str) -> dict:
    return step("nodeclass", "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
                {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
                 "spec": {"amiSelectorTerms": [{"alias": alias}]}})


def release(chart: str, version, values=None, repo=None) -> dict:
    inputs = {"chart": chart, "values": values or {}}
    if version is not None:
        inputs["version"] = version
    if repo:
        inputs["repositoryOpts"] = {"repo": repo}
    return step(f"rel-{chart.rsplit('/', 1)[-1]}", "kubernetes:helm.sh/v3:Release", inputs)


def addon(name: str, version: str, cluster_name="t-apne2") -> dict:
    return step(f"addon-{name}", "aws:eks/addon:Addon",
                {"addonName": name, "addonVersion": version, "clusterName": cluster_name})


def run(*steps) -> list[Finding]:
    return pins.check({"steps": list(steps)}, today=TODAY)


def paths(found) -> list[tuple[str, str]]:
    return sorted((f.urn.rsplit("::", 1)[-1], f.path) for f in found)


# --- the recorded lists ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.json")))
def test_every_list_says_where_it_came_from(name):
    doc = json.loads((DATA / name).read_text())
    for field in ("source", "read", "licence"):
        assert doc.get(field), f"{name} lacks '{field}'"


def test_hand_recorded_versions_each_carry_their_url():
    for rows in json.loads((DATA / "eks-addon-versions.json").read_text())["addons"].values():
        for row in rows:
            assert row["url"].startswith("https://") and row["kubernetes"] and row["version"]
    for row in json.loads((DATA / "eks-kubernetes-versions.json").read_text())["versions"]:
        assert row["url"].startswith("https://")
        assert row["eks_release"] < row["end_of_standard"] < row["end_of_extended"]


# --- Karpenter AMI alias ------------------------------------------------------------------------

def test_ami_alias_on_a_release_passes():
    assert run(cluster(), nodeclass("al2023@v20251108")) == []


def test_ami_alias_on_a_date_that_is_no_release_is_a_finding():
    found = run(cluster(), nodeclass("al2023@v20251110"))
    assert paths(found) == [("nodeclass", "spec.amiSelectorTerms[0].alias")]
    msg = found[0].message
    assert "al2023@v20251110" in msg and "not an EKS AMI release" in msg
    assert "v20251108" in msg and "v20251112" in msg  # the nearest releases


def test_ami_alias_newer_than_the_list_is_unconfirmed():
    found = run(cluster(), nodeclass("al2023@v20991231"))
    assert len(found) == 1 and "newer than every recorded" in found[0].message


def test_ami_alias_latest_is_no_pin_and_a_bad_version_is_a_finding():
    assert run(cluster(), nodeclass("al2023@latest")) == []
    assert len(run(cluster(), nodeclass("al2023@2025-11-08"))) == 1


# --- Helm charts ----------------------------------------------------------------------------------

def test_released_chart_versions_pass():
    assert run(cluster(),
               release("argo-cd", "10.1.1", repo="https://argoproj.github.io/argo-helm"),
               release("oci://public.ecr.aws/karpenter/karpenter", "1.8.6"),
               release("keda", "2.20.2"),
               release("cluster-autoscaler", "9.53.0")) == []


def test_unknown_chart_version_is_a_finding_naming_the_nearest_releases():
    found = run(cluster(), release("argo-cd", "10.1.7"))
    assert paths(found) == [("rel-argo-cd", "version")]
    assert "10.1.7" in found[0].message and "10.1.1" in found[0].message


def test_unpinned_and_unknown_charts_are_findings():
    assert paths(run(cluster(), release("keda", None))) == [("rel-keda", "version")]
    assert paths(run(cluster(), release("somechart", "1.0.0"))) == [("rel-somechart", "chart")]


# --- image tags in Helm values --------------------------------------------------------------------

def test_cluster_autoscaler_image_of_the_clusters_minor_newest_patch_passes():
    newest_133 = max((r["tag"] for r in pins.load("images.json")["images"]["cluster-autoscaler"]["releases"]
                      if r["tag"].startswith("v1.33.")), key=pins._vkey)
    values = {"autoDiscovery": {"clusterName": "t-apne2"}, "image": {"tag": newest_133}}
    found = run(cluster("1.33"), release("cluster-autoscaler", "9.53.0", values))
    assert paths(found) == [("eks", "version")]  # only the cluster's own (1.33 is in extended support)
    values["image"]["tag"] = "v1.33.0"  # released, but not the newest 1.33.x
    found = run(cluster("1.33"), release("cluster-autoscaler", "9.53.0", values))
    assert ("rel-cluster-autoscaler", "values.image.tag") in paths(found)
    assert any(f"not the newest 1.33.x release (newest recorded: {newest_133}" in f.message for f in found)


def test_cluster_autoscaler_image_checks():
    values = {"autoDiscovery": {"clusterName": "t-apne2"}, "image": {"tag": "v1.33.99"}}
    found = run(cluster("1.34"), release("cluster-autoscaler", "9.53.0", values))
    assert paths(found) == [("rel-cluster-autoscaler", "values.image.tag")]
    assert "not a recorded cluster-autoscaler release" in found[0].message
    values["image"]["tag"] = "v1.33.0"  # released, but a 1.33 autoscaler on a 1.34 cluster
    found = run(cluster("1.34"), release("cluster-autoscaler", "9.53.0", values))
    assert len(found) == 1 and "does not match the cluster's Kubernetes 1.34" in found[0].message


# --- EKS add-ons ----------------------------------------------------------------------------------

def test_add_on_versions_seen_in_an_aws_source_pass():
    assert run(cluster("1.34"), addon("coredns", "v1.12.4-eksbuild.1")) == []
    assert run(cluster("1.34", kubeProxyAddonOptions={"version": "v1.34.1-eksbuild.2"},
                       corednsAddonOptions={"enabled": True, "version": "v1.12.4-eksbuild.1"})) == []


def test_unknown_add_on_version_is_unconfirmed():
    found = run(cluster("1.34"), addon("coredns", "v1.12.4-eksbuild.99"))
    assert paths(found) == [("addon-coredns", "addonVersion")]
    msg = found[0].message
    assert "unconfirmed" in msg and "v1.12.4-eksbuild.99" in msg
    assert "coredns/coredns tagged v1.12.4" in msg  # what upstream did publish
    found = run(cluster("1.34", vpcCniOptions={"addonVersion": "v1.99.0-eksbuild.1"}))
    assert paths(found) == [("eks", "vpcCniOptions.addonVersion")]
    assert "has no tag v1.99.0" in found[0].message


def test_add_on_version_is_checked_for_its_own_clusters_minor():
    # v1.33.3-eksbuild.6 is a kube-proxy build for 1.33, not for 1.34
    found = run(cluster("1.33", name="a"), addon("kube-proxy", "v1.33.3-eksbuild.6", "a"))
    assert paths(found) == [("eks", "version")]  # the cluster's support status only
    found = run(cluster("1.34", name="b"), addon("kube-proxy", "v1.33.3-eksbuild.6", "b"))
    assert paths(found) == [("addon-kube-proxy", "addonVersion")]


# --- Kubernetes version ---------------------------------------------------------------------------

def test_kubernetes_version_in_standard_support_passes_and_extended_is_a_finding():
    assert run(cluster("1.34")) == []
    found = run(cluster("1.33"))
    assert paths(found) == [("eks", "version")]
    assert "past end of EKS standard support (2026-07-29)" in found[0].message
    assert "1.34 (until 2026-12-02)" in found[0].message
    assert pins.check({"steps": [cluster("1.33")]}, today=date(2026, 7, 28)) == []
    assert len(run(cluster("1.19"))) == 1  # not in the calendar at all
