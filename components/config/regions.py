"""`regions`: the AWS regions of a stack, exactly one of them the hub."""

from __future__ import annotations

import difflib
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Literal, Optional

import pulumi_aws
from pydantic import Field, field_validator

from .base import _Model, doc, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# Validated against the provider's own list, so a region pulumi-aws cannot deploy to is refused.
KNOWN_REGIONS: tuple[str, ...] = tuple(r.value for r in pulumi_aws.Region)


class RegionSpec(_Model):
    """Names must be unique. Resource names derive from the region's short code (`ap-northeast-2` ->
    `apne2`), never from list positions: reordering `regions` changes nothing."""

    name: str = Field(
        description=f"validated against pulumi-aws's own `Region` enum ({len(KNOWN_REGIONS)} codes)",
        json_schema_extra=doc(type="AWS region code"))
    role: Literal["hub", "spoke"] = Field(description="exactly one hub: it runs shared services (ArgoCD)")
    cidr: Optional[IPv4Network] = Field(
        None, description="pins the VPC block; must lie in `supernet`, clear of `reservedCidrs` and other pins. "
                          "Required in prod",
        json_schema_extra=doc(type="IPv4 CIDR, /16../24", default="planned"))
    account: Optional[str] = Field(
        None, description="the `accounts` entry the region deploys into (its VPC, cluster and everything regional)",
        json_schema_extra=doc(type="account name", default="none (the credentials' account)"))

    @field_validator("name")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in KNOWN_REGIONS:
            close = difflib.get_close_matches(value, KNOWN_REGIONS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"'{value}' is not an AWS region code known to pulumi-aws{hint}")
        return value


def one_hub_unique_names(regions: list[RegionSpec]) -> list[RegionSpec]:
    """The `regions` list as a whole (StackConfig's field validator)."""
    problems = []
    names = [r.name for r in regions]
    dupes = repeated(names)
    if dupes:
        problems.append(f"region listed more than once: {', '.join(dupes)}")
    hubs = [r.name for r in regions if r.role == "hub"]
    if len(hubs) != 1:
        problems.append(f"exactly one region must have role 'hub' (found {len(hubs)}: {hubs or 'none'})")
    if problems:
        raise ValueError("; ".join(problems))
    return regions


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """prod pins every VPC block."""
    issues = []
    if cfg.environment == "prod":
        for i, region in enumerate(cfg.regions):
            if region.cidr is None:
                issues.append(ConfigIssue(
                    f"regions[{i}].cidr",
                    f"prod VPC blocks must be pinned ({region.name} has none): a VPC that moves is a "
                    "region rebuilt; run the preview and copy the block it prints"))
    return issues
