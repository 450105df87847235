"""`accounts`: the AWS accounts a stack deploys into, each reached by assuming a role. Regions
name their account (`regions[].account`); the transit gateways may live in a network account
(`connectivity.transitGateway.account`) and be shared with the regions' accounts through RAM."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional

from pydantic import Field

from ..naming import partition_of
from .base import SLUG, _Model, doc
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# An IAM role ARN: arn:<partition>:iam::<12-digit account>:role/<path><name>. Path and name per
# IAM's model (botocore iam 2010-05-08, shapes pathType `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`
# and roleNameType `[\w+=,.@-]+`, 1..64; read 2026-11-26).
ROLE_ARN = (r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}$")


class AccountSpec(_Model):
    role_arn: str = Field(
        pattern=ROLE_ARN, max_length=2048,
        description="the role the program assumes to deploy into this account",
        json_schema_extra=doc(type="IAM role ARN `arn:<partition>:iam::<12 digits>:role/<path/><name>`"))
    # STS AssumeRole limits (botocore sts 2011-06-15: externalIdType min 2, max 1224, pattern
    # [\w+=,.@:\/-]*; roleSessionNameType min 2, max 64, pattern [\w+=,.@-]*; read 2026-11-26).
    external_id: Optional[str] = Field(
        None, min_length=2, max_length=1224, pattern=r"^[\w+=,.@:/-]*$",
        description="the external id the role's trust policy requires (STS AssumeRole `ExternalId`)")
    session_name: Optional[str] = Field(
        None, min_length=2, max_length=64, pattern=r"^[\w+=,.@-]*$",
        description="the assumed role's session name (CloudTrail shows it)",
        json_schema_extra=doc(default="the provider's"))

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def partition(self) -> str:
        return self.role_arn.split(":")[1]


def account_names_are_slugs(accounts: dict[str, AccountSpec]) -> dict[str, AccountSpec]:
    bad = sorted(name for name in accounts if not re.fullmatch(SLUG, name))
    if bad:
        raise ValueError(f"account names must be lowercase slugs: {bad}")
    return accounts


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Every account named is defined, every region names one once any is defined, every defined
    account is used (an unused role is a typo or a leftover: refused, like unknown keys), and a
    role's partition is its regions'."""
    issues: list[ConfigIssue] = []
    accounts = cfg.accounts
    defined = ", ".join(sorted(accounts)) or "none"
    used: set[str] = set()
    for i, region in enumerate(cfg.regions):
        if region.account is None:
            if accounts:
                issues.append(ConfigIssue(f"regions[{i}].account",
                                          f"required once `accounts` is set: name the account {region.name} "
                                          f"deploys into ({defined})"))
            continue
        used.add(region.account)
        if region.account not in accounts:
            issues.append(ConfigIssue(f"regions[{i}].account",
                                      f"account '{region.account}' is not defined in `accounts` ({defined})"))
        elif accounts[region.account].partition != partition_of(region.name):
            issues.append(ConfigIssue(f"accounts.{region.account}.roleArn",
                                      f"partition '{accounts[region.account].partition}' cannot deploy to "
                                      f"{region.name} (partition '{partition_of(region.name)}')"))
    network = cfg.connectivity.transit_gateway.account
    if network is not None:
        used.add(network)
        if network not in accounts:
            issues.append(ConfigIssue("connectivity.transitGateway.account",
                                      f"account '{network}' is not defined in `accounts` ({defined})"))
    if cfg.connectivity.transit_gateway.share_outside_organization and network is None:
        issues.append(ConfigIssue("connectivity.transitGateway.shareOutsideOrganization",
                                  "only applies with `connectivity.transitGateway.account` (a network account "
                                  "sharing its transit gateways)"))
    for name in sorted(set(accounts) - used):
        issues.append(ConfigIssue(f"accounts.{name}", "defined but used by no region and not "
                                  "`connectivity.transitGateway.account`: remove it or name it"))
    by_id: dict[str, list[str]] = {}
    for name, acct in accounts.items():
        by_id.setdefault(acct.account_id, []).append(name)
    for acct_id, names in sorted(by_id.items()):
        if len(names) > 1:
            issues.append(ConfigIssue(f"accounts.{sorted(names)[1]}",
                                      f"account {acct_id} is also '{sorted(names)[0]}': one name per account"))
    return issues
