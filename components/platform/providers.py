"""Where a region deploys: its AWS provider and the account behind it. The one place a
multi-account stack changes (an assumed role per account)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import pulumi
import pulumi_aws as aws

from ..naming import RegionContext, region_short_code

if TYPE_CHECKING:
    from ..config.accounts import AccountSpec

# CloudFront's viewer certificates must be ACM certificates in us-east-1 (CloudFront API,
# ViewerCertificate.ACMCertificateArn), and its standard logging (v2) is set up through the
# CloudWatch Logs API in us-east-1 only (CloudFront developer guide, "Configure standard logging (v2)").
GLOBAL_SERVICES_REGION = "us-east-1"


def _provider(name: str, region: str, parent: pulumi.Resource, account: Optional[AccountSpec]) -> aws.Provider:
    """Every provider of the stack is made here, so they all carry the same settings. With an
    account, the provider assumes its role (pulumi-aws 7.51.1 Provider `assume_roles`: role_arn,
    external_id, session_name); without one, the ambient credentials as before."""
    extra = {}
    if account is not None:
        role = {"role_arn": account.role_arn}
        if account.external_id:
            role["external_id"] = account.external_id
        if account.session_name:
            role["session_name"] = account.session_name
        extra["assume_roles"] = [aws.ProviderAssumeRoleArgs(**role)]
    return aws.Provider(name, region=region, opts=pulumi.ResourceOptions(parent=parent), **extra)


def regional_provider(ctx: RegionContext, parent: pulumi.Resource) -> aws.Provider:
    """One explicit provider per region, handed to every capability (pulumi_eks components take
    no `region` argument, so a provider is the one mechanism that works everywhere). It deploys
    into the region's account (ctx.account)."""
    return _provider(ctx.name("aws"), ctx.region, parent, ctx.account)


def network_provider(ctx: RegionContext, parent: pulumi.Resource) -> aws.Provider:
    """The region's provider in the network account that owns its transit gateway (ctx.account is
    that account: the caller passes the network account's context)."""
    return _provider(ctx.name("aws", "network"), ctx.region, parent, ctx.account)


def global_services_provider(ctx: RegionContext, parent: pulumi.Resource) -> aws.Provider:
    """A us-east-1 provider for the global services' regional parts (CloudFront's ACM certificate
    and log delivery), made for the region `ctx` that needs it, with regional_provider's settings."""
    return _provider(ctx.name("aws", region_short_code(GLOBAL_SERVICES_REGION)), GLOBAL_SERVICES_REGION, parent,
                     ctx.account)


def account_of(provider: aws.Provider) -> pulumi.Output[str]:
    """The account the region's provider deploys into, asked through that very provider."""
    return aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id
