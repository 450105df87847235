"""Where a region deploys: its AWS provider and the account behind it. The one place a
multi-account stack changes (an assumed role per account)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ..naming import RegionContext


def regional_provider(ctx: RegionContext, parent: pulumi.Resource) -> aws.Provider:
    """One explicit provider per region, handed to every capability (pulumi_eks components take
    no `region` argument, so a provider is the one mechanism that works everywhere)."""
    return aws.Provider(ctx.name("aws"), region=ctx.region, opts=pulumi.ResourceOptions(parent=parent))


def account_of(provider: aws.Provider) -> pulumi.Output[str]:
    """The account the region's provider deploys into, asked through that very provider."""
    return aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id
