"""Service mesh: Istio (sidecar mode) from its pinned charts on every cluster, base before istiod
before anything Istio validates; dbGuard's ServiceEntry and DestinationRule per database endpoint
of the region, with the configured pool limits, and the config rule that keeps pods x limit under
the database's connection limit; the readiness rule on TCP services sharing a port; the upstream
checks on the new objects, values and pins."""

from __future__ import annotations

import copy

import pytest
import yaml

from components.config import ConfigError
from components.config.mesh import AURORA_MAX_CONNECTIONS, ISTIO_CHARTS
from components.naming import region_short_code
from tests.helpers import run, shipped, variant, plan_resource
from tools.upstream import helm_values, kubernetes, pins

RELEASE = "kubernetes:helm.sh/v3:Release"
SE = "kubernetes:networking.istio.io/v1:ServiceEntry"
DR = "kubernetes:networking.istio.io/v1:DestinationRule"
RDS = "aws:rds/cluster:Cluster"
RG = "aws:elasticache/replicationGroup:ReplicationGroup"
STACKS = ("dev", "prod", "airgap")


def _releases(r, chart):
    return [x for x in r.of_type(RELEASE) if x.inputs["chart"] == chart]


def _code(reg) -> str:
    return reg.name.split("-", 1)[0]


def _by_code(regs) -> dict:
    return {_code(x): x for x in regs}


def _guarded(r) -> dict[str, dict[str, str]]:
    """region code -> object name -> host, from the AWS resources of each region."""
    out: dict[str, dict[str, str]] = {}
    for c in r.of_type(RDS):
        code = region_short_code(r.region_of(c))
        out.setdefault(code, {}).update({"aurora-writer": c.outputs["endpoint"],
                                         "aurora-reader": c.outputs["readerEndpoint"]})
    for g in r.of_type(RG):
        code = region_short_code(r.region_of(g))
        out.setdefault(code, {}).update({"cache-primary": g.outputs["primaryEndpointAddress"],
                                         "cache-reader": g.outputs["readerEndpointAddress"]})
    return out


# -- the charts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_base_then_istiod_on_every_cluster_from_the_pinned_charts(stack):
    r = shipped(stack)
    mesh = r.spec.config.mesh
    clusters = {_code(c) for c in r.of_type("eks:index:Cluster")}
    base, istiod = _by_code(_releases(r, "base")), _by_code(_releases(r, "istiod"))
    assert set(base) == set(istiod) == clusters == {region_short_code(x.name) for x in r.spec.config.regions}
    for code in clusters:
        for rel in (base[code], istiod[code]):
            assert rel.inputs["version"] == mesh.chart_version == "1.31.1", rel.urn
            assert rel.inputs["repositoryOpts"] == {"repo": mesh.chart_repository}, rel.urn
            assert rel.inputs["namespace"] == "istio-system" and rel.inputs["createNamespace"] is True, rel.urn
            assert rel.provider == base[code].provider, "both on the region's cluster"
        # the CRDs (and the default revision's webhook) first: istiod waits for base
        assert base[code].urn in istiod[code].dependencies, istiod[code].urn
        assert base[code].inputs.get("skipCrds") is not True  # CRDs are templates there anyway


def test_chart_repository_is_istios_or_the_airgap_mirror():
    assert shipped("prod").spec.config.mesh.chart_repository == ISTIO_CHARTS == \
        "https://blob.istio.io/istio-release/charts"
    airgap = shipped("airgap")
    assert all(rel.inputs["repositoryOpts"]["repo"] == "https://helm.carrier.example.net/istio"
               for rel in _releases(airgap, "istiod") + _releases(airgap, "base"))


@pytest.mark.parametrize("stack, replicas", [("prod", 2), ("dev", 1), ("airgap", 1)])
def test_istiod_tells_tcp_services_apart_and_pins_sidecar_threads(stack, replicas):
    for rel in _releases(shipped(stack), "istiod"):
        values = rel.inputs["values"]
        default = values["meshConfig"]["defaultConfig"]
        assert default["proxyMetadata"] == {"ISTIO_META_DNS_CAPTURE": "true"}, rel.urn
        assert values["env"]["PILOT_ENABLE_IP_AUTOALLOCATE"] == "true"
        assert default["concurrency"] == 2
        assert values["global"]["hub"] == "docker.io/istio"
        assert values["autoscaleEnabled"] is False and values["replicaCount"] == replicas


# -- dbGuard -------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_every_database_endpoint_of_the_region_is_guarded(stack):
    r = shipped(stack)
    guard = r.spec.config.mesh.db_guard
    expected = _guarded(r)
    istiod = _by_code(_releases(r, "istiod"))
    for typ in (SE, DR):
        found: dict[str, dict[str, str]] = {}
        for obj in r.of_type(typ):
            meta, spec = obj.inputs["metadata"], obj.inputs["spec"]
            assert meta["namespace"] == "istio-system" and spec["exportTo"] == ["*"], obj.urn
            host = spec["hosts"][0] if typ == SE else spec["host"]
            found.setdefault(_code(obj), {})[meta["name"]] = host
            assert obj.provider == istiod[_code(obj)].provider, "on its region's cluster"
            assert istiod[_code(obj)].urn in obj.dependencies, f"{obj.urn} waits for istiod (its webhook validates it)"
        assert found == expected, typ
    for se in r.of_type(SE):
        spec = se.inputs["spec"]
        port = 3306 if se.inputs["metadata"]["name"].startswith("aurora") else 6379
        assert spec["location"] == "MESH_EXTERNAL" and spec["resolution"] == "DNS" and "addresses" not in spec
        assert spec["ports"] == [{"number": port, "name": "tcp-mysql" if port == 3306 else "tcp-redis",
                                  "protocol": "TCP"}], se.urn
    for dr in r.of_type(DR):
        name, policy = dr.inputs["metadata"]["name"], dr.inputs["spec"]["trafficPolicy"]
        limit = {"aurora-writer": guard.aurora.writer_connections_per_pod,
                 "aurora-reader": guard.aurora.reader_connections_per_pod}.get(
                     name, guard.cache.connections_per_pod if guard.cache else None)
        assert policy["connectionPool"] == {"tcp": {
            "maxConnections": limit, "connectTimeout": guard.connect_timeout,
            "tcpKeepalive": {"time": "60s", "interval": "10s", "probes": 3}}}, dr.urn
        assert policy["outlierDetection"] == {"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s",
                                              "maxEjectionPercent": 100}, dr.urn
        assert policy["tls"] == {"mode": "DISABLE"}, "the app's TLS passes through"


def test_prod_guards_aurora_and_the_cache_in_every_region():
    r = shipped("prod")
    names = {(_code(x), x.inputs["metadata"]["name"]) for x in r.of_type(DR)}
    assert names == {(code, n) for code in ("apne2", "apne1", "usw2")
                     for n in ("aurora-writer", "aurora-reader", "cache-primary", "cache-reader")}


def test_cluster_mode_cache_is_guarded_at_its_configuration_endpoint(tmp_path):
    r = run("prod", variant(tmp_path, "prod", data={"cache": {"shards": 2}}))
    (group, *_) = r.of_type(RG)
    code = region_short_code(r.region_of(group))
    cache = {x.inputs["metadata"]["name"]: x for x in r.of_type(SE) if _code(x) == code and "cache" in x.name}
    assert list(cache) == ["cache-configuration"]
    assert cache["cache-configuration"].inputs["spec"]["hosts"] == [group.outputs["configurationEndpointAddress"]]


def test_a_mesh_without_db_guard_installs_istio_only(tmp_path):
    r = run("dev", variant(tmp_path, "dev", mesh={"dbGuard": None}))
    assert _releases(r, "istiod") and not r.of_type(SE) and not r.of_type(DR)


def test_no_mesh_section_no_istio(tmp_path):
    r = run("dev", variant(tmp_path, "dev", mesh=None))
    assert not _releases(r, "istiod") and not _releases(r, "base") and not r.of_type(SE)


# -- bad config ----------------------------------------------------------------------------------
def _error(tmp_path, base, null=(), **overrides) -> str:
    path = variant(tmp_path, base, **overrides)
    if null:  # variant() deletes a key given None; these keys are set to an explicit null
        doc = yaml.safe_load(path.read_text())
        node = doc["config"]
        for part in null[:-1]:
            node = node[part]
        node[null[-1]] = None
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ConfigError) as err:
        run(base, path)
    return err.value.render()


@pytest.mark.parametrize("base, overrides, key, needle", [
    ("prod", {"mesh": {"mode": "ambient"}}, "mesh.mode", "ztunnel"),
    # prod: 150 pods x (7 + 2) = 1350 > 1000 - 50
    ("prod", {"mesh": {"dbGuard": {"aurora": {"writerConnectionsPerPod": 7}}}},
     "mesh.dbGuard.aurora.writerConnectionsPerPod", "1350 connections to the writer"),
    ("prod", {"mesh": {"dbGuard": {"maxClientPods": 400}}}, "mesh.dbGuard.aurora.readerConnectionsPerPod",
     "2400 connections to the reader"),
    # dev, db.t4g.medium (90): 20 x (4 + 2) = 120 > 90 - 20
    ("dev", {"mesh": {"dbGuard": {"maxClientPods": 20}}}, "mesh.dbGuard.aurora.writerConnectionsPerPod",
     "max_connections 90 (db.t4g.medium)"),
    # one instance: the reader endpoint is the writer, both pools count: 10 x (4 + 4 + 2 x 2) = 120
    ("dev", {"data": {"aurora": {"instances": 1}}}, "mesh.dbGuard.aurora.writerConnectionsPerPod", "120 connections"),
    ("dev", {"data": {"aurora": {"instanceClass": "db.m7i.large"}}}, "mesh.dbGuard.aurora.maxConnections",
     "no default max_connections is recorded for db.m7i.large"),
    ("prod", {"mesh": {"dbGuard": {"maxClientPods": 10000}}}, "mesh.dbGuard.cache.connectionsPerPod", "65000"),
    ("dev", {"mesh": {"chartVersion": "1.29.2"}}, "mesh.chartVersion", "no recorded Kubernetes support range"),
    ("dev", {"cluster": {"version": "1.31"}}, "mesh.chartVersion", "supports Kubernetes 1.32 to 1.36"),
    ("dev", {"mesh": {"chartRepository": "https://istio-release.storage.googleapis.com/charts"}},
     "mesh.chartRepository", "blob.istio.io"),
    ("dev", {"mesh": {"imageHub": "gcr.io/istio-release"}}, "mesh.imageHub", "retired"),
    ("dev", {"mesh": {"dbGuard": {"connectTimeout": "0ms"}}}, "mesh.dbGuard.connectTimeout", "should match pattern"),
    ("dev", {"mesh": {"dbGuard": {"aurora": {"writerConectionsPerPod": 2}}}}, "mesh.dbGuard.aurora.writerConectionsPerPod",
     ""),
])
def test_bad_mesh_config_names_its_key(tmp_path, base, overrides, key, needle):
    text = _error(tmp_path, base, **overrides)
    assert f"global-platform:{key}" in text and needle in text, text
    assert "Traceback" not in text


def test_a_guard_with_nothing_to_guard_is_refused(tmp_path):
    text = _error(tmp_path, "dev", null=("global-platform:mesh", "dbGuard", "aurora"))
    assert "global-platform:mesh.dbGuard: nothing to guard" in text, text


def test_a_mesh_needs_clusters(tmp_path):
    text = _error(tmp_path, "dev", cluster=None, gitops=None, scaling=None, chaos=None, data=None, slos=None,
                  **{"lambda": None})
    assert "global-platform:mesh: the mesh runs in the clusters" in text, text


def test_the_recorded_class_defaults_follow_the_aws_table():
    # Aurora user guide, max_connections default values: memory doubles, +1000 from large to 8xlarge
    assert AURORA_MAX_CONNECTIONS["db.r7g.large"] == AURORA_MAX_CONNECTIONS["db.r6g.large"] == 1000
    assert AURORA_MAX_CONNECTIONS["db.t4g.medium"] == 90 and AURORA_MAX_CONNECTIONS["db.r6g.16xlarge"] == 6000


def test_an_explicit_max_connections_replaces_the_class_default(tmp_path):
    r = run("dev", variant(tmp_path, "dev", data={"aurora": {"instanceClass": "db.m7i.large"}},
                           mesh={"dbGuard": {"aurora": {"maxConnections": 500}}}))
    assert r.of_type(DR)


# -- readiness: TCP services on one port ---------------------------------------------------------


_res = plan_resource

def _mesh_world(capture=True, addresses=False):
    cluster = _res("eks:index:Cluster", "c", {"name": "prod-apne2"})
    k8s = _res("pulumi:providers:kubernetes", "k", {"kubeconfig": "{}"}, deps=[cluster["urn"]])
    values = {"meshConfig": {"defaultConfig": {"proxyMetadata": {"ISTIO_META_DNS_CAPTURE": "true"}}}} if capture else {}
    istiod = _res(RELEASE, "istiod", {"chart": "istiod", "namespace": "istio-system", "values": values},
                  provider=k8s["urn"])
    entries = [_res(SE, name, {"spec": {"hosts": [f"{name}.example"], "resolution": "DNS",
                                        **({"addresses": [f"240.240.0.{i}"]} if addresses else {}),
                                        "ports": [{"number": 3306, "name": "tcp-mysql", "protocol": "TCP"}]}},
                    deps=[istiod["urn"]], provider=k8s["urn"]) for i, name in enumerate(("writer", "reader"))]
    return [cluster, k8s, istiod, *entries]


@pytest.fixture
def readiness(readiness_pack):
    return readiness_pack


def _fired(pack, world):
    providers = {r["urn"]: r for r in world if r["type"].startswith("pulumi:providers:")}
    return sorted(d.urn.rsplit("::", 1)[-1] for d in pack.analyze_stack(world, providers)
                  if d.policyName == "mesh-tcp-services-distinguishable")


def test_tcp_services_sharing_a_port_need_dns_capture(readiness):
    assert _fired(readiness, _mesh_world(capture=False)) == ["reader", "writer"]
    assert _fired(readiness, _mesh_world(capture=True)) == []
    assert _fired(readiness, _mesh_world(capture=False, addresses=True)) == []


# -- upstream checks on the new objects, values and pins -----------------------------------------
def _doc_with(stack, typ, fn):
    doc = copy.deepcopy(shipped(stack).doc)
    for step in doc["steps"]:
        if step["newState"]["type"] == typ:
            fn(step["newState"]["inputs"])
            return doc, step["urn"]
    raise AssertionError(typ)


def test_the_crd_schemas_check_the_guard_objects():
    def bad(inputs):
        pool = inputs["spec"]["trafficPolicy"]["connectionPool"]["tcp"]
        pool["connectTimeout"] = "0s"            # CEL: duration(self) >= duration('1ms')
        pool["maxConections"] = 3                # not a field
        inputs["spec"]["trafficPolicy"]["tls"]["mode"] = "PASSTHROUGH"  # not a ClientTLSSettings mode
    doc, urn = _doc_with("prod", DR, bad)
    found = {(f.path, f.message.split(":")[0]) for f in kubernetes.check(doc) if f.urn == urn}
    paths = {p for p, _ in found}
    assert {"spec.trafficPolicy.connectionPool.tcp.connectTimeout", "spec.trafficPolicy.connectionPool.tcp.maxConections",
            "spec.trafficPolicy.tls.mode"} <= paths, found


def test_the_chart_values_check_the_istiod_release():
    doc = copy.deepcopy(shipped("prod").doc)
    (step, *_) = [s for s in doc["steps"] if s["newState"]["inputs"].get("chart") == "istiod"]
    step["newState"]["inputs"]["values"]["replicaCont"] = 3
    step["newState"]["inputs"]["values"]["meshConfig"]["anything"] = 1  # MeshConfig: rendered whole, open
    urn = step["urn"]
    found = [f for f in helm_values.check(doc) if f.urn == urn]
    assert [f.path for f in found] == ["values.replicaCont"] and "replicaCount" in found[0].message


def test_the_pins_know_the_istio_releases():
    doc = copy.deepcopy(shipped("dev").doc)
    assert not [f for f in pins.check(doc) if "istio" in f.message or "base" in f.message]
    for step in doc["steps"]:
        if step["newState"]["inputs"].get("chart") == "istiod":
            step["newState"]["inputs"]["version"] = "1.31.7"
    assert any(f.path == "version" and "istiod" in f.message for f in pins.check(doc))


@pytest.mark.parametrize("text, ns", [("2s", 2e9), ("1.5s", 1.5e9), ("1h30m", 5400e9), ("500ms", 5e8), ("10us", 1e4),
                                      ("0", 0), ("abc", None), ("5", None), ("1s2", None)])
def test_cel_durations_parse_as_cel_does(text, ns):
    assert kubernetes._duration_ns(text) == ns
    rule = kubernetes.TRANSLATED_CEL["duration(self) >= duration('1ms')"]
    assert rule(text) is (ns is not None and ns >= 1e6)
