"""The chaos scenario library, pure: for each scenario its parameters (checked, with
defaults), the FIS actions and targets it uses, and exactly the IAM statements those
actions need. ``components/chaos.py`` turns plans into an experiment template.

FIS action ids are AWS's own (``aws fis list-actions``); permissions follow the FIS
user guide's per-action lists, scoped by ARN or by resource tag wherever the action
supports it. No statement ever uses "*" as an action.

A scenario builds one or more plans (one FIS action and its target each). A composite
scenario (``az-outage``) is a list of steps over other scenarios, run in sequence
(``startAfter``) or in parallel; a user's own multi-step experiment is the same thing written in
config (``chaos.scenarios[].steps``). Each scenario also says what it can hit, for the
blast-radius rules: its AZ scope, how many targets ALL selects when that is known before
anything runs, and which parameter is a share of the targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from .ipam import AZ_LETTERS

POD_SERVICE_ACCOUNT = "fis-experiment"  # the Kubernetes identity FIS pod actions run as

# The target key FIS expects for each action.
TARGET_KEYS = {
    "aws:eks:terminate-nodegroup-instances": "Nodegroups",
    "aws:network:disrupt-connectivity": "Subnets",
    "aws:eks:pod-cpu-stress": "Pods", "aws:eks:pod-delete": "Pods", "aws:eks:pod-network-latency": "Pods",
    "aws:fis:inject-api-throttle-error": "Roles",
    "aws:network:transit-gateway-disrupt-cross-region-connectivity": "TransitGateways",
    "aws:ec2:send-spot-instance-interruptions": "SpotInstances",
    "aws:rds:failover-db-cluster": "Clusters",
    "aws:elasticache:replicationgroup-interrupt-az-power": "ReplicationGroups",
    # FIS user guide, actions reference (read 2026-11-26): aws:ec2:terminate-instances acts on
    # aws:ec2:instance under the target key Instances; aws:fis:wait takes no target.
    "aws:ec2:terminate-instances": "Instances",
    "aws:fis:wait": None,
}

# FIS quotas (Service Quotas, AWS Fault Injection Service, read 2026-11-26; the FIS user guide's
# "Quotas and limitations" names the same): none of these is adjustable.
MAX_ACTIONS = 20  # Actions per experiment template (L-0BFE6B67)
MAX_PARALLEL_ACTIONS = 10  # Parallel actions per experiment (L-EB051440)
MAX_STOP_CONDITIONS = 5  # Stop conditions per experiment template (L-872EC72B)
MAX_EXPERIMENT_MINUTES = 12 * 60  # Experiment duration in hours: 12 (L-6C1E4427)
# The per-action target quotas (Target Instances for aws:ec2:terminate-instances L-EE64095D,
# Target Subnets for aws:network:disrupt-connectivity L-1F59732D, Target Nodegroups for
# aws:eks:terminate-nodegroup-instances L-CCA14F79, ...) are 5 by default and adjustable: the
# default of chaos.blastRadius.maxTargets.
DEFAULT_TARGET_QUOTA = 5


class ScenarioError(ValueError):
    def __init__(self, key: str, reason: str):
        self.key, self.reason = key, reason
        super().__init__(f"{key}: {reason}")


@dataclass(frozen=True)
class RegionFacts:
    """What a scenario can aim at in one region (ARNs may be Pulumi Outputs)."""
    region: str
    partition: str
    account: Any
    cluster_name: str
    cluster_arn: Any
    node_group_arns: list  # active colour
    subnet_arns_by_az: dict  # az letter -> [subnet ARNs of every tier]
    vpc_arn: Any
    tgw_arn: Any
    tgw_route_table_arn: Any
    node_role_arn: Any
    peer_regions: tuple[str, ...]  # regions this one peers with
    az_names: tuple = ()  # the region's AZ names (Outputs), in slot order a, b, c
    aurora_cluster_arn: Any = None  # a cluster with a writer to fail over (not a global secondary)
    cache_group_arn: Any = None  # the replication group (Multi-AZ)
    cache_target_tag: Optional[tuple[str, str]] = None  # the tag FIS selects the replication group by
    karpenter: bool = False  # Karpenter launches nodes too (tagged eks:eks-cluster-name, not eks:cluster-name)


@dataclass
class Plan:
    description: str
    action_id: str
    target_type: Optional[str]  # None: the action takes no target (aws:fis:wait)
    action_parameters: dict[str, str]
    statements: list[dict]
    resource_arns: Optional[list] = None
    resource_tags: Optional[dict] = None
    target_parameters: Optional[dict] = None
    filters: Optional[list] = None
    pod_namespace: Optional[str] = None  # pod actions: RBAC + access entry for the FIS role
    key: str = ""  # names this plan among its scenario's plans ("" when it is the only one)


@dataclass(frozen=True)
class Step:
    """One step of a composite scenario: a scenario of the library, its parameters derived from
    the composite's, and the steps that must end before it starts."""
    name: str
    scenario: str
    parameters: Callable[[dict], dict]
    start_after: tuple[str, ...] = ()
    takes_selection: bool = False  # the composite's `selection` applies to this step (others: ALL)


@dataclass(frozen=True)
class Param:
    default: Any = None
    lo: Optional[int] = None
    hi: Optional[int] = None
    choices: Optional[tuple] = None
    required: bool = False
    kind: type = int


@dataclass(frozen=True)
class Scenario:
    name: str
    action_id: str
    params: dict[str, Param]
    build: Callable[[dict, RegionFacts], Plan]
    selection_modes: tuple[str, ...] = ("ALL", "COUNT", "PERCENT")
    needs_peering: bool = False
    summary: str = ""
    needs: Optional[str] = None  # a data section the scenario acts on ("aurora", "cache")
    # blast radius: "az" acts inside one AZ slot (parameter `az`), "region" on resources in any AZ,
    # "none" on nothing (a wait)
    scope: str = "region"
    # how many resources ALL selects, when config alone bounds it; None: unbounded (tags, labels)
    bounded: Optional[Callable[[Any], int]] = None
    percent_parameter: Optional[str] = None  # a parameter that is a share of the targets
    steps: tuple[Step, ...] = ()  # a composite scenario: these steps instead of one action
    step_only: bool = False  # only meaningful as a step (a wait)
    check_more: Optional[Callable[[dict], Optional[ScenarioError]]] = None  # rules across parameters

    def resolved(self, given: dict) -> dict:
        out = {}
        for key, spec in self.params.items():
            out[key] = given.get(key, spec.default)
        return out

    def check(self, given: dict, selection, cfg) -> None:
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise ScenarioError(f"parameters.{unknown[0]}",
                                f"'{self.name}' takes no parameter '{unknown[0]}' (takes: {', '.join(self.params)})")
        for key, spec in self.params.items():
            value = given.get(key, spec.default)
            path = f"parameters.{key}"
            if value is None:
                if spec.required:
                    raise ScenarioError(path, f"'{self.name}' needs {key}")
                continue
            if spec.kind is int:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ScenarioError(path, f"{key} must be a whole number (got {value!r})")
                if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
                    raise ScenarioError(path, f"{key} must be between {spec.lo} and {spec.hi} (got {value})")
            elif spec.kind is list:
                if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                    raise ScenarioError(path, f"{key} must be a non-empty list of names")
            elif not isinstance(value, str) or not value:
                raise ScenarioError(path, f"{key} must be a non-empty string (got {value!r})")
            if spec.choices and value not in spec.choices:
                raise ScenarioError(path, f"{key} must be one of {', '.join(map(str, spec.choices))} (got {value!r})")
        if selection.mode not in self.selection_modes:
            raise ScenarioError("selection.mode", f"'{self.name}' targets with {', '.join(self.selection_modes)} only")
        if self.needs_peering:
            if len(cfg.regions) < 2 or cfg.connectivity.peering == "none":
                raise ScenarioError("scenario", f"'{self.name}' needs two or more peered regions")
            peer = given.get("peerRegion")
            if peer is not None and peer not in cfg.region_names:
                raise ScenarioError("parameters.peerRegion", f"'{peer}' is not one of this stack's regions")
        if self.name.startswith("pod-") and cfg.cluster is None:
            raise ScenarioError("scenario", f"'{self.name}' needs clusters")
        if self.needs and getattr(cfg.data, self.needs) is None:
            raise ScenarioError("scenario", f"'{self.name}' acts on data.{self.needs}, which this stack does not have")
        az = given.get("az", (self.params.get("az") or Param()).default)
        if "az" in self.params and az in AZ_LETTERS and AZ_LETTERS.index(az) >= cfg.network.az_count:
            raise ScenarioError("parameters.az", f"AZ slot '{az}' does not exist: the stack has "
                                                 f"{cfg.network.az_count} AZs ({AZ_LETTERS[:cfg.network.az_count]})")
        if self.check_more:
            problem = self.check_more(self.resolved(given))
            if problem:
                raise problem
        for step in self.steps:
            sub = SCENARIOS[step.scenario]
            if sub.needs and getattr(cfg.data, sub.needs) is None:
                raise ScenarioError("scenario", f"'{self.name}' acts on data.{sub.needs}, which this stack does not have")

    def plan_keys(self, cfg) -> tuple[str, ...]:
        """The keys of the plans `build` returns in a stack with this config (one "" when one)."""
        if self.name == "az-node-termination":
            return ("nodegroups", "karpenter") if uses_karpenter(cfg) else ("",)
        return ("",)

    def minutes(self, params: dict) -> int:
        """How long the action runs (its duration parameter); 0 when it ends with its API call."""
        return int(params.get("durationMinutes") or 0) if "durationMinutes" in self.params else 0


def uses_karpenter(cfg) -> bool:
    """Whether Karpenter launches nodes in this stack's clusters (components/scaling.py installs it)."""
    return cfg.cluster is not None and cfg.scaling is not None and cfg.scaling.node_autoscaler == "karpenter"


def subnet_tiers(cfg) -> int:
    """Subnets per AZ slot: workers, public, endpoints, and database when there is that tier
    (components/network.py)."""
    return 3 + (1 if cfg.network.database_tier else 0)


def plans(scenario: Scenario, params: dict, facts: RegionFacts) -> list[Plan]:
    built = scenario.build(params, facts)
    return built if isinstance(built, list) else [built]


def _minutes(m: int) -> str:
    return f"PT{m}M"


def _logs_and_describe(*describe: str) -> list[dict]:
    return [{"Effect": "Allow", "Action": sorted(describe), "Resource": "*"}] if describe else []


def _pod_plan(p: dict, f: RegionFacts, action_id: str, extra: dict, description: str) -> Plan:
    return Plan(
        description=description,
        action_id=action_id,
        target_type="aws:eks:pod",
        target_parameters={"clusterIdentifier": f.cluster_arn, "namespace": p["namespace"],
                           "selectorType": "labelSelector", "selectorValue": p["labelSelector"]},
        action_parameters={"duration": _minutes(p.get("durationMinutes") or 5),
                           "kubernetesServiceAccount": POD_SERVICE_ACCOUNT, **extra},
        statements=[{"Effect": "Allow", "Action": ["eks:DescribeCluster"], "Resource": [f.cluster_arn]},
                    *_logs_and_describe("ec2:DescribeSubnets")],
        pod_namespace=p["namespace"],
    )


def _pod_delete(p: dict, f: RegionFacts) -> Plan:
    plan = _pod_plan(p, f, "aws:eks:pod-delete", {}, f"Delete pods {p['labelSelector']} in {p['namespace']}")
    plan.action_parameters = {"gracePeriodSeconds": str(p["gracePeriodSeconds"]),
                              "kubernetesServiceAccount": POD_SERVICE_ACCOUNT}  # pod-delete takes no duration
    return plan


def _nodegroup_termination(p: dict, f: RegionFacts) -> Plan:
    return Plan(
        description=f"Terminate {p['instanceTerminationPercentage']}% of {f.cluster_name}'s active nodes",
        action_id="aws:eks:terminate-nodegroup-instances",
        target_type="aws:eks:nodegroup",
        resource_arns=list(f.node_group_arns),
        action_parameters={"instanceTerminationPercentage": str(p["instanceTerminationPercentage"])},
        statements=[
            {"Effect": "Allow", "Action": ["eks:DescribeNodegroup"], "Resource": list(f.node_group_arns)},
            {"Effect": "Allow", "Action": ["ec2:TerminateInstances"],
             "Resource": f"arn:{f.partition}:ec2:{f.region}:*:instance/*",
             "Condition": {"StringEquals": {"aws:ResourceTag/eks:cluster-name": f.cluster_name}}},
            *_logs_and_describe("ec2:DescribeInstances"),
        ],
    )


def _az_network_disruption(p: dict, f: RegionFacts) -> Plan:
    subnets = list(f.subnet_arns_by_az.get(p["az"], []))
    acl = f"arn:{f.partition}:ec2:{f.region}:*:network-acl/*"
    return Plan(
        description=f"Cut network traffic in AZ slot {p['az']} of {f.region} for {p['durationMinutes']} minutes",
        action_id="aws:network:disrupt-connectivity",
        target_type="aws:ec2:subnet",
        resource_arns=subnets,
        action_parameters={"duration": _minutes(p["durationMinutes"]), "scope": p["scope"]},
        # As AWS's managed policy AWSFaultInjectionSimulatorNetworkAccess (v5, 2026-02-12) does: FIS
        # tags the ACL it creates managedByFIS=true, and may only edit or delete ACLs so tagged;
        # the VPC is ours alone, the associations only the target subnets'.
        statements=[
            {"Effect": "Allow", "Action": ["ec2:CreateNetworkAcl"], "Resource": acl,
             "Condition": {"StringEquals": {"aws:RequestTag/managedByFIS": "true"}}},
            {"Effect": "Allow", "Action": ["ec2:CreateNetworkAcl"], "Resource": f.vpc_arn},
            {"Effect": "Allow", "Action": ["ec2:CreateTags"], "Resource": acl,
             "Condition": {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl",
                                            "aws:RequestTag/managedByFIS": "true"}}},
            {"Effect": "Allow", "Action": ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"], "Resource": acl,
             "Condition": {"StringEquals": {"ec2:ResourceTag/managedByFIS": "true"}}},
            {"Effect": "Allow", "Action": ["ec2:ReplaceNetworkAclAssociation"], "Resource": [acl, *subnets]},
            {"Effect": "Allow", "Action": ["ec2:GetManagedPrefixListEntries"],
             "Resource": f"arn:{f.partition}:ec2:{f.region}:*:prefix-list/*"},
            *_logs_and_describe("ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                                "ec2:DescribeManagedPrefixLists"),
        ],
    )


def _api_throttle(p: dict, f: RegionFacts) -> Plan:
    return Plan(
        description=f"Throttle {p['percentage']}% of the nodes' EC2 calls ({', '.join(p['operations'])})",
        action_id="aws:fis:inject-api-throttle-error",
        target_type="aws:iam:role",
        resource_arns=[f.node_role_arn],
        action_parameters={"service": p["service"], "operations": ",".join(p["operations"]),
                           "percentage": str(p["percentage"]), "duration": _minutes(p["durationMinutes"])},
        statements=[{"Effect": "Allow", "Action": ["fis:InjectApiThrottleError"],
                     "Resource": f"arn:{f.partition}:fis:{f.region}:*:experiment/*"}],
    )


def _cross_region(p: dict, f: RegionFacts) -> Plan:
    peer = p.get("peerRegion") or (f.peer_regions[0] if f.peer_regions else f.region)
    return Plan(
        description=f"Cut {f.region}'s transit gateway off from {peer} for {p['durationMinutes']} minutes",
        action_id="aws:network:transit-gateway-disrupt-cross-region-connectivity",
        target_type="aws:ec2:transit-gateway",
        resource_arns=[f.tgw_arn],
        action_parameters={"duration": _minutes(p["durationMinutes"]), "region": peer},
        statements=[
            {"Effect": "Allow", "Action": ["ec2:DisassociateTransitGatewayRouteTable",
                                           "ec2:AssociateTransitGatewayRouteTable"],
             "Resource": [f.tgw_route_table_arn, f"arn:{f.partition}:ec2:{f.region}:*:transit-gateway-attachment/*"]},
            *_logs_and_describe("ec2:DescribeTransitGatewayPeeringAttachments",
                                "ec2:DescribeTransitGatewayAttachments", "ec2:DescribeTransitGateways"),
        ],
    )


def _spot_interruption(p: dict, f: RegionFacts) -> Plan:
    return Plan(
        description=f"Send spot interruption notices to {f.cluster_name}'s spot nodes",
        action_id="aws:ec2:send-spot-instance-interruptions",
        target_type="aws:ec2:spot-instance",
        resource_tags={"eks:cluster-name": f.cluster_name},
        filters=[{"path": "State.Name", "values": ["running"]}],
        action_parameters={"durationBeforeInterruption": _minutes(p["minutesBeforeInterruption"])},
        statements=[
            {"Effect": "Allow", "Action": ["ec2:SendSpotInstanceInterruptions"],
             "Resource": f"arn:{f.partition}:ec2:{f.region}:*:instance/*",
             "Condition": {"StringEquals": {"aws:ResourceTag/eks:cluster-name": f.cluster_name}}},
            *_logs_and_describe("ec2:DescribeInstances"),
        ],
    )


def _aurora_failover(p: dict, f: RegionFacts) -> Plan:
    # FIS user guide, actions reference: aws:rds:failover-db-cluster takes no parameters; its
    # target type aws:rds:cluster; permissions rds:FailoverDBCluster, rds:DescribeDBClusters,
    # tag:GetResources (aws-samples/fis-template-library aurora-cluster-failover). IAM allows
    # the first two on the cluster's ARN (Service Authorization Reference, Amazon RDS).
    return Plan(
        description=f"Fail the Aurora cluster in {f.region} over to a reader",
        action_id="aws:rds:failover-db-cluster",
        target_type="aws:rds:cluster",
        resource_arns=[f.aurora_cluster_arn],
        action_parameters={},
        statements=[
            {"Effect": "Allow", "Action": ["rds:DescribeDBClusters", "rds:FailoverDBCluster"],
             "Resource": [f.aurora_cluster_arn]},
            {"Effect": "Allow", "Action": ["tag:GetResources"], "Resource": "*"},
        ],
    )


def _cache_az_power(p: dict, f: RegionFacts) -> Plan:
    # FIS user guide: aws:elasticache:replicationgroup-interrupt-az-power takes `duration`; its
    # target aws:elasticache:replicationgroup needs the target parameter
    # availabilityZoneIdentifier (one AZ per group); the group must be Multi-AZ. Selected by a
    # tag the replication group carries (the AZ Availability: Power Interruption scenario selects
    # ElastiCache by tag too); IAM allows both actions on the replication group's ARN.
    az = f.az_names[AZ_LETTERS.index(p["az"])] if p["az"] in AZ_LETTERS[:len(f.az_names)] else None
    key, value = f.cache_target_tag or ("", "")
    return Plan(
        description=f"Cut power to the cache's nodes in AZ slot {p['az']} of {f.region} for "
                    f"{p['durationMinutes']} minutes",
        action_id="aws:elasticache:replicationgroup-interrupt-az-power",
        target_type="aws:elasticache:replicationgroup",
        resource_tags={key: value},
        target_parameters={"availabilityZoneIdentifier": az},
        action_parameters={"duration": _minutes(p["durationMinutes"])},
        statements=[
            {"Effect": "Allow", "Action": ["elasticache:DescribeReplicationGroups",
                                           "elasticache:InterruptClusterAzPower"],
             "Resource": [f.cache_group_arn]},
            {"Effect": "Allow", "Action": ["tag:GetResources"], "Resource": "*"},
        ],
    )


def _az_node_termination(p: dict, f: RegionFacts) -> list[Plan]:
    """Terminate the cluster's nodes in one AZ slot. aws:eks:terminate-nodegroup-instances cannot
    pick an AZ (it takes node groups and a percentage), so this is aws:ec2:terminate-instances on
    aws:ec2:instance targets selected by the cluster's tag and filtered on Placement.AvailabilityZone
    and State.Name (FIS user guide, "Targets": resource filters, and its example template "Stop EC2
    instances based on filters", read 2026-11-26). Managed node groups tag their instances
    eks:cluster-name, Karpenter tags its own eks:eks-cluster-name (policy/readiness/checks/facts.py
    RUNTIME_INSTANCE_TAGS): one target (and action) per tag, as a target's tags must all match."""
    az = f.az_names[AZ_LETTERS.index(p["az"])] if p["az"] in AZ_LETTERS[:len(f.az_names)] else None
    tags = [("nodegroups", "eks:cluster-name")] + ([("karpenter", "eks:eks-cluster-name")] if f.karpenter else [])
    out = []
    for key, tag in tags:
        out.append(Plan(
            description=f"Terminate {f.cluster_name}'s {'Karpenter' if key == 'karpenter' else 'node group'} nodes "
                        f"in AZ slot {p['az']} of {f.region}",
            action_id="aws:ec2:terminate-instances",
            target_type="aws:ec2:instance",
            resource_tags={tag: f.cluster_name},
            filters=[{"path": "Placement.AvailabilityZone", "values": [az]},
                     {"path": "State.Name", "values": ["running"]}],
            action_parameters={},
            # FIS user guide, aws:ec2:terminate-instances: ec2:TerminateInstances, ec2:DescribeInstances
            statements=[
                {"Effect": "Allow", "Action": ["ec2:TerminateInstances"],
                 "Resource": f"arn:{f.partition}:ec2:{f.region}:*:instance/*",
                 "Condition": {"StringEquals": {f"aws:ResourceTag/{tag}": f.cluster_name}}},
                *_logs_and_describe("ec2:DescribeInstances"),
            ],
            key=key if len(tags) > 1 else "",
        ))
    return out


def _wait(p: dict, f: RegionFacts) -> Plan:
    # FIS user guide, "Wait action": aws:fis:wait, parameter duration (PT1M to 12 hours), no
    # target, no permissions.
    return Plan(description=f"Wait {p['durationMinutes']} minutes", action_id="aws:fis:wait", target_type=None,
                action_parameters={"duration": _minutes(p["durationMinutes"])}, statements=[])


def _az_outage_check(p: dict) -> Optional[ScenarioError]:
    if p["terminateAfterMinutes"] >= p["durationMinutes"]:
        return ScenarioError("parameters.terminateAfterMinutes",
                             f"terminateAfterMinutes ({p['terminateAfterMinutes']}) must be less than durationMinutes "
                             f"({p['durationMinutes']}): the nodes go while the AZ is cut off")
    return None


_POD = {"namespace": Param(required=True, kind=str), "labelSelector": Param(required=True, kind=str),
        "durationMinutes": Param(5, 1, 720)}

def _one(cfg) -> int:
    return 1


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario("nodegroup-termination", "aws:eks:terminate-nodegroup-instances",
             {"instanceTerminationPercentage": Param(20, 1, 100)}, _nodegroup_termination,
             summary="terminate a share of the active node group's instances",
             bounded=lambda cfg: len(cfg.cluster.node_groups) if cfg.cluster else 0,
             percent_parameter="instanceTerminationPercentage"),
    Scenario("az-network-disruption", "aws:network:disrupt-connectivity",
             {"az": Param("a", choices=tuple(AZ_LETTERS), kind=str), "durationMinutes": Param(5, 1, 720),
              "scope": Param("all", choices=("all", "availability-zone", "s3", "dynamodb", "prefix-list"), kind=str)},
             _az_network_disruption, selection_modes=("ALL",), summary="cut every subnet of one AZ slot",
             scope="az", bounded=subnet_tiers),
    Scenario("pod-cpu-stress", "aws:eks:pod-cpu-stress", {**_POD, "percent": Param(80, 1, 100)},
             lambda p, f: _pod_plan(p, f, "aws:eks:pod-cpu-stress", {"percent": str(p["percent"])},
                                    f"CPU stress on pods {p['labelSelector']} in {p['namespace']}"),
             summary="burn CPU in matching pods"),
    Scenario("pod-delete", "aws:eks:pod-delete",
             {"namespace": _POD["namespace"], "labelSelector": _POD["labelSelector"],
              "gracePeriodSeconds": Param(30, 0, 3600)},
             lambda p, f: _pod_delete(p, f),
             summary="delete matching pods"),
    Scenario("pod-network-latency", "aws:eks:pod-network-latency",
             {**_POD, "delayMilliseconds": Param(200, 1, 60000), "jitterMilliseconds": Param(10, 0, 60000)},
             lambda p, f: _pod_plan(p, f, "aws:eks:pod-network-latency",
                                    {"delayMilliseconds": str(p["delayMilliseconds"]),
                                     "jitterMilliseconds": str(p["jitterMilliseconds"]),
                                     "interface": "DEFAULT", "sources": "0.0.0.0/0"},
                                    f"Add {p['delayMilliseconds']} ms to pods {p['labelSelector']}"),
             summary="add latency to matching pods' traffic"),
    Scenario("api-throttle", "aws:fis:inject-api-throttle-error",
             {"service": Param("ec2", choices=("ec2",), kind=str),
              "operations": Param(["DescribeInstances", "AssignPrivateIpAddresses"], kind=list),
              "percentage": Param(50, 1, 100), "durationMinutes": Param(5, 1, 720)},
             _api_throttle, selection_modes=("ALL",), summary="throttle the nodes' EC2 API calls", bounded=_one),
    Scenario("cross-region-connectivity", "aws:network:transit-gateway-disrupt-cross-region-connectivity",
             {"durationMinutes": Param(5, 1, 720), "peerRegion": Param(None, kind=str)},
             _cross_region, selection_modes=("ALL",), needs_peering=True,
             summary="cut a region's TGW off from a peer region", bounded=_one),
    Scenario("spot-interruption", "aws:ec2:send-spot-instance-interruptions",
             {"minutesBeforeInterruption": Param(2, 2, 15)}, _spot_interruption,
             summary="send two-minute spot interruption notices"),
    Scenario("aurora-failover", "aws:rds:failover-db-cluster", {}, _aurora_failover, selection_modes=("ALL",),
             needs="aurora", summary="fail the Aurora cluster over to a reader (primary clusters only)", bounded=_one),
    Scenario("cache-az-power", "aws:elasticache:replicationgroup-interrupt-az-power",
             {"az": Param("a", choices=tuple(AZ_LETTERS), kind=str), "durationMinutes": Param(10, 1, 720)},
             _cache_az_power, selection_modes=("ALL",), needs="cache",
             summary="cut power to the cache nodes in one AZ slot", scope="az", bounded=_one),
    Scenario("az-node-termination", "aws:ec2:terminate-instances",
             {"az": Param("a", choices=tuple(AZ_LETTERS), kind=str)}, _az_node_termination,
             summary="terminate the cluster's running nodes in one AZ slot (node groups', and Karpenter's)",
             scope="az"),
    Scenario("wait", "aws:fis:wait", {"durationMinutes": Param(1, 1, 720)}, _wait, selection_modes=("ALL",),
             summary="wait (a step between steps)", scope="none", bounded=lambda cfg: 0, step_only=True),
    Scenario("az-outage", "aws:network:disrupt-connectivity",
             {"az": Param("a", choices=tuple(AZ_LETTERS), kind=str), "durationMinutes": Param(10, 2, 720),
              "terminateAfterMinutes": Param(2, 1, 719)},
             lambda p, f: [],  # built from its steps (components/chaos.py)
             # the selection goes to terminate-nodes: az-node-termination's modes
             summary="cut one AZ slot off, and terminate its nodes while it is cut off",
             scope="az", check_more=_az_outage_check,
             steps=(
                 Step("disrupt-network", "az-network-disruption",
                      lambda p: {"az": p["az"], "durationMinutes": p["durationMinutes"], "scope": "all"}),
                 Step("wait", "wait", lambda p: {"durationMinutes": p["terminateAfterMinutes"]}),
                 Step("terminate-nodes", "az-node-termination", lambda p: {"az": p["az"]},
                      start_after=("wait",), takes_selection=True),
             )),
]}

ACTION_IDS = frozenset(s.action_id for s in SCENARIOS.values())
