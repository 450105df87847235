"""`network`: the address plan's inputs and each region's VPC."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field, field_validator

from .base import RetentionDays, _Model, doc, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# What nodes and controllers need to reach AWS with no internet path (air-gapped stacks).
AIRGAP_ENDPOINTS = ("autoscaling", "ec2", "ec2messages", "ecr.api", "ecr.dkr", "eks", "eks-auth",
                    "elasticloadbalancing", "kms", "logs", "monitoring", "sqs", "ssm", "ssmmessages", "sts")
# What the data tier's clients call, by the section that brings them (air-gapped stacks): pods read
# the database's master secret from Secrets Manager (cache clients sign IAM tokens locally), publish
# to SNS and poll SQS. S3 goes through the gateway endpoint every VPC has.
AIRGAP_DATA_ENDPOINTS = {"aurora": ("secretsmanager",), "messaging": ("sns", "sqs")}
# What pods call for `observability` parts (air-gapped stacks): KEDA's prometheus triggers query the
# region's AMP workspace on aps-workspaces (the data plane: query and remote write; the AMP user guide's
# VPC endpoint page names com.amazonaws.<region>.aps-workspaces for it). The control plane (`aps`:
# workspaces, scrapers, rule namespaces) is called by the deployer only, and a managed scraper
# delivers over AWS's own network, so neither needs an endpoint in the VPC.
AIRGAP_OBSERVABILITY_ENDPOINTS = {"prometheus": ("aps-workspaces",)}


class NetworkSpec(_Model):
    supernet: IPv4Network = Field(description="the environment's block; every VPC is carved from it")
    reserved_cidrs: list[IPv4Network] = Field(
        default_factory=list,
        description="never overlapped: on-prem, other teams' VPCs, the other environment's supernet",
    )
    vpc_prefix_length: int = Field(16, ge=16, le=24, description="size of each planned (unpinned) VPC")
    az_count: Literal[2, 3] = Field(
        3, description="AZs used per region (the plan always keeps a third slot, so 2 -> 3 moves nothing)")
    nat_gateways: Optional[Literal["single", "perAz", "none"]] = Field(
        None, description="NAT strategy; `none` keeps the IGW for public load balancers",
        json_schema_extra=doc(default="`perAz` in prod, `single` elsewhere, `none` with proxy egress"),
    )
    egress: Literal["nat", "proxy"] = Field(
        "nat", description="`proxy`: no IGW, NAT or EIP at all (air-gapped); a NAT mode other than `none` is "
                           "then an error")
    endpoints: list[str] = Field(
        default_factory=list,
        description="interface endpoints (`ecr.api`, `sts`, ...) in the endpoint tier, private DNS on, SG allowing "
                    "443 from the VPC. S3 and DynamoDB gateway endpoints are always created; with `egress: proxy` "
                    f"these are always added: {', '.join(AIRGAP_ENDPOINTS)}; and for the data tier: secretsmanager "
                    "(with `data.aurora`), sns and sqs (with `data.messaging`)",
        json_schema_extra=doc(type="list of service names"))
    database_tier: bool = Field(
        False, description="database subnets, a route table with no internet route, a DB subnet group. "
                           "prod + database tier needs `azCount: 3`")
    worker_ips_per_az: int = Field(
        2000, ge=1, le=1_000_000,
        description="addresses nodes and pods need per AZ; worker subnets get at least twice this "
                    "(blue/green node groups run side by side)",
    )
    flow_log_retention_days: RetentionDays = Field(90, description="VPC flow log retention")

    @field_validator("endpoints")
    @classmethod
    def _endpoint_names(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not v or not all(c.isalnum() or c in ".-" for c in v)]
        if bad:
            raise ValueError(f"not AWS service names: {bad} (use the short form, e.g. 'ecr.api')")
        dupes = repeated(value)
        if dupes:
            raise ValueError(f"listed twice: {dupes}")
        return value


def egress_issues(cfg: StackConfig) -> list[ConfigIssue]:
    """A NAT mode contradicting proxy egress."""
    net = cfg.network
    if net.egress == "proxy" and net.nat_gateways not in (None, "none"):
        return [ConfigIssue(
            "network.natGateways",
            f"'{net.nat_gateways}' contradicts egress 'proxy' (no internet path); drop the key or set 'none'")]
    return []


def database_tier_issues(cfg: StackConfig) -> list[ConfigIssue]:
    """prod with a database tier spreads over three AZs."""
    net = cfg.network
    if cfg.environment == "prod" and net.database_tier and net.az_count != 3:
        return [ConfigIssue(
            "network.azCount",
            "prod with a database tier needs 3 AZs (Aurora spreads over three); got 2")]
    return []


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    # The stack-wide chain (stack.semantic_issues) calls the two parts apart, first and last,
    # which is where they have always been reported.
    return egress_issues(cfg) + database_tier_issues(cfg)
