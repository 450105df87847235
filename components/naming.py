"""Names and tags shared by every component.

Tags go into each resource's own ``tags`` input (not a stack transform): the mock
monitor does not run ``register_resource_transform`` transforms while a real
``pulumi up`` does, and policies and scanners read resource inputs, so only explicit
tags look the same offline and online.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Optional

if TYPE_CHECKING:
    from .config.accounts import AccountSpec

_DIRECTIONS = {
    "north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}


def region_short_code(region: str) -> str:
    """ap-northeast-2 -> apne2, us-east-1 -> use1, us-gov-west-1 -> usgovw1.

    Used as the prefix of every child name, so names never collide across regions and
    never depend on a region's position in the config list.
    """
    parts = region.split("-")
    return "".join(_DIRECTIONS.get(p, p) for p in parts)


# Region-code prefix -> ARN partition; the first match wins, so longer prefixes come first.
_PARTITIONS = (("us-isob-", "aws-iso-b"), ("us-isof-", "aws-iso-f"), ("eu-isoe-", "aws-iso-e"),
               ("us-iso-", "aws-iso"), ("us-gov-", "aws-us-gov"), ("cn-", "aws-cn"), ("eusc-", "aws-eusc"))


def partition_of(region: str) -> str:
    return next((part for prefix, part in _PARTITIONS if region.startswith(prefix)), "aws")


def dns_suffix_of(region: str) -> str:
    if region.startswith("cn-"):
        return "amazonaws.com.cn"
    return "amazonaws.com"


@dataclass(frozen=True)
class RegionContext:
    """Everything a regional component needs to name and tag its children."""

    region: str
    environment: str
    owner: str
    # The account the region deploys into, when the stack names `accounts` (the role its providers
    # assume; the `account` tag). None: the credentials' account, and no `account` tag.
    account: Optional["AccountSpec"] = None

    @property
    def code(self) -> str:
        return region_short_code(self.region)

    def name(self, *parts: str) -> str:
        """Child resource name, unique across regions: '<code>-<part>-<part>'."""
        return "-".join((self.code,) + tuple(p for p in parts if p))

    def tags(self, name: Optional[str] = None, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
        tags = standard_tags(self.environment, self.owner, self.region)
        if self.account is not None:
            tags["account"] = self.account.account_id
        if name:
            tags["Name"] = f"{self.environment}-{name}"
        if extra:
            tags.update(extra)
        return tags

    def log_group_name(self, suffix: str) -> str:
        """The platform's CloudWatch log group naming: one tree per environment and region."""
        return f"/global-platform/{self.environment}/{self.region}/{suffix}"

    def service(self, short: str) -> str:
        """Full endpoint service name, e.g. 'ecr.api' -> 'com.amazonaws.ap-northeast-2.ecr.api'."""
        reverse = ".".join(reversed(dns_suffix_of(self.region).split(".")))
        return f"{reverse}.{self.region}.{short}"


# Data-tier identifiers: fixed by config, so SLO alarms and chaos experiments can name them
# before the resources exist.
def aurora_cluster_id(ctx: RegionContext) -> str:
    return f"{ctx.environment}-{ctx.code}-aurora"


def cache_group_id(ctx: RegionContext) -> str:
    return f"{ctx.environment}-{ctx.code}-cache"


def cache_member_ids(group_id: str, shards: int, replicas_per_shard: int) -> tuple[str, ...]:
    """The node clusters ElastiCache names inside a replication group: `<group>-001`, ... with
    cluster mode off; `<group>-0001-001`, ... (shard, node) with it on."""
    nodes = range(1, replicas_per_shard + 2)
    if shards == 1:
        return tuple(f"{group_id}-{n:03d}" for n in nodes)
    return tuple(f"{group_id}-{s:04d}-{n:03d}" for s in range(1, shards + 1) for n in nodes)


def queue_name(ctx: RegionContext, topic: str, queue: str) -> str:
    return f"{ctx.environment}-{ctx.code}-{topic}-{queue}"


REQUIRED_TAG_KEYS = ("environment", "owner", "managed-by", "region")


def standard_tags(environment: str, owner: str, region: str) -> dict[str, str]:
    return {"environment": environment, "owner": owner, "managed-by": "pulumi", "region": region}
