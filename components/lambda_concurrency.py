"""Lambda concurrency shared by traffic: for existing functions (app teams own them), each region's
reserved concurrency distribution and provisioned concurrency on an alias, scaled by Application
Auto Scaling (target tracking on utilisation, scheduled actions for known peaks).

What this stack can and cannot do (checked 2026-11-26):
- Reserved concurrency is PutFunctionConcurrency on the function. pulumi-aws 7.51.1 has no resource
  for it apart from `aws.lambda_.Function.reserved_concurrent_executions` (nothing in
  pulumi_aws/lambda_ takes it; FunctionScalingConfig is Lambda Managed Instances' execution
  environments), and the Terraform provider it wraps has none either (terraform-provider-aws v6.58.0,
  internal/service/lambda: only the function reads GetFunctionConcurrency). Setting it from here would
  also fight the owning stack, whose function resource puts back its own value. So the platform
  publishes each share in an SSM parameter for the owning stack to read, and reads the function on
  every preview (`aws.lambda_.get_function` through the alias, so a missing function or alias fails
  the preview), warning when the function's reservation differs.
- Provisioned concurrency: an Application Auto Scaling scalable target `function:<name>:<alias>` in
  namespace `lambda`, dimension `lambda:function:ProvisionedConcurrency`, a target-tracking policy on
  the predefined metric `LambdaProvisionedConcurrencyUtilization`, and scheduled actions (all three
  enums from botocore 1.44.8 application-autoscaling). No role: "If the service supports
  service-linked roles, Application Auto Scaling uses a service-linked role, which it creates if it
  does not yet exist" (RegisterScalableTarget RoleARN), AWSServiceRoleForApplicationAutoScaling_
  LambdaConcurrency (Application Auto Scaling user guide, "AWS Lambda and Application Auto Scaling").
- A policy or scheduled action needs its target registered first, and calls on one target with an
  update pending fail with ConcurrentUpdateException (botocore PutScalingPolicy, PutScheduledAction),
  which the provider does not retry (v6.58.0 resourcePolicyPut, resourceScheduledActionPut;
  hashicorp/terraform-provider-aws#17915): the policy waits for the target, each scheduled action for
  the one before (readiness rules `appautoscaling-after-target`, `appautoscaling-one-at-a-time`).
- Scheduled actions change the target's min and max when they run; with schedules, the target ignores
  that drift so `pulumi up --refresh` never undoes a peak (as node groups ignore desired size)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .config.lambda_concurrency import in_regions
from .naming import RegionContext
from .schedules import region_time_zone
from .stack import StackSpec
from .wiring import RegionWiring

NAMESPACE = "lambda"
DIMENSION = "lambda:function:ProvisionedConcurrency"
METRIC = "LambdaProvisionedConcurrencyUtilization"


@dataclass(frozen=True, kw_only=True)
class ScheduleArgs:
    name: str
    cron: str  # cron(...), as Application Auto Scaling takes it
    time_zone: str
    min: int
    max: int


@dataclass(frozen=True, kw_only=True)
class ProvisionedArgs:
    min: int
    max: int
    target_utilization: float
    schedules: tuple[ScheduleArgs, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FunctionArgs:
    name: str
    alias: str
    reserved: int
    provisioned: Optional[ProvisionedArgs] = None


@dataclass(frozen=True, kw_only=True)
class LambdaConcurrencyArgs:
    ctx: RegionContext
    functions: tuple[FunctionArgs, ...]


def lambda_concurrency_args(spec: StackSpec, w: RegionWiring) -> Optional[LambdaConcurrencyArgs]:
    cfg = spec.config.lambda_
    if cfg is None:
        return None
    ctx = w.ctx
    functions = tuple(FunctionArgs(
        name=f.name, alias=f.alias, reserved=f.reserved_concurrency,
        provisioned=None if f.provisioned is None else ProvisionedArgs(
            min=f.provisioned.min, max=f.provisioned.max, target_utilization=f.provisioned.target_utilization,
            schedules=tuple(ScheduleArgs(name=s.name, cron=s.cron, time_zone=s.time_zone or region_time_zone(ctx.region),
                                         min=s.min, max=s.max) for s in f.provisioned.schedules)))
        for f in cfg.functions if in_regions(f.regions, ctx.region))
    return LambdaConcurrencyArgs(ctx=ctx, functions=functions) if functions else None


def resource_id(function: str, alias: str) -> str:
    """The scalable target of an alias's provisioned concurrency (botocore application-autoscaling
    ResourceId: "function:my-function:prod")."""
    return f"function:{function}:{alias}"


def reserved_parameter(ctx: RegionContext, function: str) -> str:
    return f"/global-platform/{ctx.environment}/lambda/{ctx.region}/{function}/reserved-concurrency"


def drift(ctx: RegionContext, f: FunctionArgs, observed: Optional[int]) -> Optional[str]:
    """What a preview says when the function's reserved concurrency is not the platform's share. The
    function data source reads -1 when none is reserved, and 0 when read through an alias (it then asks
    GetFunctionConcurrency, whose empty answer it stores as 0: terraform-provider-aws v6.58.0,
    dataSourceFunctionRead), so 0 and -1 both mean "none or throttled" here."""
    if observed == f.reserved:
        return None
    has = "none (or 0: throttled)" if observed is None or observed <= 0 else str(observed)
    text = (f"Lambda function {f.name} in {ctx.region} reserves {has}; the platform's share is {f.reserved} "
            f"(lambda.functions, published at {reserved_parameter(ctx, f.name)}). This stack cannot set it on a "
            "function it does not own: the owning stack sets reserved_concurrent_executions from that parameter.")
    p = f.provisioned
    peak = max([p.max, *(s.max for s in p.schedules)]) if p else 0
    if observed is not None and 0 < observed < peak:
        text += (f" Until then provisioned concurrency above {observed} fails: it cannot exceed the function's "
                 "reserved concurrency.")
    return text


class LambdaConcurrency(pulumi.ComponentResource):
    def __init__(self, name: str, args: LambdaConcurrencyArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:lambda:LambdaConcurrency", name, None, opts)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        self.parameters: dict[str, aws.ssm.Parameter] = {}
        self.targets: dict[str, aws.appautoscaling.Target] = {}
        self.policies: dict[str, aws.appautoscaling.Policy] = {}
        self.scheduled_actions: dict[str, list[aws.appautoscaling.ScheduledAction]] = {}
        observed: dict[str, pulumi.Output] = {}
        for f in args.functions:
            # The owning stack's input: aws.ssm.get_parameter(name=...).value -> reserved_concurrent_executions.
            # A share is no secret (`value` would be one): the preview shows its changes.
            self.parameters[f.name] = aws.ssm.Parameter(
                ctx.name("lambda", f.name, "reserved"), name=reserved_parameter(ctx, f.name), type="String",
                insecure_value=str(f.reserved), description=f"reserved concurrency the platform gives {f.name} in {ctx.region}",
                tags=ctx.tags(f"lambda-{f.name}-reserved"), opts=child)
            # Reading through the alias fails the preview when the function or the alias does not exist.
            found = aws.lambda_.get_function_output(
                function_name=f.name, qualifier=f.alias, opts=pulumi.InvokeOutputOptions(parent=self))
            observed[f.name] = found.reserved_concurrent_executions.apply(
                lambda value, f=f: self._report(ctx, f, value))
            if f.provisioned is not None:
                self._provisioned(ctx, f, f.provisioned, child)
        self.register_outputs({
            "reservedConcurrency": {f.name: f.reserved for f in args.functions},
            "observedReservedConcurrency": observed,
            "scalableTargets": {n: t.resource_id for n, t in self.targets.items()},
        })

    def _report(self, ctx: RegionContext, f: FunctionArgs, value: Optional[int]) -> Optional[int]:
        message = drift(ctx, f, value)
        if message:
            pulumi.log.warn(message, resource=self)
        return value

    def _provisioned(self, ctx: RegionContext, f: FunctionArgs, p: ProvisionedArgs,
                     child: pulumi.ResourceOptions) -> None:
        key = f"{f.name}-{f.alias}"
        target = self.targets[f.name] = aws.appautoscaling.Target(
            ctx.name("lambda", key), service_namespace=NAMESPACE, scalable_dimension=DIMENSION,
            resource_id=resource_id(f.name, f.alias), min_capacity=p.min, max_capacity=p.max,
            tags=ctx.tags(f"lambda-{key}"),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["minCapacity", "maxCapacity"]
                                        if p.schedules else None))
        on_target = dict(service_namespace=target.service_namespace, scalable_dimension=target.scalable_dimension,
                         resource_id=target.resource_id)
        previous: pulumi.Resource = aws.appautoscaling.Policy(
            ctx.name("lambda", key, "utilization"), name=f"{ctx.environment}-{ctx.code}-{key}-utilization",
            policy_type="TargetTrackingScaling",
            target_tracking_scaling_policy_configuration={
                "target_value": p.target_utilization,
                "predefined_metric_specification": {"predefined_metric_type": METRIC}},
            **on_target, opts=child)
        self.policies[f.name] = previous
        actions = self.scheduled_actions[f.name] = []
        for s in p.schedules:
            # One call at a time on a target: each action waits for the policy or the action before it.
            previous = aws.appautoscaling.ScheduledAction(
                ctx.name("lambda", key, s.name), name=f"{ctx.environment}-{ctx.code}-{key}-{s.name}",
                schedule=s.cron, timezone=s.time_zone,
                scalable_target_action={"min_capacity": s.min, "max_capacity": s.max},
                **on_target, opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]))
            actions.append(previous)
