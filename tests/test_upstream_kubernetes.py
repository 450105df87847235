"""tools.upstream.kubernetes and tools.upstream.helm_values: Kubernetes objects against the OpenAPI
schemas of the clusters' Kubernetes version and the pinned CRDs, Helm values against the pinned
charts' key paths."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import kubernetes_validate
import pytest

from tests.helpers import shipped
from tools.upstream import CHECKS, Finding, resources
from tools.upstream import helm_values, kubernetes
from tools.upstream.refresh_crds import strip, untemplate
from tools.upstream.refresh_helm_values import EXTRA_OPEN, scan_templates, tree
from tools.upstream_check import DEFAULT_WAIVERS, load_waivers, run_checks

STACKS = ("dev", "prod", "airgap")
DATA = Path(kubernetes.__file__).resolve().parent / "data"

NODEPOOL = {
    "apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "default"},
    "spec": {
        "disruption": {"consolidateAfter": "1m", "consolidationPolicy": "WhenEmptyOrUnderutilized"},
        "limits": {"cpu": "1000"},
        "template": {"metadata": {"labels": {"platform/pool": "karpenter"}}, "spec": {
            "expireAfter": "720h",
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
            "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}]}},
    },
}
NODECLASS = {
    "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "default"},
    "spec": {
        "amiSelectorTerms": [{"alias": "al2023@v20260714"}],
        "role": "nodes",
        "securityGroupSelectorTerms": [{"tags": {"aws:eks:cluster-name": "c"}}],
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "c"}}],
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
    },
}
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "y"}, "data": {"a": "b"}}


def plan(*objects: tuple[str, dict]) -> dict:
    return {"steps": [{"op": "create", "urn": f"urn:pulumi:t::p::{typ}::r{i}", "newState": {"type": typ, "inputs": obj}}
                      for i, (typ, obj) in enumerate(objects)]}


def k8s(obj: dict) -> list[Finding]:
    group, _, version = obj["apiVersion"].rpartition("/")
    return kubernetes.check(plan((f"kubernetes:{group or 'core'}/{version}:{obj['kind']}", obj)))


def mutate(obj: dict, fn) -> dict:
    out = copy.deepcopy(obj)
    fn(out)
    return out


def release(chart: str, version: str, values) -> list[Finding]:
    return helm_values.check(plan(("kubernetes:helm.sh/v3:Release",
                                   {"chart": chart, "version": version, "values": values})))


def test_registered():
    assert "kubernetes" in CHECKS and "helm_values" in CHECKS
    assert kubernetes.NAME == "kubernetes" and helm_values.NAME == "helm-values"


# -- Kubernetes objects ----------------------------------------------------------------------
def test_compliant_objects_pass():
    assert k8s(CONFIGMAP) == []
    assert k8s(NODEPOOL) == []
    assert k8s(NODECLASS) == []


def test_core_object_unknown_field_and_wrong_type():
    bad = mutate(CONFIGMAP, lambda o: (o.update(datta={}), o["data"].update(n=5)))
    found = {(f.path, f.message.split(" [")[0]) for f in k8s(bad)}
    assert ("datta", "unknown field 'datta': not in the schema (the API server drops it, or rejects the object "
                     "under strict field validation)") in found
    assert ("data.n", "5 is not of type 'string', 'null'") in found
    # no cluster in the plan: the default version's schemas
    assert kubernetes.K8S_VERSION == "1.35.0"
    assert all("Kubernetes 1.35 OpenAPI" in f.message for f in k8s(bad))
    # kubernetes-validate's own entry point agrees on the same schemas
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.35.0", strict=True)
    kubernetes_validate.validate(CONFIGMAP, "1.35.0", strict=True)


def test_schemas_follow_the_clusters_kubernetes_version():
    bad = mutate(CONFIGMAP, lambda o: o.update(datta={}))
    cluster = ("eks:index:Cluster", {"name": "c", "version": "1.34"})
    report = kubernetes.analyse(plan(cluster, ("kubernetes:core/v1:ConfigMap", bad)))
    assert report.k8s_versions == ("1.34",)
    [f] = report.findings
    assert f.path == "datta" and "Kubernetes 1.34 OpenAPI" in f.message
    # clusters on two versions: objects are checked against both, a finding common to both once
    other = ("aws:eks/cluster:Cluster", {"name": "d", "version": "1.35"})
    report = kubernetes.analyse(plan(cluster, other, ("kubernetes:core/v1:ConfigMap", bad)))
    assert report.k8s_versions == ("1.34", "1.35")
    assert sorted(f.message.split(" [")[1] for f in report.findings) == [
        f"Kubernetes {v} OpenAPI (kubernetes-validate {kubernetes.kubernetes_validate_version()}, strict)]"
        for v in ("1.34", "1.35")]
    # a version kubernetes-validate has no schemas for is a finding on the cluster, not a crash
    report = kubernetes.analyse(plan(("eks:index:Cluster", {"name": "e", "version": "1.99"}),
                                     ("kubernetes:core/v1:ConfigMap", CONFIGMAP)))
    assert report.k8s_versions == ("1.35",)
    [f] = report.findings
    assert f.path == "version" and "ships no schemas" in f.message


def test_core_object_missing_required():
    rb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "x"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role"}}
    assert [(f.path, f.message.split(" [")[0]) for f in k8s(rb)] == [("roleRef", "'name' is a required property")]


def test_nodepool_unknown_disruption_policy():
    bad = mutate(NODEPOOL, lambda o: o["spec"]["disruption"].update(consolidationPolicy="WhenIdle"))
    [f] = k8s(bad)
    assert f.path == "spec.disruption.consolidationPolicy"
    assert "'WhenIdle' is not one of ['WhenEmpty', 'WhenEmptyOrUnderutilized', 'Balanced']" in f.message
    assert "aws/karpenter-provider-aws v1.14.1 pkg/apis/crds/karpenter.sh_nodepools.yaml" in f.message


def test_nodepool_unknown_field_and_pattern():
    bad = mutate(NODEPOOL, lambda o: (o["spec"]["template"]["spec"].update(expireAfter="30 days", requirments=[]),
                                      o["metadata"].update(lables={})))
    paths = {f.path: f.message for f in k8s(bad)}
    assert set(paths) == {"spec.template.spec.expireAfter", "spec.template.spec.requirments", "metadata.lables"}
    assert "unknown field 'requirments'" in paths["spec.template.spec.requirments"]


@pytest.mark.parametrize("alias, rule", [
    ("al2023-v20251110", "family@version"),
    ("ubuntu@v20251110", "family is not supported"),
    ("windows2022@v20251110", "windows families may only specify version 'latest'"),
    ("windows2025@v20251110", "windows families may only specify version 'latest'"),
    ("al2023@v20251110" + "0" * 20, "is too long"),
])
def test_nodeclass_bad_alias(alias, rule):
    bad = mutate(NODECLASS, lambda o: o["spec"]["amiSelectorTerms"][0].update(alias=alias))
    found = k8s(bad)
    assert {f.path for f in found} == {"spec.amiSelectorTerms[0].alias"}
    assert any(rule in f.message for f in found)


@pytest.mark.parametrize("alias", ["al2023@latest", "bottlerocket@v1.10.0", "windows2022@latest", "windows2025@latest",
                                   "al2@v20240625"])
def test_nodeclass_good_alias(alias):
    assert k8s(mutate(NODECLASS, lambda o: o["spec"]["amiSelectorTerms"][0].update(alias=alias))) == []


def test_alias_rules_still_upstream():
    """The translated CEL rules are the CRD's text verbatim: a changed rule is counted as skipped
    instead of checked wrongly, and this test says so."""
    schema = kubernetes._crd_kinds()["karpenter.k8s.aws/v1/EC2NodeClass"].crd_schema
    alias = schema["properties"]["spec"]["properties"]["amiSelectorTerms"]["items"]["properties"]["alias"]
    assert {r["rule"] for r in alias["x-kubernetes-validations"]} <= set(kubernetes.TRANSLATED_CEL)

    def rules(node):
        if isinstance(node, dict):
            yield from (r["rule"] for r in node.get("x-kubernetes-validations") or [])
            for v in node.values():
                yield from rules(v)
        elif isinstance(node, list):
            for v in node:
                yield from rules(v)
    pinned = {rule for kind in kubernetes._crd_kinds().values() for rule in rules(kind.crd_schema)}
    assert set(kubernetes.TRANSLATED_CEL) <= pinned, set(kubernetes.TRANSLATED_CEL) - pinned


def test_opaque_values_not_checked():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": "[secret]"}
    assert k8s(secret) == []


def test_patch_resources_may_be_partial():
    patch = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "x"},
             "roleRef": {"kind": "Role"}, "subjectz": []}
    found = kubernetes.check(plan(("kubernetes:rbac.authorization.k8s.io/v1:RoleBindingPatch", patch)))
    assert [f.path for f in found] == ["subjectz"]


def test_unknown_kind_is_a_finding():
    [f] = kubernetes.check(plan(("kubernetes:example.com/v1:Widget", {"metadata": {"name": "w"}})))
    assert "no schema for example.com/v1 Widget" in f.message
    # a built-in file name reached from another group is not taken for the built-in kind
    assert kubernetes.kind_for("apps.example.com/v1", "Deployment") is None
    assert kubernetes.kind_for("apps/v1", "Deployment") is not None


def test_slo_trigger_configmap_entries_are_keda_triggers():
    trig = {"type": "aws-cloudwatch", "metadata": {"awsRegion": "x", "targetMetricValue": 0.7},
            "authenticationRef": {"name": "a", "kind": "ClusterTriggerAuth"}}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "platform-slo-triggers", "namespace": "keda"},
          "data": {"t": json.dumps(trig), "u": "{not json"}}
    paths = {f.path for f in k8s(cm)}
    assert paths == {"data.t.metadata.targetMetricValue", "data.t.authenticationRef.kind", "data.u"}


def test_cel_rules_counted():
    report = kubernetes.analyse(plan(("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", NODECLASS)))
    count = report.cel["karpenter.k8s.aws/v1/EC2NodeClass"]
    assert count.evaluated == 3 and count.skipped > 0 and count.rules_in_schema >= count.evaluated


# -- Helm values -----------------------------------------------------------------------------
def test_values_typo_found():
    [f] = release("argo-cd", "10.1.1", {"server": {"replica": 2}})
    assert f.path == "values.server.replica"
    assert "did you mean 'replicas'?" in f.message and "argo-cd 10.1.1" in f.message


def test_values_wrong_shape_and_other_version_key():
    found = {f.path: f.message for f in release("oci://public.ecr.aws/karpenter/karpenter", "1.14.1", {
        "settings": {"aws": {"clusterName": "x"}, "clusterName": "c"}, "replicas": {"n": 2}})}
    assert set(found) == {"values.settings.aws", "values.replicas"}
    assert "karpenter 1.14.1" in found["values.settings.aws"]
    assert "is a map, the chart's default is a scalar" in found["values.replicas"]


def test_values_free_form_maps_pass():
    assert release("argo-cd", "10.1.1", {
        "configs": {"cm": {"url": "https://x", "oidc.config": "y"}, "rbac": {"policy.matchMode": "glob"},
                    "params": {"server.insecure": True}},
        "redis-ha": {"enabled": False, "haproxy": {"any": 1}},
        "server": {"podAnnotations": {"a": "b"}, "replicas": 2}}) == []
    assert release("cluster-autoscaler", "9.59.0", {"extraArgs": {"expander": "least-waste"}}) == []
    assert release("keda", "2.20.2", {"serviceAccount": {"operator": {"name": "keda-operator"}}}) == []


def test_values_unpinned_version_is_a_finding():
    [f] = release("keda", "2.99.0", {})
    assert f.path == "version" and "no values data for chart keda 2.99.0" in f.message
    assert release("argo-cd", "10.1.1", "[secret]") == []


def test_extra_open_maps_hold():
    for (chart, path), _why in EXTRA_OPEN.items():
        [doc] = [d for (c, _), d in helm_values.charts().items() if c == chart]
        node = doc["values"]
        for p in path:
            node = node["keys"][p]
        assert node["t"] == "map" and node["open"]


def test_template_scan_derives_keys_and_open_maps():
    root = tree({"a": {"b": 1}, "podAnnotations": {}, "extraArgs": {"v": 2}, "img": {"tag": "x"}})
    root.pop("open", None)
    scan_templates(root, {"t.yaml": "{{ .Values.hidden.key }}\n{{- range $k, $v := .Values.extraArgs }}\n"
                                    "{{ index .Values.a \"c.d\" }}\n{{- with .Values.img }}\n{{- toYaml . }}\n"})
    keys = root["keys"]
    assert keys["podAnnotations"]["open"] and keys["extraArgs"]["open"].startswith("rendered whole: t.yaml:2")
    assert keys["hidden"]["keys"]["key"]["t"] == "any" and "c.d" in keys["a"]["keys"]
    assert keys["img"]["open"] and "open" not in keys["a"]


def test_refresh_helpers():
    text = '{{- if .Values.crds.install }}\nmetadata:\n  labels:\n    a: {{ .Values.x }}\n{{- end }}\n'
    assert untemplate(text) == "metadata:\n  labels:\n    a: TEMPLATED\n"
    # a field named "description" is kept; documentation is dropped
    node = {"description": "doc", "properties": {"description": {"type": "string", "description": "d"}}}
    assert strip(node) == {"properties": {"description": {"type": "string"}}}


def test_data_files_have_sources():
    listed = (DATA / "SOURCES.md").read_text()
    for path in sorted((DATA / "crds").glob("*.json")) + sorted((DATA / "helm").glob("*.json")):
        rel = f"{path.parent.name}/{path.name}"
        assert re.search(rf"^\| {re.escape(rel)} \|.*\| Apache-2\.0 \| 2026-11-26 \|$", listed, re.M), rel
        assert path.stat().st_size < 100_000


# -- the shipped stacks ----------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_shipped_objects_all_covered_and_clean(stack):
    doc = shipped(stack).doc
    report = kubernetes.analyse(doc)
    objects = {urn for urn, typ, _ in resources(doc)
               if typ.startswith("kubernetes:") and not kubernetes.NOT_OBJECTS.match(typ)}
    assert objects and set(report.covered) == objects
    releases = [(urn, i) for urn, typ, i in resources(doc) if typ in helm_values.RELEASE_TYPES]
    assert releases
    for _urn, inputs in releases:
        key = (helm_values.chart_name(inputs["chart"]), inputs["version"])
        assert key in helm_values.charts(), key
    results = run_checks(doc, ["kubernetes", "helm-values"], tuple(load_waivers(DEFAULT_WAIVERS)))
    assert {r["name"]: r["findings"] for r in results} == {"kubernetes": [], "helm-values": []}
