"""Service mesh per region: Istio in sidecar mode on the region's cluster, and `dbGuard`, the
client-side connection pools that shield the data tier when a traffic surge arrives.

Data-plane mode: sidecar. What this mesh is for is a DestinationRule's `connectionPool` and
`outlierDetection` on traffic to the databases; in sidecar mode every client pod's Envoy applies
them to its own connections. Ambient mode's node proxy, ztunnel, is L4 only and is not given
them at all: the workload API istiod sends ztunnel has, per Service, addresses, ports, a waypoint
and load-balancing preferences, but no connection pool or outlier settings (istio/istio 1.30.3
pkg/workloadapi/workload.proto, message Service), and Istio's classic traffic APIs stay alpha in
ambient (istio.io "Use Layer 7 features"). Ambient would need an egress waypoint per database
(ServiceEntry label istio.io/use-waypoint), the Gateway API CRDs, and the istio-cni and ztunnel
charts: three more moving parts in front of the database, for the same Envoy.

Install: the `base` chart (Istio's CRDs, as templates, so upgrades update them; the default
revision's validating webhook) before `istiod`, both in `istio-system`, through the add-on
mechanism; the dbGuard objects after istiod, whose webhook validates them once it runs.

Sidecar injection is opt-in per namespace, which the app teams own: `istio-injection=enabled`
(or `istio.io/rev=default`) on the namespace, `sidecar.istio.io/inject: "false"` on a pod to stay
out (istiod chart templates/mutatingwebhook.yaml); nothing is injected otherwise
(`sidecarInjectorWebhook.enableNamespacesByDefault: false`).

dbGuard, per database endpoint of the region (Aurora's cluster and reader endpoints, 3306; the
cache's primary and reader endpoints, or its configuration endpoint in cluster mode, 6379): a
ServiceEntry (MESH_EXTERNAL, resolution DNS, the port declared `TCP`) and a DestinationRule with
the per-pod pool limit, connect timeout, keepalive and outlier detection, both in `istio-system`
and exported to every namespace. TCP, not MySQL or Redis: MySQL is a server-first protocol, which
Istio's protocol sniffing cannot detect (istio.io "Protocol Selection"), and Istio's MySQL and
Redis filters (off by default: PILOT_ENABLE_MYSQL_FILTER, PILOT_ENABLE_REDIS_FILTER) would parse
bytes that are TLS here. Both databases require TLS and the apps speak it themselves; the sidecar
passes it through as opaque bytes and never originates it (`tls.mode: DISABLE`).

Two TCP ServiceEntries on one port without addresses share the sidecar's 0.0.0.0:3306 listener,
which sends both to one of them (istio.io "DNS Proxying", External TCP services without VIPs:
"particularly apparent when using ... AWS Relational Database Service"). So sidecars capture
DNS (`ISTIO_META_DNS_CAPTURE`) and istiod allocates an address per ServiceEntry
(`PILOT_ENABLE_IP_AUTOALLOCATE`, on by default in 1.31, set so it stays on): the app resolves the
writer's name to one address and the reader's to another, and each reaches its own pool. The
sidecar resolves the real name itself and follows its TTL (Istio sets respect_dns_ttl on DNS
clusters: pilot/pkg/networking/core/cluster_builder.go), so an Aurora failover is followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .addons import AddonArgs, AddonSpec, ClusterAddon, addon_name
from .cache import PORT as CACHE_PORT
from .cluster import RegionalCluster
from .config.mesh import SIDECAR_CONCURRENCY
from .database import PORT as AURORA_PORT
from .naming import RegionContext
from .stack import StackSpec
from .wiring import RegionWiring

NAMESPACE = "istio-system"
MANAGED_BY = {"app.kubernetes.io/managed-by": "global-platform", "app.kubernetes.io/part-of": "db-guard"}


@dataclass(frozen=True, kw_only=True)
class GuardedEndpoint:
    name: str  # object name in istio-system, e.g. "aurora-writer"
    host: pulumi.Input[str]  # the endpoint's DNS name (known once the database exists)
    port: int
    port_name: str
    max_connections: int  # per client sidecar


@dataclass(frozen=True, kw_only=True)
class GuardPolicy:
    connect_timeout: str
    keepalive_time: str
    keepalive_interval: str
    keepalive_probes: int
    consecutive_failures: int
    ejection_interval: str
    base_ejection_time: str
    max_ejection_percent: int


@dataclass(frozen=True, kw_only=True)
class MeshArgs:
    ctx: RegionContext
    provider: aws.Provider
    cluster: RegionalCluster
    chart_version: str
    chart_repository: str
    image_hub: str
    ha: bool = False
    endpoints: tuple[GuardedEndpoint, ...] = ()
    policy: Optional[GuardPolicy] = None


def mesh_args(spec: StackSpec, w: RegionWiring) -> Optional[MeshArgs]:
    cfg, ctx = spec.config, w.ctx
    mesh = cfg.mesh
    if mesh is None or w.cluster is None:
        return None
    endpoints: list[GuardedEndpoint] = []
    policy = None
    guard = mesh.db_guard
    if guard is not None:
        policy = GuardPolicy(
            connect_timeout=guard.connect_timeout, keepalive_time=guard.tcp_keepalive.time,
            keepalive_interval=guard.tcp_keepalive.interval, keepalive_probes=guard.tcp_keepalive.probes,
            consecutive_failures=guard.outlier_detection.consecutive_failures,
            ejection_interval=guard.outlier_detection.interval,
            base_ejection_time=guard.outlier_detection.base_ejection_time,
            max_ejection_percent=guard.outlier_detection.max_ejection_percent)
        # Both endpoints of every cluster, a global secondary's too: after a switchover its cluster
        # endpoint is the writer, and a guard nobody uses costs nothing.
        if guard.aurora is not None and w.database is not None:
            db = w.database.cluster
            endpoints += [
                GuardedEndpoint(name="aurora-writer", host=db.endpoint, port=AURORA_PORT, port_name="tcp-mysql",
                                max_connections=guard.aurora.writer_connections_per_pod),
                GuardedEndpoint(name="aurora-reader", host=db.reader_endpoint, port=AURORA_PORT,
                                port_name="tcp-mysql", max_connections=guard.aurora.reader_connections_per_pod)]
        cache = cfg.data.cache
        if guard.cache is not None and w.cache is not None and cache is not None:
            rg, limit = w.cache.replication_group, guard.cache.connections_per_pod
            if cache.shards > 1:
                # Cluster mode: clients discover the shards through the configuration endpoint,
                # then connect to each node's own address, which no ServiceEntry names.
                endpoints.append(GuardedEndpoint(name="cache-configuration", host=rg.configuration_endpoint_address,
                                                 port=CACHE_PORT, port_name="tcp-redis", max_connections=limit))
            else:
                endpoints += [
                    GuardedEndpoint(name="cache-primary", host=rg.primary_endpoint_address, port=CACHE_PORT,
                                    port_name="tcp-redis", max_connections=limit),
                    GuardedEndpoint(name="cache-reader", host=rg.reader_endpoint_address, port=CACHE_PORT,
                                    port_name="tcp-redis", max_connections=limit)]
    return MeshArgs(ctx=ctx, provider=w.provider, cluster=w.cluster, chart_version=mesh.chart_version,
                    chart_repository=mesh.chart_repository, image_hub=mesh.image_hub,
                    ha=cfg.environment == "prod", endpoints=tuple(endpoints), policy=policy)


def istiod_values(a: MeshArgs) -> dict:
    """The istiod chart's values (top-level keys: the chart merges its defaults under them,
    templates/zzz_profile.yaml)."""
    return {
        "global": {"hub": a.image_hub},
        # No HPA: it needs metrics-server, which the platform does not install; prod runs two
        # replicas, and with more than one the chart adds a PodDisruptionBudget
        # (templates/poddisruptionbudget.yaml).
        "autoscaleEnabled": False,
        "replicaCount": 2 if a.ha else 1,
        "env": {"PILOT_ENABLE_IP_AUTOALLOCATE": "true"},
        "meshConfig": {"defaultConfig": {
            # The pool overshoot the dbGuard rule counts (config/mesh.py OVERSHOOT_PER_POD) is one
            # connection per worker thread: pin the threads (else a sidecar takes its CPU limit).
            "concurrency": SIDECAR_CONCURRENCY,
            "proxyMetadata": {"ISTIO_META_DNS_CAPTURE": "true"},
        }},
    }


def service_entry_spec(e: GuardedEndpoint) -> dict:
    return {"hosts": [e.host], "location": "MESH_EXTERNAL", "resolution": "DNS", "exportTo": ["*"],
            "ports": [{"number": e.port, "name": e.port_name, "protocol": "TCP"}]}


def destination_rule_spec(e: GuardedEndpoint, p: GuardPolicy) -> dict:
    return {"host": e.host, "exportTo": ["*"], "trafficPolicy": {
        "connectionPool": {"tcp": {
            "maxConnections": e.max_connections, "connectTimeout": p.connect_timeout,
            "tcpKeepalive": {"time": p.keepalive_time, "interval": p.keepalive_interval,
                             "probes": p.keepalive_probes}}},
        # For an opaque TCP port, connect timeouts and connection failures count as 5xx errors
        # (istio/api destination_rule.proto, OutlierDetection.consecutive_5xx_errors).
        "outlierDetection": {"consecutive5xxErrors": p.consecutive_failures, "interval": p.ejection_interval,
                             "baseEjectionTime": p.base_ejection_time,
                             "maxEjectionPercent": p.max_ejection_percent},
        # The app's own TLS passes through: the sidecar neither originates nor terminates it.
        "tls": {"mode": "DISABLE"},
    }}


class RegionalMesh(pulumi.ComponentResource):
    def __init__(self, name: str, args: MeshArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:mesh:RegionalMesh", name, None, opts)
        a, ctx = args, args.ctx

        def addon(spec: AddonSpec, after=()) -> ClusterAddon:
            return ClusterAddon(addon_name(ctx, spec), AddonArgs(ctx=ctx, cluster=a.cluster, spec=spec,
                                                                 aws_provider=a.provider, after=tuple(after)),
                                pulumi.ResourceOptions(parent=self))

        # The CRDs come from base as templates (base.enableCRDTemplates, default true), so a chart
        # upgrade upgrades them too; Helm would never upgrade a crds/ directory.
        self.base = addon(AddonSpec(name="istio-base", chart="base", repository=a.chart_repository,
                                    version=a.chart_version, namespace=NAMESPACE))
        self.istiod = addon(AddonSpec(name="istiod", chart="istiod", repository=a.chart_repository,
                                      version=a.chart_version, namespace=NAMESPACE, values=istiod_values(a)),
                            after=[self.base.release])
        after = pulumi.ResourceOptions(parent=self, provider=a.cluster.k8s_provider,
                                       depends_on=[self.istiod.release])
        self.service_entries, self.destination_rules = {}, {}
        for e in a.endpoints:
            assert a.policy is not None
            meta = {"name": e.name, "namespace": NAMESPACE, "labels": MANAGED_BY}
            self.service_entries[e.name] = k8s.apiextensions.CustomResource(
                ctx.name("mesh-se", e.name), api_version="networking.istio.io/v1", kind="ServiceEntry",
                metadata=meta, spec=service_entry_spec(e), opts=after)
            self.destination_rules[e.name] = k8s.apiextensions.CustomResource(
                ctx.name("mesh-dr", e.name), api_version="networking.istio.io/v1", kind="DestinationRule",
                metadata=meta, spec=destination_rule_spec(e, a.policy), opts=after)
        self.register_outputs({"istiod": self.istiod.release.name,
                               "guarded": sorted(self.service_entries)})
