"""The region's customer-managed key for CloudWatch Logs: flow logs, FIS, VPN tunnels, EKS,
WAF and game-day schedules encrypt with it. Created first in a region, so every capability gets
it through the wiring."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .iam import document, key_admin_statement
from .naming import RegionContext, partition_of


def logs_kms_key(ctx: RegionContext, account: pulumi.Input[str], protect: bool,
                 opts: pulumi.ResourceOptions, key: str = "logs") -> aws.kms.Key:
    """Customer-managed key for this region's CloudWatch log groups (flow logs, FIS, VPN, EKS).
    `key` names it (the network account's key of a multi-account stack is `network-logs`)."""
    partition = partition_of(ctx.region)

    def policy(account: str) -> str:
        return document([
            key_admin_statement(account, partition),
            {"Sid": "CloudWatchLogsUse", "Effect": "Allow",
             "Principal": {"Service": f"logs.{ctx.region}.amazonaws.com"},
             "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
             "Resource": "*",
             "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                       f"arn:{partition}:logs:{ctx.region}:{account}:log-group:*"}}},
        ])

    kms_key = aws.kms.Key(
        ctx.name(key),
        description=f"{ctx.environment} CloudWatch Logs encryption in {ctx.region}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=pulumi.Output.from_input(account).apply(policy),
        tags=ctx.tags(f"{key}-key"),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect)),
    )
    aws.kms.Alias(ctx.name(key), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/{key}",
                  target_key_id=kms_key.key_id, opts=opts)
    return kms_key
