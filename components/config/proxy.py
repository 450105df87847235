"""`proxy`: the egress proxy of air-gapped stacks."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from .base import _Model, doc
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig


class ProxySpec(_Model):
    """With `egress: proxy` the VPC has no IGW, NAT or EIP, no subnet maps public IPs and no default
    route exists; the interface endpoints nodes and controllers need (listed under `network.endpoints`)
    are always added to `endpoints`, next to the S3 and DynamoDB gateway endpoints."""

    docs_heading: ClassVar[str] = "air-gapped stacks"

    url: str = Field(description="exported per region as `HTTP(S)_PROXY` for nodes and ArgoCD; required with "
                                 "`egress: proxy`",
                     json_schema_extra=doc(type="`http(s)://host:port`"))
    no_proxy: list[str] = Field(
        default_factory=list,
        description="added to `NO_PROXY`, which always holds metadata/pod-identity addresses, cluster-internal "
                    "names, every platform VPC and on-prem range and the region's AWS endpoint domains")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.port is None:
            raise ValueError(f"'{value}' is not http(s)://host:port")
        return value


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Proxy egress needs the proxy."""
    if cfg.network.egress == "proxy" and cfg.proxy is None:
        return [ConfigIssue("proxy.url", "egress 'proxy' needs the proxy's url (http://host:port): "
                            "nodes and ArgoCD have no other way out")]
    return []
