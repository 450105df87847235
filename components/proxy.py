"""Proxy settings for air-gapped stacks: what nodes and ArgoCD get as HTTP(S)_PROXY/NO_PROXY.

NO_PROXY keeps everything that must not go through the proxy on the direct path: the
instance metadata and pod identity endpoints, cluster-internal names, every platform VPC
and on-prem range (reached over the TGW), and the region's AWS endpoint domains (served by
VPC interface endpoints). The cluster layer adds its own API endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .naming import dns_suffix_of
from .stack import StackSpec

ALWAYS_DIRECT = ("localhost", "127.0.0.1", "169.254.169.254", "169.254.170.23", ".internal",
                 ".svc", ".svc.cluster.local", ".cluster.local")


@dataclass(frozen=True)
class ProxyEnv:
    http_proxy: str
    https_proxy: str
    no_proxy: tuple[str, ...]

    def as_env(self, extra_no_proxy: tuple[str, ...] = ()) -> dict[str, str]:
        no_proxy = ",".join(dict.fromkeys(self.no_proxy + extra_no_proxy))
        return {"HTTP_PROXY": self.http_proxy, "HTTPS_PROXY": self.https_proxy, "NO_PROXY": no_proxy,
                "http_proxy": self.http_proxy, "https_proxy": self.https_proxy, "no_proxy": no_proxy}


def proxy_env(spec: StackSpec, region: str) -> Optional[ProxyEnv]:
    cfg = spec.config
    if cfg.proxy is None:
        return None
    vpcs = [str(v.cidr) for _, v in sorted(spec.plan.vpcs.items())]
    on_prem = [str(c) for s in cfg.connectivity.on_prem for c in s.cidrs]
    aws_domains = (f".{region}.{dns_suffix_of(region)}", f".{region}.eks.{dns_suffix_of(region)}")
    no_proxy = ALWAYS_DIRECT + tuple(vpcs) + tuple(on_prem) + aws_domains + tuple(cfg.proxy.no_proxy)
    return ProxyEnv(cfg.proxy.url, cfg.proxy.url, tuple(dict.fromkeys(no_proxy)))
