"""Composes the platform: one RegionalPlatform per region, each on its own AWS provider."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .ipam import VpcPlan
from .naming import RegionContext, partition_of
from .network import NetworkArgs, RegionalNetwork
from .stack import StackSpec


@dataclass(frozen=True)
class RegionArgs:
    ctx: RegionContext
    role: str
    plan: VpcPlan
    network: NetworkArgs


class RegionalPlatform(pulumi.ComponentResource):
    """Everything that lives in one region, on that region's provider."""

    def __init__(self, args: RegionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.ctx
        super().__init__("global-platform:platform:Region", ctx.code, None, opts)
        # One explicit provider per region, handed down to every child (pulumi_eks components
        # take no `region` argument, so a provider is the one mechanism that works everywhere).
        self.provider = aws.Provider(ctx.name("aws"), region=ctx.region, opts=pulumi.ResourceOptions(parent=self))
        in_region = pulumi.ResourceOptions(parent=self, providers={"aws": self.provider})

        self.logs_key = logs_kms_key(ctx, args.network.protect_stateful, in_region)
        self.network = RegionalNetwork(
            ctx.name("network"),
            dataclasses.replace(args.network, logs_kms_key_arn=self.logs_key.arn),
            in_region,
        )
        self.register_outputs({"vpcId": self.network.vpc.id, "cidr": str(args.plan.cidr)})


def logs_kms_key(ctx: RegionContext, protect: bool, opts: pulumi.ResourceOptions) -> aws.kms.Key:
    """Customer-managed key for this region's CloudWatch log groups (flow logs, FIS, VPN)."""
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent))
    partition = partition_of(ctx.region)

    def policy(account: str) -> str:
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "AccountAdministers", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                 "Action": "kms:*", "Resource": "*"},
                {"Sid": "CloudWatchLogsUse", "Effect": "Allow",
                 "Principal": {"Service": f"logs.{ctx.region}.amazonaws.com"},
                 "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                 "Resource": "*",
                 "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                           f"arn:{partition}:logs:{ctx.region}:{account}:log-group:*"}}},
            ],
        })

    key = aws.kms.Key(
        ctx.name("logs"),
        description=f"{ctx.environment} CloudWatch Logs encryption in {ctx.region}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=identity.account_id.apply(policy),
        tags=ctx.tags("logs-key"),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect)),
    )
    aws.kms.Alias(ctx.name("logs"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/logs",
                  target_key_id=key.key_id, opts=opts)
    return key


def build_platform(spec: StackSpec) -> dict[str, RegionalPlatform]:
    cfg = spec.config
    prod = cfg.environment == "prod"
    regions = {}
    for region in sorted(cfg.regions, key=lambda r: r.name):
        ctx = RegionContext(region.name, cfg.environment, cfg.owner)
        plan = spec.plan[region.name]
        network = NetworkArgs(
            ctx=ctx,
            plan=plan,
            az_count=cfg.network.az_count,
            nat_mode=cfg.nat_mode,
            egress=cfg.network.egress,
            interface_endpoints=tuple(cfg.network.endpoints),
            database_tier=cfg.network.database_tier,
            flow_log_retention_days=cfg.network.flow_log_retention_days,
            protect_stateful=prod,
        )
        regions[region.name] = RegionalPlatform(RegionArgs(ctx, region.role, plan, network))

    pulumi.export("environment", cfg.environment)
    pulumi.export("hubRegion", cfg.hub.name)
    pulumi.export("regions", {
        name: {
            "vpcId": rp.network.vpc.id,
            "cidr": str(spec.plan[name].cidr),
            "subnets": {tier: [s.id for s in subs] for tier, subs in rp.network.subnets.items()},
        }
        for name, rp in regions.items()
    })
    return regions
