"""Chaos: one FIS experiment template per experiment per region, stopping on that region's
SLO alarms, logging to CloudWatch, each with a least-privilege role of its own (the union of
what its actions need). An experiment is one scenario or several steps, run in parallel or in
sequence (`startAfter`). Pod scenarios also get the Kubernetes side FIS needs (service account,
Role, RoleBinding, and an access entry for the FIS role). Game days start experiments through
EventBridge Scheduler. The organisation hears of every experiment's state changes through an
EventBridge rule and an encrypted SNS topic per region."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .chaos_library import POD_SERVICE_ACCOUNT, SCENARIOS, TARGET_KEYS, Plan, RegionFacts, plans, uses_karpenter
from .config.chaos import resolve_steps, runs_in
from .iam import document, key_admin_statement, policy_document, service_trust
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


# FIS user guide, "Monitor AWS FIS experiments using Amazon EventBridge" (read 2026-11-26): FIS
# emits "FIS Experiment State Change" events with source "aws.fis" (the EventBridge events
# reference, "AWS Fault Injection Service events", names the same pattern).
FIS_STATE_CHANGE = {"source": ["aws.fis"], "detail-type": ["FIS Experiment State Change"]}


@dataclass(frozen=True, kw_only=True)
class StepArgs:
    name: str  # the FIS action's name ("inject" when the experiment is one scenario)
    scenario: str
    parameters: dict
    selection: str  # ALL | COUNT(n) | PERCENT(n)
    start_after: tuple[str, ...] = ()  # step names


@dataclass(frozen=True, kw_only=True)
class ExperimentArgs:
    key: str  # unique name in the stack
    scenario: str  # what the template is tagged with: the scenario, or "steps"
    steps: tuple[StepArgs, ...]
    stop_on: tuple[str, ...]  # SLO names; empty: every SLO of the region

    @property
    def single(self) -> bool:
        return len(self.steps) == 1 and self.steps[0].name == "inject"


@dataclass(frozen=True, kw_only=True)
class NotificationArgs:
    subscribers: tuple[str, ...] = ()  # emails or https URLs
    states: Optional[tuple[str, ...]] = None  # experiment statuses; None: every status
    protect_key: bool = False


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
    notifications: Optional[NotificationArgs] = None


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
        karpenter=uses_karpenter(cfg),
    )


def chaos_args(spec: StackSpec, w: RegionWiring) -> Optional[ChaosArgs]:
    """FIS templates need a cluster and the SLO alarms that stop them: without both, none."""
    cfg, ctx = spec.config, w.ctx
    if cfg.chaos is None or w.cluster is None or w.slo is None:
        return None
    experiments = tuple(ExperimentArgs(
        key=sc.key, scenario=sc.scenario or "steps",
        steps=tuple(StepArgs(name=st.name, scenario=st.scenario, parameters=dict(st.parameters),
                             selection=st.selection.fis(), start_after=st.start_after)
                    for st in resolve_steps(sc)),
        stop_on=tuple(cfg.chaos.stop_on_of(sc) or ())) for sc in cfg.chaos.scenarios if runs_in(cfg, sc, ctx.region))
    gd, notes = cfg.chaos.game_day, cfg.chaos.notifications
    return ChaosArgs(
        ctx=ctx, experiments=experiments, log_retention_days=cfg.chaos.log_retention_days,
        facts=region_facts(spec, w), alarm_arns={n: a.arn for n, a in w.slo.alarms.items()},
        logs_kms_key_arn=w.logs_key.arn, k8s_provider=w.cluster.k8s_provider, cluster=w.cluster.cluster,
        game_day=GameDayArgs(cron=gd.cron, time_zone=gd.time_zone or region_time_zone(ctx.region),
                             experiments=tuple(gd.scenarios)) if gd else None,
        notifications=NotificationArgs(subscribers=tuple(notes.subscribers),
                                       states=tuple(notes.states) if notes.states else None,
                                       protect_key=cfg.environment == "prod") if notes else None)


def notices_key_policy(account: str, partition: str) -> str:
    """EventBridge must be able to use the topic's key: the SNS developer guide ("Managing Amazon
    SNS encryption keys and costs", "Enable compatibility between event sources from AWS services
    and encrypted topics", read 2026-11-26) lists events.amazonaws.com with kms:GenerateDataKey*
    and kms:Decrypt, and warns: "Adding the aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID
    to a AWS KMS policy is not supported for EventBridge-to-encrypted topics" (landing-zone-
    accelerator#407 is that failure). So no source condition here: the key serves this one topic
    only, and the topic's policy admits this region's rule only (aws:SourceArn)."""
    return document([
        key_admin_statement(account, partition),
        {"Sid": "EventBridgePublishesFisNotices", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
    ])


def notices_topic_policy(topic_arn: str, rule_arn: str) -> str:
    """Only this region's FIS rule may publish (EventBridge user guide, "Amazon SNS permissions":
    sns:Publish for events.amazonaws.com, scoped by aws:SourceArn to the rule)."""
    return document([{"Sid": "OnlyTheFisStateRule", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                      "Action": "sns:Publish", "Resource": topic_arn,
                      "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}])


def subscription_protocol(endpoint: str) -> str:
    return "https" if endpoint.startswith("https://") else "email"


def _names(exp: ExperimentArgs, step: StepArgs, plan: Plan) -> tuple[str, str]:
    """(action name, target name). One scenario of one plan keeps the names it always had
    ("inject", "targets"); every other action and its target share the step's name, suffixed by
    the plan's key when the step has several."""
    if exp.single and not plan.key:
        return "inject", "targets"
    name = step.name if not plan.key else f"{step.name}-{plan.key}"
    return name, name


def _unique(statements: list) -> list:
    """Statements in order, each once (two steps of one scenario need the same ones)."""
    out: list = []
    for st in statements:
        if st not in out:
            out.append(st)
    return out


def _slug(endpoint: str) -> str:
    """A short stable name part for a subscriber (resource names must not carry @, : or /)."""
    return hashlib.sha256(endpoint.encode()).hexdigest()[:8]


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
            built = [(step, plan) for step in exp.steps
                     for plan in plans(SCENARIOS[step.scenario], SCENARIOS[step.scenario].resolved(step.parameters), f)]
            role = self._role(ctx, f, exp, [plan for _, plan in built])
            for namespace in sorted({plan.pod_namespace for _, plan in built if plan.pod_namespace}):
                rbac_namespaces.setdefault(namespace, []).append(role)
            self.templates[exp.key] = self._template(exp, built, role, args)
        for namespace, roles in sorted(rbac_namespaces.items()):
            self._pod_access(namespace, roles, args)
        if args.game_day:
            self._game_day(args)
        self.topic = self._notifications(args) if args.notifications else None
        self.register_outputs({"templateIds": {k: t.id for k, t in self.templates.items()},
                               "notificationsTopicArn": self.topic.arn if self.topic else None})

    def _role(self, ctx: RegionContext, f: RegionFacts, exp: ExperimentArgs, built: list[Plan]) -> aws.iam.Role:
        """One role per template: the union of what its actions need, each statement once."""
        child = pulumi.ResourceOptions(parent=self)
        action_ids = list(dict.fromkeys(plan.action_id for plan in built))
        role = aws.iam.Role(
            ctx.name("fis", exp.key),
            description=f"FIS experiment {exp.key}: only what {', '.join(action_ids)} need"[:1000]
            if len(action_ids) > 1 else f"FIS experiment {exp.key}: only what {action_ids[0]} needs",
            assume_role_policy=pulumi.Output.from_input(f.account).apply(lambda account: service_trust(
                "fis.amazonaws.com", condition={"StringEquals": {"aws:SourceAccount": account}})),
            tags=ctx.tags(f"fis-{exp.key}"), opts=child)
        statements = [s for plan in built for s in plan.statements]
        aws.iam.RolePolicy(ctx.name("fis", exp.key), role=role.id,
                           policy=pulumi.Output.from_input(statements).apply(_unique).apply(
                               lambda st: policy_document([*st, LOG_DELIVERY])), opts=child)
        return role

    def _template(self, exp: ExperimentArgs, built: list[tuple[StepArgs, Plan]], role: aws.iam.Role,
                  args: ChaosArgs):
        ctx = args.ctx
        names_of: dict[str, list[str]] = {}
        for step, plan in built:
            names_of.setdefault(step.name, []).append(_names(exp, step, plan)[0])
        actions, targets = [], []
        for step, plan in built:
            action_name, target_name = _names(exp, step, plan)
            action = {"name": action_name, "action_id": plan.action_id,
                      "parameters": [{"key": k, "value": v} for k, v in sorted(plan.action_parameters.items())]}
            after = [n for ref in step.start_after for n in names_of[ref]]
            if after:
                action["start_afters"] = after
            if plan.target_type is not None:
                action["target"] = {"key": TARGET_KEYS[plan.action_id], "value": target_name}
                targets.append(self._target(target_name, plan, step.selection))
            actions.append(action)
        stop_on = exp.stop_on or tuple(sorted(args.alarm_arns))
        description = (built[0][1].description if exp.single and len(built) == 1
                       else f"{exp.key}: " + "; ".join(dict.fromkeys(plan.description for _, plan in built)))
        return aws.fis.ExperimentTemplate(
            ctx.name("fis", exp.key),
            description=f"[{ctx.environment}] {description}"[:512],
            role_arn=role.arn,
            actions=actions,
            targets=targets,
            stop_conditions=[{"source": "aws:cloudwatch:alarm", "value": args.alarm_arns[name]} for name in stop_on],
            log_configuration={"log_schema_version": 2, "cloudwatch_logs_configuration": {
                "log_group_arn": self.log_group.arn.apply(lambda arn: f"{arn}:*")}},
            # One target: resolving to nothing is a broken template, fail. Several (an AZ outage's node
            # group and Karpenter nodes): an AZ may hold none of one kind at the time, skip that action
            # and run the rest (FIS user guide, "Experiment options": emptyTargetResolutionMode).
            experiment_options={"account_targeting": "single-account",
                                "empty_target_resolution_mode": "fail" if len(targets) <= 1 else "skip"},
            tags=ctx.tags(f"fis-{exp.key}", {"Name": f"{ctx.environment}-{ctx.code}-{exp.key}",
                                             "scenario": exp.scenario}),
            opts=pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _target(name: str, plan: Plan, selection: str) -> dict:
        target = {"name": name, "resource_type": plan.target_type, "selection_mode": selection}
        if plan.resource_arns is not None:
            target["resource_arns"] = plan.resource_arns
        if plan.resource_tags:
            target["resource_tags"] = [{"key": k, "value": v} for k, v in sorted(plan.resource_tags.items())]
        if plan.filters:
            target["filters"] = plan.filters
        if plan.target_parameters:
            target["parameters"] = plan.target_parameters
        return target

    def _notifications(self, args: ChaosArgs) -> aws.sns.Topic:
        """The region's FIS state changes, to a topic the organisation subscribes to."""
        ctx, f, n = args.ctx, args.facts, args.notifications
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            ctx.name("fis-notices"), description=f"{ctx.environment} FIS notices topic in {ctx.region}",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.from_input(f.account).apply(lambda a: notices_key_policy(a, f.partition)),
            tags=ctx.tags("fis-notices-key"), opts=pulumi.ResourceOptions(parent=self, protect=n.protect_key))
        topic = aws.sns.Topic(ctx.name("fis-notices"), name=f"{ctx.environment}-{ctx.code}-fis-notices",
                              kms_master_key_id=key.arn, tags=ctx.tags("fis-notices"), opts=child)
        pattern = dict(FIS_STATE_CHANGE)
        if n.states:
            pattern["detail"] = {"new-state": {"status": list(n.states)}}
        rule = aws.cloudwatch.EventRule(
            ctx.name("fis-state"), name=f"{ctx.environment}-{ctx.code}-fis-state-change",
            description=f"FIS experiment state changes in {ctx.region}, to the organisation",
            event_pattern=json.dumps(pattern), tags=ctx.tags("fis-state"), opts=child)
        policy = aws.sns.TopicPolicy(
            ctx.name("fis-notices"), arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, rule.arn).apply(lambda v: notices_topic_policy(v[0], v[1])),
            opts=child)
        # The first notice must find the topic policy in place: the target waits for it.
        aws.cloudwatch.EventTarget(ctx.name("fis-notices"), rule=rule.name, target_id="fis-notices", arn=topic.arn,
                                   opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        for endpoint in n.subscribers:
            # email and https subscriptions stay PendingConfirmation until their owner confirms the
            # message SNS sends (SNS developer guide, "Subscribing to a topic").
            aws.sns.TopicSubscription(ctx.name("fis-notices", _slug(endpoint)), topic=topic.arn,
                                      protocol=subscription_protocol(endpoint), endpoint=endpoint, opts=child)
        aws.ssm.Parameter(ctx.name("fis-notices-arn"),
                          name=f"/global-platform/{ctx.environment}/chaos/{ctx.region}/notifications-topic-arn",
                          type="String", value=topic.arn, tags=ctx.tags("fis-notices-arn"), opts=child)
        return topic

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
