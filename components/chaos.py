"""Chaos: one FIS experiment template per scenario per region, stopping on that region's
SLO alarms, logging to CloudWatch, each with a least-privilege role of its own. Pod
scenarios also get the Kubernetes side FIS needs (service account, Role, RoleBinding, and an
access entry for the FIS role). Game days start experiments through EventBridge Scheduler."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .chaos_library import POD_SERVICE_ACCOUNT, SCENARIOS, TARGET_KEYS, Plan, RegionFacts
from .config.chaos import data_target_in
from .iam import policy_document, service_trust
from .ipam import AZ_LETTERS
from .naming import RegionContext, partition_of
from .schedules import region_time_zone
from .stack import StackSpec
from .topology import peering_pairs
from .wiring import RegionWiring

# What FIS needs to deliver experiment logs to CloudWatch Logs (these take no resource ARNs).
LOG_DELIVERY = {"Effect": "Allow", "Action": ["logs:CreateLogDelivery", "logs:DescribeLogGroups",
                                              "logs:DescribeResourcePolicies", "logs:PutResourcePolicy"],
                "Resource": "*"}

POD_RBAC_RULES = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "list", "get", "delete", "deletecollection"]},
    {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["update"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
]


@dataclass(frozen=True, kw_only=True)
class ExperimentArgs:
    key: str  # unique name in the stack
    scenario: str
    parameters: dict
    selection: str  # ALL | COUNT(n) | PERCENT(n)
    stop_on: tuple[str, ...]  # SLO names


@dataclass(frozen=True, kw_only=True)
class GameDayArgs:
    cron: str
    time_zone: str
    experiments: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ChaosArgs:
    ctx: RegionContext
    experiments: tuple[ExperimentArgs, ...]
    log_retention_days: int
    facts: RegionFacts  # what the scenarios aim at in this region
    alarm_arns: dict  # SLO name -> alarm ARN: the stop conditions
    logs_kms_key_arn: pulumi.Input[str]
    k8s_provider: k8s.Provider
    cluster: pulumi.Resource  # EKS only accepts access entries once it is ACTIVE
    game_day: Optional[GameDayArgs] = None


def region_facts(spec: StackSpec, w: RegionWiring) -> RegionFacts:
    """What chaos scenarios can aim at in this region."""
    cfg, ctx, net, cl = spec.config, w.ctx, w.network, w.cluster
    p, acct = partition_of(ctx.region), w.account
    by_az: dict[str, list] = {}
    for subnets in net.subnets.values():
        for letter, subnet in zip(AZ_LETTERS, subnets):
            by_az.setdefault(letter, []).append(subnet.arn)
    active = cfg.cluster.blue_green.active
    hub, mode = cfg.hub.name, cfg.connectivity.peering
    peers = tuple(sorted({b if a == ctx.region else a for a, b in peering_pairs(cfg.region_names, hub, mode)
                          if ctx.region in (a, b)}))
    return RegionFacts(
        region=ctx.region, partition=p, account=acct, cluster_name=cl.cluster_name,
        cluster_arn=acct.apply(lambda a: f"arn:{p}:eks:{ctx.region}:{a}:cluster/{cl.cluster_name}"),
        node_group_arns=[ng.arn for key, ng in sorted(cl.node_groups.items()) if key.endswith(active)],
        subnet_arns_by_az=by_az, vpc_arn=net.vpc.arn,
        tgw_arn=w.transit.tgw.arn,
        tgw_route_table_arn=pulumi.Output.all(acct, w.transit.route_table_id).apply(
            lambda v: f"arn:{p}:ec2:{ctx.region}:{v[0]}:transit-gateway-route-table/{v[1]}"),
        node_role_arn=cl.node_role.arn,
        peer_regions=peers,
        az_names=tuple(net.az_names),
        aurora_cluster_arn=w.database.cluster.arn if w.database and not w.database.is_global_secondary else None,
        cache_group_arn=w.cache.replication_group.arn if w.cache else None,
        cache_target_tag=w.cache.target_tag if w.cache else None,
    )


def chaos_args(spec: StackSpec, w: RegionWiring) -> Optional[ChaosArgs]:
    """FIS templates need a cluster and the SLO alarms that stop them: without both, none."""
    cfg, ctx = spec.config, w.ctx
    if cfg.chaos is None or w.cluster is None or w.slo is None:
        return None
    experiments = tuple(ExperimentArgs(
        key=sc.key, scenario=sc.scenario, parameters=dict(sc.parameters), selection=sc.selection.fis(),
        stop_on=tuple(sc.stop_on or ())) for sc in cfg.chaos.scenarios
        if ctx.region in (sc.regions or [ctx.region])
        # data-tier scenarios run where their target is (config rules refuse explicit regions without one)
        and (SCENARIOS[sc.scenario].needs is None or data_target_in(cfg, SCENARIOS[sc.scenario].needs, ctx.region)))
    gd = cfg.chaos.game_day
    return ChaosArgs(
        ctx=ctx, experiments=experiments, log_retention_days=cfg.chaos.log_retention_days,
        facts=region_facts(spec, w), alarm_arns={n: a.arn for n, a in w.slo.alarms.items()},
        logs_kms_key_arn=w.logs_key.arn, k8s_provider=w.cluster.k8s_provider, cluster=w.cluster.cluster,
        game_day=GameDayArgs(cron=gd.cron, time_zone=gd.time_zone or region_time_zone(ctx.region),
                             experiments=tuple(gd.scenarios)) if gd else None)


class ChaosExperiments(pulumi.ComponentResource):
    def __init__(self, name: str, args: ChaosArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, f = args.ctx, args.facts
        super().__init__("global-platform:chaos:ChaosExperiments", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            ctx.name("fis-logs"), name=ctx.log_group_name("fis"),
            retention_in_days=args.log_retention_days, kms_key_id=args.logs_kms_key_arn,
            tags=ctx.tags("fis-logs"), opts=child)
        self.templates: dict[str, aws.fis.ExperimentTemplate] = {}
        rbac_namespaces: dict[str, list] = {}
        for exp in args.experiments:
            scenario = SCENARIOS[exp.scenario]
            plan = scenario.build(scenario.resolved(exp.parameters), f)
            role = self._role(ctx, f, exp, plan)
            if plan.pod_namespace:
                rbac_namespaces.setdefault(plan.pod_namespace, []).append(role)
            self.templates[exp.key] = self._template(exp, plan, role, args)
        for namespace, roles in sorted(rbac_namespaces.items()):
            self._pod_access(namespace, roles, args)
        if args.game_day:
            self._game_day(args)
        self.register_outputs({"templateIds": {k: t.id for k, t in self.templates.items()}})

    def _role(self, ctx: RegionContext, f: RegionFacts, exp: ExperimentArgs, plan: Plan) -> aws.iam.Role:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            ctx.name("fis", exp.key),
            description=f"FIS experiment {exp.key}: only what {plan.action_id} needs",
            assume_role_policy=pulumi.Output.from_input(f.account).apply(lambda account: service_trust(
                "fis.amazonaws.com", condition={"StringEquals": {"aws:SourceAccount": account}})),
            tags=ctx.tags(f"fis-{exp.key}"), opts=child)
        aws.iam.RolePolicy(ctx.name("fis", exp.key), role=role.id,
                           policy=policy_document([*plan.statements, LOG_DELIVERY]), opts=child)
        return role

    def _template(self, exp: ExperimentArgs, plan: Plan, role: aws.iam.Role, args: ChaosArgs):
        ctx = args.ctx
        target_key = TARGET_KEYS[plan.action_id]
        target = {"name": "targets", "resource_type": plan.target_type, "selection_mode": exp.selection}
        if plan.resource_arns is not None:
            target["resource_arns"] = plan.resource_arns
        if plan.resource_tags:
            target["resource_tags"] = [{"key": k, "value": v} for k, v in sorted(plan.resource_tags.items())]
        if plan.filters:
            target["filters"] = plan.filters
        if plan.target_parameters:
            target["parameters"] = plan.target_parameters
        stop_on = exp.stop_on or tuple(sorted(args.alarm_arns))
        return aws.fis.ExperimentTemplate(
            ctx.name("fis", exp.key),
            description=f"[{ctx.environment}] {plan.description}"[:512],
            role_arn=role.arn,
            actions=[{"name": "inject", "action_id": plan.action_id,
                      "parameters": [{"key": k, "value": v} for k, v in sorted(plan.action_parameters.items())],
                      "target": {"key": target_key, "value": "targets"}}],
            targets=[target],
            stop_conditions=[{"source": "aws:cloudwatch:alarm", "value": args.alarm_arns[name]} for name in stop_on],
            log_configuration={"log_schema_version": 2, "cloudwatch_logs_configuration": {
                "log_group_arn": self.log_group.arn.apply(lambda arn: f"{arn}:*")}},
            experiment_options={"account_targeting": "single-account", "empty_target_resolution_mode": "fail"},
            tags=ctx.tags(f"fis-{exp.key}", {"Name": f"{ctx.environment}-{ctx.code}-{exp.key}",
                                             "scenario": exp.scenario}),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _pod_access(self, namespace: str, roles: list, args: ChaosArgs) -> None:
        """FIS pod actions run an ephemeral container as this service account, and call the
        Kubernetes API as the FIS role: both need RBAC in the namespace, which must exist."""
        ctx, f = args.ctx, args.facts
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        for i, role in enumerate(roles):
            aws.eks.AccessEntry(ctx.name("fis-access", namespace, str(i)), cluster_name=f.cluster_name,
                                principal_arn=role.arn, type="STANDARD", user_name=POD_SERVICE_ACCOUNT,
                                tags=ctx.tags("fis-access"),
                                opts=pulumi.ResourceOptions(parent=self, depends_on=[args.cluster]))
        # The team's workloads arrive through Argo CD into this namespace too: server-side apply
        # shares it, and removing the last scenario must never delete the team's namespace.
        ns = k8s.core.v1.Namespace(
            ctx.name("fis-ns", namespace),
            metadata={"name": namespace, "labels": {"app.kubernetes.io/managed-by": "global-platform"}},
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, retain_on_delete=True))
        in_ns = {"name": POD_SERVICE_ACCOUNT, "namespace": ns.metadata.name}
        k8s.core.v1.ServiceAccount(ctx.name("fis-sa", namespace), metadata=in_ns, opts=on_cluster)
        k8s.rbac.v1.Role(ctx.name("fis-role", namespace), metadata=in_ns, rules=POD_RBAC_RULES, opts=on_cluster)
        k8s.rbac.v1.RoleBinding(
            ctx.name("fis-binding", namespace), metadata=in_ns,
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": POD_SERVICE_ACCOUNT},
            subjects=[{"kind": "ServiceAccount", "name": POD_SERVICE_ACCOUNT, "namespace": namespace},
                      {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": POD_SERVICE_ACCOUNT}],
            opts=on_cluster)

    def _game_day(self, args: ChaosArgs) -> None:
        ctx, gd = args.ctx, args.game_day
        child = pulumi.ResourceOptions(parent=self)
        templates = [self.templates[k] for k in gd.experiments if k in self.templates]
        if not templates:
            return
        role = aws.iam.Role(
            ctx.name("gameday"), description="EventBridge Scheduler starts the game-day experiments",
            assume_role_policy=service_trust("scheduler.amazonaws.com"),
            tags=ctx.tags("gameday"), opts=child)
        f = args.facts
        arns = [pulumi.Output.all(f.account, t.id).apply(
                    lambda v: f"arn:{f.partition}:fis:{f.region}:{v[0]}:experiment-template/{v[1]}")
                for t in templates] + [f"arn:{f.partition}:fis:{f.region}:*:experiment/*"]
        # The schedules' input is encrypted with the region's logs key; Scheduler decrypts it as
        # this role, with the schedule's ARN as encryption context (Scheduler user guide,
        # "Encryption at rest", and its identity-based policy examples).
        schedules = f"arn:{f.partition}:scheduler:{f.region}:*:schedule/default/{ctx.environment}-{ctx.code}-gameday-*"
        aws.iam.RolePolicy(ctx.name("gameday"), role=role.id, opts=child, policy=policy_document([
            {"Effect": "Allow", "Action": ["fis:StartExperiment"], "Resource": arns},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": args.logs_kms_key_arn,
             "Condition": {"StringLike": {"kms:EncryptionContext:aws:scheduler:schedule:arn": schedules}}}]))
        for key in gd.experiments:
            if key not in self.templates:
                continue
            aws.scheduler.Schedule(
                ctx.name("gameday", key), name=f"{ctx.environment}-{ctx.code}-gameday-{key}",
                description=f"Game day: start FIS experiment {key}",
                schedule_expression=gd.cron, schedule_expression_timezone=gd.time_zone,
                kms_key_arn=args.logs_kms_key_arn,
                flexible_time_window={"mode": "OFF"},
                target={"arn": "arn:aws:scheduler:::aws-sdk:fis:startExperiment", "role_arn": role.arn,
                        "input": self.templates[key].id.apply(lambda tid: json.dumps(
                            {"ExperimentTemplateId": tid, "ClientToken": "<aws.scheduler.execution-id>"}))},
                opts=child)
