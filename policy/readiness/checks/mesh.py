"""Istio: TCP services outside the mesh that share a port must be told apart, or one gets the
other's traffic."""

from __future__ import annotations

from .graph import RELEASE_TYPES, Graph, as_list, chart_name, get
from .rule import readiness_rule

# Ports Istio proxies as opaque TCP: it can route them by destination address and port only
# (istio/istio pkg/config/protocol/instance.go: TCP, and Mongo/Redis/MySQL, which stay plain TCP
# unless their filters are switched on). HTTP is routed by host and TLS by SNI.
OPAQUE_TCP = frozenset({"tcp", "mongo", "redis", "mysql"})
SERVICE_ENTRY = ("kubernetes:networking.istio.io/v1:ServiceEntry", "kubernetes:networking.istio.io/v1beta1:ServiceEntry",
                 "kubernetes:networking.istio.io/v1alpha3:ServiceEntry")


def _truthy(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _distinguishes(release) -> bool:
    """DNS capture on the sidecars and an address per ServiceEntry from istiod (istio.io, "DNS
    Proxying": ISTIO_META_DNS_CAPTURE with PILOT_ENABLE_IP_AUTOALLOCATE, the latter on by default in 1.31:
    pilot/pkg/features/pilot.go)."""
    capture = get(release.props, "values", "meshConfig", "defaultConfig", "proxyMetadata", "ISTIO_META_DNS_CAPTURE")
    allocate = get(release.props, "values", "env", "PILOT_ENABLE_IP_AUTOALLOCATE", default="true")
    return _truthy(capture) and _truthy(allocate)


def _shared_ports(g: Graph):
    """(cluster, port) -> ServiceEntries without addresses that declare that opaque TCP port."""
    shared: dict[tuple, list] = {}
    for se in g.of_type(*SERVICE_ENTRY):
        if as_list(get(se.props, "spec", "addresses")):
            continue  # its own VIPs tell it apart
        cluster = g.cluster_of_k8s(se)
        for port in as_list(get(se.props, "spec", "ports")):
            if str(get(port, "protocol", default="")).lower() in OPAQUE_TCP:
                shared.setdefault((cluster.urn if cluster else None, get(port, "number")), []).append(se)
    return shared


def _indistinct(g: Graph):
    istiods = [r for r in g.of_type(*RELEASE_TYPES) if chart_name(r) == "istiod"]
    for (cluster, port), entries in sorted(_shared_ports(g).items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        if len(entries) < 2:
            continue
        control = [r for r in istiods if (c := g.cluster_of_k8s(r)) is not None and c.urn == cluster]
        if any(_distinguishes(r) for r in control):
            continue
        names = ", ".join(sorted(e.name for e in entries))
        where = f"istiod release {control[0].name} sets neither" if control else "no istiod release on that cluster sets"
        for e in entries:
            yield (f"ServiceEntry {e.name} shares TCP port {port} with other ServiceEntries without addresses "
                   f"({names}) and {where} DNS capture with address allocation: each sidecar has one "
                   f"0.0.0.0:{port} listener and sends all of them to one service", e.urn)


POLICIES = [
    readiness_rule(
        "mesh-tcp-services-distinguishable",
        "Istio routes opaque TCP by destination address and port only: ServiceEntries without addresses that share "
        "a TCP port (Aurora's writer and reader on 3306) need the sidecars to capture DNS and istiod to allocate "
        "an address per ServiceEntry, or every client reaches one of them (istio.io, DNS Proxying, External TCP "
        "services without VIPs).",
        "set meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE: \"true\" on the istiod release (and "
        "leave env.PILOT_ENABLE_IP_AUTOALLOCATE on), or give each ServiceEntry its own addresses or port",
        _indistinct),
]
