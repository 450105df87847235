"""`lambda`: how each region's Lambda concurrency is shared among existing functions (the platform never
creates functions: app teams own them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from pydantic import Field, field_validator

from .base import SLUG, _Model, doc, named_pattern, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# Lambda keeps 100 concurrent executions unreserved in every region: "You can reserve concurrency for as
# many functions as you like, as long as you leave at least 100 simultaneous executions unreserved for
# functions that aren't configured with a per-function limit" (botocore 1.44.8, lambda PutFunctionConcurrency).
UNRESERVED_MINIMUM = 100
# A function's name alone (not an ARN: the scalable target's id is `function:<name>:<alias>`): the name
# part of botocore's lambda FunctionName pattern, "limited to 64 characters" when only the name is given.
FUNCTION_NAME = named_pattern(r"^[a-zA-Z0-9_-]{1,64}$", "Lambda function name")
# botocore lambda CreateAlias Name: (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1-128; the all-digits exclusion (a
# version number) is checked by the validator, as pydantic's regex engine has no lookahead.
ALIAS_NAME = named_pattern(r"^[a-zA-Z0-9_-]{1,128}$", "Lambda alias name")


class LambdaScheduleSpec(_Model):
    name: str = Field(pattern=SLUG, description="names the scheduled action; unique per function")
    cron: str = Field(description="when: an Application Auto Scaling cron expression (the EventBridge cron "
                                  "syntax, six fields)",
                      json_schema_extra=doc(type="`cron(...)`"))
    time_zone: Optional[str] = Field(None, description="the zone `cron` is read in",
                                     json_schema_extra=doc(type="IANA time zone", default="the region's own"))
    min: int = Field(ge=1, description="provisioned concurrency floor from then on")
    max: int = Field(ge=1, description="provisioned concurrency ceiling from then on; min <= max <= "
                                       "reservedConcurrency")


class ProvisionedSpec(_Model):
    # Application Auto Scaling allows 0 for Lambda but: "A value greater than 0 means that data points are
    # continuously reported to CloudWatch that scaling policies can use" (botocore RegisterScalableTarget
    # MinCapacity); PutProvisionedConcurrencyConfig takes at least 1.
    min: int = Field(ge=1, description="the floor Application Auto Scaling keeps provisioned (at least 1: "
                                       "the utilisation metric target tracking reads exists only while some is)")
    max: int = Field(ge=1, description="the ceiling it scales to; min <= max <= reservedConcurrency")
    # The API takes any number (botocore application-autoscaling TargetTrackingScalingPolicyConfiguration
    # TargetValue); the metric is a 0-1 ratio and the AWS CDK refuses targets outside 0.1-0.9
    # (aws-cdk-lib aws-lambda/lib/private/scalable-function-attribute.ts, scaleOnUtilization).
    target_utilization: float = Field(
        0.7, ge=0.1, le=0.9,
        description="target tracking on `LambdaProvisionedConcurrencyUtilization` (used / provisioned)")
    schedules: list[LambdaScheduleSpec] = Field(
        default_factory=list,
        description="scheduled actions for known peaks, in the region's own time zone; list the one that "
                    "scales back too. With schedules, later changes to `min`/`max` are left to them")


class FunctionSpec(_Model):
    name: str = Field(pattern=FUNCTION_NAME, description="an existing function (its name, not its ARN)")
    alias: str = Field(pattern=ALIAS_NAME, description="the existing alias that carries provisioned concurrency")
    reserved_concurrency: int = Field(
        ge=0, description="the function's share of the region's quota: published for the stack that owns the "
                          "function, compared with what the function has")
    provisioned: Optional[ProvisionedSpec] = Field(
        None, description="provisioned concurrency on the alias, scaled by Application Auto Scaling")
    regions: Optional[list[str]] = Field(None, description="the regions the function runs in",
                                         json_schema_extra=doc(type="list of region codes", default="every region"))

    @field_validator("alias")
    @classmethod
    def _not_a_version(cls, alias: str) -> str:
        if alias.isdigit():
            raise ValueError(f"'{alias}' is a version number, not an alias name")
        return alias


class LambdaSpec(_Model):
    """For functions app teams own, in each region they run in: the reserved concurrency each may take out
    of the region's quota, and provisioned concurrency on an alias scaled by Application Auto Scaling
    (target tracking on utilisation, scheduled actions for known peaks in the region's own time zone).

    Neither pulumi-aws nor Terraform can set a function's reserved concurrency without owning the
    function (it is `reserved_concurrent_executions` of the function resource; there is no standalone
    resource). So the platform publishes each share in SSM, at
    `/global-platform/<env>/lambda/<region>/<function>/reserved-concurrency`, for the owning stack to read,
    and every preview reads the function (through its alias, which must exist) and warns when its
    reserved concurrency differs. Provisioned concurrency comes out of the function's reservation; the
    owning stack must not manage it too. Application Auto Scaling creates its service-linked role on the
    first registration: the deploying role needs `iam:CreateServiceLinkedRole`."""

    concurrency_quota: int = Field(
        1000, ge=1, description="the account's concurrent executions quota in each region (Service Quotas, "
                                "Lambda 'Concurrent executions'); reservations leave 100 of it unreserved")
    functions: list[FunctionSpec] = Field(min_length=1, description="the functions that share it")


def in_regions(regions: Optional[list[str]], region: str) -> bool:
    return regions is None or region in regions


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Regions exist, one entry per function and region, provisioned concurrency within the reservation,
    crons Application Auto Scaling takes, and every region's reservations leave 100 unreserved."""
    from ..schedules import CronError, check_scheduler_cron, check_time_zone

    spec = cfg.lambda_
    if spec is None:
        return []
    out: list[ConfigIssue] = []
    covered: dict[tuple[str, str], int] = {}
    for i, fn in enumerate(spec.functions):
        base = f"lambda.functions[{i}]"
        out += [ConfigIssue(f"{base}.regions", f"'{r}' is not one of this stack's regions")
                for r in fn.regions or [] if r not in cfg.region_names]
        for region in (r for r in cfg.region_names if in_regions(fn.regions, r)):
            first = covered.setdefault((fn.name, region), i)
            if first != i:
                out.append(ConfigIssue(f"{base}.name", f"function '{fn.name}' is listed twice for {region} "
                                                       f"(also lambda.functions[{first}])"))
        p = fn.provisioned
        if p is None:
            continue
        if p.min > p.max:
            out.append(ConfigIssue(f"{base}.provisioned", f"needs min <= max; got {p.min} > {p.max}"))
        if p.max > fn.reserved_concurrency:
            out.append(ConfigIssue(f"{base}.provisioned.max", f"{p.max} exceeds reservedConcurrency "
                                   f"{fn.reserved_concurrency}: provisioned concurrency comes out of the "
                                   "function's reservation"))
        twice = repeated(s.name for s in p.schedules)
        for j, s in enumerate(p.schedules):
            key = f"{base}.provisioned.schedules[{j}]"
            if s.name in twice:
                out.append(ConfigIssue(f"{key}.name", f"schedule '{s.name}' is defined twice for '{fn.name}'"))
            try:
                check_scheduler_cron(s.cron)
            except CronError as err:
                out.append(ConfigIssue(f"{key}.cron", str(err)))
            if s.time_zone and not check_time_zone(s.time_zone):
                out.append(ConfigIssue(f"{key}.timeZone", f"'{s.time_zone}' is not an IANA time zone"))
            if s.min > s.max:
                out.append(ConfigIssue(key, f"needs min <= max; got {s.min} > {s.max}"))
            if s.max > fn.reserved_concurrency:
                out.append(ConfigIssue(f"{key}.max", f"{s.max} exceeds reservedConcurrency "
                                       f"{fn.reserved_concurrency}: provisioned concurrency comes out of the "
                                       "function's reservation"))
    room = spec.concurrency_quota - UNRESERVED_MINIMUM
    for region in cfg.region_names:
        shares = [fn for fn in spec.functions if in_regions(fn.regions, region)]
        total = sum(fn.reserved_concurrency for fn in shares)
        if shares and total > room:
            listed = ", ".join(f"{fn.name} {fn.reserved_concurrency}" for fn in shares)
            out.append(ConfigIssue("lambda.functions", f"{region} reserves {total} ({listed}) of a quota of "
                                   f"{spec.concurrency_quota} (lambda.concurrencyQuota): Lambda keeps "
                                   f"{UNRESERVED_MINIMUM} unreserved, so at most {max(room, 0)} can be reserved"))
    return out
