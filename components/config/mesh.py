"""`mesh`: Istio in sidecar mode, and the connection pools that shield the data tier (`dbGuard`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field

from .base import EXACT_SEMVER, _Model, doc, named_pattern
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# Kubernetes minors each Istio minor is officially supported on (istio.io release announcements:
# "Istio 1.30.0 is officially supported on Kubernetes versions 1.32 to 1.36", 2026-05-18; "Istio
# 1.31.0 ... 1.32 to 1.36", 2026-08-20; istio/istio.io content/en/news/releases/1.3x.x/
# announcing-1.3x/_index.md, read 2026-11-26). A chart minor not listed here is refused until its
# row is added from its announcement.
ISTIO_K8S_SUPPORT = {
    "1.30": ("1.32", "1.36"),
    "1.31": ("1.32", "1.36"),
}
# Where Istio publishes its Helm charts. From 1.31 on, not on istio-release.storage.googleapis.com
# (removed from there, with every older version's charts, in December 2026); every version is at
# blob.istio.io (istio.io blog "An update on our move to AWS", 2026-08-21; 1.31 upgrade notes).
ISTIO_CHARTS = "https://blob.istio.io/istio-release/charts"
RETIRED_CHART_HOSTS = ("istio-release.storage.googleapis.com", "gcr.io/istio-release")
# Images: docker.io/istio is the only registry Istio publishes to from 1.31 on; gcr.io/istio-release
# and registry.istio.io are retired in late 2026 (istio.io blogs "An Update on Our Container
# Registry Migration", 2026-07-23, and "An update on our move to AWS", 2026-08-21).
ISTIO_HUB = "docker.io/istio"
RETIRED_HUBS = ("gcr.io/istio-release", "registry.istio.io")

# A sidecar may hold a few connections more than the pool limit: Envoy keeps at least one
# connection per host per connection pool even when the circuit breaker is open, so a cluster
# holds up to maxConnections + hosts x pools (Envoy docs, "Circuit breaking", Cluster maximum
# connections); a pool per worker thread (Envoy docs, "Connection pooling"). The platform pins the
# sidecars' worker threads (meshConfig.defaultConfig.concurrency) and each guarded endpoint resolves
# to one address at a time (Aurora and ElastiCache endpoints are DNS names with one A record).
SIDECAR_CONCURRENCY = 2
OVERSHOOT_PER_POD = SIDECAR_CONCURRENCY * 1

# Aurora MySQL's default max_connections per instance class (Aurora user guide, "Maximum
# connections to an Aurora MySQL DB instance", table of default values; read 2026-11-26): the
# default parameter group derives it from the instance's memory,
# GREATEST({log(DBInstanceClassMemory/805306368)*45},{log(DBInstanceClassMemory/8187281408)*1000}),
# so classes with the same memory share a value. db.r7g rows: the same memory per size as db.r6g
# (16 GiB for large up to 512 GiB for 16xlarge; EC2 instance types, memory optimized), hence the
# same default. Set `mesh.dbGuard.aurora.maxConnections` for any other class or a parameter group
# that changes it.
_SIZES = {"large": 1000, "xlarge": 2000, "2xlarge": 3000, "4xlarge": 4000, "8xlarge": 5000,
          "12xlarge": 6000, "16xlarge": 6000}
AURORA_MAX_CONNECTIONS: dict[str, int] = {
    "db.t3.medium": 90, "db.t3.large": 135, "db.t4g.medium": 90, "db.t4g.large": 135,
    **{f"db.r5.{s}": n for s, n in _SIZES.items()}, "db.r5.24xlarge": 7000,
    **{f"db.r6g.{s}": n for s, n in _SIZES.items()},
    **{f"db.r7g.{s}": n for s, n in _SIZES.items()},
    "db.x2g.large": 2000, "db.x2g.xlarge": 3000, "db.x2g.2xlarge": 4000, "db.x2g.4xlarge": 5000,
    "db.x2g.8xlarge": 6000, "db.x2g.12xlarge": 7000, "db.x2g.16xlarge": 7000,
}
# Aurora MySQL accepts max_connections up to 16,000 (same page).
AURORA_MAX_CONNECTIONS_LIMIT = 16000
# ElastiCache (Valkey, Redis OSS): maxclients is 65000 and not modifiable (ElastiCache user guide,
# "Redis OSS parameters", maxclients: Default 65000, Modifiable: No).
CACHE_MAX_CLIENTS = 65000

# Durations as DestinationRule takes them (a protobuf Duration, at least 1ms: the CRD's
# x-kubernetes-validations `duration(self) >= duration('1ms')`); whole units only here.
DURATION = named_pattern(r"^[1-9][0-9]*(ms|s|m|h)$", "duration (`500ms`, `2s`, `1m`)")


class KeepaliveSpec(_Model):
    """TCP keepalive on the sidecar's connections to the database (SO_KEEPALIVE): a connection
    left half-open by a failover or a dropped node is found and closed instead of holding a pool slot."""
    time: str = Field("60s", pattern=DURATION, description="idle time before the first probe")
    interval: str = Field("10s", pattern=DURATION, description="time between probes")
    probes: int = Field(3, ge=1, le=20, description="unanswered probes before the connection is dead")


class OutlierSpec(_Model):
    """How a sidecar stops opening connections to a database endpoint that fails: for an opaque
    TCP port, connect timeouts and connection failures count as errors (DestinationRule
    outlierDetection.consecutive5xxErrors; istio/api networking/v1alpha3/destination_rule.proto)."""
    consecutive_failures: int = Field(
        5, ge=1, le=1000, description="consecutive connect timeouts or failures that eject the endpoint's address "
                                      "(`consecutive5xxErrors`)")
    interval: str = Field("10s", pattern=DURATION, description="how often ejections are evaluated")
    base_ejection_time: str = Field(
        "30s", pattern=DURATION,
        description="how long an address stays ejected, times the number of its ejections; new connections fail "
                    "fast meanwhile, and a re-resolved address (after a failover) is not ejected")
    max_ejection_percent: int = Field(100, ge=1, le=100,
                                      description="share of the endpoint's addresses that may be ejected")


class AuroraGuardSpec(_Model):
    """Pool limits for the Aurora cluster (writer) and reader endpoints. Each is per client pod:
    the pods together may hold maxClientPods x (limit + 2) connections to an instance, and that must
    fit its `max_connections` less `reservedConnections`."""
    writer_connections_per_pod: int = Field(
        4, ge=1, le=AURORA_MAX_CONNECTIONS_LIMIT,
        description="connections one pod's sidecar opens to the cluster (writer) endpoint; more wait in the app's "
                    "pool (the sidecar refuses them)")
    reader_connections_per_pod: int = Field(
        4, ge=1, le=AURORA_MAX_CONNECTIONS_LIMIT,
        description="connections one pod's sidecar opens to the reader endpoint (which may send them all to one "
                    "reader, so each reader is checked against all of them)")
    max_connections: Optional[int] = Field(
        None, ge=1, le=AURORA_MAX_CONNECTIONS_LIMIT,
        description="each instance's max_connections, when not the instance class's default or the class is not "
                    "in the recorded table",
        json_schema_extra=doc(default="the instance class's default (`db.r7g.large`: 1000, `db.t4g.medium`: 90)"))
    reserved_connections: int = Field(
        20, ge=0, le=AURORA_MAX_CONNECTIONS_LIMIT,
        description="connections left for what is not behind the mesh: administrators, migrations, monitoring")


class CacheGuardSpec(_Model):
    """Pool limits for the cache's primary and reader endpoints (the configuration endpoint in
    cluster mode), per client pod."""
    connections_per_pod: int = Field(
        8, ge=1, le=CACHE_MAX_CLIENTS, description="connections one pod's sidecar opens to each cache endpoint")


class DbGuardSpec(_Model):
    """A ServiceEntry and a DestinationRule per database endpoint of the region (see `mesh`)."""
    max_client_pods: int = Field(
        ge=1, le=100000,
        description="the most pods with a sidecar that connect to the data tier in one region at once: the sum of "
                    "the maximum replicas (HPA, ScaledObject) of every app that does")
    connect_timeout: str = Field("2s", pattern=DURATION,
                                 description="TCP connect timeout of the sidecar to the database (`connectTimeout`)")
    tcp_keepalive: KeepaliveSpec = Field(default_factory=KeepaliveSpec, description="TCP keepalive probes")
    outlier_detection: OutlierSpec = Field(default_factory=OutlierSpec,
                                           description="ejection of failing database addresses")
    aurora: Optional[AuroraGuardSpec] = Field(
        default_factory=AuroraGuardSpec,
        description="limits for the region's Aurora endpoints (where `data.aurora` has a cluster); `null` leaves "
                    "Aurora unguarded")
    cache: Optional[CacheGuardSpec] = Field(
        default_factory=CacheGuardSpec,
        description="limits for the region's cache endpoints (where `data.cache` has one); `null` leaves the cache "
                    "unguarded")


class MeshSpec(_Model):
    """Istio from its Helm charts, `base` (the CRDs, cluster-wide) then `istiod`, in `istio-system`
    of every cluster, through the add-on mechanism. Sidecar mode: the connection limits the mesh
    exists for are a DestinationRule's `connectionPool` and `outlierDetection`, which a client's
    Envoy sidecar enforces; ambient mode's ztunnel is L4 only and applies neither (the workload
    API istiod sends it carries no connection pool or outlier settings), so ambient would need a
    waypoint proxy per database, the Gateway API CRDs and the istio-cni and ztunnel charts.

    Namespaces opt in, the platform does not own them: label an app's namespace
    `istio-injection=enabled` (or `istio.io/rev=default`) and restart its pods; a pod opts out
    with the label `sidecar.istio.io/inject: "false"`. Pods without a sidecar reach the databases
    unguarded, and a DestinationRule an app team writes for the same host in its own namespace
    replaces this one for its pods.

    `dbGuard` puts a `ServiceEntry` and a `DestinationRule` in `istio-system`, exported to every
    namespace, in front of each database endpoint the platform creates in the region: Aurora's
    cluster (writer) and reader endpoints on 3306, the cache's primary and reader endpoints on
    6379 (its configuration endpoint in cluster mode, where the nodes' own addresses stay
    unguarded). Ports are declared `TCP`: MySQL speaks first, which Istio's protocol detection
    cannot handle, and both databases require TLS, which the apps speak themselves and the
    sidecar passes through untouched (`tls.mode: DISABLE`: it neither originates nor terminates
    it). Sidecars capture DNS (`ISTIO_META_DNS_CAPTURE`) and istiod gives every ServiceEntry an
    address of its own, so the writer's and the reader's traffic, both on 3306, stay apart; the
    sidecar resolves the real name itself and follows its TTL through a failover.

    How the numbers relate to the database: a limit is per client pod, enforced by that pod's own
    sidecar, which refuses a connection beyond it at once, so the app's pool waits and retries
    and the database never sees more. N pods hold up to N x (limit + 2) connections to an
    endpoint (Envoy keeps a connection per worker thread past an open breaker; sidecars run two).
    Aurora MySQL allows `max_connections` per instance, by instance class (`db.r7g.large` 1000,
    `db.t4g.medium` 90; Aurora user guide, "Maximum connections to an Aurora MySQL DB
    instance"), so `maxClientPods` x (`writerConnectionsPerPod` + 2) must fit the writer's
    max_connections less `reservedConnections`, and `maxClientPods` x (`readerConnectionsPerPod`
    + 2) one reader's (the reader endpoint may send every pod to the same reader; with a single
    instance it is the writer, and both pools count there); the config is refused otherwise. A
    cache node takes 65000 clients. When pods need more than their share, the answer is a
    larger instance class or fewer, busier connections, not a higher limit. Outlier detection
    stops new connections to an address after `consecutiveFailures` connect timeouts or
    failures, for `baseEjectionTime`, so a struggling database is not hammered while it recovers."""
    mode: Literal["sidecar", "ambient"] = Field(
        "sidecar", description="`sidecar` only: ambient's ztunnel does not apply connection pools (see below)")
    # Istio 1.31.1 (istio.io release notes, 2026-09-21): the newest stable release recorded on
    # 2026-11-26, supported on Kubernetes 1.32-1.36.
    chart_version: str = Field(
        "1.31.1", pattern=EXACT_SEMVER,
        description="the Istio release: version of both charts (base, istiod) and of the images; its Kubernetes "
                    "support must include `cluster.version`")
    chart_repository: str = Field(
        ISTIO_CHARTS, pattern=r"^(https://|oci://)\S+$",
        description="where the charts come from: Istio's (`blob.istio.io`; the storage.googleapis.com bucket is "
                    "retired) or an internal mirror for air-gapped stacks",
        json_schema_extra=doc(type="`https://` or `oci://` URL"))
    image_hub: str = Field(
        ISTIO_HUB, pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$",
        description="registry and path of istiod's and the sidecars' images (`global.hub`): Docker Hub, a pull-through "
                    "cache or a mirror",
        json_schema_extra=doc(type="registry path"))
    db_guard: Optional[DbGuardSpec] = Field(
        None, description="connection pools, timeouts and outlier detection in front of the data tier",
        json_schema_extra=doc(default="none (no limits)"))


def aurora_max_connections(cfg: StackConfig) -> Optional[int]:
    """Each Aurora instance's max_connections: the configured one, else the class default."""
    guard = cfg.mesh.db_guard.aurora if cfg.mesh and cfg.mesh.db_guard else None
    aurora = cfg.data.aurora
    if guard is None or aurora is None:
        return None
    return guard.max_connections or AURORA_MAX_CONNECTIONS.get(aurora.instance_class)


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:2])


def _capacity_issues(cfg: StackConfig, guard: DbGuardSpec) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    pods = guard.max_client_pods
    aurora = cfg.data.aurora
    if guard.aurora is not None and aurora is not None:
        limit = aurora_max_connections(cfg)
        if limit is None:
            out.append(ConfigIssue(
                "mesh.dbGuard.aurora.maxConnections",
                f"no default max_connections is recorded for {aurora.instance_class}: set it to the instance's "
                "max_connections (SHOW VARIABLES LIKE 'max_connections')"))
        else:
            usable = limit - guard.aurora.reserved_connections
            writer = pods * (guard.aurora.writer_connections_per_pod + OVERSHOOT_PER_POD)
            reader = pods * (guard.aurora.reader_connections_per_pod + OVERSHOOT_PER_POD)
            # With one instance the reader endpoint connects to the writer (Aurora user guide, "Reader
            # endpoint"): both pools land on it.
            w, r = guard.aurora.writer_connections_per_pod, guard.aurora.reader_connections_per_pod
            per_pod = f"({w} + {OVERSHOOT_PER_POD})"
            loads = [("writer", "writerConnectionsPerPod", writer, per_pod)]
            if aurora.instances == 1:
                loads = [("writer (also the reader endpoint: one instance)", "writerConnectionsPerPod",
                          writer + reader, f"({w} + {r} + 2 x {OVERSHOOT_PER_POD})")]
            else:
                loads.append(("reader", "readerConnectionsPerPod", reader, f"({r} + {OVERSHOOT_PER_POD})"))
            for what, key, load, expr in loads:
                if load > usable:
                    out.append(ConfigIssue(
                        f"mesh.dbGuard.aurora.{key}",
                        f"{pods} pods (maxClientPods) x {expr} = {load} connections to the {what}, more than its "
                        f"max_connections {limit} ({aurora.instance_class}) less {guard.aurora.reserved_connections} "
                        f"reserved; lower the limit or maxClientPods, or use a larger instance class"))
    cache = cfg.data.cache
    if guard.cache is not None and cache is not None:
        # With no replica the reader endpoint is the primary, which then takes both pools.
        load = pods * (guard.cache.connections_per_pod + OVERSHOOT_PER_POD) * (2 if cache.replicas_per_shard == 0 else 1)
        if load > CACHE_MAX_CLIENTS:
            out.append(ConfigIssue(
                "mesh.dbGuard.cache.connectionsPerPod",
                f"{pods} pods x ({guard.cache.connections_per_pod} + {OVERSHOOT_PER_POD}) connections"
                f"{' x 2 endpoints' if cache.replicas_per_shard == 0 else ''} = {load}, more than a cache node's "
                f"{CACHE_MAX_CLIENTS} clients (maxclients)"))
    return out


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """The mesh needs clusters and a chart release supported on their Kubernetes version, from a
    host that still serves it; dbGuard needs something to guard, and must fit the database."""
    mesh = cfg.mesh
    if mesh is None:
        return []
    out: list[ConfigIssue] = []
    if cfg.cluster is None:
        out.append(ConfigIssue("mesh", "the mesh runs in the clusters: add a cluster section"))
    if mesh.mode == "ambient":
        out.append(ConfigIssue(
            "mesh.mode", "ambient's ztunnel (L4) does not apply DestinationRule connectionPool or outlierDetection, "
                         "which dbGuard is made of (that takes a waypoint proxy per database); use sidecar"))
    minor = ".".join(mesh.chart_version.split(".")[:2])
    support = ISTIO_K8S_SUPPORT.get(minor)
    if support is None:
        out.append(ConfigIssue("mesh.chartVersion",
                               f"Istio {minor} has no recorded Kubernetes support range (recorded: "
                               f"{', '.join(ISTIO_K8S_SUPPORT)}); add its row to ISTIO_K8S_SUPPORT in "
                               "components/config/mesh.py from its release announcement"))
    elif cfg.cluster is not None and not _minor(support[0]) <= _minor(cfg.cluster.version) <= _minor(support[1]):
        out.append(ConfigIssue("mesh.chartVersion",
                               f"Istio {minor} supports Kubernetes {support[0]} to {support[1]}; the clusters run "
                               f"{cfg.cluster.version}"))
    for host in RETIRED_CHART_HOSTS:
        if host in mesh.chart_repository:
            out.append(ConfigIssue("mesh.chartRepository",
                                   f"{host} no longer serves Istio's charts (none from 1.31 on, all gone in December "
                                   f"2026); use {ISTIO_CHARTS} or a mirror"))
    for hub in RETIRED_HUBS:
        if mesh.image_hub == hub or mesh.image_hub.startswith(hub + "/"):
            out.append(ConfigIssue("mesh.imageHub", f"{hub} is retired at the end of 2026; use {ISTIO_HUB} or a mirror"))
    guard = mesh.db_guard
    if guard is None:
        return out
    aurora = cfg.data.aurora
    cache = cfg.data.cache
    if (guard.aurora is None or aurora is None) and (guard.cache is None or cache is None):
        out.append(ConfigIssue("mesh.dbGuard", "nothing to guard: no data.aurora or data.cache it applies to"))
    out += _capacity_issues(cfg, guard)
    return out
